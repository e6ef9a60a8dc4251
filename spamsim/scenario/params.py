"""Typed numeric parameters with their valid ranges.

A scenario field declared as, say, ``Probability`` accepts a number in ``[0, 1]`` or a
distribution (see :mod:`.distributions`) whose draws are truncated to ``[0, 1]``. The range is
kept on the type as a :class:`Bounds` marker, so the runner can truncate draws to it and the
validator can give a message that names the rule that was broken.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Discriminator, Tag, WithJsonSchema

from .distributions import Distribution, Fixed, Triangular, Uniform, _Dist

MAX_COUNT = 1e15
"""Largest message count or population accepted (the issue's "counts up to 1e15")."""


@dataclass(frozen=True)
class Bounds:
    """Valid range of a numeric field; ``what`` names the kind of quantity in messages."""

    low: float = -math.inf
    high: float = math.inf
    what: str = "value"
    integer: bool = False

    def describe(self) -> str:
        if math.isfinite(self.low) and math.isfinite(self.high):
            return f"between {self.low:g} and {self.high:g}"
        if math.isfinite(self.low):
            return f">= {self.low:g}"
        return f"<= {self.high:g}"


def _reject_bool(value: Any) -> Any:
    # YAML turns `yes`/`no`/`on` into booleans; pydantic would quietly read them as 1.0/0.0.
    if isinstance(value, bool):
        raise ValueError("expected a number or a distribution, got a boolean")
    return value


def _param_tag(value: Any) -> str:
    return "distribution" if isinstance(value, dict | _Dist) else "number"


def _checker(bounds: Bounds):  # type: ignore[no-untyped-def]
    def check(value: float | _Dist) -> float | _Dist:
        if isinstance(value, _Dist):
            try:
                _check_distribution(value, bounds)
            except ArithmeticError:  # overflow in a moment conversion or a cdf
                raise ValueError(f"this {value.dist} distribution's parameters are out of any usable range") from None
            value = value.model_copy()  # never share a bound distribution between fields
            value.bind(bounds.low, bounds.high, bounds.integer)
            return value
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value}")
        if not bounds.low <= value <= bounds.high:
            raise ValueError(f"{bounds.what} must be {bounds.describe()}, got {value:g}")
        if bounds.integer and value != math.floor(value):
            raise ValueError(f"{bounds.what} must be a whole number, got {value:g}")
        return value

    return check


def _check_distribution(dist: _Dist, bounds: Bounds) -> None:
    # Distributions with hard edges (fixed, uniform, triangular) must sit inside the range:
    # an edge outside it is a typo, not uncertainty. Others are truncated to the range, which
    # only makes sense if a reasonable share of their mass lies inside it.
    if isinstance(dist, Fixed | Uniform | Triangular):
        lo, hi = dist.support()
        if lo < bounds.low or hi > bounds.high:
            raise ValueError(
                f"{bounds.what} must be {bounds.describe()}; this {dist.dist} distribution reaches [{lo:g}, {hi:g}]"
            )
        return
    # Degenerate parameters make scipy warn (0/0 in a cdf); the checks below turn any
    # non-finite result into a message, so the warnings would only be noise.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        frozen = dist.frozen()
        f_lo = float(frozen.cdf(bounds.low)) if math.isfinite(bounds.low) else 0.0
        f_hi = float(frozen.cdf(bounds.high)) if math.isfinite(bounds.high) else 1.0
        mean = float(frozen.mean())
    if not (math.isfinite(f_lo) and math.isfinite(f_hi) and math.isfinite(mean)):
        raise ValueError(f"this {dist.dist} distribution's parameters are out of any usable range")
    if not f_hi - f_lo >= 1e-6:
        raise ValueError(
            f"{bounds.what} must be {bounds.describe()}; this {dist.dist} distribution has almost no probability there"
        )


def _number_schema(bounds: Bounds) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if bounds.integer else "number"}
    if math.isfinite(bounds.low):
        schema["minimum"] = bounds.low
    if math.isfinite(bounds.high):
        schema["maximum"] = bounds.high
    if bounds.integer:
        schema["type"] = "number"  # YAML 1e6 is a float; whole-number-ness is checked on load
    return schema


def param(bounds: Bounds) -> Any:
    """The annotated type of a numeric field that may also be a distribution."""
    return Annotated[
        Annotated[float, Tag("number"), WithJsonSchema(_number_schema(bounds))]
        | Annotated[Distribution, Tag("distribution")],
        Discriminator(_param_tag),
        BeforeValidator(_reject_bool),
        AfterValidator(_checker(bounds)),
        bounds,
    ]


def number(bounds: Bounds) -> Any:
    """The annotated type of a structural number (never a distribution)."""
    return Annotated[
        float,
        BeforeValidator(_reject_bool),
        AfterValidator(_checker(bounds)),
        WithJsonSchema(_number_schema(bounds)),
        bounds,
    ]


Probability = param(Bounds(0.0, 1.0, "a probability"))
Money = param(Bounds(0.0, 1e15, "an amount of money"))
"""Up to 1e15 in the scenario's currency (a quadrillion yen): beyond that, products of money
and message counts would leave the range where float64 sums stay meaningful."""
Count = param(Bounds(0.0, MAX_COUNT, "a count", integer=True))
Rate = param(Bounds(0.0, 1e12, "a rate"))
"""Rates per day or hour; beyond 1e12 nothing changes except overflow in Poisson draws."""
Share = Probability


def _check_schedule(value: dict[float, float]) -> dict[float, float]:
    if not value:
        raise ValueError("a schedule needs at least one point, e.g. {1998: 0.1, 2003: 0.95}")
    for key, share in value.items():
        if not math.isfinite(key) or key < 0:
            raise ValueError(f"schedule keys must be days (>= 0) or years, got {key}")
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"schedule shares must be between 0 and 1, got {share:g} at {key:g}")
    return dict(sorted(value.items()))


def _schedule_tag(value: Any) -> str:
    return "schedule" if isinstance(value, dict) and "dist" not in value else "share"


Schedule = Annotated[
    Annotated[Probability, Tag("share")]
    | Annotated[
        dict[float, Annotated[float, BeforeValidator(_reject_bool)]],
        AfterValidator(_check_schedule),
        Tag("schedule"),
    ],
    Discriminator(_schedule_tag),
]
"""A share that may change over time: a number (or distribution), or ``{time: share}`` points
interpolated linearly (constant before the first and after the last point)."""

Days = number(Bounds(0.0, 1e6, "a duration in days"))
Hours = number(Bounds(1e-6, 1e6, "a duration in hours"))


def bounds_of(metadata: list[Any]) -> Bounds | None:
    """The :class:`Bounds` marker among a field's metadata, if any."""
    for item in metadata:
        if isinstance(item, Bounds):
            return item
    return None


ParamValue = float | _Dist
"""What a :data:`Probability`, :data:`Money`, … field holds after validation."""

__all__ = [
    "Bounds",
    "Count",
    "Days",
    "Distribution",
    "Hours",
    "MAX_COUNT",
    "Money",
    "ParamValue",
    "Probability",
    "Rate",
    "Share",
    "bounds_of",
    "number",
    "param",
]
