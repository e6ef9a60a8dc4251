"""Deterrence: when do fines and the chance of being caught make spam stop paying?"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure

from .. import fmt
from ..analysis.curves import BreakEvenCurve, break_even_curve
from ..analysis.result import Result
from ..scenario.schema import Scenario
from ._axes import figure_note, format_log_axis
from .labels import currency_label, format_number, text
from .style import SERIES_COLORS, new_figure, plot_context, title
from .sweep import draw_heatmap, resolve_currency, summary_frame

LECTURE_FINES = {"individual": 1.0e6, "corporation": 3.0e7}
"""Maximum fines in JPY under Japan's Act on Regulation of Transmission of Specified
Electronic Mail, as amended 2008 (the lecture's numbers): 1,000,000 JPY for an individual,
30,000,000 JPY for a corporation."""


def deterrence_heatmap(
    sweep_summary: Any,
    x: str = "enforcement.caught_probability",
    y: str = "enforcement.fines.individual",
    metric: str = "net_profit",
    *,
    reference_fines: Mapping[str, float] | None = None,
    currency: str | None = None,
    theme: str = "lecture",
    lang: str = "en",
) -> Figure:
    """Net profit over fine x probability of being caught, with the zero-profit contour.

    The heatmap of :func:`~spamsim.plots.sweep.sweep_heatmap` (mean net profit per grid
    point, red = loss, blue = profit; solid contour where the mean crosses zero, dashed
    where its 95 % CI bounds do; dots where the CI contains zero), with the lecture's
    maximum fines — 1,000,000 JPY for an individual, 30,000,000 JPY for a corporation —
    drawn as reference lines across the fine axis.

    Parameters
    ----------
    sweep_summary
        ``SweepResult`` or its ``.summary`` (e.g. of ``scenarios/deterrence-sweep.yaml``).
    x, y
        Swept parameters on the axes; reference fines go on whichever is a fine
        (``enforcement.fines.*``).
    metric
        Metric to colour by (default ``net_profit``).
    reference_fines
        ``{"individual": fine, "corporation": fine}`` to mark; default: the lecture's fines
        when the currency is JPY, none otherwise. ``{}`` for none.
    currency
        Currency (default: ``sweep_summary.attrs["currency"]``, else JPY).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = summary_frame(sweep_summary)
    cur = resolve_currency(frame, currency)
    if reference_fines is None:
        reference_fines = LECTURE_FINES if cur.upper() == "JPY" else {}
    with plot_context(theme, lang) as style:
        labels = {
            f"{text('fine_' + form, lang)} {fmt.money(value, cur, lang, short=True)}": value
            for form, value in reference_fines.items()
        }
        x_ref = labels if x.startswith("enforcement.fines") else None
        y_ref = labels if y.startswith("enforcement.fines") else None
        fig = new_figure(style, min_height=3.2)
        ax = fig.add_subplot()
        # The zero contours and dots carry the uncertainty that matters here; per-cell CI
        # labels would crowd the reference lines.
        draw_heatmap(ax, fig, frame, x, y, metric, 0.0, cur, style, x_ref, y_ref, annotate="off")
        title(ax, style, text("deterrence_title", lang, name=str(frame.attrs.get("name", "deterrence"))))
    return fig


def break_even(
    scenario: Scenario | Result | BreakEvenCurve | str | os.PathLike[str] | Mapping[str, Any],
    *,
    success_rates: np.ndarray | None = None,
    theme: str = "lecture",
    lang: str = "en",
) -> Figure:
    """Expected revenue against cost plus expected fines over the success rate; break-even marked.

    Closed-form expectations (:func:`spamsim.analysis.curves.break_even_curve`) on log-log
    axes: revenue grows in proportion to the success rate, costs and fines do not depend on
    it, so the lines cross at the break-even success rate (dotted vertical line). Above it
    spam pays (shaded blue), below it loses (shaded red). The scenario's own success rate is
    marked, with the central 95 % range of its distribution when it is uncertain. Closed
    forms have no sampling error: there are no confidence intervals to draw.

    Parameters
    ----------
    scenario
        A scenario (object, path or mapping), a run (its scenario is used) or a
        precomputed :class:`~spamsim.analysis.curves.BreakEvenCurve`.
    success_rates
        Rates to evaluate (default: four decades around the scenario's and break-even rates).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(scenario, BreakEvenCurve):
        curve = scenario
    else:
        source = scenario.scenario if isinstance(scenario, Result) else scenario
        curve = break_even_curve(source, success_rates)
    frame = curve.frame
    rates = frame["success_rate"].to_numpy(dtype=float)
    revenue = frame["revenue"].to_numpy(dtype=float)
    charges = (frame["cost"] + frame["fines"]).to_numpy(dtype=float)
    with plot_context(theme, lang) as style:
        fig = new_figure(style, min_height=2.8)
        ax = fig.add_subplot()
        cur = currency_label(curve.currency, lang)
        size = style.theme.annotation_size
        ax.plot(rates, revenue, color=SERIES_COLORS["primary"], label=text("expected_revenue", lang), zorder=3)
        positive = charges[charges > 0]
        bottom = float(np.nanmin(np.concatenate([revenue[revenue > 0], positive]))) / 3
        top = float(np.nanmax(np.concatenate([revenue, charges]))) * 3
        if positive.size:
            ax.plot(
                rates,
                np.where(charges > 0, charges, np.nan),
                color=SERIES_COLORS["secondary"],
                linestyle="--",
                label=text("expected_charges", lang),
                zorder=3,
            )
        be = curve.break_even_success_rate
        if 0 < be < math.inf and rates.min() <= be <= rates.max():
            ax.axvspan(rates.min(), be, color=SERIES_COLORS["secondary"], alpha=0.08, linewidth=0, zorder=1)
            ax.axvspan(be, rates.max(), color=SERIES_COLORS["primary"], alpha=0.08, linewidth=0, zorder=1)
            ax.axvline(be, color="black", linestyle=":", linewidth=style.theme.line_width * 0.7, zorder=2)
            ax.annotate(
                text("break_even", lang, rate=format_number(be, lang, 2)),
                xy=(be, 0.9),
                xycoords=("data", "axes fraction"),
                xytext=(5, 0),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=size,
                path_effects=[patheffects.withStroke(linewidth=style.theme.line_width * 1.2, foreground="white")],
            )
            for zone, x_pos, ha in (("loss_zone", 0.01, "left"), ("profit_zone", 0.99, "right")):
                ax.text(
                    x_pos,
                    0.97,
                    text(zone, lang),
                    transform=ax.transAxes,
                    ha=ha,
                    va="top",
                    fontsize=size,
                    color="#555555",
                )
        elif be == 0:
            ax.text(
                0.02,
                0.97,
                text("break_even_zero", lang),
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=size,
                color="#333333",
            )
        rate = curve.success_rate
        if rate > 0:
            if curve.success_rate_interval is not None:
                lo, hi = curve.success_rate_interval
                ax.axvspan(lo, hi, color=SERIES_COLORS["neutral"], alpha=0.2, linewidth=0, zorder=1)
            y_at = float(np.interp(math.log(rate), np.log(rates), revenue))
            ax.plot(
                [rate],
                [y_at],
                marker="o",
                color=SERIES_COLORS["primary"],
                markeredgecolor="white",
                linestyle="none",
                zorder=4,
                markersize=style.theme.marker_size * 1.1,
            )
            ax.annotate(
                text("scenario_rate", lang, rate=format_number(rate, lang, 2)),
                xy=(rate, y_at),
                xytext=(-8, 8),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=size,
                path_effects=[patheffects.withStroke(linewidth=style.theme.line_width * 1.2, foreground="white")],
                zorder=5,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(rates.min(), rates.max())
        ax.set_ylim(bottom, top)
        format_log_axis(ax, "x", lang)
        format_log_axis(ax, "y", lang)
        ax.set_xlabel(text("success_rate_axis", lang))
        ax.set_ylabel(text("money_log", lang, cur=cur))
        ax.legend(loc="lower right", handlelength=1.8)
        notes = [text("closed_form", lang)]
        if not curve.applicable:
            notes.append(text("not_applicable", lang))
        if curve.success_rate_interval is not None:
            notes.append(text("rate_range", lang))
        figure_note(fig, "\n".join(notes), size)
        title(ax, style, text("break_even_title", lang, name=curve.scenario_name))
    return fig
