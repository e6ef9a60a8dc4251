"""Figures in the page: the library's figures as inline PNG images, plus the deterrence frontier.

Images are embedded as ``data:`` URIs, so a figure is never a request, and the page's ``alt``
text says what the figure shows (what a screen reader reads, and what the browser tests check).
"""

from __future__ import annotations

import base64
import io
import math
import threading
from collections.abc import Callable

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import fmt
from ..i18n import N_, gettext
from ..names import currency_label, unit_label
from ..plots.style import new_figure, plot_context, suptitle

SCREEN_DPI = 80
"""Resolution of figures in the page: the lecture theme's large type stays readable on a projector."""


DRAWING = threading.Lock()
"""One figure at a time: the figure functions set matplotlib's (global) rcParams while drawing."""


def draw(make: Callable[[], Figure], dpi: int = SCREEN_DPI) -> str:
    """Make a figure and write it as a PNG data URI, holding :data:`DRAWING` (safe from any thread)."""
    with DRAWING:
        return png_data_uri(make(), dpi)


def png_data_uri(fig: Figure, dpi: int = SCREEN_DPI) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI, written with the figure's own theme settings."""
    style = getattr(fig, "spamsim_style", None)
    rc = dict(style.rc) if style is not None else {}
    buf = io.BytesIO()
    with mpl.rc_context(rc):
        fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def frontier(
    frame: pd.DataFrame,
    currency: str,
    lang: str,
    *,
    caught_probability: float | None = None,
    fines: dict[str, float] | None = None,
) -> Figure:
    """The deterrence frontier: per spammer, the fine at which expected profit is zero.

    Parameters
    ----------
    frame
        From :func:`spamsim.analysis.analytic.deterrence_frontier` (``spammer``,
        ``caught_probability``, ``zero_profit_fine``); a spammer out of reach has no finite
        fine and is named in the note instead of drawn.
    currency, lang
        The scenario's currency; ``"en"`` | ``"ja"``.
    caught_probability
        The scenario's probability of being caught, marked with a vertical line.
    fines
        The scenario's fines by legal form, marked with horizontal lines.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with plot_context("lecture", lang) as style:
        fig = new_figure(style)
        ax = fig.subplots()
        out_of_reach = []
        for name, rows in frame.groupby("spammer", sort=False):
            finite = rows[np.isfinite(rows["zero_profit_fine"]) & (rows["zero_profit_fine"] > 0)]
            if finite.empty:
                out_of_reach.append(str(name))
                continue
            ax.plot(finite["caught_probability"], finite["zero_profit_fine"], label=str(name), linewidth=2.5)
        for legal_form, fine in (fines or {}).items():
            if fine > 0:
                ax.axhline(fine, color="0.4", linestyle=":", linewidth=1.5)
                ax.annotate(
                    f"{gettext(N_('fine'), lang)} ({legal_form}): {fmt.money(fine, currency, lang, short=True)}",
                    (0.99, fine),
                    xycoords=("axes fraction", "data"),
                    ha="right",
                    va="bottom",
                )
        if caught_probability is not None and caught_probability > 0:
            ax.axvline(caught_probability, color="0.2", linestyle="--", linewidth=1.5)
        ax.set_xscale("log")
        if ax.lines and any(line.get_label()[:1] != "_" for line in ax.lines):
            ax.set_yscale("log")
            ax.legend(loc="upper right")
        ax.yaxis.set_major_formatter(fmt.number_formatter(lang))
        ax.set_xlabel(gettext(N_("Probability of being caught"), lang))
        ax.set_ylabel(
            unit_label(gettext(N_("Fine that makes spam not pay"), lang), currency_label(currency, lang), lang)
        )
        if out_of_reach:
            ax.text(
                0.02,
                0.02,
                gettext(N_("Out of reach (no fine deters): {names}"), lang, names=", ".join(out_of_reach)),
                transform=ax.transAxes,
                ha="left",
                va="bottom",
            )
        suptitle(fig, style, gettext(N_("Deterrence frontier: fine x probability at which spam stops paying"), lang))
    return fig


def mark_time(fig: Figure, at: float) -> Figure:
    """Draw a vertical line at ``at`` (the time axis' units) on every panel of a timeline figure."""
    for ax in fig.axes:
        if ax.get_visible() and ax.lines and math.isfinite(at):
            ax.axvline(at, color="black", linewidth=2.5)
    return fig
