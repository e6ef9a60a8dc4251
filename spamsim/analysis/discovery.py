"""Scenario discovery: which worlds keep spam profitable under a portfolio (PRIM and CART).

A thin layer over the EMA Workbench's implementations (``ema_workbench.analysis.prim`` and
``.cart``; Kwakkel, "The Exploratory Modeling Workbench", Environmental Modelling & Software
96, 2017), which follow Friedman & Fisher's PRIM (1999) and Bryant & Lempert's scenario
discovery (2010): PRIM peels the space of uncertainties into boxes where the cases of
interest are dense, trading coverage (the share of all cases of interest inside the box)
against density (the share of the box's worlds that are cases of interest); the box limits
come with quasi-p-values (a one-sided binomial test of each restriction). CART gives the
same question as a classification tree's leaves.

The workbench is an optional dependency (``pip install 'spamsim[explore]'``): without it
these functions refuse with the install command instead of failing on import.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..runner.errors import RefusedError
from ..runner.preflight import install_command


def _workbench(module: str) -> Any:
    """Import ``ema_workbench.analysis.<module>``, quietly (it warns about optional parts it lacks)."""
    import importlib
    import logging

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = importlib.import_module(f"ema_workbench.analysis.{module}")
    except ImportError:
        raise RefusedError(
            "scenario discovery (PRIM, CART) needs the EMA Workbench, which is not installed; "
            f"install it with: {install_command('explore')}"
        ) from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return found


@dataclass(frozen=True)
class PrimBox:
    """One PRIM box: its limits, how good it is, and the peeling trajectory that led to it.

    Attributes
    ----------
    limits
        One row per restricted uncertainty: ``min``, ``max`` and the quasi-p-values of the
        lower and upper restriction (NaN where that side is not restricted).
    coverage, density, mass
        Share of the cases of interest inside the box, share of the box's worlds that are
        cases of interest, share of all worlds inside the box.
    trajectory
        The peeling trajectory (coverage, density, mass, restricted dimensions per step).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        return {
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "limits": [
                {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                for row in self.limits.reset_index().to_dict(orient="records")
            ],
        }


def prim_boxes(
    x: pd.DataFrame, y: np.ndarray, threshold: float = 0.8, max_boxes: int = 3, mass_min: float = 0.05
) -> list[PrimBox]:
    """PRIM boxes around the worlds where ``y`` is true.

    Parameters
    ----------
    x
        The worlds' uncertain parameters (one column each).
    y
        Boolean per world: the case of interest (e.g. a spammer still profits).
    threshold
        Density a box should reach (the workbench's ``threshold``).
    max_boxes
        Boxes to find at most (each on the worlds the previous ones left).
    mass_min
        Smallest share of worlds a box may hold.

    Returns
    -------
    list of PrimBox
        Empty when no world, or every world, is a case of interest (nothing to describe).
    """
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        return []
    prim = _workbench("prim")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        algorithm = prim.Prim(x.reset_index(drop=True).astype(float), y, threshold=threshold, mass_min=mass_min)
        boxes = []
        for _ in range(max_boxes):
            box = algorithm.find_box()
            if box is None:
                break
            stats, limits = box.inspect(style="data")[0]
            if limits.empty:  # the workbench's last box is the rest of the space, restricted nowhere
                break
            boxes.append(_box(stats, limits, box.peeling_trajectory))
            if algorithm.yi_remaining.size == 0 or not y[algorithm.yi_remaining].any():
                break
    return boxes


def _box(stats: pd.Series, limits: pd.DataFrame, trajectory: pd.DataFrame) -> PrimBox:
    # inspect() gives two column levels: (box name, min | max | qp value | qp value).
    flat = limits.copy()
    flat.columns = ["min", "max", "qp_low", "qp_high"]
    flat.index.name = "uncertainty"
    return PrimBox(
        limits=flat.astype(float),
        coverage=float(stats["coverage"]),
        density=float(stats["density"]),
        mass=float(stats["mass"]),
        trajectory=trajectory[["coverage", "density", "mass", "res_dim"]].astype(float).reset_index(drop=True),
    )


def cart_rules(x: pd.DataFrame, y: np.ndarray, mass_min: float = 0.05) -> pd.DataFrame:
    """CART's leaves as boxes: one row per leaf and uncertainty (``min``, ``max``), with the
    leaf's coverage, density and mass.

    Returns an empty frame when there is nothing to separate (no or every world of interest).
    """
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        return pd.DataFrame(columns=["box", "uncertainty", "min", "max", "coverage", "density", "mass"])
    cart = _workbench("cart")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = cart.CART(x.reset_index(drop=True).astype(float), y, mass_min=mass_min)
        tree.build_tree()
        stats = tree.stats
    # ``tree.boxes`` (rows min/max, a column per uncertainty), not ``boxes_to_dataframe()``:
    # ema-workbench 2.5.3 with pandas 3 returns zeros for every limit there.
    rows = []
    for i, (box, box_stats) in enumerate(zip(tree.boxes, stats, strict=True)):
        for uncertainty in box.columns:
            rows.append(
                {
                    "box": i + 1,
                    "uncertainty": str(uncertainty),
                    "min": float(box[uncertainty].iloc[0]),
                    "max": float(box[uncertainty].iloc[1]),
                    "coverage": float(box_stats["coverage"]),
                    "density": float(box_stats["density"]),
                    "mass": float(box_stats["mass"]),
                }
            )
    return pd.DataFrame(rows)
