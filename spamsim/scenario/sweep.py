"""Sweep files: a base scenario and a design over dotted parameter paths.

```yaml
name: deterrence-sweep
base: lecture.yaml                 # relative to this file
set: ["spammers.0.legal_form=individual"]
design:
  kind: grid                       # grid | points | random | lhs
  parameters:
    enforcement.fines.individual: [0, 1.0e5, 1.0e6, 1.0e7]        # explicit values
    enforcement.caught_probability: {low: 0.001, high: 0.5, num: 8, scale: log}
reps: 100
seed: 2011
metrics: [revenue, net_profit]
```

``grid`` takes the product of every parameter's values; ``points`` lists full points;
``random`` and ``lhs`` draw ``samples`` points from ``{low, high, scale}`` ranges (uniform or
log-uniform; Latin hypercube from ``scipy.stats.qmc``) with the sweep's seed.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import Problem, ScenarioError
from .loader import read_text, source_name, validate_located
from .schema import MAX_TEXT, Line, Text
from .yamlio import YamlProblem, parse_yaml

MAX_POINTS = 1_000_000


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Range(_Model):
    """A numeric range: evenly spaced values (grid) or the bounds to sample from."""

    low: float = Field(description="Lower end.", allow_inf_nan=False)
    high: float = Field(description="Upper end.", allow_inf_nan=False)
    num: int | None = Field(None, ge=1, le=10_000, description="Values in a grid (grid only).")
    scale: Literal["linear", "log"] = Field("linear", description="Spacing / sampling scale.")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low <= self.high:
            raise ValueError("low must not exceed high")
        if self.scale == "log" and self.low <= 0:
            raise ValueError("a log scale needs low > 0")
        return self

    def values(self) -> list[float]:
        num = self.num or 5
        if self.scale == "log":
            return [float(v) for v in np.geomspace(self.low, self.high, num)]
        return [float(v) for v in np.linspace(self.low, self.high, num)]

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms on [0, 1) into the range."""
        if self.scale == "log":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)


class Design(_Model):
    """Which parameter points the sweep runs."""

    kind: Literal["grid", "points", "random", "lhs"] = Field("grid", description="Design kind.")
    parameters: dict[str, list[Any] | Range] = Field(
        default_factory=dict,
        description="grid: values (a list) or a Range per dotted path; random/lhs: a Range per dotted path.",
    )
    points: list[dict[str, Any]] = Field(
        default_factory=list, description="points: each a mapping of dotted path to value."
    )
    samples: int | None = Field(None, ge=1, le=MAX_POINTS, description="random/lhs: points drawn.")

    @model_validator(mode="after")
    def _complete(self) -> Design:
        if self.kind == "points":
            if not self.points:
                raise ValueError("a points design needs `points`")
            if self.parameters:
                raise ValueError("a points design lists full points in `points`, not `parameters`")
        else:
            if not self.parameters:
                raise ValueError(f"a {self.kind} design needs `parameters`")
            if self.points:
                raise ValueError(f"`points` is only for kind: points, not {self.kind}")
        if self.kind in ("random", "lhs"):
            if self.samples is None:
                raise ValueError(f"a {self.kind} design needs `samples`")
            bad = [p for p, v in self.parameters.items() if not isinstance(v, Range)]
            if bad:
                raise ValueError(f"{self.kind} needs {{low, high}} ranges; not for: {', '.join(bad)}")
        elif self.kind == "grid":
            size = math.prod(len(v) if isinstance(v, list) else (v.num or 5) for v in self.parameters.values())
            if size > MAX_POINTS:
                raise ValueError(f"the grid has {size:,} points; at most {MAX_POINTS:,} are allowed")
            empty = [p for p, v in self.parameters.items() if isinstance(v, list) and not v]
            if empty:
                raise ValueError(f"empty value list for: {', '.join(empty)}")
        return self


class SweepSpec(_Model):
    """A sweep: a base scenario and a design of parameter points, replicated."""

    name: Line = Field(min_length=1, max_length=128, description="Sweep name.")
    description: Text = Field("", max_length=MAX_TEXT, description="What the sweep shows.")
    base: str = Field(description="Base scenario file, relative to the sweep file.")
    set: list[str] = Field(default_factory=list, description="Overrides applied to the base.")
    design: Design = Field(description="The parameter points.")
    reps: int = Field(100, ge=2, le=1_000_000, description="Replications per point.")
    seed: int = Field(0, ge=0, description="Seed of the sweep; every point derives from it.")
    common_random_numbers: bool = Field(
        True,
        description="Run every point on the same random streams (paired points: smoother "
        "surfaces). false: each point gets streams derived from the seed and its values.",
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["revenue", "net_profit"],
        min_length=1,
        description="Metrics to keep per replication (columns of Result.replications).",
    )

    def expand(self) -> list[dict[str, Any]]:
        """The design's points, in a fixed order (each a mapping of dotted path to value)."""
        d = self.design
        if d.kind == "points":
            return [dict(p) for p in d.points]
        names = list(d.parameters)
        if d.kind == "grid":
            axes = [v if isinstance(v, list) else v.values() for v in d.parameters.values()]
            return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
        assert d.samples is not None
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0x5357,)))
        if d.kind == "lhs":
            from scipy.stats import qmc  # here: scipy.stats costs every command half a second to import

            u = qmc.LatinHypercube(d=len(names), seed=rng).random(d.samples)
        else:
            u = rng.random((d.samples, len(names)))
        ranges = [v for v in d.parameters.values() if isinstance(v, Range)]
        columns = [r.transform(u[:, j]) for j, r in enumerate(ranges)]
        return [{n: float(columns[j][i]) for j, n in enumerate(names)} for i in range(d.samples)]


SpecT = TypeVar("SpecT", bound=BaseModel)


def load_study(path: str | os.PathLike[str], model: type[SpecT]) -> tuple[SpecT, Path]:
    """Load a file built on a base scenario (a sweep, an exploration) as ``model``.

    Returns the validated file and the path of its base scenario (relative to the file).

    Raises
    ------
    ScenarioError
        With ``FILE:LINE:COL`` problems, as for scenarios; a missing base file is one of them.
    """
    file = Path(path)
    text = read_text(file)
    try:
        located = parse_yaml(text, source_name(file))
    except YamlProblem as exc:
        raise ScenarioError(exc.problems) from None
    spec = validate_located(located, source_name(file), model)
    base = (file.parent / spec.base).resolve()  # type: ignore[attr-defined]
    if not base.is_file():
        mark = located.values.get(("base",))
        raise ScenarioError(
            [
                Problem(
                    source_name(file),
                    mark.line if mark else None,
                    mark.column if mark else None,
                    "base",
                    f"no such scenario file: {base}",
                )
            ]
        )
    return spec, base


def load_sweep(path: str | os.PathLike[str]) -> tuple[SweepSpec, Path]:
    """Load a sweep file; return it and the path of its base scenario.

    Raises
    ------
    ScenarioError
        With ``FILE:LINE:COL`` problems, as for scenarios.
    """
    return load_study(path, SweepSpec)
