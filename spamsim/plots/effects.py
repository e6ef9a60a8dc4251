"""What each countermeasure takes out of the spammer's pocket: effects and Shapley shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..analysis import curves
from ..analysis.effects import EFFECT_METRICS, Comparison
from ._axes import error_lengths, figure_note, format_linear_axis
from .labels import (
    MINUS,
    countermeasure_label,
    currency_label,
    format_number,
    metric_label,
    metric_name,
    text,
)
from .style import SERIES_COLORS, Style, countermeasure_color, new_figure, plot_context, suptitle

CONTEXTS = ("alone", "removed")


def effects(comparison: Comparison, *, metric: str = "revenue", theme: str = "lecture", lang: str = "en") -> Figure:
    """Each countermeasure's effect on the spammer's revenue, alone and removed, with 95 % CIs.

    Two panels side by side (stacked in the paper theme), one bar per countermeasure in its
    colour, as in :attr:`Comparison.effects_frame`:

    * *alone*: the countermeasure added to a world with none (``with - without``; negative:
      it lowers revenue);
    * *removed*: taken out of the world with all of them (``without - with``; positive:
      revenue recovers without it).

    Error bars are the 95 % CIs of the paired differences; the labels give the change in
    per cent of the reference revenue (revenue only).

    Parameters
    ----------
    comparison
        From :func:`spamsim.compare`.
    metric
        ``"revenue"`` or ``"net_profit"``.
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if metric not in EFFECT_METRICS:
        raise ValueError(f"metric must be one of {', '.join(EFFECT_METRICS)}, not {metric!r}")
    frame = comparison.effects_frame
    frame = frame[frame["metric"] == metric]
    names = list(comparison.names)
    currency = comparison.scenario.market.currency
    with plot_context(theme, lang) as style:
        paper = style.theme.name == "paper"
        fig = new_figure(style, rows=2, min_height=0.28 * len(names) * 2 + 1.2)
        axes = fig.subplots(2, 1) if paper else fig.subplots(1, 2, sharey=True)
        for ax, context in zip(axes, CONTEXTS, strict=True):
            rows = frame[frame["context"] == context].set_index("countermeasure").loc[names]
            _effect_panel(ax, rows, names, style, show_names=paper or context == CONTEXTS[0])
            ax.set_title(text(context, lang), fontsize=style.theme.label_size, loc="left", fontweight="normal")
            ax.set_xlabel(text("change_in", lang, metric=_phrase(metric, lang), cur=currency_label(currency, lang)))
            if ax is axes[0] or paper:
                ax.set_ylabel(text("countermeasure", lang))
        n = comparison.reps
        figure_note(fig, text("error_bars_paired", lang, n=n), style.theme.annotation_size)
        suptitle(fig, style, text("effects_title", lang, name=comparison.scenario.name, metric=_phrase(metric, lang)))
    return fig


def _phrase(metric: str, lang: str) -> str:
    """A metric's name inside a sentence ("net profit" in English, 純利益 in Japanese)."""
    name = metric_name(metric, lang)
    return name.lower() if lang == "en" else name


def _effect_panel(ax: Axes, rows: pd.DataFrame, names: list[str], style: Style, show_names: bool) -> None:
    """Bars of one context (alone or removed), one per countermeasure, with CIs and % labels."""
    lang = style.lang
    y = np.arange(len(names))
    mean = rows["mean_change"].to_numpy(dtype=float)
    low = rows["ci95_low"].to_numpy(dtype=float)
    high = rows["ci95_high"].to_numpy(dtype=float)
    colors = [countermeasure_color(n) for n in names]
    ax.barh(y, mean, height=0.66, color=colors, edgecolor="#333333", linewidth=style.theme.axes_width * 0.5, zorder=2)
    ax.errorbar(
        mean,
        y,
        xerr=error_lengths(mean, low, high),
        fmt="none",
        ecolor="black",
        elinewidth=style.theme.line_width * 0.5,
        capthick=style.theme.line_width * 0.5,
        zorder=3,
    )
    ax.axvline(0, color=SERIES_COLORS["reference"], linewidth=style.theme.axes_width, zorder=2)
    ends = np.where(mean >= 0, np.fmax(high, mean), np.fmin(low, mean))
    lo = float(np.nanmin(np.concatenate([low, mean, [0.0]])))
    hi = float(np.nanmax(np.concatenate([high, mean, [0.0]])))
    span = (hi - lo) or 1.0
    pct = rows["revenue_change_pct"].to_numpy(dtype=float)
    if np.isfinite(pct).any():
        for i, (end, value) in enumerate(zip(ends, pct, strict=True)):
            if not np.isfinite(value):
                continue
            label = ("+" if value > 0 else MINUS if value < 0 else "") + format_number(abs(value), lang, 2) + "%"
            pad = 0.02 * span * (1 if end >= 0 else -1)
            ax.text(
                end + pad,
                y[i],
                label,
                va="center",
                ha="left" if end >= 0 else "right",
                fontsize=style.theme.annotation_size,
                color="#333333",
            )
        room = 0.22 * span
        lo, hi = (lo - room if lo < 0 else lo), (hi + room if hi > 0 else hi)
    ax.set_xlim(lo - 0.03 * span, hi + 0.03 * span)
    ax.set_yticks(y, [countermeasure_label(n, lang) for n in names])
    ax.tick_params(axis="y", labelleft=show_names, length=0)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    format_linear_axis(ax, "x", lang, nbins=4)


def shapley_waterfall(
    comparison: Comparison, *, metric: str = "net_profit", theme: str = "lecture", lang: str = "en"
) -> Figure:
    """Waterfall from the spammer's net profit with no countermeasures to that with all of them.

    The top bar is the mean net profit with every countermeasure off, the bottom bar with
    every one on (both with 95 % CIs); in between, each countermeasure's Shapley share of
    the reduction (:func:`spamsim.analysis.curves.shapley_waterfall`, largest first) is a
    floating bar in its colour, with the 95 % CI of the share at its end and the share of the
    total reduction in per cent. The shares add up exactly to the total reduction.

    Parameters
    ----------
    comparison
        From ``spamsim.compare(..., shapley=True)``.
    metric
        ``"net_profit"`` (default) or ``"revenue"``.
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    steps = curves.shapley_waterfall(comparison, metric)
    currency = comparison.scenario.market.currency
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=0.26 * len(steps) + 1.0)
        ax = fig.add_subplot()
        y = np.arange(len(steps))
        lw = style.theme.line_width * 0.5
        labels = []
        for i, row in steps.iterrows():
            if row["kind"] == "total":
                color = SERIES_COLORS["total"]
                ax.barh(i, row["mean"], height=0.66, color=color, edgecolor="none", zorder=2)
                err = error_lengths([row["mean"]], [row["ci95_low"]], [row["ci95_high"]])
                ax.errorbar(
                    [row["mean"]], [i], xerr=err, fmt="none", ecolor="black", elinewidth=lw, capthick=lw, zorder=3
                )
                ax.text(
                    np.nanmax([row["mean"], row["ci95_high"], 0.0]),
                    i,
                    "  " + format_number(row["mean"], lang),
                    va="center",
                    ha="left",
                    fontsize=style.theme.annotation_size,
                    color="#333333",
                    zorder=4,
                )
                labels.append(text(str(row["step"]), lang))
            else:
                color = countermeasure_color(str(row["step"]))
                ax.barh(
                    i,
                    row["end"] - row["start"],
                    left=row["start"],
                    height=0.66,
                    color=color,
                    edgecolor="#333333",
                    linewidth=style.theme.axes_width * 0.5,
                    zorder=2,
                )
                # The CI of the share, drawn where the bar ends (start - share).
                end_low, end_high = row["start"] - row["ci95_high"], row["start"] - row["ci95_low"]
                err = error_lengths([row["end"]], [end_low], [end_high])
                ax.errorbar(
                    [row["end"]], [i], xerr=err, fmt="none", ecolor="black", elinewidth=lw, capthick=lw, zorder=3
                )
                share = row["share_pct"]
                if np.isfinite(share):
                    label = (
                        (MINUS if row["mean"] > 0 else "+" if row["mean"] < 0 else "")
                        + format_number(abs(share), lang, 2)
                        + "%"
                    )
                    ax.text(
                        max(row["start"], row["end"]),
                        i,
                        "  " + label,
                        va="center",
                        ha="left",
                        fontsize=style.theme.annotation_size,
                        color="#333333",
                        zorder=4,
                    )
                labels.append(countermeasure_label(str(row["step"]), lang))
            if i < len(steps) - 1:
                # Connector from the end of this bar to the start of the next.
                level = row["end"]
                ax.plot(
                    [level, level],
                    [i + 0.33, i + 0.67],
                    color="#777777",
                    linewidth=style.theme.axes_width * 0.8,
                    zorder=1,
                )
        ax.axvline(0, color=SERIES_COLORS["reference"], linewidth=style.theme.axes_width, zorder=2)
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(len(steps) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        totals, shares = steps[steps["kind"] == "total"], steps[steps["kind"] == "share"]
        extent = np.concatenate(
            [
                totals["ci95_low"],
                totals["ci95_high"],
                totals["mean"],
                shares["start"],
                shares["end"],
                shares["start"] - shares["ci95_high"],
                shares["start"] - shares["ci95_low"],
                [0.0],
            ]
        )
        xmin, xmax = float(np.nanmin(extent)), float(np.nanmax(extent))
        span = (xmax - xmin) or 1.0
        ax.set_xlim(xmin - 0.03 * span, xmax + 0.18 * span)
        format_linear_axis(ax, "x", lang)
        ax.set_xlabel(metric_label(metric, lang, currency))
        ax.set_ylabel(text("countermeasure", lang))
        figure_note(fig, text("shapley_legend", lang, n=comparison.reps), style.theme.annotation_size)
        suptitle(fig, style, text("shapley_title", lang, name=comparison.scenario.name, metric=_phrase(metric, lang)))
    return fig
