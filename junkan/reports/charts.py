"""The report's charts as inline SVG, drawn by matplotlib's SVG backend (no pyplot, no global state).

Japanese labels must render where no CJK font is installed: the IPAex Gothic font ships inside the
`matplotlib-fontja` package, and `svg.fonttype = "path"` draws every glyph as a path, so the SVG needs no
font at all. The SVG is then made fit for inline HTML without any URL: the XML prologue, the metadata
block and the namespace declarations (all http URIs) are dropped; HTML parsers place inline <svg> in the
SVG namespace by themselves.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
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


def funnel_chart(kpis: dict[str, Any], lang: Lang) -> str:
    names = ["applications", "rejections", "withdrawals", "hires", "reapplications"]
    values = [kpis[n]["value"] or 0 for n in names]
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        labels = [kpi_label(n, lang) for n in names]
        bars = ax.barh(labels[::-1], values[::-1], color=_COLORS[0])
        ax.bar_label(bars, labels=[f"{v:,}" for v in values[::-1]], padding=3)
        ax.set_xlabel(text("count", lang))
        ax.set_title(text("funnel_chart", lang))
        return _svg(fig)


def _months(trend: Sequence[dict[str, Any]]) -> list[str]:
    return [t["month"] for t in trend]


def trend_chart(trend: Sequence[dict[str, Any]], lang: Lang) -> str:
    months = _months(trend)
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        for i, name in enumerate(("follow_up_rate", "reapplication_rate")):
            # A month without a value is a gap in the line, never a zero.
            ys = [t[name] * 100 if t[name] is not None else float("nan") for t in trend]
            ax.plot(months, ys, marker="o", color=_COLORS[i], label=kpi_label(name, lang))
        ax.set_ylabel(text("rate", lang) + " (%)")
        ax.set_ylim(bottom=0)
        ax.set_title(text("trend_chart", lang))
        ax.legend(loc="best", frameon=False)
        ax.tick_params(axis="x", labelrotation=45)
        return _svg(fig)


def credits_chart(trend: Sequence[dict[str, Any]], lang: Lang) -> str:
    months = _months(trend)
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        ax.bar(months, [t["credits_earned"] or 0 for t in trend], color=_COLORS[2])
        ax.set_ylabel(text("credits", lang))
        ax.set_title(text("credits_chart", lang))
        ax.tick_params(axis="x", labelrotation=45)
        return _svg(fig)


def partner_chart(kpis: dict[str, Any], lang: Lang) -> str:
    names = ("partner_link_clicks", "partner_registrations", "credits_earned")
    per: dict[str, dict[str, float]] = {}
    for n in names:
        for row in kpis[n]["breakdown"]:
            per.setdefault(str(row["dims"].get("partner")), {})[n] = row["value"] or 0
    partners = sorted(per)
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
        ax.set_title(text("partner_chart", lang))
        ax.legend(loc="best", frameon=False)
        return _svg(fig)


def all_charts(kpis: dict[str, Any], trend: Sequence[dict[str, Any]], lang: Lang) -> dict[str, str]:
    _register_font()
    return {
        "funnel": funnel_chart(kpis, lang),
        "trend": trend_chart(trend, lang),
        "credits": credits_chart(trend, lang),
        "partner": partner_chart(kpis, lang),
    }
