"""The report's plots, drawn on the server as SVG with matplotlib, so the page needs no
JavaScript, a phone shows them sharp at any size, and the PDF prints them as lines and text.

matplotlib is imported on the first chart, not with this module: the admin does not pay
for it until someone opens a report. Figures are made with `matplotlib.figure.Figure`
directly (no pyplot and its global state), so two reports drawn at once do not meet.
Text stays text in the SVG (readable by a screen reader, searchable in the PDF), and the
output is the same for the same figures (no date, fixed ids).
"""
from __future__ import annotations

import datetime as _dt
import io
from collections import Counter
from typing import Callable

from content.care.reactions import ReactionKind
from content.care.report import Report

# Colours that stay apart for the common colour-vision differences (Okabe & Ito), darker
# for the words that need it; good reactions above the line in blues and greens, hard ones
# below it in oranges and reds.
KIND_COLOURS = {
    ReactionKind.SMILED: "#0072B2",
    ReactionKind.SANG_ALONG: "#56B4E9",
    ReactionKind.MOVED: "#009E73",
    ReactionKind.MEMORY: "#7FC97F",
    ReactionKind.CALMER: "#2B4C7E",
    ReactionKind.POSITIVE: "#999999",
    ReactionKind.UPSET: "#D55E00",
    ReactionKind.AGITATED: "#E69F00",
    ReactionKind.WITHDRAWN: "#CC79A7",
    ReactionKind.ASKED_TO_STOP: "#8B0000",
}
BAR = "#1F5F3F"
TEXT = "#111111"
WIDTH_IN = 5.0              # drawn narrow so its words stay readable on a phone
WEEKLY_AFTER_DAYS = 45           # longer periods are drawn a week to a bar


def _figure(height_in: float):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig


def _svg(fig) -> str:
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "evergreen",
                                "font.family": "sans-serif", "font.size": 12}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors=TEXT, labelsize=11)
    ax.yaxis.label.set_color(TEXT)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def _buckets(report: Report) -> tuple[list[_dt.date], Callable[[_dt.date], _dt.date], str]:
    """Days for a month; weeks (from Monday) for a longer period."""
    if len(report.days) <= WEEKLY_AFTER_DAYS:
        return [d.day for d in report.days], (lambda d: d), "day"
    def week(d: _dt.date) -> _dt.date:
        return d - _dt.timedelta(days=d.weekday())
    return sorted({week(d.day) for d in report.days}), week, "week"


def _date_axis(ax, keys: list[_dt.date], unit: str) -> None:
    import matplotlib.dates as mdates
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    if keys:
        pad = _dt.timedelta(days=4 if unit == "week" else 1)
        ax.set_xlim(keys[0] - pad, keys[-1] + pad)


def minutes_per_day(report: Report) -> str:
    keys, bucket, unit = _buckets(report)
    totals: Counter = Counter()
    for d in report.days:
        totals[bucket(d.day)] += d.minutes
    fig = _figure(2.6)
    ax = fig.add_subplot()
    ax.bar(keys, [totals[k] for k in keys], width=0.8 if unit == "day" else 5.6, color=BAR)
    ax.set_ylabel("Minutes a day" if unit == "day" else "Minutes a week")
    _style(ax)
    _date_axis(ax, keys, unit)
    return _svg(fig)


def reactions_over_time(report: Report) -> str:
    """Stacked bars per day (or week): positive reactions above the line, negative below."""
    keys, bucket, unit = _buckets(report)
    counts: dict[_dt.date, Counter] = {k: Counter() for k in keys}
    for d in report.days:
        counts[bucket(d.day)].update(d.kinds)
    fig = _figure(3.6)
    ax = fig.add_subplot()
    width = 0.8 if unit == "day" else 5.6
    up = [0] * len(keys)
    down = [0] * len(keys)
    shown = []
    for kind in ReactionKind:
        values = [counts[k][kind] for k in keys]
        if not any(values):
            continue
        if kind.positive:
            ax.bar(keys, values, width=width, bottom=up, color=KIND_COLOURS[kind], label=kind.words)
            up = [a + b for a, b in zip(up, values)]
        else:
            neg = [-v for v in values]
            ax.bar(keys, neg, width=width, bottom=down, color=KIND_COLOURS[kind], label=kind.words)
            down = [a + b for a, b in zip(down, neg)]
        shown.append(kind)
    ax.axhline(0, color=TEXT, linewidth=1)
    ax.set_ylabel("Reactions a day" if unit == "day" else "Reactions a week")
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(int(v))}"))
    _style(ax)
    _date_axis(ax, keys, unit)
    if shown:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, frameon=False, fontsize=10,
                  handlelength=1.0, columnspacing=1.0)
    else:
        ax.text(0.5, 0.5, "No reactions logged in this period", transform=ax.transAxes, ha="center",
                color=TEXT)
    return _svg(fig)


def top_songs(report: Report) -> str:
    songs = list(reversed(report.top_songs))
    fig = _figure(max(1.6, 0.42 * len(songs) + 0.8))
    ax = fig.add_subplot()
    if songs:
        labels = [s.title if len(s.title) <= 24 else s.title[:23] + "…" for s in songs]
        ax.barh(labels, [s.positive for s in songs], color=KIND_COLOURS[ReactionKind.SMILED], label="Positive")
        ax.barh(labels, [-s.negative for s in songs], color=KIND_COLOURS[ReactionKind.UPSET], label="Negative")
        ax.axvline(0, color=TEXT, linewidth=1)
        from matplotlib.ticker import FuncFormatter, MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(int(v))}"))
        ax.legend(loc="lower right", frameon=False, fontsize=10)
        ax.set_xlabel("Reactions")
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No positive reactions logged in this period", transform=ax.transAxes,
                ha="center", color=TEXT)
    _style(ax)
    ax.grid(False)
    return _svg(fig)


CHARTS: dict[str, tuple[Callable[[Report], str], str]] = {
    "minutes": (minutes_per_day, "Minutes listened per day"),
    "reactions": (reactions_over_time, "Reactions by kind over time"),
    "songs": (top_songs, "Songs with the most positive reactions"),
}


def draw(name: str, report: Report) -> str:
    """One chart as SVG text; KeyError for a name that is not a chart."""
    return CHARTS[name][0](report)
