"""Decision ingest: validate ATS records, upsert them in bulk, quarantine what cannot be ingested."""

from junkan.ingest.reasons import MAPPING_VERSION, Classification, ReasonMapping, default_mapping
from junkan.ingest.service import IngestCounts, ingest

__all__ = ["MAPPING_VERSION", "Classification", "IngestCounts", "ReasonMapping", "default_mapping", "ingest"]
