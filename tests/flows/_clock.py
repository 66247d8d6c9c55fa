"""The real clock of the flow tests: a run sends only inside the window of its real clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: 10:00 JST on Wednesday 2026-11-18, the as_of day of most flow tests: inside its sending window.
IN_THE_WINDOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
