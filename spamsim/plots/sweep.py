"""Sweeps: a metric over one parameter (lines) or two (heatmap), with 95 % CIs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..analysis import curves
from ._axes import figure_note, format_linear_axis, format_log_axis
from .labels import (
    format_number,
    format_percent,
    metric_label,
    metric_name,
    number_formatter,
    param_label,
    text,
)
from .style import (
    DIVERGING_CMAP,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    SERIES_COLORS,
    Style,
    new_figure,
    plot_context,
    title,
)

STAT_SUFFIXES = (".mean", ".se", ".ci95_low", ".ci95_high")
MAX_ANNOTATED_CELLS = 120
"""Heatmap cells carry their CI half-width as text on slides up to this many cells."""
DEFAULT_CURRENCY = "JPY"
"""Currency assumed when a sweep summary does not say (the schema's default currency)."""

HUE_COLORS = [
    OKABE_ITO[c]
    for c in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow")
]


# -- input ---------------------------------------------------------------------------------


def summary_frame(sweep: Any) -> pd.DataFrame:
    """The per-point summary of a sweep: a ``SweepResult`` or its ``.summary`` DataFrame."""
    if isinstance(sweep, pd.DataFrame):
        return sweep
    frame = getattr(sweep, "summary", None)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a sweep summary DataFrame or a SweepResult, not {type(sweep).__name__}")
    spec = getattr(sweep, "spec", None)
    if spec is not None:
        frame = frame.copy()
        frame.attrs.update({"name": spec.name, "reps": spec.reps})
    return frame


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """Parameter columns of a sweep summary (everything but ``point`` and metric statistics)."""
    return [c for c in frame.columns if c != "point" and not c.endswith(STAT_SUFFIXES)]


def metrics_of(frame: pd.DataFrame) -> list[str]:
    """Metrics summarised in a sweep summary (those with a ``.mean`` column)."""
    return [c[: -len(".mean")] for c in frame.columns if c.endswith(".mean")]


def resolve_currency(frame: pd.DataFrame, currency: str | None) -> str:
    """The currency to label money with: given, else ``frame.attrs["currency"]``, else JPY."""
    if currency:
        return currency
    return str(frame.attrs.get("currency", DEFAULT_CURRENCY))


def _check(frame: pd.DataFrame, metric: str, params: list[str]) -> None:
    if f"{metric}.mean" not in frame.columns:
        raise ValueError(f"metric {metric!r} is not in the sweep; it has: {', '.join(metrics_of(frame)) or 'none'}")
    for p in params:
        if p not in frame.columns:
            raise ValueError(f"parameter {p!r} is not in the sweep; it has: {', '.join(parameter_columns(frame))}")
    others = [c for c in parameter_columns(frame) if c not in params and frame[c].nunique(dropna=False) > 1]
    if others:
        raise ValueError(
            f"the sweep also varies {', '.join(others)}: select one value of each first, e.g. "
            f"frame[frame[{others[0]!r}] == value]"
        )
    if frame.duplicated(subset=params).any():
        raise ValueError(f"several points share the same {', '.join(params)}: one point per combination needed")


def _is_log(values: np.ndarray) -> bool:
    """Whether values look log-spaced: all positive over at least two decades (or a
    single zero below a positive log grid, such as fines ``0, 1e6, 3e7, ...``)."""
    positive = values[values > 0]
    if positive.size < 2 or (values < 0).any():
        return False
    return bool(positive.max() / positive.min() >= 100)


# -- lines ---------------------------------------------------------------------------------


def sweep_lines(
    sweep_summary: Any,
    x: str,
    metric: str = "net_profit",
    hue: str | None = None,
    *,
    currency: str | None = None,
    logx: bool | None = None,
    theme: str = "lecture",
    lang: str = "en",
) -> Figure:
    """A metric over one swept parameter, one line per value of another, with 95 % CI bands.

    Parameters
    ----------
    sweep_summary
        ``SweepResult`` or its ``.summary`` (one row per point: parameter columns and
        ``<metric>.mean / .ci95_low / .ci95_high``).
    x
        Parameter on the x axis (dotted path, e.g. ``enforcement.caught_probability``).
    metric
        Metric on the y axis.
    hue
        Parameter with one line per value (optional). Any other parameter must be constant.
    currency
        Currency of money (default: ``sweep_summary.attrs["currency"]``, else JPY).
    logx
        Log x axis (default: when the values span two decades or more).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = summary_frame(sweep_summary)
    params = [x] + ([hue] if hue else [])
    _check(frame, metric, params)
    cur = resolve_currency(frame, currency)
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=2.9)
        ax = fig.add_subplot()
        groups = [(None, frame)] if hue is None else list(frame.groupby(hue, sort=True))
        colors = _hue_colors(len(groups))
        for (value, group), color in zip(groups, colors, strict=True):
            group = group.sort_values(x)
            xs = group[x].to_numpy(dtype=float)
            label = None if hue is None else format_number(float(value), lang)
            ax.plot(
                xs,
                group[f"{metric}.mean"],
                color=color,
                marker="o",
                label=label,
                zorder=3,
                markersize=style.theme.marker_size * 0.6,
            )
            ax.fill_between(
                xs,
                group[f"{metric}.ci95_low"],
                group[f"{metric}.ci95_high"],
                color=color,
                alpha=0.2,
                linewidth=0,
                zorder=2,
            )
        values = frame[x].to_numpy(dtype=float)
        if logx if logx is not None else (_is_log(values) and (values > 0).all()):
            ax.set_xscale("log")
            format_log_axis(ax, "x", lang)
        else:
            format_linear_axis(ax, "x", lang)
        low = float(np.nanmin(frame[f"{metric}.ci95_low"].to_numpy(dtype=float)))
        high = float(np.nanmax(frame[f"{metric}.ci95_high"].to_numpy(dtype=float)))
        if low < 0 < high:
            ax.axhline(0, color=SERIES_COLORS["reference"], linewidth=style.theme.axes_width, zorder=1)
        format_linear_axis(ax, "y", lang)
        ax.set_xlabel(param_label(x, lang, cur))
        ax.set_ylabel(metric_label(metric, lang, cur))
        if hue is not None:
            legend_kw: dict[str, Any] = {"title": param_label(hue, lang, cur)}
            if style.theme.name == "lecture":
                legend_kw.update(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
            else:
                legend_kw.update(loc="best", fontsize=style.theme.legend_size * 0.85, ncols=2 if len(groups) > 4 else 1)
            ax.legend(**legend_kw)
        figure_note(fig, _ci_note(frame, "ci_band", lang), style.theme.annotation_size)
        name = metric_name(metric, lang)
        title(ax, style, text("sweep_title", lang, name=_sweep_name(frame), metric=name))
    return fig


def _hue_colors(k: int) -> list[Any]:
    if k <= len(HUE_COLORS):
        return HUE_COLORS[:k]
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, k)]


def _sweep_name(frame: pd.DataFrame) -> str:
    return str(frame.attrs.get("name", "sweep"))


def _ci_note(frame: pd.DataFrame, key: str, lang: str) -> str:
    """What the bands are, with the replications per point if the summary says
    (``attrs["reps"]``, set from a ``SweepResult``)."""
    reps = frame.attrs.get("reps")
    return text(key, lang, n=reps) if reps else text(key + "_mean", lang)


# -- heatmap -------------------------------------------------------------------------------


def sweep_heatmap(
    sweep_summary: Any,
    x: str,
    y: str,
    metric: str = "net_profit",
    *,
    level: float | None = 0.0,
    currency: str | None = None,
    x_reference: Mapping[str, float] | None = None,
    y_reference: Mapping[str, float] | None = None,
    theme: str = "lecture",
    lang: str = "en",
) -> Figure:
    """A metric over a grid of two swept parameters, with its ``level`` contour and CI.

    Each cell is one grid point (cells are evenly spaced whatever the parameter values, and
    labelled with them); its colour is the mean of ``metric`` — diverging around ``level``
    when the means fall on both sides of it, sequential otherwise. Uncertainty is shown
    where it matters for a decision: the solid contour is where the mean crosses ``level``,
    the dashed contours where the 95 % CI bounds do, and dots mark cells whose 95 % CI
    contains ``level`` (not distinguishable from it with this many replications).

    Parameters
    ----------
    sweep_summary
        ``SweepResult`` or its ``.summary`` with ``x`` and ``y`` parameter columns.
    x, y
        Parameters on the axes (dotted paths).
    metric
        Metric to colour by.
    level
        Level to contour (default 0: where the metric changes sign); None for none.
    currency
        Currency of money (default: ``sweep_summary.attrs["currency"]``, else JPY).
    x_reference, y_reference
        ``{label: value}`` reference lines across the map at parameter values (placed
        between grid values by interpolation, on a log scale for log-spaced grids).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = summary_frame(sweep_summary)
    _check(frame, metric, [x, y])
    cur = resolve_currency(frame, currency)
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=3.0)
        ax = fig.add_subplot()
        draw_heatmap(ax, fig, frame, x, y, metric, level, cur, style, x_reference, y_reference)
        title(ax, style, text("sweep_title", lang, name=_sweep_name(frame), metric=metric_name(metric, lang)))
    return fig


def draw_heatmap(
    ax: Axes,
    fig: Figure,
    frame: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    level: float | None,
    currency: str,
    style: Style,
    x_reference: Mapping[str, float] | None = None,
    y_reference: Mapping[str, float] | None = None,
    annotate: str | None = None,
) -> None:
    """Draw the heatmap of :func:`sweep_heatmap` on ``ax`` (shared with the deterrence map).

    ``annotate``: ``"cells"`` writes each cell's 95 % CI half-width (in % of its mean) in
    it, ``"note"`` gives the largest one under the map, ``"off"`` neither (when contours
    carry the uncertainty); default: cells on slides up to ``MAX_ANNOTATED_CELLS`` cells,
    else the note.
    """
    lang = style.lang
    xs = np.sort(frame[x].unique().astype(float))
    ys = np.sort(frame[y].unique().astype(float))
    grids = {
        stat: frame.pivot(index=y, columns=x, values=f"{metric}.{stat}")
        .reindex(index=ys, columns=xs)
        .to_numpy(dtype=float)
        for stat in ("mean", "ci95_low", "ci95_high")
    }
    mean = grids["mean"]
    finite = mean[np.isfinite(mean)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if level is not None and vmin < level < vmax:
        norm: Normalize = diverging_norm(finite - level, level)
        cmap = DIVERGING_CMAP
    else:
        norm = Normalize(vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1)
        cmap = SEQUENTIAL_CMAP
    ix, iy = np.arange(xs.size), np.arange(ys.size)
    edges_x, edges_y = np.arange(xs.size + 1) - 0.5, np.arange(ys.size + 1) - 0.5
    mesh = ax.pcolormesh(
        edges_x,
        edges_y,
        np.ma.masked_invalid(mean),
        cmap=cmap,
        norm=norm,
        shading="flat",
        edgecolors="white",
        linewidth=0.3,
    )
    cbar = fig.colorbar(mesh, ax=ax, pad=0.02, fraction=0.05)
    cbar.set_label(metric_label(metric, lang, currency))
    if isinstance(norm, SymLogNorm):
        top = math.floor(math.log10(max(abs(norm.vmax - level), abs(norm.vmin - level))))
        decades = [10.0**k for k in range(top, top - 3, -1)]
        cbar.set_ticks([level + d for d in decades] + [level] + [level - d for d in decades])
    else:
        # Few, round ticks: "2.75M"-style labels would push a narrow paper figure's colorbar
        # past its right edge.
        cbar.locator = MaxNLocator(nbins=4, steps=[1, 2, 5, 10])
    cbar.formatter = number_formatter(lang)
    cbar.update_ticks()
    cbar.ax.minorticks_off()
    handles: list[Any] = []
    lw = style.theme.line_width
    halo = [patheffects.withStroke(linewidth=lw * 2.2, foreground="white")]
    if level is not None and xs.size > 1 and ys.size > 1:
        name = metric_name(metric, lang)
        mean_label = text("zero_contour", lang, metric=name) if level == 0 else f"{name} = {format_number(level, lang)}"
        drawn_ci = False
        for stat in ("mean", "ci95_low", "ci95_high"):
            grid = np.ma.masked_invalid(grids[stat])
            if grid.count() and grid.min() < level < grid.max():
                width = lw if stat == "mean" else lw * 0.6
                cs = ax.contour(
                    ix,
                    iy,
                    grid,
                    levels=[level],
                    colors="black",
                    linewidths=width,
                    linestyles="-" if stat == "mean" else "--",
                    zorder=3,
                )
                cs.set(path_effects=halo)
                if stat == "mean":
                    handles.append(Line2D([], [], color="black", linewidth=width, label=mean_label))
                elif not drawn_ci:
                    drawn_ci = True
                    handles.append(
                        Line2D(
                            [], [], color="black", linestyle="--", linewidth=width, label=text("zero_contour_ci", lang)
                        )
                    )
        lo, hi = grids["ci95_low"], grids["ci95_high"]
        undecided = np.isfinite(lo) & np.isfinite(hi) & (lo <= level) & (hi >= level) & (lo < hi)
        if undecided.any():
            yy, xx = np.nonzero(undecided)
            ax.scatter(xx, yy, s=(style.theme.marker_size * 0.5) ** 2, color="black", marker="o", zorder=4)
            handles.append(
                Line2D(
                    [],
                    [],
                    color="black",
                    marker="o",
                    linestyle="none",
                    markersize=style.theme.marker_size * 0.5,
                    label=text("ci_includes", lang, level=format_number(level, lang)),
                )
            )
    for reference, values, axis in ((x_reference, xs, "x"), (y_reference, ys, "y")):
        for label, value in (reference or {}).items():
            pos = index_position(values, value)
            if pos is None:
                continue
            line = ax.axhline if axis == "y" else ax.axvline
            line(
                pos,
                color=SERIES_COLORS["reference"],
                linestyle=(0, (4, 2)),
                linewidth=lw * 0.7,
                path_effects=halo,
                zorder=5,
            )
            text_kw: dict[str, Any] = {
                "fontsize": style.theme.annotation_size,
                "color": "black",
                "path_effects": [patheffects.withStroke(linewidth=lw * 1.2, foreground="white")],
                "zorder": 6,
            }
            if axis == "y":
                ax.annotate(
                    label,
                    xy=(0.0, pos),
                    xycoords=("axes fraction", "data"),
                    xytext=(4, 3),
                    textcoords="offset points",
                    ha="left",
                    va="bottom",
                    **text_kw,
                )
            else:
                ax.annotate(
                    label,
                    xy=(pos, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -4),
                    textcoords="offset points",
                    ha="left",
                    va="top",
                    rotation=90,
                    **text_kw,
                )
    rel = frame.assign(_rel=curves.relative_ci_halfwidth(frame, metric)).pivot(index=y, columns=x, values="_rel")
    rel_grid = rel.reindex(index=ys, columns=xs).to_numpy(dtype=float)
    if annotate is None:
        annotate = "cells" if style.theme.name == "lecture" and mean.size <= MAX_ANNOTATED_CELLS else "note"
    note = None
    if annotate == "cells":
        # Each cell's 95 % CI half-width in per cent of its mean, in a colour that reads on it.
        for (row, col), value in np.ndenumerate(rel_grid):
            if not np.isfinite(value) or not np.isfinite(mean[row, col]):
                continue
            r, g, b, _ = mesh.cmap(mesh.norm(mean[row, col]))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(
                col,
                row,
                "±" + format_percent(value, 1),
                ha="center",
                va="center",
                fontsize=style.theme.annotation_size * 0.7,
                color=ink,
                zorder=2,
            )
        note = text("cell_ci", lang)
    elif annotate == "note":
        worst = float(np.nanmax(rel_grid)) if np.isfinite(rel_grid).any() else math.nan
        note = text("max_ci", lang, pct=format_percent(worst, 2))
    _category_ticks(ax, "x", xs, lang, max_ticks=7 if style.theme.name == "lecture" else 5)
    _category_ticks(ax, "y", ys, lang, max_ticks=8)
    ax.set_xlim(-0.5, xs.size - 0.5)
    ax.set_ylim(-0.5, ys.size - 0.5)
    ax.grid(False)
    ax.set_xlabel(param_label(x, lang, currency))
    ax.set_ylabel(param_label(y, lang, currency))
    if handles:
        # The note joins the legend (both sit under the map).
        if note:
            handles.append(Line2D([], [], linestyle="none", label=note))
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=(len(handles) if not note else 2) if style.theme.name == "lecture" else 1,
            fontsize=style.theme.legend_size * (1.0 if style.theme.name == "lecture" else 0.9),
        )
    elif note:
        figure_note(fig, note, style.theme.annotation_size)


def diverging_norm(deviations: np.ndarray, level: float) -> Normalize:
    """A colour scale symmetric about ``level`` (equal colour for equal gains and losses).

    When a few deviations from ``level`` dwarf the typical one (the largest is ten times the
    median or more: a fine of billions against a profit of millions) the scale is
    symmetric-logarithmic, linear within a thousandth of the largest deviation, so that the
    small and the large deviations both stay visible.
    """
    magnitude = np.abs(deviations[np.isfinite(deviations)])
    largest = float(magnitude.max()) if magnitude.size else 1.0
    typical = float(np.median(magnitude)) if magnitude.size else largest
    if largest > 0 and (typical == 0 or largest / typical >= 10):
        linthresh = 10 ** (math.floor(math.log10(largest)) - 3)
        return SymLogNorm(linthresh=linthresh, linscale=0.5, vmin=level - largest, vmax=level + largest, base=10)
    return Normalize(vmin=level - largest, vmax=level + largest)


def index_position(values: np.ndarray, value: float) -> float | None:
    """Where ``value`` falls on a categorical axis of sorted grid ``values`` (cell index,
    interpolated between cells; on a log scale for log-spaced grids). None if outside."""
    values = np.asarray(values, dtype=float)
    exact = np.flatnonzero(np.isclose(values, value, rtol=1e-9, atol=0.0))
    if exact.size:
        return float(exact[0])
    if not values[0] <= value <= values[-1]:
        return None
    if _is_log(values) and value > 0:
        keep = values > 0
        return float(np.interp(math.log10(value), np.log10(values[keep]), np.flatnonzero(keep)))
    return float(np.interp(value, values, np.arange(values.size)))


def _category_ticks(ax: Axes, axis: str, values: np.ndarray, lang: str, max_ticks: int) -> None:
    step = max(1, math.ceil(values.size / max_ticks))
    idx = np.arange(0, values.size, step)
    labels = [format_number(float(v), lang, 2) for v in values[idx]]
    if axis == "x":
        ax.set_xticks(idx, labels)
    else:
        ax.set_yticks(idx, labels)
    ax.tick_params(axis=axis, length=0)
