"""How every task and flow keeps its results: as JSON, so a stored result is only what the run returned
and a stored exception only its type and message (docs/architecture.md, "What Prefect persists").

Prefect writes a failed flow run's exception to result storage whatever `persist_result` says, and its
default serializer pickles the whole object, attributes included. With JSON that file can hold no more
than the state message the API already shows; tasks and flows also raise database errors scrubbed
(junkan.db.errors), so that message names the fault and never the row.
"""

from __future__ import annotations

RESULT_SERIALIZER = "json"
