"""Parameter distributions: right moments, truncation to the field's range, stable streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from spamsim.scenario.params import Count, Money, Probability

PROB = TypeAdapter(Probability)
MONEY = TypeAdapter(Money)
COUNT = TypeAdapter(Count)

N = 40_000


@pytest.mark.parametrize(
    ("spec", "adapter", "mean"),
    [
        ({"dist": "fixed", "value": 0.3}, PROB, 0.3),
        ({"dist": "uniform", "low": 0.1, "high": 0.3}, PROB, 0.2),
        ({"dist": "triangular", "low": 300, "mode": 500, "high": 700}, MONEY, 500.0),
        ({"dist": "beta", "mean": 0.01, "sd": 0.004}, PROB, 0.01),
        ({"dist": "beta", "a": 2, "b": 6}, PROB, 0.25),
        ({"dist": "lognormal", "mean": 1e6, "sd": 3e5}, COUNT, 1e6),
        ({"dist": "normal", "mean": 500, "sd": 50}, MONEY, 500.0),
    ],
)
def test_sample_mean_within_4_standard_errors(spec, adapter, mean):
    dist = adapter.validate_python(spec)
    x = dist.draw(np.random.default_rng(7), N)
    se = x.std(ddof=1) / math.sqrt(N) if x.std() > 0 else 1e-12
    assert abs(x.mean() - mean) <= 4 * se + 1e-9 * abs(mean)
    assert abs(dist.expected() - mean) <= 1e-6 * max(1.0, abs(mean)) or spec["dist"] == "normal"


def test_normal_is_truncated_to_the_field_range():
    dist = PROB.validate_python({"dist": "normal", "mean": 0.01, "sd": 0.02})
    x = dist.draw(np.random.default_rng(1), N)
    assert x.min() >= 0.0 and x.max() <= 1.0
    # Truncation moves the mean up; the oracle knows by how much.
    se = x.std(ddof=1) / math.sqrt(N)
    assert abs(x.mean() - dist.expected()) < 4 * se
    assert dist.expected() > 0.01


def test_counts_are_rounded_to_whole_numbers():
    dist = COUNT.validate_python({"dist": "lognormal", "mean": 1000, "sd": 300})
    x = dist.draw(np.random.default_rng(3), 100)
    assert np.all(x == np.round(x))


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(0.001, 0.999),
    rel_sd=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_beta_draws_stay_in_range(mean, rel_sd, seed):
    sd = rel_sd * math.sqrt(mean * (1 - mean))
    dist = PROB.validate_python({"dist": "beta", "mean": mean, "sd": sd})
    x = dist.draw(np.random.default_rng(seed), 64)
    assert np.all((x >= 0) & (x <= 1)) and np.all(np.isfinite(x))


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(-1e3, 1e3),
    sd=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_normal_money_never_negative(mean, sd, seed):
    try:
        dist = MONEY.validate_python({"dist": "normal", "mean": mean, "sd": sd})
    except Exception:
        return  # almost no mass above 0: refused at load time, which is the point
    x = dist.draw(np.random.default_rng(seed), 32)
    assert np.all(x >= 0) and np.all(np.isfinite(x))


def test_same_stream_same_draws():
    dist = PROB.validate_python({"dist": "beta", "mean": 0.2, "sd": 0.05})
    a = dist.draw(np.random.default_rng(5), 10)
    b = dist.draw(np.random.default_rng(5), 10)
    assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["normal", "lognormal", "beta"]),
    mean=st.floats(0.05, 0.95),
    rel_sd=st.floats(0.01, 0.4),
    x=st.floats(-0.5, 1.5),
)
def test_closed_form_cdf_and_mean_match_scipy(kind, mean, rel_sd, x):
    """Validation checks a distribution's mass in its field's range without scipy (so that
    ``spamsim validate`` starts fast); the closed forms agree with scipy.stats."""
    dist = TypeAdapter(Probability if kind == "beta" else Money).validate_python(
        {"dist": kind, "mean": mean, "sd": rel_sd * min(mean, 1 - mean)}  # always a valid beta
    )
    frozen = dist.frozen()
    assert math.isclose(dist.cdf_at(x), float(frozen.cdf(x)), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(dist.mean_value(), float(frozen.mean()), rel_tol=1e-9)
