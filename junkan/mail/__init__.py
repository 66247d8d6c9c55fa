"""Candidate mail: templates and rendering, business-day timing, and the delivery backends."""
