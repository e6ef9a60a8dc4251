"""Numbers written for people, per language, with Babel (one place for CLI, figures and report).

- :func:`compact` — short forms for tables and figures: ``5M``, ``1.2B`` / ``500万``, ``12億``
  (CLDR compact decimals, ``babel.numbers.format_compact_decimal``);
- :func:`number` — full numbers for the report: ``5,000,000``, ``12.3``, ``8 × 10⁻⁸``,
  ``84.8%`` (``babel.numbers.format_decimal``);
- :func:`percent`, :func:`rate` (``1 in 6.4k`` / ``64万分の1``), :func:`money`;
- :func:`number_formatter` and :func:`percent_formatter` for matplotlib ticks.

Negative numbers use the minus sign U+2212; NaN is a dash, infinity ``∞``.
"""

from __future__ import annotations

import math
from typing import Any

from babel.numbers import format_compact_decimal, format_decimal

MINUS = "\u2212"
DASH = "—"
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def finite(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing or not a number (infinity passes)."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _round_significant(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _decimals(a: float, digits: int) -> int:
    """Decimals that show ``digits`` significant digits of ``a`` (> 0)."""
    return max(digits - 1 - int(math.floor(math.log10(a))), 0)


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def _special(value: float | None) -> str | None:
    if value is None:
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    return None


def significant(a: float, digits: int = 3, lang: str = "en") -> str:
    """``a`` with ``digits`` significant digits (whole numbers from ``10**digits`` up), grouped."""
    if a == 0:
        return "0"
    decimals = _decimals(abs(a), digits)
    return _minus(format_decimal(round(a, decimals), format="#,##0." + "#" * decimals, locale=lang))


def scientific(x: float, digits: int = 2, style: str = "times") -> str:
    """``8 × 10⁻⁸`` (``style="times"``) or ``1.5e−6`` (``style="e"``)."""
    mantissa, exponent = f"{abs(x):.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sign = MINUS if x < 0 else ""
    if style == "e":
        power = int(exponent)
        return f"{sign}{mantissa}e{MINUS if power < 0 else ''}{abs(power)}"
    return f"{sign}{mantissa} × 10" + str(int(exponent)).translate(SUPERSCRIPT)


def compact(x: Any, lang: str = "en", digits: int = 3) -> str:
    """A number abbreviated the way ``lang`` reads it: ``5M``, ``1.2B`` / ``500万``, ``12億``.

    Up to ``digits`` significant digits; below 0.001, scientific (``1.5e−6``).
    """
    value = finite(x)
    special = _special(value)
    if special is not None:
        return special
    assert value is not None
    if value == 0:
        return "0"
    a = abs(value)
    if a < 1e-3:
        return scientific(value, digits, style="e")
    if a < 1000:
        return significant(value, digits, lang)
    rounded = _round_significant(value, digits)
    return _minus(format_compact_decimal(rounded, format_type="short", locale=lang, fraction_digits=digits - 1))


def separating_digits(low: Any, high: Any, lang: str = "en", digits: int = 3, most: int = 7) -> int:
    """The fewest significant digits, from ``digits`` up to ``most``, at which ``low`` and ``high`` read apart.

    A confidence interval written ``[5M, 5M]`` claims a certainty the run does not have; with
    one more digit it reads ``[4.996M, 5.003M]``. Equal or non-finite ends keep ``digits``.
    """
    lo, hi = finite(low), finite(high)
    if lo is None or hi is None or lo == hi:
        return digits
    for d in range(digits, most + 1):
        if compact(lo, lang, d) != compact(hi, lang, d):
            return d
    return most


def number(x: Any, kind: str = "count", lang: str = "en") -> str:
    """A number in full: ``5,000,000``, ``12.3``, ``0.0123``, ``8 × 10⁻⁸``, ``84.8%``.

    ``kind`` is ``"count"`` (counts and money: grouped, whole from 100 up), ``"share"`` (a
    0–1 share in per cent) or ``"rate"`` (small probabilities: scientific below 0.001).
    """
    value = finite(x)
    special = _special(value)
    if special is not None:
        return special
    assert value is not None
    if kind == "share":
        return percent(value, 3, lang)
    a = abs(value)
    if a == 0:
        return "0"
    if a >= 1e15:
        return scientific(value, 3)
    if a >= 100:
        return _minus(format_decimal(round(value), format="#,##0", locale=lang))
    if a >= 1e-3:
        return significant(value, 3, lang)
    return scientific(value, 2)


def percent(x: Any, digits: int = 2, lang: str = "en") -> str:
    """A share (0–1) in per cent: ``0.0123`` → ``1.2%``; tiny shares ``1.5 × 10⁻³%``."""
    value = finite(x)
    special = _special(value)
    if special is not None:
        return special
    assert value is not None
    pct = 100.0 * value
    if pct == 0:
        return "0%"
    if abs(pct) < 0.01:
        return scientific(pct, digits) + "%"
    text = significant(abs(pct), digits, lang) if abs(pct) < 100 else format_decimal(round(abs(pct)), locale=lang)
    return (MINUS if pct < 0 else "") + text + "%"


def signed_percent(x: Any, digits: int = 2, lang: str = "en") -> str:
    """A change in per cent with its sign: ``+12%``, ``−4.5%``."""
    value = finite(x)
    text = percent(x, digits, lang)
    return ("+" + text) if value is not None and value > 0 else text


def rate(x: Any, lang: str = "en") -> str:
    """A pass rate: a percentage from 1 % up, ``1 in 6.4K`` / ``6400分の1`` below."""
    value = finite(x)
    if value is None:
        return DASH
    if value >= 0.01 or value == 0:
        return percent(value, 2, lang)
    one_in = compact(1.0 / value, lang, 2)
    return f"{one_in}分の1" if lang == "ja" else f"1 in {one_in}"


def currency_symbol(currency: str, lang: str) -> str:
    """How a currency code is written next to a number: JPY is 円 in Japanese."""
    if lang == "ja" and currency.upper() == "JPY":
        return "円"
    return currency


def money(x: Any, currency: str, lang: str = "en", short: bool = False) -> str:
    """An amount with its currency: ``5,000,000 JPY`` / ``5,000,000円`` (``short``: ``5M JPY``)."""
    text = compact(x, lang) if short else number(x, "count", lang)
    cur = currency_symbol(currency, lang)
    return f"{text}{cur}" if cur == "円" else f"{text} {cur}"


def number_formatter(lang: str, digits: int = 3):  # type: ignore[no-untyped-def]
    """Matplotlib tick formatter abbreviating numbers as :func:`compact` does."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: compact(x, lang, digits))


def percent_formatter():  # type: ignore[no-untyped-def]
    """Matplotlib tick formatter for shares (0–1) shown in per cent, with the minus sign."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: (MINUS if x < 0 else "") + f"{abs(100 * x):.0f}")
