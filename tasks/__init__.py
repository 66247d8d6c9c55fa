"""Prefect tasks: small, batch-sized, retryable units that call into the junkan library."""
