"""Spam share, the channels spam takes, and the countermeasures that move it, over time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis import curves
from ..analysis.result import Result
from ._axes import figure_note
from .labels import channel_label, percent_formatter, text
from .style import (
    COUNTERMEASURE_LINESTYLES,
    SERIES_COLORS,
    Style,
    channel_color,
    countermeasure_color,
    new_figure,
    plot_context,
    suptitle,
)

BAND_ALPHA = 0.25
MIN_SHARE_SPAN = 0.05
"""The spam-share panel spans at least 5 percentage points."""


def timeline(result: Result, *, theme: str = "lecture", lang: str = "en") -> Figure:
    """Channel mix, spam share of all mail, and countermeasure adoption over the run.

    Three panels on one time axis (calendar years when the scenario sets
    ``horizon.start_year``, days otherwise):

    1. share of delivered spam through each channel (channel colours);
    2. spam's share of all mail arriving at receivers' servers;
    3. adoption of relay prevention, SMTP AUTH and OP25B (those the scenario defines).

    Lines are means over replications and bands their 95 % CIs
    (:func:`spamsim.analysis.curves.channel_mix` and :func:`~spamsim.analysis.curves.world_series`).
    Dotted vertical lines mark when each countermeasure first reaches 50 % adoption
    (:func:`~spamsim.analysis.curves.adoption_milestones`), across all panels.

    Parameters
    ----------
    result
        A run (:func:`spamsim.run`); ``timeline.yaml`` tells the whole 1998–2012 story.
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    scenario = result.scenario
    time = curves.time_column(scenario)
    mix = curves.channel_mix(result)
    share = curves.world_series(result, ["spam_share"])
    defined = set(scenario.countermeasures.names())
    adoption_columns = [c for c, cm in curves.ADOPTION_COLUMNS.items() if cm in defined]
    adoption = curves.world_series(result, adoption_columns) if adoption_columns else None
    milestones = curves.adoption_milestones(result)
    if mix["step"].nunique() < 2:
        raise ValueError(
            f"timeline needs a run with more than one step; {scenario.name!r} records "
            f"{scenario.n_steps} (try funnel() for a single send)"
        )
    with plot_context(theme, lang) as style:
        rows = 3 if adoption is not None else 2
        ratios = [2.2, 1, 1][:rows]
        fig = new_figure(style, rows=rows, min_height=1.05 * sum(ratios) + 0.7)
        # Slides have short panels and big type: axis labels on two lines.
        suffix = "_2l" if style.theme.name == "lecture" else ""
        axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
        ax_mix, ax_share = axes[0], axes[1]
        for channel, group in mix.groupby("channel", sort=False):
            _band(ax_mix, group, time, channel_color(str(channel)), channel_label(str(channel), lang), style)
        ax_mix.set_ylabel(text("channel_mix_pct" + suffix, lang))
        _band(ax_share, share, time, SERIES_COLORS["total"], text("spam_share", lang), style)
        ax_share.set_ylabel(text("spam_share_pct" + suffix, lang))
        share_axes = [ax_mix, ax_share]
        if adoption is not None:
            ax_adopt = axes[2]
            for column in adoption_columns:
                group = adoption[adoption["variable"] == column]
                cm = curves.ADOPTION_COLUMNS[column]
                _band(
                    ax_adopt,
                    group,
                    time,
                    countermeasure_color(cm),
                    text(column, lang),
                    style,
                    linestyle=COUNTERMEASURE_LINESTYLES.get(cm, "-"),
                )
            ax_adopt.set_ylabel(text("adoption_pct" + suffix, lang))
            share_axes.append(ax_adopt)
        for ax in share_axes:
            ax.yaxis.set_major_formatter(percent_formatter())
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4 if ax is not ax_mix else 5, steps=[1, 2, 2.5, 5, 10]))
        ax_mix.set_ylim(-0.02, 1.02)
        if adoption is not None:
            share_axes[-1].set_ylim(-0.03, 1.03)
        _share_limits(ax_share, share)
        _mark_milestones(axes, milestones, time, style, adoption)
        legend_kw = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}
        if style.theme.name == "paper":
            legend_kw = {
                "loc": "lower center",
                "bbox_to_anchor": (0.5, 1.0),
                "ncols": 2,
                "borderaxespad": 0.2,
                "handlelength": 1.6,
                "columnspacing": 1.0,
            }
        ax_mix.legend(**legend_kw)
        if adoption is not None:
            if style.theme.name == "lecture":
                axes[-1].legend(**legend_kw)
            else:
                axes[-1].legend(loc="best", ncols=1, handlelength=2.2, fontsize=style.theme.legend_size * 0.9)
        axes[-1].set_xlabel(text(time, lang))
        if time == "year":
            axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        first, last = float(mix[time].min()), float(mix[time].max())
        if last > first:
            axes[-1].set_xlim(first, last)
        figure_note(fig, text("ci_band", lang, n=result.reps), style.theme.annotation_size)
        suptitle(fig, style, text("timeline_title", lang, name=scenario.name))
    return fig


def _band(ax: Axes, frame: pd.DataFrame, time: str, color: str, label: str, style: Style, linestyle: str = "-") -> None:
    """A mean line with its 95 % CI band."""
    x = frame[time].to_numpy(dtype=float)
    ax.plot(x, frame["mean"], color=color, label=label, linestyle=linestyle, zorder=3)
    ax.fill_between(x, frame["ci95_low"], frame["ci95_high"], color=color, alpha=BAND_ALPHA, linewidth=0, zorder=2)


def _share_limits(ax: Axes, share: pd.DataFrame) -> None:
    """Zoom the spam-share panel on its range (it moves little), keeping it within 0–100 %
    and at least 5 percentage points tall (so that noise is not blown up)."""
    low = float(np.nanmin(share[["mean", "ci95_low"]].to_numpy()))
    high = float(np.nanmax(share[["mean", "ci95_high"]].to_numpy()))
    pad = max(0.08 * (high - low), 0.01)
    low, high = low - pad, high + pad
    if high - low < MIN_SHARE_SPAN:
        centre = (low + high) / 2
        low, high = centre - MIN_SHARE_SPAN / 2, centre + MIN_SHARE_SPAN / 2
    if low < 0:
        low, high = 0.0, high - low
    if high > 1:
        low, high = max(0.0, low - (high - 1)), 1.0
    ax.set_ylim(low, high)


def _mark_milestones(
    axes: np.ndarray, milestones: pd.DataFrame, time: str, style: Style, adoption: pd.DataFrame | None
) -> None:
    """Dotted lines where each countermeasure first reaches 50 % adoption, labelled at the top."""
    for _, row in milestones.iterrows():
        color = countermeasure_color(str(row["countermeasure"]))
        for ax in axes:
            ax.axvline(row[time], color=color, linestyle=":", linewidth=style.theme.line_width * 0.6, zorder=1)
        label = text("half_adopted", style.lang, name=text(str(row["variable"]), style.lang))
        axes[0].annotate(
            label,
            xy=(row[time], 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            ha="left",
            va="top",
            rotation=90,
            fontsize=style.theme.annotation_size * 0.9,
            color=color if color != "#000000" else "#333333",
            path_effects=[patheffects.withStroke(linewidth=style.theme.line_width, foreground="white")],
            zorder=5,
        )
        if adoption is not None:
            # A dot where the adoption line crosses the level.
            axes[-1].plot(
                [row[time]],
                [row["level"]],
                marker="o",
                color=color,
                linestyle="none",
                zorder=4,
                markeredgecolor="white",
            )
