"""Exploration figures: robust portfolios against defenders' cost, and PRIM's peeling trajectory."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._axes import figure_note, format_linear_axis
from .labels import countermeasure_label, currency_label, text, wrap_label
from .style import OKABE_ITO, SERIES_COLORS, new_figure, plot_context, title


def portfolio_label(name: str, lang: str, sep: str = " + ") -> str:
    """A portfolio's name: its countermeasures' display names joined by ``sep`` (``none``: none).

    Named portfolios (``levers.portfolios``) keep their own names."""
    if name == "none":
        return text("portfolio_none", lang)
    from ..countermeasures import REGISTRY

    known = {cm.key for cm in REGISTRY} | {"enforcement"}
    parts = name.split("+")
    if not all(p in known for p in parts):
        return name
    return sep.join(countermeasure_label(p, lang) for p in parts)


def robustness_pareto(
    table: pd.DataFrame,
    *,
    name: str = "",
    currency: str = "JPY",
    note: str | None = None,
    theme: str = "paper",
    lang: str = "en",
) -> Figure:
    """Each portfolio's robustness (share of worlds where no spammer profits) against its
    defenders' cost, with the Pareto front drawn through the undominated portfolios.

    Parameters
    ----------
    table
        :func:`spamsim.analysis.robustness.robustness` (index portfolio; ``satisficing``,
        ``defender_cost``, ``pareto``).
    name
        Exploration name for the title.
    currency
        Currency of the defenders' cost.
    note
        A line under the figure (e.g. worlds x replications).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
        Where no cost is known, horizontal bars of robustness instead (and a note saying so).
    """
    cost = table["defender_cost"].to_numpy(dtype=float)
    share = table["satisficing"].to_numpy(dtype=float)
    labels = [portfolio_label(str(p), lang) for p in table.index]
    with plot_context(theme, lang) as style:
        if not np.isfinite(cost).any():
            fig = new_figure(style, min_height=0.35 * len(labels) + 1.6)
            ax = fig.add_subplot()
            y = np.arange(len(labels))[::-1]
            ax.barh(y, share, color=OKABE_ITO["blue"], edgecolor="none", zorder=2)
            ax.set_yticks(y, [wrap_label(label, 16) for label in labels])
            ax.set_xlim(0, 1.0)
            ax.set_xlabel(wrap_label(text("satisficing_axis", lang), 24))
            ax.set_ylabel(text("portfolio", lang))
            notes = [text("cost_unknown", lang)]
        else:
            fig = new_figure(style)
            ax = fig.add_subplot()
            front = table["pareto"].to_numpy(dtype=bool) & np.isfinite(cost)
            ax.scatter(
                cost,
                share,
                color=SERIES_COLORS["neutral"],
                zorder=2,
                s=style.theme.line_width * 12,
                label=text("other_portfolios", lang),
            )
            order = np.argsort(cost[front])
            ax.step(
                cost[front][order],
                share[front][order],
                where="post",
                color=OKABE_ITO["vermillion"],
                linewidth=style.theme.line_width,
                label=text("pareto_front", lang),
                zorder=3,
            )
            ax.scatter(
                cost[front], share[front], color=OKABE_ITO["vermillion"], zorder=4, s=style.theme.line_width * 16
            )
            finite = cost[np.isfinite(cost)]
            middle = (finite.min() + finite.max()) / 2.0
            for x, y, label, on_front in zip(cost, share, labels, front, strict=True):
                # Only the front is named: labels of dominated portfolios would crowd it out
                # (robustness.csv and the printed table name every portfolio).
                if math.isfinite(x) and on_front:
                    # Labels point inwards, so that none runs off the axes.
                    right, high = x > middle, y > 0.6
                    ax.annotate(
                        wrap_label(label, 18),
                        (x, y),
                        xytext=(-4 if right else 4, -4 if high else 4),
                        textcoords="offset points",
                        ha="right" if right else "left",
                        va="top" if high else "bottom",
                        fontsize=style.theme.annotation_size,
                    )
            ax.set_ylim(-0.03, 1.05)
            format_linear_axis(ax, "x", lang, nbins=4)
            ax.set_xlabel(wrap_label(text("defender_cost_axis", lang, cur=currency_label(currency, lang)), 34))
            ax.set_ylabel(wrap_label(text("satisficing_axis", lang), 24))
            ax.legend(loc="best")
            notes = []
        title(ax, style, text("pareto_title", lang, name=name))
        if note:
            notes.append(note)
        if notes:
            figure_note(fig, "\n".join(notes), style.theme.annotation_size)
    return fig


def prim_trajectory(box: Any, *, portfolio: str = "", theme: str = "paper", lang: str = "en") -> Figure:
    """PRIM's peeling trajectory: density against coverage of each box along the way,
    coloured by how many uncertainties it restricts; the reported box is ringed.

    Parameters
    ----------
    box
        A :class:`spamsim.analysis.discovery.PrimBox`.
    portfolio
        The portfolio the boxes describe (title).
    theme, lang
        ``"lecture"`` | ``"paper"``; ``"en"`` | ``"ja"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    trajectory: pd.DataFrame = box.trajectory
    with plot_context(theme, lang) as style:
        fig = new_figure(style)
        ax = fig.add_subplot()
        points = ax.scatter(
            trajectory["coverage"],
            trajectory["density"],
            c=trajectory["res_dim"],
            cmap="viridis",
            s=style.theme.line_width * 10,
            zorder=2,
        )
        ax.scatter(
            [box.coverage],
            [box.density],
            facecolors="none",
            edgecolors=OKABE_ITO["vermillion"],
            s=style.theme.line_width * 60,
            linewidths=style.theme.line_width,
            label=text("chosen_box", lang),
            zorder=3,
        )
        bar = fig.colorbar(points, ax=ax)
        bar.set_label(text("restricted", lang))
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(text("coverage", lang))
        ax.set_ylabel(text("density", lang))
        ax.legend(loc="lower left")
        title(ax, style, wrap_label(text("prim_title", lang, portfolio=portfolio_label(portfolio, lang)), 48))
    return fig
