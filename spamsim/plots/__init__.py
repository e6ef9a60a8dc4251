"""Publication figures: one function per figure, each returning a matplotlib ``Figure``.

Every function takes analysis results (a :class:`~spamsim.analysis.result.Result`, a
:class:`~spamsim.analysis.effects.Comparison`, a sweep summary, ...) and draws them; the
statistics come from :mod:`spamsim.analysis` (derived series from
:mod:`spamsim.analysis.curves`), never from the plotting code. Every function accepts
``theme="lecture"`` (16:9 slides, large type) or ``"paper"`` (one journal column, 8–9 pt)
and ``lang="en"`` or ``"ja"``, and draws inside a ``matplotlib.rc_context``: calling it
changes no global matplotlib setting and registers no pyplot figure.

>>> import spamsim as ss
>>> from spamsim import plots
>>> res = ss.run("scenarios/lecture.yaml", reps=50, seed=1)
>>> fig = plots.funnel(res, theme="paper", lang="ja")
>>> plots.save(fig, "funnel.pdf")  # doctest: +SKIP

``FIGURES`` maps a figure kind (as ``spamsim plot --kind`` might name it) to its function.
"""

from collections.abc import Callable

from matplotlib.figure import Figure

from .calibration import calibration_fit
from .deterrence import LECTURE_FINES, break_even, deterrence_heatmap
from .effects import effects, shapley_waterfall
from .explore import prim_trajectory, robustness_pareto
from .funnel import funnel
from .output import save
from .populations import populations
from .sensitivity import sensitivity_bars
from .style import (
    CHANNEL_COLORS,
    COUNTERMEASURE_COLORS,
    LANGS,
    OKABE_ITO,
    THEME_NAMES,
    THEMES,
    plot_context,
)
from .sweep import sweep_heatmap, sweep_lines
from .timeline import timeline

FIGURES: dict[str, Callable[..., Figure]] = {
    "funnel": funnel,
    "effects": effects,
    "shapley": shapley_waterfall,
    "timeline": timeline,
    "populations": populations,
    "deterrence": deterrence_heatmap,
    "break-even": break_even,
    "sweep": sweep_lines,
    "sweep-heatmap": sweep_heatmap,
    "sensitivity": sensitivity_bars,
    "calibration": calibration_fit,
    "robustness": robustness_pareto,
    "prim": prim_trajectory,
}
"""Figure kind → function. Each takes its data first, then ``theme=`` and ``lang=``."""

__all__ = [
    "CHANNEL_COLORS",
    "COUNTERMEASURE_COLORS",
    "FIGURES",
    "LANGS",
    "LECTURE_FINES",
    "OKABE_ITO",
    "THEMES",
    "THEME_NAMES",
    "break_even",
    "calibration_fit",
    "deterrence_heatmap",
    "effects",
    "funnel",
    "plot_context",
    "populations",
    "prim_trajectory",
    "robustness_pareto",
    "save",
    "sensitivity_bars",
    "shapley_waterfall",
    "sweep_heatmap",
    "sweep_lines",
    "timeline",
]
