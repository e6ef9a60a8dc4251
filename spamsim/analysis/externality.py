"""What spam costs everyone else, term by term, and how that compares with the published ~100 : 1.

The externality is the sum of three terms, each a count from the scenario times a unit cost
in the scenario's currency:

* **recipients' time** = spam in inboxes x ``seconds_per_spam`` / 3600 x ``value_of_time_per_hour``;
* **filtering and infrastructure** = spam arriving at receivers' servers x
  ``filtering_cost_per_spam`` (the defenders' spend on filters and servers, per spam they
  must handle, whether they then refuse, filter or deliver it);
* **lost legitimate mail** = legitimate messages lost to filters' false positives x
  ``value_of_lost_legit_mail``.

The externality ratio is their sum over the spammers' revenue. Rao & Reiley ("The Economics
of Spam", Journal of Economic Perspectives 26(3), 2012) put it at roughly 100 : 1: about
20 billion USD a year of costs (≈ 14 billion of users' time, valued at 5 s per spam and
25 USD an hour, and ≈ 6.5 billion of anti-spam technology) against about 200 million USD a
year of spammers' revenue. Their parts are therefore ≈ 70x (time) and ≈ 30x (technology);
they put no value on lost legitimate mail.

Unit costs depend on the currency. :data:`DEFAULTS` holds them for JPY and USD, each with its
source; for any other currency nothing is guessed: the externality is reported as not
computed until the user sets the values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..i18n import N_

if TYPE_CHECKING:
    from .result import Result

PUBLISHED_RATIO = 100.0
"""Rao & Reiley (2012): external costs ≈ 100 x the spammers' revenue."""

PUBLISHED_PARTS = {"recipients_time": 70.0, "filtering": 32.5, "lost_legit_mail": 0.0}
"""Rao & Reiley's parts as multiples of revenue: ≈ 14 and ≈ 6.5 billion USD a year of users'
time and anti-spam technology over ≈ 200 million USD a year of revenue (lost legitimate mail is
not in their estimate)."""

PART_LABELS = {
    "recipients_time": N_("recipients' time"),
    "filtering": N_("filtering and infrastructure"),
    "lost_legit_mail": N_("lost legitimate mail"),
}
"""English names of the terms: msgids of the catalogue (the report translates them)."""

UNIT_FIELDS = ("seconds_per_spam", "value_of_time_per_hour", "filtering_cost_per_spam", "value_of_lost_legit_mail")

_RAO_REILEY = 'Rao & Reiley, "The Economics of Spam", J. Econ. Perspectives 26(3), 2012'
_JPY_PER_USD_2011 = 80.0
"""Yen per dollar around 2011 (the yearly average was about 80), to carry USD estimates to JPY."""

DEFAULTS: dict[str, dict[str, tuple[float, str]]] = {
    "USD": {
        "seconds_per_spam": (5.0, f"{_RAO_REILEY}: about 5 seconds to recognise and delete a spam"),
        "value_of_time_per_hour": (25.0, f"{_RAO_REILEY}: users' time valued at 25 USD an hour"),
        "filtering_cost_per_spam": (
            4e-4,
            f"derived from {_RAO_REILEY}, an order of magnitude: ≈ 6.5 billion USD a year of anti-spam "
            "technology over the spam their own figures imply arrives for US users (14 billion USD of "
            "time at 5 s and 25 USD/h is ≈ 4e11 spam in inboxes a year; with ≈ 2.5 % of spam getting "
            "past filters, ≈ 1.6e13 spam a year arrives)",
        ),
        "value_of_lost_legit_mail": (
            1.0,
            "illustrative (no published estimate used): the JPY default of 100 JPY (about 1.25 USD at "
            "2011's 80 JPY per USD), rounded down",
        ),
    },
    "JPY": {
        "seconds_per_spam": (5.0, f"{_RAO_REILEY}: about 5 seconds to recognise and delete a spam"),
        "value_of_time_per_hour": (
            2000.0,
            "Japan's wage statistics (MHLW Monthly Labour Survey, general workers, around 2011: "
            "scheduled monthly earnings of about 270,000-300,000 JPY for about 150-165 scheduled "
            "hours, i.e. about 1,800-2,000 JPY an hour), rounded up",
        ),
        "filtering_cost_per_spam": (
            4e-4 * _JPY_PER_USD_2011,
            f"the USD estimate (4e-4 USD per spam, derived from {_RAO_REILEY}) at about 80 JPY per "
            "USD (2011); an order of magnitude",
        ),
        "value_of_lost_legit_mail": (100.0, "illustrative (no published estimate used): the lecture's 100 JPY"),
    },
}
"""Unit costs per currency, each ``(value, source)``."""


@dataclass(frozen=True, kw_only=True)
class SocialCost:
    """Unit costs of what spam costs everyone else, in the scenario's currency.

    Keyword-only (the fields were once positional in another order). A value of NaN means
    "not set": :meth:`for_currency` fills the defaults of a currency it
    knows (:data:`DEFAULTS`, with sources) and leaves the others NaN, so that an externality in
    an unknown currency is reported as not computed rather than guessed.

    Attributes
    ----------
    seconds_per_spam
        Recipient time lost per spam that reaches an inbox, in seconds.
    value_of_time_per_hour
        Value of an hour of recipients' time (currency).
    filtering_cost_per_spam
        Defenders' spend on filters and servers per spam arriving at receivers' servers (currency).
    value_of_lost_legit_mail
        Cost of one legitimate message lost to a filter's false positive (currency).
    currency
        Currency of the money values ("" when not tied to one).
    sources
        Where each value comes from, by field name (``"set by the user"`` for overrides).
    """

    seconds_per_spam: float = math.nan
    value_of_time_per_hour: float = math.nan
    filtering_cost_per_spam: float = math.nan
    value_of_lost_legit_mail: float = math.nan
    currency: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_currency(cls, currency: str, **overrides: float | None) -> SocialCost:
        """Defaults for ``currency`` (JPY, USD; case-insensitive), with ``overrides`` (None: keep).

        Parameters
        ----------
        currency
            The scenario's ``market.currency``.
        **overrides
            Any of :data:`UNIT_FIELDS`; a value set here replaces the default and its source.

        Returns
        -------
        SocialCost
            Unknown currency: NaN for every money value not overridden (``seconds_per_spam``
            keeps Rao & Reiley's 5 s, which is not money).
        """
        unknown = set(overrides) - set(UNIT_FIELDS)
        if unknown:
            raise TypeError(f"unknown social-cost values: {', '.join(sorted(unknown))}")
        table = DEFAULTS.get(currency.upper(), {"seconds_per_spam": DEFAULTS["USD"]["seconds_per_spam"]})
        values = {name: table[name][0] for name in table}
        sources = {name: table[name][1] for name in table}
        for name, value in overrides.items():
            if value is not None:
                values[name] = float(value)
                sources[name] = "set by the user"
        return cls(**values, currency=currency, sources=sources)

    def with_currency(self, currency: str) -> SocialCost:
        """This cost in ``currency``: values the user set are kept, the rest take that currency's defaults.

        A :class:`SocialCost` made without a currency (``SocialCost()``, or with some values
        given) is completed here for the scenario it is applied to; one made for another
        currency is refused (ValueError) rather than read in the wrong money.
        """
        if self.currency and self.currency.upper() == currency.upper():
            return self
        if self.currency:
            raise ValueError(
                f"these social-cost values are in {self.currency}, the scenario's money in {currency}: "
                f"make them with SocialCost.for_currency({currency!r}, ...)"
            )
        given = {
            name: getattr(self, name)
            for name in UNIT_FIELDS
            if math.isfinite(getattr(self, name)) and self.sources.get(name, "set by the user") == "set by the user"
        }
        return SocialCost.for_currency(currency, **given)

    def missing(self) -> list[str]:
        """Names of the values not set (NaN): the externality cannot be computed without them."""
        return [name for name in UNIT_FIELDS if not math.isfinite(getattr(self, name))]

    @property
    def time_cost_per_inbox_spam(self) -> float:
        """Value of the recipient time one inbox spam takes (currency)."""
        return self.seconds_per_spam / 3600.0 * self.value_of_time_per_hour


@dataclass(frozen=True)
class ExternalityPart:
    """One term of the externality: ``amount = quantity x unit_cost``."""

    name: str
    label: str
    formula: str
    quantity: float
    unit_cost: float
    amount: float
    ratio_to_revenue: float
    source: str


@dataclass(frozen=True)
class Externality:
    """The externality of a scenario: its parts, its ratio to revenue, and a note on the ~100 : 1.

    Attributes
    ----------
    computed
        False when a unit cost is not set (an unknown currency): ``total`` and ``ratio`` are NaN
        and ``note`` says what to set.
    currency
        The scenario's currency.
    parts
        Recipients' time, filtering and infrastructure, lost legitimate mail.
    total, revenue, ratio
        Society's cost, the spammers' revenue and their ratio (money in ``currency``).
    published_ratio
        Rao & Reiley's ~100.
    note
        Why the ratio differs from the published one, computed from the scenario.
    missing
        Unit costs to set (empty when computed).
    social
        The unit costs used.
    """

    computed: bool
    currency: str
    parts: tuple[ExternalityPart, ...]
    total: float
    revenue: float
    ratio: float
    note: str
    missing: tuple[str, ...]
    social: SocialCost
    published_ratio: float = PUBLISHED_RATIO

    def to_json(self) -> dict[str, Any]:
        """Plain types for ``--json`` output (NaN and infinity as null)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "computed": self.computed,
            "currency": self.currency,
            "total": num(self.total),
            "revenue": num(self.revenue),
            "ratio": num(self.ratio),
            "published_ratio": self.published_ratio,
            "parts": {
                p.name: {
                    "label": p.label,
                    "formula": p.formula,
                    "quantity": num(p.quantity),
                    "unit_cost": num(p.unit_cost),
                    "amount": num(p.amount),
                    "ratio_to_revenue": num(p.ratio_to_revenue),
                    "source": p.source,
                }
                for p in self.parts
            },
            "unit_costs": {name: num(getattr(self.social, name)) for name in UNIT_FIELDS},
            "sources": dict(self.social.sources),
            "missing": list(self.missing),
            "note": self.note,
        }


def _g(x: float) -> str:
    """A number in a sentence: 3 significant figures, thousands separators from 1,000 up."""
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def externality(
    social: SocialCost,
    *,
    currency: str,
    inbox: float,
    arriving: float,
    legit_lost: float,
    revenue: float,
    scope: str = "",
) -> Externality:
    """The externality from a scenario's counts (expected or simulated) and unit costs.

    Parameters
    ----------
    social
        Unit costs; completed with ``currency``'s defaults where not set (:meth:`SocialCost.with_currency`).
    currency
        The scenario's currency.
    inbox, arriving, legit_lost
        Spam in inboxes, spam arriving at receivers' servers, legitimate messages lost to filters.
    revenue
        The spammers' revenue (currency).
    scope
        A sentence added to the note on what the counts cover (e.g. the closed form's core only).

    Returns
    -------
    Externality
    """
    social = social.with_currency(currency)
    missing = tuple(social.missing())
    src = social.sources
    cur = currency

    def ratio(amount: float) -> float:
        return amount / revenue if revenue > 0 else math.inf if amount > 0 else math.nan

    time_unit = social.time_cost_per_inbox_spam
    specs = [
        (
            "recipients_time",
            f"spam in inboxes x {_g(social.seconds_per_spam)} s / 3600 x {_g(social.value_of_time_per_hour)} {cur}/h",
            inbox,
            time_unit,
            f"time: {src.get('seconds_per_spam', 'not set')}; value: {src.get('value_of_time_per_hour', 'not set')}",
        ),
        (
            "filtering",
            f"spam arriving at receivers' servers x {_g(social.filtering_cost_per_spam)} {cur}",
            arriving,
            social.filtering_cost_per_spam,
            src.get("filtering_cost_per_spam", "not set"),
        ),
        (
            "lost_legit_mail",
            f"legitimate messages lost to filters x {_g(social.value_of_lost_legit_mail)} {cur}",
            legit_lost,
            social.value_of_lost_legit_mail,
            src.get("value_of_lost_legit_mail", "not set"),
        ),
    ]
    parts = []
    for name, formula, quantity, unit, source in specs:
        # Nothing of a kind costs nothing, even where its unit cost is not set.
        amount = 0.0 if quantity == 0 else quantity * unit
        parts.append(ExternalityPart(name, PART_LABELS[name], formula, quantity, unit, amount, ratio(amount), source))
    if missing:
        total = total_ratio = math.nan
        note = (
            f"Externality not computed: no default unit costs for the currency {cur!r} (spamsim knows "
            f"{', '.join(DEFAULTS)}). Set {', '.join(missing)} (spamsim analytic --value-of-time, "
            "--filtering-cost-per-spam, --value-of-lost-mail) in that currency."
        )
    else:
        total = sum(p.amount for p in parts)
        total_ratio = ratio(total)
        note = _note(parts, total_ratio, social, cur, inbox, arriving, revenue)
    if scope:
        note = f"{note} {scope}"
    return Externality(
        computed=not missing,
        currency=cur,
        parts=tuple(parts),
        total=total,
        revenue=revenue,
        ratio=total_ratio,
        note=note,
        missing=missing,
        social=social,
    )


def _note(
    parts: list[ExternalityPart],
    total_ratio: float,
    social: SocialCost,
    cur: str,
    inbox: float,
    arriving: float,
    revenue: float,
) -> str:
    """Why this scenario's ratio differs from the published ~100 : 1, from its own numbers."""
    if not revenue > 0:
        return (
            "The spammers earn nothing here, so the ratio is unbounded; Rao & Reiley's ~100 : 1 "
            "assumes spam that sells."
        )
    by = {p.name: p for p in parts}
    shares = ", ".join(f"{p.label} {_g(p.ratio_to_revenue)}x" for p in parts)
    published = ", ".join(f"{PART_LABELS[k]} ≈ {_g(v)}x" for k, v in PUBLISHED_PARTS.items() if v)
    factor = total_ratio / PUBLISHED_RATIO
    if 0.5 <= factor <= 2:
        head = f"The ratio, {_g(total_ratio)} : 1, is close to Rao & Reiley's ~100 : 1."
    else:
        direction = "above" if factor > 1 else "below"
        times = factor if factor > 1 else 1 / factor
        head = f"The ratio, {_g(total_ratio)} : 1, is {_g(times)} times {direction} Rao & Reiley's ~100 : 1."
    sentences = [head, f"Its parts, as multiples of revenue: {shares} (theirs: {published})."]
    if inbox > 0:
        # Revenue per inbox spam against the recipient time it costs: at Rao & Reiley's 70x,
        # each inbox spam earns 1/70 of the time it takes.
        per_inbox = revenue / inbox
        par = social.time_cost_per_inbox_spam / PUBLISHED_PARTS["recipients_time"]
        k = per_inbox / par if par > 0 else math.nan
        if k > 2:
            sentences.append(
                f"Each spam in an inbox earns the spammers {_g(per_inbox)} {cur} (success rate x profit "
                f"per sale), {_g(k)} times the {_g(par)} {cur} at which recipients' time alone would be "
                "70x revenue: a success rate far above real-world conversion rates (Kanich et al. 2008: "
                "about 1 sale per 12.5 million spam) makes revenue large, which lowers the ratio."
            )
        elif 0 < k < 0.5:
            sentences.append(
                f"Each spam in an inbox earns the spammers only {_g(per_inbox)} {cur}, 1/{_g(1 / k)} of the "
                f"{_g(par)} {cur} at which recipients' time alone would be 70x revenue: low revenue per "
                "spam raises the ratio."
            )
    if arriving > 0 and inbox > 0:
        reach = inbox / arriving
        if reach > 0.1:
            sentences.append(
                f"{_g(100 * reach)} % of the spam arriving at receivers' servers reaches an inbox "
                "(Rao & Reiley: a few per cent), so recipients' time weighs more than filtering."
            )
    lost = by["lost_legit_mail"]
    if lost.amount > 0.2 * sum(p.amount for p in parts):
        sentences.append(
            f"Legitimate mail lost to filters is {_g(100 * lost.amount / sum(p.amount for p in parts))} % of the "
            "cost here; Rao & Reiley do not count it."
        )
    return " ".join(sentences)


def externality_of_run(result: Result, social: SocialCost | None = None) -> Externality:
    """The externality of a simulated run, from its mean counts per replication.

    Parameters
    ----------
    result
        A run (:func:`spamsim.run`): inbox spam, spam arriving at receivers' servers (every
        channel), legitimate mail lost and revenue are its means per replication.
    social
        Unit costs (default: the run's currency's defaults).
    """
    summary = result.summary
    legit_lost = float(summary.loc["legit_lost", "mean"]) if "legit_lost" in summary.index else 0.0
    return externality(
        social or SocialCost(),
        currency=result.currency,
        inbox=float(summary.loc["inbox", "mean"]),
        arriving=float(result.by_channel["arriving"].sum()),
        legit_lost=legit_lost,
        revenue=float(summary.loc["revenue", "mean"]),
        scope=f"(Means over {result.reps} simulated replications.)",
    )
