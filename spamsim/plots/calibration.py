"""Calibration: observed funnel counts against the counts the fitted model expects."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._axes import clip_for_log, error_lengths, figure_note, format_log_axis, log_floor
from .labels import text
from .style import SERIES_COLORS, new_figure, plot_context, title

CALIBRATION_COLUMNS = ("stage", "observed", "fitted", "fitted_ci_low", "fitted_ci_high")


def calibration_fit(frame: pd.DataFrame, *, theme: str = "lecture", lang: str = "en") -> Figure:
    """Observed and fitted counts per funnel stage on a log scale, the fit with its 95 % CI.

    Parameters
    ----------
    frame
        One row per funnel stage, in funnel order, with columns ``stage`` (e.g.
        ``attempted``, ``delivered``, ``inbox``, ``opened``, ``clicked``, ``sales``),
        ``observed`` (count), ``fitted`` (count the fitted model expects) and
        ``fitted_ci_low`` / ``fitted_ci_high`` (its 95 % CI), as the calibration module
        provides.
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = [c for c in CALIBRATION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"calibration frame lacks column(s) {', '.join(missing)}; needs {', '.join(CALIBRATION_COLUMNS)}"
        )
    if frame.empty:
        raise ValueError("calibration frame has no stages")
    stages = [str(s) for s in frame["stage"]]
    observed = frame["observed"].to_numpy(dtype=float)
    fitted = frame["fitted"].to_numpy(dtype=float)
    low = frame["fitted_ci_low"].to_numpy(dtype=float)
    high = frame["fitted_ci_high"].to_numpy(dtype=float)
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=2.6)
        ax = fig.add_subplot()
        floor = log_floor(np.concatenate([observed, fitted, low]))
        x = np.arange(len(stages))
        shift = 0.12
        ax.errorbar(
            x + shift,
            clip_for_log(fitted, floor),
            yerr=error_lengths(fitted, low, high, floor),
            fmt="o",
            color=SERIES_COLORS["primary"],
            ecolor=SERIES_COLORS["primary"],
            label=text("fitted", lang),
            markersize=style.theme.marker_size,
            elinewidth=style.theme.line_width * 0.7,
            capthick=style.theme.line_width * 0.7,
            zorder=3,
        )
        ax.plot(
            x - shift,
            clip_for_log(observed, floor),
            linestyle="none",
            marker="D",
            color=SERIES_COLORS["observed"],
            markersize=style.theme.marker_size * 0.85,
            label=text("observed", lang),
            zorder=4,
        )
        ax.set_yscale("log")
        top = float(np.nanmax(np.concatenate([observed, fitted, high])))
        ax.set_ylim(floor, top * 5)
        format_log_axis(ax, "y", lang)
        ax.set_xticks(x, [text(s, lang) for s in stages])
        ax.set_xlim(-0.5, len(stages) - 0.5)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel(text("stage", lang))
        ax.set_ylabel(text("count_log", lang))
        if style.theme.name == "lecture":
            ax.legend(loc="best")
        else:
            fig.legend(loc="outside upper center", ncols=2, handlelength=1.2)
        figure_note(fig, text("fit_note", lang), style.theme.annotation_size)
        title(ax, style, text("calibration_title", lang))
    return fig
