"""The funnel of a run: how many messages survive each stage, and what the sales earn."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..analysis.curves import funnel_stages
from ..analysis.result import Result
from ._axes import clip_for_log, error_lengths, format_log_axis, log_floor
from .labels import currency_label, format_number, format_rate, text
from .style import SERIES_COLORS, new_figure, plot_context, title


def funnel(result: Result, *, theme: str = "lecture", lang: str = "en") -> Figure:
    """Messages per run at each funnel stage on a log scale, with 95 % CIs and the revenue.

    Stages: attempted → delivered → inbox → (opened → clicked →) sales. Bars are the mean
    over replications (``result.summary``), error bars the 95 % CI of the mean; the share
    passing from one stage to the next is written under each stage's name, and the mean
    revenue with its CI above the axes (outside the data), in the scenario's currency.
    *Attempted* counts every message the spammers tried to send, *delivered* only those the
    receivers' servers accepted.

    Parameters
    ----------
    result
        A run (:func:`spamsim.run`).
    theme
        ``"lecture"`` (16:9 slide) or ``"paper"`` (one journal column).
    lang
        ``"en"`` or ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    stages = funnel_stages(result)
    revenue = result.summary.loc["revenue"]
    currency = result.scenario.market.currency
    with plot_context(theme, lang) as style:
        fig = new_figure(style)
        ax = fig.add_subplot()
        size = style.theme.annotation_size
        mean = stages["mean"].to_numpy(dtype=float)
        low = stages["ci95_low"].to_numpy(dtype=float)
        high = stages["ci95_high"].to_numpy(dtype=float)
        floor = log_floor(np.concatenate([mean, low]))
        x = np.arange(len(stages))
        colors = [SERIES_COLORS["primary"]] * (len(stages) - 1) + [SERIES_COLORS["secondary"]]
        heights = clip_for_log(mean, floor) - floor
        ax.bar(x, heights, bottom=floor, width=0.62, color=colors, edgecolor="none", zorder=2)
        ax.errorbar(
            x,
            clip_for_log(mean, floor),
            yerr=error_lengths(mean, low, high, floor),
            fmt="none",
            ecolor="black",
            elinewidth=style.theme.line_width * 0.6,
            capthick=style.theme.line_width * 0.6,
            zorder=3,
        )
        ax.set_yscale("log")
        # Room above the tallest bar for its value (the notes are above the axes).
        top = float(np.nanmax(np.concatenate([high, mean]))) * 8
        ax.set_ylim(floor, top)
        for i, value in enumerate(mean):
            # Each value just above its bar's error bar, a fixed distance in points (a
            # multiple of the value would vary on the page with the axis' span).
            y = max(high[i] if np.isfinite(high[i]) else value, floor)
            ax.annotate(
                format_number(value, lang),
                xy=(x[i], y),
                xytext=(0, 0.5 * size),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=size,
            )
        rates = stages["pass_rate"].to_numpy(dtype=float)
        ticks = [text(str(s), lang) for s in stages.index]
        for i in range(1, len(stages)):
            if np.isfinite(rates[i]):
                ticks[i] += "\n" + format_rate(rates[i], lang)
        ax.set_xticks(x, ticks)
        ax.set_xlim(-0.6, len(stages) - 0.4)
        ax.set_xlabel(text("stage", lang))
        ax.set_ylabel(text("messages_log", lang))
        ax.grid(axis="x", visible=False)
        format_log_axis(ax, "y", lang)
        n = int(stages["n"].iloc[0])
        note = text(
            "revenue_note",
            lang,
            mean=format_number(revenue["mean"], lang),
            low=format_number(revenue["ci95_low"], lang),
            high=format_number(revenue["ci95_high"], lang),
            cur=currency_label(currency, lang),
        )
        # The note sits above the axes, right-aligned: inside them it could cover a bar.
        ax.set_title(
            note + "\n" + text("error_bars", lang, n=n) + "\n" + text("pass_note", lang),
            loc="right",
            fontsize=size,
            fontweight="normal",
            linespacing=1.3,
        )
        title(ax, style, text("funnel_title", lang, name=result.scenario.name))
    return fig
