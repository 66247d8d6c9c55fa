"""The outbox: enqueue due notices once, claim and send them exactly once, and review what is unclear.

See docs/outbox.md for the states, claiming and crash semantics.
"""
