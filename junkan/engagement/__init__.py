"""Engagement: provider events, tracked clicks, opt-outs, suppression sync, reconciliation and metrics."""
