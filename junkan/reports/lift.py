"""The lift of re-contact over its holdout: re-application rate of the mailed people / that of the
held-out people, with a 95% confidence interval.

The interval is the Wald interval of the log risk ratio (Katz et al., 1978):
    log(RR) ± 1.96 · sqrt(1/a − 1/n₁ + 1/c − 1/n₂),
a, c the re-applied counts and n₁, n₂ the group sizes. It needs at least one re-application in each
group; below `report.min_group_size` people in either group the report says "not enough data".
"""

from __future__ import annotations

import math

from junkan.reports.figures import Figure, figure

Z_95 = 1.959963984540054


def log_rr_interval(a: int, n1: int, c: int, n2: int, z: float = Z_95) -> tuple[float, float, float]:
    """(risk ratio, lower, upper) of a/n1 over c/n2; every count must be positive and a ≤ n1, c ≤ n2."""
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return rr, rr * math.exp(-z * se), rr * math.exp(z * se)


def lift_figure(contacted: Figure, holdout: Figure, min_group: int) -> Figure:
    """`recontact_lift` from the two group rates (their inputs carry the SQL counts)."""
    a = int(contacted["inputs"].get("contacted_reapplied", 0))
    n1 = int(contacted["inputs"].get("contacted_people", 0))
    c = int(holdout["inputs"].get("holdout_reapplied", 0))
    n2 = int(holdout["inputs"].get("holdout_people", 0))
    inputs: dict[str, object] = {"contacted_people": n1, "contacted_reapplied": a, "holdout_people": n2,
                                 "holdout_reapplied": c, "min_group_size": min_group}
    name, group = "recontact_lift", "reapplication"
    if n1 < min_group or n2 < min_group:
        more = max(0, min_group - n1) + max(0, min_group - n2)
        inputs["more_needed"] = more
        return figure(name, group, None, inputs=inputs,
                      missing=f"not enough data ({n1} contacted, {n2} held out, minimum {min_group} each; "
                              f"{more} more {'person' if more == 1 else 'people'} needed)")
    if c == 0:
        return figure(name, group, None, inputs=inputs,
                      missing="no re-application in the holdout group: the lift is undefined")
    if a == 0:
        inputs |= {"ci95_low": None, "ci95_high": None}
        return figure(name, group, 0.0, inputs=inputs)
    rr, low, high = log_rr_interval(a, n1, c, n2)
    inputs |= {"ci95_low": low, "ci95_high": high}
    return figure(name, group, rr, inputs=inputs)
