"""Exploration files: uncertainties x levers over a base scenario (exploratory modelling).

```yaml
name: explore-quick
base: japan-2011.yaml              # relative to this file
set: ["horizon.days=10"]           # edits applied to the base first
uncertainties:                     # dotted path -> {low, high, scale}: what we cannot pin down
  market.success_rate: {low: 2.0e-7, high: 5.0e-6, scale: log}
  enforcement.caught_probability: {low: 0.0, high: 0.2}
levers:                            # the defenders' choices: countermeasure portfolios
  combinations: [op25b, submission_auth]       # every on/off combination (2^k portfolios)
  portfolios:                                  # and/or named portfolios, each a list of --set edits
    high-fines: ["enforcement.fines.corporation=1.0e8"]
design: {kind: lhs, worlds: 200}   # lhs | sobol (scipy.stats.qmc)
reps: 64                           # replications per world x portfolio
seed: 2011
```

A *world* is one point of the design over the uncertainties; every world is run under every
portfolio on the same random streams (common random numbers), so differences between
portfolios in a world are not noise between worlds. It reuses the sweep file's ranges
(:class:`~spamsim.scenario.sweep.Range`) and its located errors.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .schema import MAX_TEXT, Line, Text
from .sweep import Range, load_study

MAX_WORLDS = 1_000_000
MAX_PORTFOLIOS = 256
MAX_COMBINED = 8
"""At most 2^8 = 256 on/off combinations."""
BLOCK_REPLICATIONS = 65536
"""Replications per vectorised block by default: measured on japan-2011 (2026-11-30, CPU time),
a block of 65,536 costs ~0.35 ms per replication, one of 16,384 ~0.39 ms, one of 4,096 ~0.41 ms,
one of 64 ~9 ms (per-event overhead); such a block takes ~190 MiB while it runs (its ledger
keeps totals only)."""
BLOCK_BYTES = 256 * 2**20
"""Most ledger memory one block may take by default (each worker holds one or two)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Uncertainty(Range):
    """A range over which a parameter is uncertain (sampled uniformly, or log-uniformly)."""

    @model_validator(mode="after")
    def _no_grid(self) -> Uncertainty:
        if self.num is not None:
            raise ValueError("`num` is for grid sweeps; an uncertainty is sampled by the design (worlds: N)")
        return self


class Levers(_Model):
    """The defenders' choices: portfolios of countermeasures and policy settings."""

    combinations: list[str] = Field(
        default_factory=list,
        max_length=MAX_COMBINED,
        description="Countermeasures (keys of the scenario's countermeasures section, or `enforcement`) "
        "switched on and off in every combination: 2^k portfolios named by what is on (`none`: all off).",
    )
    portfolios: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named portfolios, each a list of `--set` edits of the base (adoption levels, fines, "
        "enforcement probability, ...).",
    )

    @field_validator("combinations")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"repeated in combinations: {', '.join(repeated)}")
        return names

    @model_validator(mode="after")
    def _some(self) -> Levers:
        if not self.combinations and not self.portfolios:
            raise ValueError("levers need `combinations` or `portfolios` (at least one portfolio)")
        names = self.combination_names()
        clash = sorted(set(names) & set(self.portfolios))
        if clash:
            raise ValueError(f"portfolio names clash with generated combinations: {', '.join(clash)}")
        if len(names) + len(self.portfolios) > MAX_PORTFOLIOS:
            raise ValueError(f"at most {MAX_PORTFOLIOS} portfolios")
        return self

    def combination_names(self) -> list[str]:
        """Names of the on/off combinations, from all off (``none``) to all on."""
        return [name for name, _ in self._combos()]

    def _combos(self) -> list[tuple[str, list[str]]]:
        out = []
        for on in itertools.product((False, True), repeat=len(self.combinations)):
            chosen = [n for n, flag in zip(self.combinations, on, strict=True) if flag]
            edits = [
                f"{_section(n)}.enabled={'true' if flag else 'false'}"
                for n, flag in zip(self.combinations, on, strict=True)
            ]
            out.append(("+".join(chosen) or "none", edits))
        # Fewest countermeasures first, so that the table reads from "nothing" upwards.
        return sorted(out, key=lambda item: 0 if item[0] == "none" else item[0].count("+") + 1)

    def expand(self) -> dict[str, list[str]]:
        """Every portfolio by name: its ``--set`` edits of the base, in a fixed order."""
        found = dict(self._combos()) if self.combinations else {}
        found.update({name: list(edits) for name, edits in self.portfolios.items()})
        return found


def _section(name: str) -> str:
    """The scenario section a lever switches: ``enforcement`` or ``countermeasures.NAME``."""
    return "enforcement" if name == "enforcement" else f"countermeasures.{name}"


class ExploreDesign(_Model):
    """How the worlds are sampled from the uncertainties."""

    kind: Literal["lhs", "sobol"] = Field("lhs", description="Latin hypercube or scrambled Sobol (scipy.stats.qmc).")
    worlds: int = Field(ge=2, le=MAX_WORLDS, description="Number of worlds (points over the uncertainties).")


class ExploreSpec(_Model):
    """An exploration: uncertainties x levers over a base scenario, replicated."""

    name: Line = Field(min_length=1, max_length=128, description="Exploration name.")
    description: Text = Field("", max_length=MAX_TEXT, description="What the exploration shows.")
    base: str = Field(description="Base scenario file, relative to this file.")
    set: list[str] = Field(default_factory=list, description="Overrides applied to the base.")
    uncertainties: dict[str, Uncertainty] = Field(
        min_length=1, description="Dotted parameter path -> {low, high, scale} range."
    )
    levers: Levers = Field(description="Countermeasure portfolios.")
    design: ExploreDesign = Field(description="How worlds are sampled.")
    reps: int = Field(64, ge=2, le=100_000, description="Replications per world x portfolio.")
    seed: int = Field(0, ge=0, description="Seed: the design and every world's streams derive from it.")
    worlds_per_block: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="Worlds simulated together in one vectorised block (default: as many as fit "
        "65536 replications, fewer where a block's ledger would pass 256 MiB). Part of the seeding: "
        "changing it changes the numbers, as a seed does.",
    )

    def portfolios(self) -> dict[str, list[str]]:
        """Every portfolio's ``--set`` edits, by name."""
        return self.levers.expand()

    def block_worlds(self, bytes_per_replication: float = 0.0) -> int:
        """Worlds per block: fixed by the file and its base scenario, never by the worker count.

        Without ``worlds_per_block``, as many worlds as fit :data:`BLOCK_REPLICATIONS`
        replications and :data:`BLOCK_BYTES` of ledger (``bytes_per_replication`` each).
        """
        if self.worlds_per_block:
            return self.worlds_per_block
        most = BLOCK_REPLICATIONS
        if bytes_per_replication > 0:
            most = min(most, int(BLOCK_BYTES // bytes_per_replication))
        return max(1, most // self.reps)

    def expand(self) -> list[dict[str, float]]:
        """The worlds: each a mapping of dotted path to value, in a fixed order."""
        from scipy.stats import qmc  # here: scipy.stats costs every command half a second to import

        names = list(self.uncertainties)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0x4558,)))
        if self.design.kind == "lhs":
            u = qmc.LatinHypercube(d=len(names), seed=rng).random(self.design.worlds)
        else:
            # Sobol points are balanced in powers of two; other counts only warn (scipy), so keep them quiet.
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                u = qmc.Sobol(d=len(names), scramble=True, seed=rng).random(self.design.worlds)
        columns = [r.transform(u[:, j]) for j, r in enumerate(self.uncertainties.values())]
        return [{n: float(columns[j][i]) for j, n in enumerate(names)} for i in range(self.design.worlds)]


def load_explore(path: str | os.PathLike[str]) -> tuple[ExploreSpec, Path]:
    """Load an exploration file; return it and the path of its base scenario.

    Raises
    ------
    ScenarioError
        With ``FILE:LINE:COL`` problems, as for scenarios and sweeps.
    """
    return load_study(path, ExploreSpec)
