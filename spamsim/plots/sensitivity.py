"""Global sensitivity: which uncertain parameter drives the metric (Sobol or Morris)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._axes import error_lengths, figure_note, format_linear_axis
from .labels import MONEY_METRICS, currency_label, metric_name, param_label, text, wrap_label
from .style import OKABE_ITO, SERIES_COLORS, Style, new_figure, plot_context, title
from .sweep import DEFAULT_CURRENCY

INDEX_COLORS = {
    "S1": OKABE_ITO["blue"],
    "ST": OKABE_ITO["orange"],
    "mu_star": OKABE_ITO["blue"],
    "sigma": OKABE_ITO["grey"],
}


def sensitivity_bars(
    sensitivity_result: Any, *, currency: str | None = None, theme: str = "lecture", lang: str = "en"
) -> Figure:
    """Sensitivity indices per parameter, as grouped horizontal bars with 95 % CIs.

    * Sobol: first-order (S1) and total-order (ST) indices side by side with their
      bootstrap 95 % CIs; ST well above S1 means the parameter acts through interactions.
    * Morris: μ* (mean absolute elementary effect: importance) with its 95 % CI, and σ
      (spread of the effects: non-linearity or interactions), in the metric's unit.

    Parameters
    ----------
    sensitivity_result
        From :func:`spamsim.sensitivity` (``.indices``, ``.method``, ``.metric``).
    currency
        Currency of a money metric for the Morris axis (default: the result's
        ``currency`` attribute if it has one, else JPY, the schema's default).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    method = str(sensitivity_result.method)
    metric = str(sensitivity_result.metric)
    indices: pd.DataFrame = sensitivity_result.indices
    cur = currency or getattr(sensitivity_result, "currency", None) or DEFAULT_CURRENCY
    if method == "sobol":
        series = [("S1", "S1_ci_low", "S1_ci_high"), ("ST", "ST_ci_low", "ST_ci_high")]
    elif method == "morris":
        series = [("mu_star", "mu_star_ci_low", "mu_star_ci_high"), ("sigma", None, None)]
    else:
        raise ValueError(f"unknown sensitivity method {method!r}: expected sobol or morris")
    names = list(indices.index)
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=0.45 * len(names) + 1.6)
        ax = fig.add_subplot()
        _grouped_bars(ax, indices, names, series, style, cur)
        name = metric_name(metric, lang)
        if method == "sobol":
            ax.set_xlabel(text("sobol_axis", lang, metric=name.lower() if lang == "en" else name))
            low = float(np.nanmin(indices[["S1_ci_low", "ST_ci_low"]].to_numpy()))
            high = float(np.nanmax(indices[["S1_ci_high", "ST_ci_high"]].to_numpy()))
            ax.set_xlim(min(0.0, low) - 0.03, max(1.0, high) + 0.03)
            # Indices live in [0, 1]: no tick label past the right edge of a narrow column.
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, prune="upper"))
            ax.axvline(1.0, color=SERIES_COLORS["neutral"], linewidth=style.theme.axes_width, linestyle=":")
            title(ax, style, text("sobol_title", lang, metric=name.lower() if lang == "en" else name))
        else:
            if metric in MONEY_METRICS:
                unit = f" ({currency_label(cur, lang)})" if lang == "en" else f" [{currency_label(cur, lang)}]"
            else:
                unit = ""
            ax.set_xlabel(text("morris_axis", lang, metric=name.lower() if lang == "en" else name, unit=unit))
            format_linear_axis(ax, "x", lang, nbins=4)
            title(ax, style, text("morris_title", lang, metric=name.lower() if lang == "en" else name))
        ax.axvline(0.0, color=SERIES_COLORS["reference"], linewidth=style.theme.axes_width)
        ax.set_ylabel(text("parameter", lang))
        if style.theme.name == "lecture":
            ax.legend(loc="lower right" if method == "sobol" else "best")
        else:
            fig.legend(loc="outside upper center", ncols=2, handlelength=1.2, columnspacing=1.0)
            ax.set_xlabel(wrap_label(ax.get_xlabel(), 30))
        figure_note(fig, text("error_bars_ci", lang), style.theme.annotation_size)
    return fig


def _grouped_bars(
    ax: Axes,
    indices: pd.DataFrame,
    names: list[str],
    series: list[tuple[str, str | None, str | None]],
    style: Style,
    currency: str,
) -> None:
    lang = style.lang
    y = np.arange(len(names))
    height = 0.8 / len(series)
    lw = style.theme.line_width * 0.5
    for k, (column, low, high) in enumerate(series):
        offset = (k - (len(series) - 1) / 2) * height
        mean = indices[column].to_numpy(dtype=float)
        ax.barh(
            y + offset,
            mean,
            height=height * 0.92,
            color=INDEX_COLORS[column],
            label=text(column, lang),
            edgecolor="none",
            zorder=2,
        )
        if low and high:
            err = error_lengths(mean, indices[low].to_numpy(dtype=float), indices[high].to_numpy(dtype=float))
            ax.errorbar(mean, y + offset, xerr=err, fmt="none", ecolor="black", elinewidth=lw, capthick=lw, zorder=3)
    width = 40 if style.theme.name == "lecture" else 16
    ax.set_yticks(y, [wrap_label(param_label(n, lang, currency), width) for n in names])
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
