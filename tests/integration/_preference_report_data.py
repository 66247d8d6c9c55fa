"""The preference page in the October fixture month (tests/integration/_report_data.py), worked out by hand.

On top of `load_october` (c1 and c7 rejected before October; c1 applied again in October):
- visits in October: c1 (Oct 10), c2 (twice on Oct 3), c3 (Oct 31 23:59 JST) = 3 people; c7 visited
  one minute before October, c5 at the first instant of November (neither counts);
- saves in October: c7 (never), c2 (6 months, then 12 months with 法人営業), c3 (no timing), c6 (3 months,
  changed to never on Nov 1 00:00 JST, after the period) = 4 people; newest before the end: 3 months 1,
  6 months 0, 12 months 1, never 1, no choice 1; c1 saved in September (not a saver of October) and c5
  on Nov 1 00:00;
- re-applications: of the two people rejected before October, c1 stated an interest (September's save
  names 法人営業) and applied again; c7 chose never and names no work: stated 1/1, not stated 0/1.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from junkan.consent.preferences import Preferences, record_preferences, record_visit
from junkan.consent.wording import PREFERENCE_WORDING_VERSION
from junkan.db import session_scope
from junkan.db.models import Candidate
from tests.integration._report_data import jst


def load_october_preferences(engine: Engine) -> None:
    with session_scope(engine) as s:
        ids = {c.email_key.split("@")[0]: c.id for c in s.scalars(select(Candidate))
               if c.email_key is not None}

        def save(key: str, at: tuple[int, ...], **chosen: object) -> None:
            record_preferences(s, ids[key], Preferences(**chosen), at=jst(*at),  # type: ignore[arg-type]
                               wording_version=PREFERENCE_WORDING_VERSION)

        for key, at in (("c1", (2026, 10, 10)), ("c2", (2026, 10, 3, 9)), ("c2", (2026, 10, 3, 10)),
                        ("c3", (2026, 10, 31, 23, 59)), ("c7", (2026, 9, 30, 23, 59)),
                        ("c5", (2026, 11, 1, 0, 0))):
            record_visit(s, ids[key], at=jst(*at))
        save("c1", (2026, 9, 25), families=("corporate_sales",), timing_months=3)
        save("c7", (2026, 10, 5), never=True)
        save("c2", (2026, 10, 3, 10), timing_months=6)
        save("c2", (2026, 10, 20), timing_months=12, families=("corporate_sales",))
        save("c3", (2026, 10, 31, 23, 59))
        save("c6", (2026, 10, 10), timing_months=3)
        save("c6", (2026, 11, 1, 0, 0), never=True)
        save("c5", (2026, 11, 1, 0, 0), timing_months=6, other_interest="経理の仕事")
