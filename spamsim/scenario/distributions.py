"""Uncertain parameters: a number, or a distribution drawn once per replication.

Any numeric scenario field that is typed :data:`Param` accepts either a plain number or a
mapping such as ``{dist: beta, mean: 0.01, sd: 0.004}``. The runner draws one value per
replication from a dedicated random stream (see :mod:`spamsim.model.streams`), so parameter
uncertainty shows up in the confidence intervals of every result.

Every distribution is represented by a frozen ``scipy.stats`` distribution and sampled by
inversion, ``ppf(u)`` with ``u`` uniform on ``[F(low), F(high)]``. That one mechanism gives

* truncation to the field's valid range for free (a normal success rate never goes below 0),
* monotone draws in ``u``, so paired runs on common random numbers stay tightly coupled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

if TYPE_CHECKING:
    import numpy as np


def _stats() -> Any:
    """``scipy.stats``, imported on first use: validating a scenario without distributions
    (and ``spamsim --help``) should not pay scipy's half-second import."""
    from scipy import stats

    return stats


class _Dist(BaseModel):
    # Built at import, unlike the scenario's models (``defer_build``): every numeric field's
    # schema refers to these six, and a built model is referred to instead of regenerated,
    # which makes building the scenario's validator four times faster.
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The valid range of the field this distribution was given for; set by the field's
    # validator (see params.py) so that draws can be truncated to it.
    _low: float = PrivateAttr(default=-math.inf)
    _high: float = PrivateAttr(default=math.inf)
    _integer: bool = PrivateAttr(default=False)

    def bind(self, low: float, high: float, integer: bool) -> None:
        """Remember the valid range of the field this distribution belongs to."""
        self._low, self._high, self._integer = low, high, integer

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` values truncated to the field's range (rounded for whole-number fields)."""
        values = self.sample(rng, size, self._low, self._high)
        import numpy as np

        return np.round(values) if self._integer else values

    def expected(self) -> float:
        """Mean of what :meth:`draw` returns (ignoring rounding)."""
        return self.truncated_mean(self._low, self._high)

    def frozen(self) -> Any:  # pragma: no cover - overridden
        """The ``scipy.stats`` frozen distribution this parameter stands for."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        lo, hi = self.frozen().support()
        return float(lo), float(hi)

    def mean_value(self) -> float:
        """Mean of the untruncated distribution (used by the analytic oracle)."""
        return float(self.frozen().mean())

    def cdf_at(self, x: float) -> float:
        """P(value <= x) of the untruncated distribution.

        Closed forms from :mod:`math` where they exist (normal, log-normal, a beta evaluated
        outside its support), so that validating a scenario (``spamsim validate``) does not
        import scipy; ``scipy.stats`` otherwise.
        """
        import numpy as np

        with np.errstate(all="ignore"):
            return float(self.frozen().cdf(x))

    def sample(self, rng: np.random.Generator, size: int, low: float = -math.inf, high: float = math.inf) -> np.ndarray:
        """Draw ``size`` values truncated to ``[low, high]`` by inversion."""
        dist = self.frozen()
        f_lo = float(dist.cdf(low)) if math.isfinite(low) else 0.0
        f_hi = float(dist.cdf(high)) if math.isfinite(high) else 1.0
        u = rng.uniform(f_lo, f_hi, size=size)
        import numpy as np

        values = np.asarray(dist.ppf(u), dtype=float)
        return np.clip(values, low, high)

    def truncated_mean(self, low: float = -math.inf, high: float = math.inf) -> float:
        """Mean of the distribution truncated to ``[low, high]`` (what :meth:`sample` draws)."""
        dist = self.frozen()
        lo = max(low, self.support()[0])
        hi = min(high, self.support()[1])
        mass = float(dist.cdf(hi) - dist.cdf(lo))
        if mass >= 1.0 - 1e-12:
            return float(dist.mean())
        return float(dist.expect(lambda x: x, lb=lo, ub=hi, conditional=True))


class Fixed(_Dist):
    """A known value (the same in every replication)."""

    dist: Literal["fixed"] = Field(description="Distribution kind.")
    value: float = Field(description="The value.", allow_inf_nan=False)

    def frozen(self) -> Any:
        return _stats().uniform(loc=self.value, scale=0.0)

    def support(self) -> tuple[float, float]:
        return self.value, self.value

    def mean_value(self) -> float:
        return self.value

    def sample(self, rng, size, low=-math.inf, high=math.inf):  # type: ignore[no-untyped-def]
        rng.uniform(size=size)  # consume like the others so streams stay aligned
        import numpy as np

        return np.full(size, self.value, dtype=float)

    def truncated_mean(self, low: float = -math.inf, high: float = math.inf) -> float:
        return self.value


class Uniform(_Dist):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"] = Field(description="Distribution kind.")
    low: float = Field(description="Lower bound.", allow_inf_nan=False)
    high: float = Field(description="Upper bound.", allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def frozen(self) -> Any:
        return _stats().uniform(loc=self.low, scale=self.high - self.low)

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(_Dist):
    """Triangular on ``[low, high]`` with its peak at ``mode``."""

    dist: Literal["triangular"] = Field(description="Distribution kind.")
    low: float = Field(description="Lower bound.", allow_inf_nan=False)
    mode: float = Field(description="Most likely value.", allow_inf_nan=False)
    high: float = Field(description="Upper bound.", allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def frozen(self) -> Any:
        scale = self.high - self.low
        return _stats().triang(c=(self.mode - self.low) / scale, loc=self.low, scale=scale)

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``, truncated to the field's valid range."""

    dist: Literal["normal"] = Field(description="Distribution kind.")
    mean: float = Field(description="Mean before truncation.", allow_inf_nan=False)
    sd: float = Field(gt=0, description="Standard deviation before truncation.", allow_inf_nan=False)

    def frozen(self) -> Any:
        return _stats().norm(loc=self.mean, scale=self.sd)

    def mean_value(self) -> float:
        return self.mean

    def cdf_at(self, x: float) -> float:
        return 0.5 * math.erfc(-(x - self.mean) / (self.sd * math.sqrt(2.0)))


class LogNormal(_Dist):
    """Log-normal given by the ``mean`` and ``sd`` of the value itself (not of its log)."""

    dist: Literal["lognormal"] = Field(description="Distribution kind.")
    mean: float = Field(gt=0, description="Mean of the value.", allow_inf_nan=False)
    sd: float = Field(gt=0, description="Standard deviation of the value.", allow_inf_nan=False)

    def _log_moments(self) -> tuple[float, float]:
        # Moment matching: sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2.
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def frozen(self) -> Any:
        mu, sigma = self._log_moments()
        return _stats().lognorm(s=sigma, scale=math.exp(mu))

    def mean_value(self) -> float:
        return self.mean  # moment matching keeps the mean exactly

    def cdf_at(self, x: float) -> float:
        if x <= 0:
            return 0.0
        mu, sigma = self._log_moments()
        return 0.5 * math.erfc(-(math.log(x) - mu) / (sigma * math.sqrt(2.0)))


class Beta(_Dist):
    """Beta on ``[low, high]`` (default ``[0, 1]``), given by ``mean``/``sd`` or by ``a``/``b``."""

    dist: Literal["beta"] = Field(description="Distribution kind.")
    mean: float | None = Field(None, description="Mean (with sd) on [low, high].")
    sd: float | None = Field(None, gt=0, description="Standard deviation (with mean).")
    a: float | None = Field(None, gt=0, description="Shape a (alpha), instead of mean/sd.")
    b: float | None = Field(None, gt=0, description="Shape b (beta), instead of mean/sd.")
    low: float = Field(0.0, description="Lower end of the support.", allow_inf_nan=False)
    high: float = Field(1.0, description="Upper end of the support.", allow_inf_nan=False)

    @model_validator(mode="after")
    def _shape(self) -> Beta:
        try:
            return self._check_shape()
        except ArithmeticError:  # e.g. sd / (high - low) overflowing for a tiny support
            raise ValueError("mean, sd, low and high are out of any usable range") from None

    def _check_shape(self) -> Beta:
        if not self.low < self.high:
            raise ValueError("low must be below high")
        by_moments = self.mean is not None and self.sd is not None
        by_shape = self.a is not None and self.b is not None
        if by_moments == by_shape:
            raise ValueError("give either mean and sd, or a and b")
        if by_moments:
            assert self.mean is not None and self.sd is not None
            m = (self.mean - self.low) / (self.high - self.low)
            v = (self.sd / (self.high - self.low)) ** 2
            if not 0 < m < 1:
                raise ValueError(f"mean must lie strictly between {self.low} and {self.high}")
            if not v < m * (1 - m):
                raise ValueError(
                    f"sd too large for a beta with this mean (need sd < "
                    f"{math.sqrt(m * (1 - m)) * (self.high - self.low):.4g})"
                )
        return self

    def shapes(self) -> tuple[float, float]:
        if self.a is not None and self.b is not None:
            return self.a, self.b
        assert self.mean is not None and self.sd is not None
        m = (self.mean - self.low) / (self.high - self.low)
        v = (self.sd / (self.high - self.low)) ** 2
        k = m * (1 - m) / v - 1
        return m * k, (1 - m) * k

    def frozen(self) -> Any:
        a, b = self.shapes()
        return _stats().beta(a, b, loc=self.low, scale=self.high - self.low)

    def mean_value(self) -> float:
        a, b = self.shapes()
        return self.low + (self.high - self.low) * a / (a + b)

    def cdf_at(self, x: float) -> float:
        # Outside the support the answer is known; inside it needs the incomplete beta function.
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        return super().cdf_at(x)


def _dist_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("dist", "")) or None
    if isinstance(value, _Dist):
        return value.dist  # type: ignore[attr-defined, no-any-return]
    return None


Distribution = Annotated[
    Annotated[Fixed, Tag("fixed")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[LogNormal, Tag("lognormal")]
    | Annotated[Beta, Tag("beta")],
    Discriminator(
        _dist_tag,
        custom_error_type="unknown_distribution",
        custom_error_message=("unknown distribution; use dist: fixed, uniform, triangular, normal, lognormal or beta"),
    ),
]
"""A parameter distribution, selected by its ``dist`` key."""

DIST_KINDS = ("fixed", "uniform", "triangular", "normal", "lognormal", "beta")
