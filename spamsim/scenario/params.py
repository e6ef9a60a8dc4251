"""Typed numeric parameters with their valid ranges.

A scenario field declared as, say, ``Probability`` accepts a number in ``[0, 1]``, a
distribution (see :mod:`.distributions`) whose draws are truncated to ``[0, 1]``, or a
schedule ``{time: value}`` of plain numbers in ``[0, 1]`` interpolated linearly over time
(:class:`PiecewiseLinear`). The range is kept on the type as a :class:`Bounds` marker, so the
runner can truncate draws to it and the validator can give a message that names the rule
that was broken.

Durations that fix the world's timeline (:data:`Days`, :data:`Hours`) are plain numbers: the
engine schedules its events from them when a run starts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Discriminator, Strict, Tag, WithJsonSchema

from .distributions import Distribution, Fixed, Triangular, Uniform, _Dist
from .yamlio import yaml_number

MAX_COUNT = 1e15
"""Largest message count or population accepted (the issue's "counts up to 1e15")."""

DAYS_PER_YEAR = 365.25
"""Days per calendar year when times are given as years (as in :mod:`spamsim.model.schedules`)."""


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
    # Pydantic would quietly read true/false as 1.0/0.0 (and YAML 1.1 made `yes`/`on` booleans).
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a distribution, got a boolean ({str(value).lower()})")
    return value


StrictNumber = Annotated[float, Strict()]
"""A float that accepts only numbers: never a string (``"500"``) and never a boolean.

Pydantic's lax mode would read ``"500"`` as 500.0 and ``true`` as 1.0; a quoted number in a
scenario is a mistake worth a message, and the loader says "remove the quotes"."""


def _param_tag(value: Any) -> str:
    if isinstance(value, _Dist):
        return "distribution"
    if isinstance(value, Mapping):
        # A mapping is a distribution if it names one; one keyed by times is a schedule. A
        # mapping with neither (a typo such as `dsit: beta`) is read as a distribution, so the
        # message lists the distribution kinds rather than complaining about time keys.
        if "dist" in value:
            return "distribution"
        if not value or any(_time_key(k) is not None for k in value):
            return "schedule"
        return "distribution"
    return "number"


def _checker(bounds: Bounds):  # type: ignore[no-untyped-def]
    def check(value: float | _Dist | PiecewiseLinear) -> float | _Dist | PiecewiseLinear:
        if isinstance(value, PiecewiseLinear):
            return value  # every point was checked against the bounds when it was parsed
        if isinstance(value, _Dist):
            try:
                _check_distribution(value, bounds)
            except ArithmeticError:  # overflow in a moment conversion or a cdf
                raise ValueError(f"this {value.dist} distribution's parameters are out of any usable range") from None
            value = value.model_copy()  # never share a bound distribution between fields
            value.bind(bounds.low, bounds.high, bounds.integer)
            return value
        problem = _number_problem(value, bounds)
        if problem:
            raise ValueError(f"{bounds.what} {problem}")
        return value

    return check


def _number_problem(value: float, bounds: Bounds) -> str | None:
    """What is wrong with a plain number for a field with ``bounds`` (``None``: nothing)."""
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if not bounds.low <= value <= bounds.high:
        return f"must be {bounds.describe()}, got {value:g}"
    if bounds.integer and value != math.floor(value):
        return f"must be a whole number, got {value:g}"
    return None


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
    import numpy as np  # here, not at import: validating a scenario without distributions needs no numpy

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


class PiecewiseLinear(dict[float, float]):
    """A value that changes over time: ``{time: value}`` points joined by straight lines.

    Times are days since the start, or calendar years when ``horizon.start_year`` is set (the
    scenario decides; see :func:`spamsim.model.schedules.share_at`). Before the first point
    and after the last one the value is held constant. The points are kept sorted by time.

    A ``dict`` subclass, so code that checks ``isinstance(value, dict)`` and iterates
    ``keys()``/``values()``/``items()`` treats it as the mapping it was written as.

    Examples
    --------
    >>> s = PiecewiseLinear({2003: 0.9, 1998: 0.1})
    >>> s.breakpoints(), s.at(2000.5), s.at(1990)
    ([1998.0, 2003.0], 0.5, 0.1)
    """

    def __init__(self, points: Mapping[float, float] | None = None) -> None:
        items = sorted((float(k), float(v)) for k, v in (points or {}).items())
        super().__init__(items)

    def at(self, x: float) -> float:
        """The value at time ``x`` (linear between points, constant outside them).

        Parameters
        ----------
        x
            Time in the units of the keys (days since the start, or calendar years).

        Returns
        -------
        float
            The interpolated value (``numpy.interp``).
        """
        import numpy as np

        times = np.fromiter(self.keys(), dtype=float, count=len(self))
        values = np.fromiter(self.values(), dtype=float, count=len(self))
        return float(np.interp(x, times, values))

    def breakpoints(self) -> list[float]:
        """The times of the points, in increasing order (where the slope may change)."""
        return sorted(self.keys())

    def __repr__(self) -> str:
        return f"PiecewiseLinear({dict.__repr__(self)})"


_TIME_KEY = r"^[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$"
"""A valid schedule key as text (YAML mapping keys are read as text), for the JSON Schema."""


def _time_key(key: Any) -> float | None:
    """``key`` as a number if it is one or spells one (``"1998"``), else ``None``."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int | float):
        return float(key)
    if isinstance(key, str):
        # Mapping keys are text; read them as the core schema reads a number (so `1_998`
        # and the ambiguous `017` are not times, as they would not be numbers as values).
        number = yaml_number(key.strip())
        return None if number is None else float(number)
    return None


def _schedule_parser(bounds: Bounds):  # type: ignore[no-untyped-def]
    def parse(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value  # not a mapping: pydantic reports the type
        if not value:
            raise ValueError("a schedule needs at least one point, e.g. {1998: 0.1, 2003: 0.95}")
        points: dict[float, float] = {}
        for key, raw in value.items():
            time = _time_key(key)
            if time is None or not math.isfinite(time) or time < 0:
                raise ValueError(f"schedule keys must be days (>= 0) or years, got {key!r}")
            if time in points:
                raise ValueError(f"time {time:g} is given twice in the schedule")
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                got = "a mapping" if isinstance(raw, Mapping | _Dist) else repr(raw)
                raise ValueError(f"value at {time:g} must be a plain number (not a distribution), got {got}")
            number = float(raw)
            problem = _number_problem(number, bounds)
            if problem:
                raise ValueError(f"value at {time:g} {problem}")
            points[time] = number
        return points

    return parse


def _schedule_schema(bounds: Bounds) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A schedule: {time: value} points interpolated linearly, constant outside them. "
        "Times are days since the start, or calendar years when horizon.start_year is set.",
        "minProperties": 1,
        "propertyNames": {"pattern": _TIME_KEY},
        "additionalProperties": _number_schema(bounds),
    }


def schedule(bounds: Bounds) -> Any:
    """The annotated type of a ``{time: value}`` schedule whose values lie within ``bounds``."""
    return Annotated[
        dict[float, float],
        BeforeValidator(_schedule_parser(bounds)),
        AfterValidator(PiecewiseLinear),
        WithJsonSchema(_schedule_schema(bounds)),
    ]


def param(bounds: Bounds) -> Any:
    """The annotated type of a numeric field that may also be a distribution or a schedule."""
    return Annotated[
        Annotated[StrictNumber, Tag("number"), WithJsonSchema(_number_schema(bounds))]
        | Annotated[Distribution, Tag("distribution")]
        | Annotated[schedule(bounds), Tag("schedule")],
        Discriminator(_param_tag),
        BeforeValidator(_reject_bool),
        AfterValidator(_checker(bounds)),
        bounds,
    ]


def uncertain(bounds: Bounds) -> Any:
    """The annotated type of a numeric field that may be a distribution but not a schedule.

    For quantities with no timeline of their own (a defender's one-off cost, minutes of a
    user's time): analysis that needs one value takes a distribution's mean.
    """
    return Annotated[
        Annotated[StrictNumber, Tag("number"), WithJsonSchema(_number_schema(bounds))]
        | Annotated[Distribution, Tag("distribution")],
        Discriminator(_uncertain_tag),
        BeforeValidator(_reject_bool_or_schedule),
        AfterValidator(_checker(bounds)),
        bounds,
    ]


def _reject_bool_or_schedule(value: Any) -> Any:
    if isinstance(value, Mapping) and value and _param_tag(value) == "schedule":
        raise ValueError(
            "expected a number or a distribution ({dist: ...}), not a schedule {time: value}: it has no timeline"
        )
    return _reject_bool(value)


def _uncertain_tag(value: Any) -> str:
    # A mapping is always read as a distribution here, so a schedule gets the distribution kinds in its message.
    return "number" if _param_tag(value) == "number" else "distribution"


def number(bounds: Bounds) -> Any:
    """The annotated type of a structural number (never a distribution)."""
    return Annotated[
        StrictNumber,
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


Schedule = Probability
"""A share that may change over time. Every :func:`param` field now takes a schedule; this
name is kept for the fields that always did (adoption of countermeasures, submission modes)."""

# Durations that fix the world's timeline stay plain numbers, never schedules: the engine
# schedules events from them when a run starts (campaign sends, a strategy's reassessments,
# new bot variants and their signature lag, blacklist listings, hit-and-run bots vanishing),
# and the horizon and ledger step are the timeline itself.
Days = number(Bounds(0.0, 1e6, "a duration in days"))
Hours = number(Bounds(1e-6, 1e6, "a duration in hours"))


def bounds_of(metadata: list[Any]) -> Bounds | None:
    """The :class:`Bounds` marker among a field's metadata, if any."""
    for item in metadata:
        if isinstance(item, Bounds):
            return item
    return None


ParamValue = float | _Dist | PiecewiseLinear
"""What a :data:`Probability`, :data:`Money`, … field holds after validation."""

__all__ = [
    "Bounds",
    "Count",
    "DAYS_PER_YEAR",
    "Days",
    "Distribution",
    "Hours",
    "MAX_COUNT",
    "Money",
    "ParamValue",
    "PiecewiseLinear",
    "Probability",
    "Rate",
    "Schedule",
    "Share",
    "bounds_of",
    "number",
    "param",
    "schedule",
    "uncertain",
]
