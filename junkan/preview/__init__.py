"""`junkan preview`: what the sending flows would do on one day, computed read-only (docs/operations.md).

Each section reuses the selection of the flow it previews (the outbox's due notices, the re-contact
planning), so the preview and the real run cannot drift apart; `sections.SECTIONS` lists them in order.
"""

from junkan.preview.model import Preview, SectionPreview
from junkan.preview.sections import default_preview_date, preview_day

__all__ = ["Preview", "SectionPreview", "default_preview_date", "preview_day"]
