"""The report's charts as inline SVG, drawn by matplotlib's SVG backend (no pyplot, no global state).

Japanese labels must render where no CJK font is installed: the IPAex Gothic font ships inside the
`matplotlib-fontja` package, and `svg.fonttype = "path"` draws every glyph as a path, so the SVG needs no
font at all. The SVG is then made fit for inline HTML without any URL: the XML prologue, the metadata
block and the namespace declarations (all http URIs) are dropped; HTML parsers place inline <svg> in the
SVG namespace by themselves.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from junkan.reports.labels import Lang, kpi_label, text

FONT_FAMILY = "IPAexGothic"
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "junkan-report",  # stable element ids: the same data gives the same file
    "font.family": [FONT_FAMILY],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLORS = ["#2f5d8a", "#d9822b", "#5b9a68", "#9b59b6", "#c0392b"]


def _register_font() -> None:
    import matplotlib_fontja  # the import also sets the global rc font; ours is set per chart below

    path = matplotlib_fontja.get_font_ttf_path()
    if FONT_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    FigureCanvasSVG(fig)
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return inline_svg(buf.getvalue())


def inline_svg(svg: str) -> str:
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    return svg.strip()


def _figure(width: float = 6.3, height: float = 2.6) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


@dataclass(frozen=True)
class Chart:
    """One chart of the report: its SVG, or None with the plain sentence shown in its place."""

    key: str
    title: str
    svg: str | None
    empty: str = ""
    #: A sentence said under the chart, beside the general one.
    note: str = ""


def _empty(key: str, title: str, reason: str) -> Chart:
    return Chart(key, title, None, reason)


def _value(kpis: dict[str, Any], name: str) -> float:
    f = kpis.get(name)
    return float(f["value"]) if f and f["value"] is not None else 0.0


def _input(kpis: dict[str, Any], name: str, key: str) -> float:
    f = kpis.get(name)
    return float(f["inputs"].get(key) or f["apart"].get(key) or 0) if f else 0.0


Stage = tuple[str, float, float]


def loop_stages(kpis: dict[str, Any], lang: Lang) -> list[list[Stage]]:
    """The loop's two rows of (label, count, the part of the count that came from the step before)."""
    ja = lang == "ja"
    in_time = _input(kpis, "follow_up_rate", "followed_up")
    notified = in_time + _input(kpis, "follow_up_rate", "late")
    registered = _value(kpis, "partner_registrations")
    typed = _input(kpis, "partner_registrations", "via_code")
    # Registrations with a typed code did not come through a click: only the others flow from it.
    reg_label = (f"登録（うちコード入力 {typed:,.0f}）" if ja else f"Registered ({typed:,.0f} by code)"
                 ) if typed else ("登録" if ja else "Registered")

    def plain(label: str, value: float) -> Stage:
        return label, value, value

    # People matched in every run of the period, shortlists included (a shortlist run mails nobody).
    matches = _input(kpis, "pool_matched", "matches")
    sent = sum(float(r["inputs"].get("sent") or 0) for r in kpis.get("email_clicked_rate", {}).get(
        "breakdown", []) if r["dims"].get("kind") == "rejection")
    # Three chains that each start from their own population, so that no link reads above 100%: the
    # rejections Junkan had to follow up, every notice it sent (a backlog included), the talent pool.
    return [
        [plain("不採用（対象）" if ja else "Rejected (counted)", _input(kpis, "follow_up_rate", "eligible")),
         plain(f"通知（うち期限内 {in_time:,.0f}）" if ja else f"Notified ({in_time:,.0f} in time)",
               notified)],
        [plain("送った不採用通知" if ja else "Notices sent", sent),
         plain("パートナー案内" if ja else "With partner link",
               _input(kpis, "partner_registration_rate", "notices_with_link")),
         plain("クリック" if ja else "Clicked", _value(kpis, "partner_link_clicks")),
         (reg_label, registered, registered - typed),
         plain("クレジット" if ja else "Credits", _value(kpis, "credits_earned"))],
        [plain("タレントプール" if ja else "Talent pool", _value(kpis, "pool_size")),
         plain(f"マッチ（{matches:,.0f}組）" if ja else f"Matched ({matches:,.0f} pairs)",
               _value(kpis, "pool_matched")),
         plain(*_contact_step(kpis, ja)),
         plain("再応募" if ja else "Re-applied", _value(kpis, "reapplications_via_recontact")),
         plain("採用" if ja else "Hired", _value(kpis, "hires_from_pool"))],
    ]


def _contact_step(kpis: dict[str, Any], ja: bool) -> tuple[str, float]:
    """The step after the match: re-contact mails (auto runs), or the people shortlisted for recruiters,
    who contact them themselves (shortlist runs mail nobody: a 0 there would read as people lost)."""
    mailed, listed = _value(kpis, "recontacts_sent"), _input(kpis, "pool_matched", "shortlisted")
    if listed and not mailed:
        return ("候補リスト\n（採用担当者が連絡）" if ja else "Shortlisted\n(recruiters contact)"), listed
    if listed:
        return (f"再コンタクト・候補リスト\n（うちリスト {listed:,.0f}）" if ja
                else f"Mailed or shortlisted\n({listed:,.0f} listed)"), mailed + listed
    return ("再コンタクト" if ja else "Re-contacted"), mailed


def shortlist_note(kpis: dict[str, Any], lang: Lang) -> str:
    """Said under the loop when a run of the period shortlisted people for recruiters."""
    return text("loop_shortlist_note", lang) if _input(kpis, "pool_matched", "shortlisted") else ""


def loop_chart(kpis: dict[str, Any], lang: Lang) -> Chart:
    """The circulation as a Sankey-like flow: one band per step, its width the step's count, the rate
    of each step over the one before written on the link."""
    title = text("loop", lang)
    rows = loop_stages(kpis, lang)
    if not any(v for row in rows for _, v, _ in row):
        return _empty("loop", title, text("loop_empty", lang))
    with matplotlib.rc_context(_RC):
        fig = _figure(7.2, 4.2)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.3, 6.0)
        ax.set_ylim(-0.05, 3.05)
        for r, row in enumerate(rows):
            base_y = 2.1 - r * 1.05
            top = max(v for _, v, _ in row) or 1.0
            color = _COLORS[r % len(_COLORS)]
            heights = [0.04 + 0.45 * (v / top) for _, v, _ in row]
            for i, ((label, v, _), h) in enumerate(zip(row, heights, strict=True)):
                x = i * 1.15
                ax.add_patch(Rectangle((x, base_y), 0.16, h, color=color))
                ax.text(x + 0.08, base_y + h + 0.05, f"{label}\n{v:,.0f}", ha="center", va="bottom",
                        fontsize=8)
                if i + 1 < len(row):
                    nxt_h = heights[i + 1]
                    x1 = (i + 1) * 1.15
                    ax.add_patch(Polygon([(x + 0.16, base_y), (x + 0.16, base_y + h), (x1, base_y + nxt_h),
                                          (x1, base_y)], closed=True, color=color, alpha=0.25, lw=0))
                    rate = "—" if not v else f"{row[i + 1][2] / v * 100:.0f}%"
                    ax.text((x + 0.16 + x1) / 2, base_y + 0.03, rate, ha="center", va="bottom",
                            fontsize=8, color="#222")
        return Chart("loop", title, _svg(fig), note=shortlist_note(kpis, lang))


def funnel_chart(kpis: dict[str, Any], lang: Lang) -> Chart:
    names = ["applications", "rejections", "withdrawals", "hires", "reapplications"]
    title = text("funnel_chart", lang)
    values = [kpis[n]["value"] or 0 for n in names if n in kpis]
    if not any(values):
        return _empty("funnel", title, text("funnel_empty", lang))
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        labels = [kpi_label(n, lang) for n in names]
        bars = ax.barh(labels[::-1], values[::-1], color=_COLORS[0])
        ax.bar_label(bars, labels=[f"{v:,}" for v in values[::-1]], padding=3)
        ax.set_xlabel(text("count", lang))
        return Chart("funnel", title, _svg(fig))


def _months(trend: Sequence[dict[str, Any]]) -> list[str]:
    return [t["month"] for t in trend]


def trend_chart(trend: Sequence[dict[str, Any]], lang: Lang) -> Chart:
    title = text("trend_chart", lang)
    names = ("follow_up_rate", "reapplication_rate")
    if not any(t[n] is not None for t in trend for n in names):
        return _empty("trend", title, text("trend_empty", lang))
    months = _months(trend)
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        for i, name in enumerate(names):
            # A month without a value is a gap in the line, never a zero.
            ys = [t[name] * 100 if t[name] is not None else float("nan") for t in trend]
            ax.plot(months, ys, marker="o", color=_COLORS[i], label=kpi_label(name, lang))
        ax.set_xlabel(text("month", lang))
        ax.set_ylabel(text("rate", lang) + " (%)")
        ax.set_ylim(0, 105)
        ax.legend(loc="best", frameon=False)
        ax.tick_params(axis="x", labelrotation=45)
        return Chart("trend", title, _svg(fig))


def credits_chart(trend: Sequence[dict[str, Any]], lang: Lang) -> Chart:
    title = text("credits_chart", lang)
    if not any(t["credits_earned"] for t in trend):
        return _empty("credits", title, text("credits_empty", lang))
    months = _months(trend)
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        ax.bar(months, [t["credits_earned"] or 0 for t in trend], color=_COLORS[2])
        ax.set_xlabel(text("month", lang))
        ax.set_ylabel(text("credits", lang))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=45)
        return Chart("credits", title, _svg(fig))


def _wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a proportion k/n (Wilson score interval)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def lift_chart(kpis: dict[str, Any], lang: Lang) -> Chart:
    """Contacted vs held out: each group's re-application rate with its 95% interval and its size."""
    title = text("lift", lang)
    lift = kpis.get("recontact_lift")
    groups = [(text("contacted_group", lang), _input(kpis, "recontact_lift", "contacted_reapplied"),
               _input(kpis, "recontact_lift", "contacted_people")),
              (text("holdout_group", lang), _input(kpis, "recontact_lift", "holdout_reapplied"),
               _input(kpis, "recontact_lift", "holdout_people"))]
    if lift is None or not all(n for _, _, n in groups):
        return _empty("lift", title, text("lift_empty", lang))
    with matplotlib.rc_context(_RC):
        fig = _figure(6.3, 2.2)
        ax = fig.add_subplot()
        rates = [k / n * 100 for _, k, n in groups]
        intervals = [_wilson(k, n) for _, k, n in groups]
        err = [[r - lo * 100 for r, (lo, _) in zip(rates, intervals, strict=True)],
               [hi * 100 - r for r, (_, hi) in zip(rates, intervals, strict=True)]]
        labels = [f"{g}\n({text('people', lang).format(n=int(n))})" for g, _, n in groups]
        ax.barh(labels[::-1], rates[::-1], xerr=[err[0][::-1], err[1][::-1]], capsize=4,
                color=[_COLORS[3], _COLORS[0]])
        ax.set_xlabel(text("reapplication_pct", lang))
        ax.set_xlim(0, max(100.0, max(rates) + 5) if max(rates) > 50 else max(10.0, max(
            hi * 100 for _, hi in intervals) * 1.1))
        return Chart("lift", title, _svg(fig))


def partner_chart(kpis: dict[str, Any], lang: Lang) -> Chart | None:
    """Partners side by side; None with a single partner (nothing to compare)."""
    names = ("partner_link_clicks", "partner_registrations", "credits_earned")
    per: dict[str, dict[str, float]] = {}
    for n in names:
        for row in kpis[n]["breakdown"]:
            per.setdefault(str(row["dims"].get("partner")), {})[n] = row["value"] or 0
    partners = sorted(per)
    if len(partners) < 2:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            xs = [j + i * width for j in range(len(partners))]
            ax.bar(xs, [per[p].get(n, 0) for p in partners], width=width, color=_COLORS[i],
                   label=kpi_label(n, lang))
        ax.set_xticks([j + width for j in range(len(partners))], partners)
        ax.set_ylabel(text("count", lang))
        ax.legend(loc="best", frameon=False)
        return Chart("partner", text("partner_chart", lang), _svg(fig))


def all_charts(kpis: dict[str, Any], trend: Sequence[dict[str, Any]], lang: Lang) -> dict[str, Chart]:
    _register_font()
    charts = [loop_chart(kpis, lang), trend_chart(trend, lang), credits_chart(trend, lang),
              lift_chart(kpis, lang), funnel_chart(kpis, lang), partner_chart(kpis, lang)]
    return {c.key: c for c in charts if c is not None}
