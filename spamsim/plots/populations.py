"""The infrastructure spam runs on: bots, open relays and stolen accounts over time."""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis import curves
from ..analysis.result import Result
from ._axes import figure_note, format_linear_axis
from .labels import channel_label, text
from .style import channel_color, new_figure, plot_context, suptitle
from .timeline import BAND_ALPHA


def population_columns(result: Result) -> list[str]:
    """World-timeseries populations of the channels the scenario has (bots, relays, accounts).

    Hit-and-run bots are included when the botnet has any (``hit_and_run_share`` > 0).
    """
    channels = set(result.scenario.channels.names())
    botnet = result.scenario.channels.botnet
    columns = []
    for column, channel in curves.POPULATION_COLUMNS.items():
        if channel not in channels:
            continue
        if column == "hit_and_run_bots" and (botnet is None or not getattr(botnet, "hit_and_run_share", 0)):
            continue
        columns.append(column)
    return columns


def populations(result: Result, *, theme: str = "lecture", lang: str = "en") -> Figure:
    """Botnet, open-relay and compromised-account populations over time, with 95 % CI bands.

    One panel per population the scenario has — active bots, hit-and-run bots, open relays
    known to spammers, stolen accounts in use — each on its own linear scale from zero, in
    its channel's colour. Lines are means over replications, bands their 95 % CIs
    (:func:`spamsim.analysis.curves.world_series`); the time axis is in calendar years when
    the scenario sets ``horizon.start_year``, days otherwise.

    Parameters
    ----------
    result
        A run of a scenario with a botnet, open relays or compromised accounts, over more
        than one step.
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the scenario has none of those channels, or a single step.
    """
    scenario = result.scenario
    columns = population_columns(result)
    if not columns:
        raise ValueError(
            f"scenario {scenario.name!r} has no botnet, open relays or compromised accounts: no populations to draw"
        )
    if scenario.n_steps < 2:
        raise ValueError(f"populations needs more than one step; {scenario.name!r} records {scenario.n_steps}")
    series = curves.world_series(result, columns)
    time = curves.time_column(scenario)
    with plot_context(theme, lang) as style:
        lecture = style.theme.name == "lecture"
        k = len(columns)
        if lecture:
            nrows, ncols = (1, k) if k <= 3 else (2, 2)
        else:
            nrows, ncols = k, 1
        fig = new_figure(style, rows=nrows, min_height=1.15 * nrows + 0.6)
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
        # Room between stacked panels, so that the tick labels at their edges never touch.
        fig.get_layout_engine().set(hspace=0.06)
        for ax, column in zip(axes, columns, strict=False):
            group = series[series["variable"] == column]
            channel = curves.POPULATION_COLUMNS[column]
            color = channel_color(channel)
            x = group[time].to_numpy(dtype=float)
            ax.plot(x, group["mean"], color=color, zorder=3)
            ax.fill_between(
                x, group["ci95_low"], group["ci95_high"], color=color, alpha=BAND_ALPHA, linewidth=0, zorder=2
            )
            ax.set_ylabel(text(column + "_2l", lang))
            ax.set_title(
                channel_label(channel, lang),
                loc="left",
                fontsize=style.theme.label_size,
                color=color if channel != "own_server" else None,
                fontweight="normal",
                # Clear of the top y tick label, which reaches above the axes.
                pad=style.theme.tick_size * 0.7,
            )
            top = float(group["ci95_high"].max())
            ax.set_ylim(0, top * 1.08 if math.isfinite(top) and top > 0 else 1)
            format_linear_axis(ax, "y", lang, nbins=4)
            if time == "year":
                ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if lecture and ncols > 1 else 8, integer=True))
            else:
                ax.xaxis.set_major_locator(MaxNLocator(nbins=5 if lecture and ncols > 1 else 8))
            ax.set_xlim(float(x.min()), float(x.max()))
        for ax in axes[len(columns) :]:
            ax.remove()
        used = axes[: len(columns)]
        for i, ax in enumerate(used):
            # x labels on the bottom row of panels only (they share the axis).
            below = i + ncols
            if below >= len(columns):
                ax.set_xlabel(text(time, lang))
                ax.tick_params(axis="x", labelbottom=True)
        figure_note(fig, text("ci_band", lang, n=result.reps), style.theme.annotation_size)
        suptitle(fig, style, text("populations_title", lang, name=scenario.name))
    return fig
