"""Spam share, the channels spam takes, and the countermeasures that move it, over time."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
MILESTONE_FONT = 0.9
"""Milestone labels' size relative to the theme's annotation size."""
MILESTONE_ROW = 1.5
"""Height of one row of the milestone band, in label font sizes."""


def timeline(result: Result, *, theme: str = "lecture", lang: str = "en") -> Figure:
    """Channel mix, spam share of all mail, and countermeasure adoption over the run.

    Three panels on one time axis (calendar years when the scenario sets
    ``horizon.start_year``, days otherwise):

    1. share of *delivered* spam through each channel (channel colours): spam accepted at
       receivers' servers, so mail refused at a closed relay, a submission server or a
       blacklist — attempted, not delivered — is not in it;
    2. spam's share of all mail arriving at receivers' servers (before blacklists and filters);
    3. adoption of relay prevention, SMTP AUTH and OP25B (those the scenario defines).

    Lines are means over replications and bands their 95 % CIs
    (:func:`spamsim.analysis.curves.channel_mix` and :func:`~spamsim.analysis.curves.world_series`).
    Dotted vertical lines mark when each countermeasure first reaches 50 % adoption
    (:func:`~spamsim.analysis.curves.adoption_milestones`), across all panels, with their
    labels in a band above the panels (never over data).

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
        band_rows = len(milestones)
        fig = new_figure(style, rows=rows, min_height=1.05 * sum(ratios) + 0.7 + _band_inches(style, band_rows))
        # Slides have short panels and big type: axis labels on two lines.
        suffix = "_2l" if style.theme.name == "lecture" else ""
        if band_rows:
            # Milestone labels get a band of their own above the panels, one row each, so that
            # they never sit on a line, a band or each other.
            band_ratio = _band_ratio(fig, style, band_rows, sum(ratios))
            grid = fig.subplots(rows + 1, 1, sharex=True, gridspec_kw={"height_ratios": [band_ratio, *ratios]})
            band, axes = grid[0], grid[1:]
        else:
            band = None
            axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
        ax_mix, ax_share = axes[0], axes[1]
        # Channel mix of *delivered* spam (accepted at receivers' servers): mail refused at a
        # closed relay or by a blacklist was attempted, not delivered, and is not in it.
        for channel, group in mix.groupby("channel", sort=False):
            _band(ax_mix, group, time, channel_color(str(channel)), channel_label(str(channel), lang), style)
        # These two labels are on two lines in every theme: the panels are short.
        ax_mix.set_ylabel(text("channel_mix_delivered_pct_2l", lang))
        _band(ax_share, share, time, SERIES_COLORS["total"], text("spam_share_arriving" + suffix, lang), style)
        ax_share.set_ylabel(text("spam_share_arriving_pct_2l", lang))
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
        _mark_milestones(axes, band, milestones, time, style, adoption)
        legend_kw = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}
        if style.theme.name == "paper":
            # One legend above everything (the milestone band included): inside a panel it
            # would cover data.
            handles, labels = ax_mix.get_legend_handles_labels()
            if adoption is not None:
                more = axes[-1].get_legend_handles_labels()
                handles, labels = handles + more[0], labels + more[1]
            top = band if band is not None else ax_mix
            handles = [*handles, *ax_share.get_legend_handles_labels()[0]]
            labels = [*labels, *ax_share.get_legend_handles_labels()[1]]
            top.legend(
                handles,
                labels,
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncols=1,
                borderaxespad=0.2,
                handlelength=2.0,
                columnspacing=1.0,
            )
        else:
            ax_mix.legend(**legend_kw)
            # The share panel's legend says what its share is of (mail arriving at receivers' servers).
            ax_share.legend(**legend_kw)
            if adoption is not None:
                axes[-1].legend(**legend_kw)
        axes[-1].set_xlabel(text(time, lang))
        if time == "year":
            axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        first, last = float(mix[time].min()), float(mix[time].max())
        if last > first:
            axes[-1].set_xlim(first, last)
        figure_note(
            fig,
            text("ci_band", lang, n=result.reps) + "\n" + text("delivered_note", lang),
            style.theme.annotation_size,
        )
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


def _band_inches(style: Style, rows: int) -> float:
    """Height of the milestone band: one row of label text per milestone."""
    return rows * MILESTONE_ROW * style.theme.annotation_size * MILESTONE_FONT / 72.0


def _band_ratio(fig: Figure, style: Style, rows: int, panels: float) -> float:
    """Height ratio of the milestone band against panels whose ratios add up to ``panels``.

    The panels share what is left of the figure after the title, axis labels and notes
    (about 1.6 inches of a slide, 1 inch of a paper figure).
    """
    band = _band_inches(style, rows)
    reserved = 1.6 if style.theme.name == "lecture" else 1.0
    available = max(fig.get_figheight() - reserved - band, 1.0)
    return panels * band / available


def _mark_milestones(
    axes: np.ndarray,
    band: Axes | None,
    milestones: pd.DataFrame,
    time: str,
    style: Style,
    adoption: pd.DataFrame | None,
) -> None:
    """Dotted lines where each countermeasure first reaches 50 % adoption, labelled in the band.

    The labels live in their own axes above the panels (``band``), one row per milestone in
    time order, so that no label lies over a line, a CI band or another label. A label reads
    from its line to the right, or to the left when it would run past the end of the axis.
    """
    if band is None or milestones.empty:
        return
    band.set_axis_off()
    band.set_ylim(0, len(milestones))
    ordered = milestones.sort_values(time, kind="stable").reset_index(drop=True)
    low, high = axes[0].get_xlim()
    for i, row in ordered.iterrows():
        color = countermeasure_color(str(row["countermeasure"]))
        for ax in axes:
            ax.axvline(row[time], color=color, linestyle=":", linewidth=style.theme.line_width * 0.6, zorder=1)
        label = text("half_adopted", style.lang, name=text(str(row["variable"]), style.lang))
        late = (row[time] - low) > 0.6 * (high - low)
        band.annotate(
            label,
            xy=(row[time], len(ordered) - int(i) - 0.5),
            xytext=(-3 if late else 3, 0),
            textcoords="offset points",
            ha="right" if late else "left",
            va="center",
            fontsize=style.theme.annotation_size * MILESTONE_FONT,
            color=color if color != "#000000" else "#333333",
            annotation_clip=False,
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
