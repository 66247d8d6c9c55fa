"""ATS adapters. Each yields source-neutral records; validation and persistence live in junkan.ingest."""
