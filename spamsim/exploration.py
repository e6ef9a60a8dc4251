"""An exploration end to end: run it, rank the portfolios, discover where spam still pays, write it out.

:func:`explore` is what ``spamsim explore`` and :func:`spamsim.api.explore` call. It runs the
exploration (:mod:`spamsim.runner.explore`), ranks the portfolios by robustness
(:mod:`spamsim.analysis.robustness`) and describes, with PRIM and CART
(:mod:`spamsim.analysis.discovery`), the worlds in which spam stays profitable under one
portfolio (by default the most robust one that some world still defeats). With an ``out``
folder it writes, inside the same transaction as the outcomes:

* ``robustness.csv``: the robustness table;
* ``prim_boxes.csv`` / ``prim_boxes.json``: the PRIM boxes (limits with quasi-p-values,
  coverage, density, mass); ``prim_trajectory.csv`` and ``prim_trajectory.png``: the peeling
  trajectory of the first box; ``cart_boxes.csv``: CART's leaves;
* ``pareto.png`` / ``pareto.pdf``: robustness against defenders' cost (the paper figure);
* ``explore.json``: what was run and the headline numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis.robustness import max_net_profit, robustness
from .atomic import write_atomic, write_text_atomic
from .runner.backends import Backend
from .runner.errors import RefusedError
from .runner.explore import ExploreResult, run_explore
from .scenario.explore import ExploreSpec
from .scenario.schema import Scenario


@dataclass
class Exploration:
    """A finished exploration with its robustness table and scenario discovery.

    Attributes
    ----------
    result
        Outcomes per world x portfolio (:class:`~spamsim.runner.explore.ExploreResult`).
    robustness
        Per portfolio, most robust first (:func:`~spamsim.analysis.robustness.robustness`).
    portfolio
        The portfolio whose profitable worlds PRIM and CART describe.
    profitable
        Per world: does some spammer's expected net profit stay positive under ``portfolio``?
    boxes
        PRIM boxes (:class:`~spamsim.analysis.discovery.PrimBox`); empty when every world or none is profitable.
    cart
        CART's leaves (empty likewise).
    discovery_note
        Why there are no boxes, or "".
    """

    result: ExploreResult
    robustness: pd.DataFrame
    portfolio: str
    profitable: pd.Series
    boxes: list[Any] = field(default_factory=list)
    cart: pd.DataFrame = field(default_factory=pd.DataFrame)
    discovery_note: str = ""

    @property
    def currency(self) -> str:
        return str(self.result.currency)

    def to_json(self) -> dict[str, Any]:
        spec = self.result.spec
        table = self.robustness.reset_index()
        return {
            "exploration": spec.name,
            "worlds": spec.design.worlds,
            "portfolios": self.result.portfolios,
            "reps": spec.reps,
            "seed": spec.seed,
            "currency": self.currency,
            "robustness": json.loads(table.to_json(orient="records")),
            "discovery": {
                "portfolio": self.portfolio,
                "profitable_worlds": int(self.profitable.sum()),
                "boxes": [box.to_json() for box in self.boxes],
                "note": self.discovery_note,
            },
        }


def choose_portfolio(table: pd.DataFrame) -> str:
    """The most robust portfolio that spam still defeats in some world (else the most robust)."""
    beaten = table[table["satisficing"] < 1.0]
    return str((beaten if not beaten.empty else table).index[0])


def analyse(result: ExploreResult, portfolio: str | None = None, discover: bool = True) -> Exploration:
    """Rank the portfolios of ``result`` and run PRIM and CART for ``portfolio``.

    Raises
    ------
    RefusedError
        ``portfolio`` is not one of the exploration's, or discovery is asked for without the
        EMA Workbench installed (the message gives the install command).
    """
    from .analysis.discovery import cart_rules, prim_boxes

    table = robustness(result.outcomes, result.spammers, result.defender_costs)
    if portfolio is not None and portfolio not in result.portfolios:
        raise RefusedError(
            f"--portfolio {portfolio!r} is not a portfolio of {result.spec.name}; choose one of: "
            + ", ".join(result.portfolios)
        )
    chosen = portfolio or choose_portfolio(table)
    profits = max_net_profit(result.outcomes, result.spammers)[chosen]
    profitable = profits > 0
    found = Exploration(result, table, chosen, profitable)
    if not discover:
        return found
    x = result.worlds.set_index("world").loc[profits.index]
    y = profitable.to_numpy()
    found.boxes = prim_boxes(x, y)
    found.cart = cart_rules(x, y)
    if not y.any():
        found.discovery_note = f"no world keeps spam profitable under {chosen}: nothing to describe"
    elif y.all():
        found.discovery_note = f"spam stays profitable in every world under {chosen}: nothing to separate"
    elif not found.boxes:
        found.discovery_note = f"PRIM found no box for {chosen}"
    return found


def write_files(found: Exploration, folder: Path, lang: str = "en") -> list[str]:
    """Write the robustness table, PRIM/CART boxes and figures into ``folder``; return the names written."""
    from .plots import prim_trajectory, robustness_pareto, save
    from .plots.labels import text

    written = []
    table = found.robustness
    write_atomic(folder / "robustness.csv", lambda tmp: table.to_csv(tmp))
    written.append("robustness.csv")
    limits = [
        box.limits.reset_index().assign(box=i + 1, coverage=box.coverage, density=box.density, mass=box.mass)
        for i, box in enumerate(found.boxes)
    ]
    boxes = pd.concat(limits, ignore_index=True) if limits else pd.DataFrame(columns=["box", "uncertainty"])
    write_atomic(folder / "prim_boxes.csv", lambda tmp: boxes.to_csv(tmp, index=False))
    payload = {
        "portfolio": found.portfolio,
        "note": found.discovery_note,
        "boxes": [box.to_json() for box in found.boxes],
    }
    write_text_atomic(folder / "prim_boxes.json", json.dumps(payload, indent=2) + "\n")
    write_atomic(folder / "cart_boxes.csv", lambda tmp: found.cart.to_csv(tmp, index=False))
    written += ["prim_boxes.csv", "prim_boxes.json", "cart_boxes.csv"]
    spec = found.result.spec
    note = text("worlds_note", lang, worlds=spec.design.worlds, reps=spec.reps)
    fig = robustness_pareto(table, name=spec.name, currency=found.currency, note=note, lang=lang)
    for suffix in ("png", "pdf"):
        save(fig, folder / f"pareto.{suffix}")
        written.append(f"pareto.{suffix}")
    if found.boxes:
        box = found.boxes[0]
        write_atomic(folder / "prim_trajectory.csv", lambda tmp: box.trajectory.to_csv(tmp, index=False))
        save(prim_trajectory(box, portfolio=found.portfolio, lang=lang), folder / "prim_trajectory.png")
        written += ["prim_trajectory.csv", "prim_trajectory.png"]
    write_text_atomic(folder / "explore.json", json.dumps(found.to_json(), indent=2) + "\n")
    written.append("explore.json")
    return written


def explore(
    spec: ExploreSpec,
    base: Scenario,
    backend: Backend,
    out: Path | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    portfolio: str | None = None,
    discover: bool = True,
    progress: Any = None,
) -> Exploration:
    """Run an exploration, rank its portfolios, discover where spam pays; with ``out``, write it all.

    The analysis happens inside the results folder's transaction, so a failed analysis (say,
    the workbench missing) leaves no half-written folder; the finished blocks stay in
    ``.OUT.partial`` for ``resume``.
    """
    found: list[Exploration] = []
    if portfolio is not None:
        names = list(spec.portfolios())
        if portfolio not in names:
            raise RefusedError(
                f"--portfolio {portfolio!r} is not a portfolio of {spec.name}; choose one of: {', '.join(names)}"
            )
    if discover:
        from .analysis.discovery import _workbench

        _workbench("prim")  # refuse before hours of simulation, not after

    def finish(result: ExploreResult, folder: Path) -> None:
        found.append(analyse(result, portfolio, discover))
        write_files(found[0], folder)

    result = run_explore(spec, base, backend, out, resume=resume, force=force, progress=progress, finish=finish)
    return found[0] if found else analyse(result, portfolio, discover)
