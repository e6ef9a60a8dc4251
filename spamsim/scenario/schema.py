"""The scenario schema: what a scenario YAML file may say, with units and valid ranges.

Every model is frozen and forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Every field has a description: it becomes the JSON Schema's documentation
(``spamsim schema``), which editors show while a scenario is being written.

Money is in the scenario's currency (``market.currency``); durations are in days or hours
as the field name says; rates are per day unless the name says otherwise.

A numeric parameter is a number, a distribution or a schedule ``{time: value}``
(:mod:`.params`). Durations typed ``Days`` or ``Hours`` (the horizon, a campaign's timing, a
strategy's reaction and quitting delays, antivirus variants and signature lag, blacklist
listing delay, hit-and-run lifetime) take plain numbers only: the engine schedules events from
them when a run starts. ``events`` change parameters at given times (:mod:`.events`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from .defenders import DEFENDER_COUNTS
from .errors import Issue, dotted_path, issues_error, printable
from .params import (
    DAYS_PER_YEAR,
    MAX_COUNT,
    Bounds,
    Count,
    Days,
    Hours,
    Money,
    PiecewiseLinear,
    Probability,
    Rate,
    Schedule,
    uncertain,
)


def _one_line(value: str) -> str:
    # Names end up in terminals, tables, file headers and scenario.resolved.yaml: a newline
    # breaks the layout of each, and an escape sequence would be sent to the terminal as is.
    if not value.isprintable():
        i, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
        raise ValueError(
            f"must be one line of printable text; character {i + 1} is {printable(char)} (newlines, tabs and "
            "control characters are not allowed)"
        )
    return value


def _printable_text(value: str) -> str:
    # Descriptions may span lines (a YAML `|` block), but control characters are refused.
    for line in value.split("\n"):
        _one_line(line.replace("\t", " ").removesuffix("\r"))
    return value


Line = Annotated[str, AfterValidator(_one_line)]
"""One line of printable text: names, currencies, event notes (no newline, tab or control character)."""
Text = Annotated[str, AfterValidator(_printable_text)]
"""Printable text that may span lines (descriptions): newlines and tabs allowed, control characters not."""
MAX_TEXT = 10_000
"""Longest description, in characters (a few paragraphs; a scenario says what it shows in a sentence or two)."""


class Model(BaseModel):
    """Base of every scenario model: immutable, strict about unknown keys and about types.

    ``strict``: a number field takes numbers only (not ``"500"``, not ``true``), a boolean
    field ``true``/``false`` only (not ``"yes"``), a text field text only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True, defer_build=True)


class Horizon(Model):
    """How long the simulated world runs and how finely the ledger records it."""

    days: Annotated[Days, Field(gt=0)] | None = Field(
        None,
        description="Length of the simulation in days. Default: the end of the last campaign.",
    )
    step_hours: Hours = Field(
        24.0,
        description="Ledger step in hours: counts and money are recorded per step (24 = daily, 1 = hourly).",
    )
    start_year: float | None = Field(
        None,
        ge=1970,
        le=2100,
        description="Calendar year at the start (e.g. 1998.0). When given, the keys of "
        "schedules are calendar years and events may give a `year`; otherwise schedule keys "
        "are days since the start.",
    )


class Engine(Model):
    """How messages are simulated."""

    mode: Literal["batched", "exact"] = Field(
        "batched",
        description="`batched` draws how many messages pass each stage with binomial draws "
        "(cost independent of volume); `exact` draws one Bernoulli per message and exists "
        "to prove the two agree. Use `exact` only for small volumes.",
    )


CHANNEL_NAMES = ("own_server", "open_relays", "botnet", "compromised_accounts")
"""The channels with a fixed name; named botnets (``channels.botnets``) add theirs."""
ChannelName = str
"""A channel's name: one of CHANNEL_NAMES or the name of a botnet in ``channels.botnets``."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Strategy(Model):
    """How a spammer splits its volume over channels, and whether it reacts to results."""

    kind: Literal["fixed", "adaptive"] = Field(
        "fixed",
        description="`fixed`: keep `mix`. `adaptive`: every `reaction_days`, estimate each "
        "channel's conversion (a Gamma-Poisson posterior with a prior pooled across channels, "
        "worth `prior_sales` sales, on evidence fading over `memory_days`), move a share `shift` "
        "of volume towards the channels with a positive expected margin per message, best first "
        "(displacement), drop channels with a negative one, and quit when no channel is "
        "plausibly profitable or expected daily profit stays negative for `quit_after_days` "
        "(deterrence).",
    )
    mix: dict[str, float] = Field(
        default_factory=lambda: {"own_server": 1.0},
        description="Initial share of volume per channel (normalised to sum to 1).",
    )
    reaction_days: Days = Field(1.0, ge=0.01, description="Days between reassessments (the reaction delay).")
    shift: Probability = Field(
        0.5,
        description="Share of the way the mix moves towards the best allocation at each reassessment "
        "(a channel with a negative expected margin is dropped at once).",
    )
    exploration: Probability = Field(
        0.02,
        description="Share of volume kept for exploration, split evenly over the channels the spammer can "
        "use: each channel that is plausibly profitable (margin positive at the upper 90 % credible bound "
        "of its conversion on its own evidence) keeps at least exploration / channels, so that its margin "
        "stays observable; other channels get none.",
    )
    prior_sales: float = Field(
        1.0,
        gt=0,
        le=1e6,
        description="Strength, in pseudo-sales, of the Gamma prior on each channel's conversion, whose mean "
        "is the conversion pooled over all channels: a channel with few sales is judged mostly by the pool, "
        "so the spammer does not chase noise. 1 (default): an exponential prior, which still leaves room "
        "for a channel that converts nothing; larger values trust the pool more.",
    )
    memory_days: Annotated[Days, Field(gt=0)] | None = Field(
        14.0,
        description="Days over which the adaptive spammer's evidence fades (weight exp(-age / "
        "memory_days)), so it can follow a world that changes. null: never forget.",
    )
    quit_after_days: Days | None = Field(
        7.0,
        description="Adaptive spammers quit once expected daily profit (recent revenue "
        "minus costs minus expected fines) has been negative this many days in a row, or as "
        "soon as no channel is plausibly profitable. null: never quit (with no plausibly "
        "profitable channel the spammer then sends nothing until one is).",
    )

    @model_validator(mode="after")
    def _mix_positive(self) -> Strategy:
        if not self.mix or sum(self.mix.values()) <= 0 or min(self.mix.values()) < 0:
            raise ValueError("mix needs non-negative shares with a positive sum")
        return self


class Campaign(Model):
    """A spam campaign: the same send repeated several times a day."""

    messages_per_send: Count = Field(
        description="Messages in one send (the lecture: 1,000,000).",
    )
    sends_per_day: float = Field(1.0, gt=0, le=1e4, description="Sends per day, evenly spaced (the lecture: several).")
    days: Days = Field(1.0, gt=0, description="Duration of the campaign in days.")
    start_day: Days = Field(0.0, description="Day on which the first send happens.")
    window_hours: Annotated[Hours, Field(gt=0)] | None = Field(
        None,
        description="Sending window of one send, in hours: a send drains through its channels' "
        "capacity over time (across step ends) and what has not left when its window closes "
        "is booked `unsent`. Default: until the next send (24 / sends_per_day).",
    )

    @property
    def n_sends(self) -> int:
        """Number of sends in the campaign (a partial last interval counts if it starts)."""
        import math

        return max(1, math.ceil(self.days * self.sends_per_day - 1e-9))


class Spammer(Model):
    """One spammer: who they are (for enforcement) and what they send."""

    name: Line = Field("spammer", min_length=1, max_length=64, description="Name used in results and `--set`.")
    location: Literal["domestic", "abroad"] = Field(
        "domestic",
        description="Where the spammer operates; enforcement reaches spammers abroad only "
        "with probability `enforcement.reach_abroad`.",
    )
    legal_form: Literal["individual", "corporation"] = Field(
        "individual", description="Legal form, which selects the fine (`enforcement.fines`)."
    )
    campaign: Campaign = Field(description="What the spammer sends and when.")
    strategy: Strategy = Field(
        default_factory=lambda: Strategy(),
        description="How the spammer splits volume over channels (`fixed` or `adaptive`).",
    )
    budget: Money | None = Field(
        None,
        description="Cash the spammer can lose, in `currency`: once cumulative net profit "
        "falls below -budget the spammer stops. Default: unlimited.",
    )

    @model_validator(mode="before")
    @classmethod
    def _strategy_shorthand(cls, data: Any) -> Any:
        # `strategy: adaptive` is short for `strategy: {kind: adaptive}`.
        if isinstance(data, dict) and isinstance(data.get("strategy"), str):
            data = {**data, "strategy": {"kind": data["strategy"]}}
        return data


class Funnel(Model):
    """Recipient behaviour split into stages; success = open x click x purchase.

    Measured campaigns often report emails -> site visits -> purchases (e.g. Kanich et al.,
    "Spamalytics", ACM CCS 2008): give ``visit_rate`` (share of inbox messages whose
    recipient visits the site) and ``purchase_rate`` (share of visits that buy), and leave
    ``open_rate`` out (or give it, and ``visit_rate`` is then per opened message). A visit is
    recorded as a click.
    """

    open_rate: Probability = Field(
        1.0, description="Share of inbox messages that are opened (default 1: not measured)."
    )
    click_rate: Probability | None = Field(None, description="Share of opened messages whose link is clicked.")
    visit_rate: Probability | None = Field(
        None, description="Share of opened (or, without `open_rate`, inbox) messages that lead to a site visit."
    )
    purchase_rate: Probability = Field(description="Share of clicks (visits) that end in a sale.")

    @model_validator(mode="after")
    def _one_click_stage(self) -> Funnel:
        if (self.click_rate is None) == (self.visit_rate is None):
            raise ValueError("give exactly one of click_rate or visit_rate (a visit is a click through to the site)")
        return self

    @property
    def through_rate(self) -> Any:
        """The click (visit) stage's rate, whichever name the scenario used."""
        return self.click_rate if self.click_rate is not None else self.visit_rate


class Market(Model):
    """What a delivered message earns."""

    currency: Line = Field("JPY", min_length=1, max_length=8, description="Currency of every amount of money.")
    profit_per_sale: Money = Field(description="Profit per sale in `currency` (the lecture: 500 JPY).")
    success_rate: Probability | None = Field(
        None,
        description="Probability that a message reaching an inbox ends in a sale (the "
        "lecture: 0.01). Give this or `funnel`, not both.",
    )
    funnel: Funnel | None = Field(None, description="Open/click/purchase stages instead of one success rate.")

    @model_validator(mode="after")
    def _one_success_model(self) -> Market:
        if (self.success_rate is None) == (self.funnel is None):
            raise ValueError("give exactly one of success_rate or funnel")
        return self


class Costs(Model):
    """What sending costs the spammer (each spammer pays its own)."""

    per_message: Money = Field(0.0, description="Cost per attempted message, in `currency`.")
    per_send: Money = Field(0.0, description="Cost per send (e.g. list rental), in `currency`.")
    fixed_per_day: Money = Field(0.0, description="Fixed cost per day while the campaign runs, in `currency`.")


class Fines(Model):
    """Fine on conviction by legal form (Japan's Act on Regulation of Transmission of Specified
    Electronic Mail, as amended 2008: up to 1,000,000 JPY for individuals and up to
    30,000,000 JPY for corporations)."""

    individual: Money = Field(0.0, description="Fine for an individual, in `currency`.")
    corporation: Money = Field(0.0, description="Fine for a corporation, in `currency`.")


class Enforcement(Model):
    """Detection, prosecution and fines."""

    enabled: bool = Field(True, description="Switch enforcement off (for comparisons).")
    caught_probability: Probability = Field(
        0.0,
        description="Probability that a domestic spammer is detected over the whole "
        "horizon by enforcement activity that does not depend on volume.",
    )
    count_refused_attempts: bool = Field(
        False,
        description="Whether messages refused on the sending side (closed relays, submission "
        "servers, rate limits) count towards the volume-based detection hazard. They never reach "
        "a recipient, so by default only mail that left the sending side counts.",
    )
    detection_per_million_messages: Rate = Field(
        0.0,
        description="Additional detection hazard per million attempted messages "
        "(P(detected in a step) = 1 - (1 - base) * exp(-rate * messages / 1e6)).",
    )
    prosecution_probability: Probability = Field(
        1.0, description="Probability that a detected spammer is prosecuted and convicted."
    )
    reach_abroad: Probability = Field(
        0.0,
        description="Probability that a conviction can be enforced on a spammer abroad "
        "(the lecture's point: close to 0).",
    )
    fines: Fines = Field(default_factory=Fines, description="Fine by legal form.")  # type: ignore[arg-type]
    on_conviction: Literal["stop", "continue"] = Field(
        "stop",
        description="`stop`: a convicted spammer pays and stops sending; `continue`: pays "
        "and carries on (and can be convicted again).",
    )


# -- channels ------------------------------------------------------------------------------


class OwnServerChannel(Model):
    """The spammer's own server sending straight to recipients' MX: cheap, quickly listed."""

    capacity_per_hour: Count | None = Field(
        None, description="Messages per hour one server can send (null: unlimited)."
    )
    cost_per_day: Money = Field(0.0, description="Server cost per day of use, in `currency`.")


class OpenRelaysChannel(Model):
    """Mail servers that relay for anyone (the 1990s channel)."""

    count: Count = Field(description="Relays that would relay for anyone absent prevention.")
    capacity_per_hour: Rate = Field(5000.0, description="Messages one relay passes per hour.")
    initially_known: Probability = Field(0.1, description="Share of relays the spammers know at the start.")
    discovery_per_day: Probability = Field(0.05, description="Share of still-unknown relays found by scanning per day.")


class BotnetChannel(Model):
    """Infected PCs inside organisations sending for the spammer (the 2000s channel)."""

    hosts: Count = Field(description="Hosts that can be infected (PCs on the Internet).")
    initial_bots: Count = Field(0.0, description="Infected hosts at the start.")
    infection_rate_per_day: Rate = Field(
        0.0,
        description="Probability per day that a clean host is infected (mail attachments, "
        "USB sticks): dB/dt = rate * (hosts - bots) - cleanup * bots.",
    )
    sends_per_bot_hour: Rate = Field(100.0, description="Messages one bot sends per hour.")
    share_direct_to_mx: Probability = Field(
        0.5,
        description="Share of a bot's mail sent directly to outside MX on port 25; the rest "
        "goes through its organisation's submission server.",
    )
    rental_cost_per_bot_day: Money = Field(0.0, description="What renting one bot for a day costs, in `currency`.")
    hit_and_run_share: Probability = Field(0.0, description="Share of new infections that are hit-and-run bots.")
    hit_and_run_lifetime_hours: Hours = Field(6.0, description="Mean hours before a hit-and-run bot erases itself.")
    hit_and_run_burst: float = Field(10.0, ge=1, le=1e6, description="Send-rate multiplier of a hit-and-run bot.")
    pop_logins_per_hour: Rate = Field(1.0, description="POP logins per hour by the user of an infected host.")
    nat_hosts_per_address: float = Field(
        1.0,
        ge=1,
        le=1e6,
        description="Hosts sharing one public address (NAT): any of their POP logins "
        "authorises the shared address, widening the POP-before-SMTP window.",
    )
    contagion_per_day: Rate = Field(
        0.0,
        description="Contagion: infection hazard per clean host per day added per unit share of "
        "infected hosts (beta in beta*S*I/N); bots recruit bots. 0: a constant rate only.",
    )
    stolen_credentials_share: Probability = Field(
        0.0,
        description="Share of bots that hold their user's mail credentials (info-stealers): an SMTP "
        "AUTH submission server admits their mail.",
    )
    networks: dict[str, float] = Field(
        default_factory=dict,
        description="Share of the botnet's hosts in each network (names from `networks`), "
        "normalised. Default: in proportion to the networks' hosts.",
    )
    taken_down: bool = Field(
        False,
        description="The botnet's command and control is gone (set by an event, e.g. a takedown): its "
        "bots send nothing and cost nothing; infections and cleanup go on.",
    )

    @model_validator(mode="after")
    def _bots_within_hosts(self) -> BotnetChannel:
        if isinstance(self.initial_bots, float) and isinstance(self.hosts, float):
            if self.initial_bots > self.hosts:
                raise ValueError("initial_bots cannot exceed hosts")
        return self


class NamedBotnet(BotnetChannel):
    """One of several botnets, each its own channel (e.g. Rustock, Cutwail)."""

    name: str = Field(
        pattern=NAME_PATTERN, description="The botnet's name: the channel's name in results, mixes and `--set`."
    )


class CompromisedAccountsChannel(Model):
    """Stolen mail credentials: the channel that survives SMTP AUTH."""

    initial_accounts: Count = Field(0.0, description="Stolen accounts at the start.")
    theft_per_day: Rate = Field(0.0, description="New stolen credentials per day (Poisson).")
    lockout_rate_per_day: Rate = Field(
        0.2, description="Probability per day that a stolen account is detected and locked."
    )
    sends_per_account_hour: Rate = Field(100.0, description="Messages the spammer pushes through one account per hour.")
    cost_per_account_day: Money = Field(
        0.0, description="What using one stolen account for a day costs, in `currency`."
    )


class Channels(Model):
    """The routes spam can take. `own_server` exists unless set to null."""

    own_server: OwnServerChannel | None = Field(
        default_factory=lambda: OwnServerChannel(), description="Direct sending from own server."
    )
    open_relays: OpenRelaysChannel | None = Field(None, description="Open relays.")
    botnet: BotnetChannel | None = Field(None, description="Spambots (one botnet, named `botnet`).")
    botnets: list[NamedBotnet] = Field(
        default_factory=list, max_length=32, description="Several named botnets, each its own channel."
    )
    compromised_accounts: CompromisedAccountsChannel | None = Field(
        None, description="Stolen credentials used at SMTP AUTH servers."
    )

    @model_validator(mode="after")
    def _unique_botnet_names(self) -> Channels:
        names = [b.name for b in self.botnets]
        clash = sorted({n for n in names if names.count(n) > 1 or n in CHANNEL_NAMES})
        if clash:
            raise ValueError(
                f"botnet names must be unique and differ from {', '.join(CHANNEL_NAMES)}; repeated: {', '.join(clash)}"
            )
        return self

    def names(self) -> list[str]:
        """Names of the channels present: own server, relays, botnets, then stolen accounts."""
        fixed = [n for n in CHANNEL_NAMES if getattr(self, n) is not None]
        botnets = [b.name for b in self.botnets]
        if "compromised_accounts" in fixed:
            return fixed[:-1] + botnets + ["compromised_accounts"]
        return fixed + botnets

    def botnet_specs(self) -> dict[str, BotnetChannel]:
        """Every botnet by channel name (``botnet`` for the single one)."""
        found: dict[str, BotnetChannel] = {"botnet": self.botnet} if self.botnet is not None else {}
        found.update({b.name: b for b in self.botnets})
        return found


# -- countermeasures -------------------------------------------------------------------------


class SubmissionModes(Model):
    """Share of organisations' submission servers by how they admit senders."""

    ip_restricted: Schedule = Field(0.0, description="Trust internal addresses: an internal bot passes.")
    pop_before_smtp: Schedule = Field(
        0.0,
        description="Admit an address for a window after a POP login: a bot rides the "
        "window of its host's user (and of every host behind the same NAT).",
    )
    smtp_auth: Schedule = Field(
        0.0,
        description="Need per-user credentials (RFC 4954, port 587/465): a bot passes only with stolen credentials.",
    )


class CountermeasuresBase(Model):
    """What defenders do. Each can be switched off with `enabled: false`.

    One optional section per countermeasure in :data:`spamsim.countermeasures.REGISTRY`
    (the fields are built from it; see :func:`rebuild_countermeasures`).
    """

    def names(self) -> list[str]:
        """Names of the countermeasures the scenario defines, in registry (route) order."""
        return [n for n in type(self).model_fields if getattr(self, n) is not None]

    def active(self, name: str) -> bool:
        """Whether countermeasure ``name`` is defined and enabled."""
        cm = getattr(self, name, None)
        return cm is not None and cm.enabled


def _countermeasures_model() -> type[CountermeasuresBase]:
    # The registry imports this module's types, so it is looked up, not imported, here: until
    # spamsim.countermeasures has loaded, the section has no fields; it rebuilds it when done.
    registry = getattr(sys.modules.get("spamsim.countermeasures"), "REGISTRY", [])
    fields: dict[str, Any] = {
        cm.key: (cm | None, Field(None, description=(cm.__doc__ or cm.key).strip().splitlines()[0])) for cm in registry
    }
    return create_model(  # type: ignore[no-any-return, call-overload]
        "Countermeasures", __base__=CountermeasuresBase, __doc__=CountermeasuresBase.__doc__, **fields
    )


Countermeasures = _countermeasures_model()


class Network(Model):
    """A network (an ISP, a region, a university's LAN) with its own policies.

    Bots sit in networks; a bot's mail leaves through its network's rules. Every policy left
    out follows the scenario-wide countermeasure (``countermeasures.op25b.adoption``,
    ``countermeasures.submission_auth.mode_share``, ``countermeasures.antivirus``,
    ``countermeasures.blacklists.dynamic_ip_listed_share``); without ``networks`` the world is one
    network with those policies.
    """

    name: str = Field(pattern=NAME_PATTERN, description="The network's name (used by botnets' `networks`).")
    hosts: Count = Field(description="Hosts in the network (used to spread botnets that do not say where they are).")
    op25b: Probability | None = Field(
        None, description="Share of the network's hosts whose outbound port 25 is blocked."
    )
    submission: SubmissionModes | None = Field(
        None, description="Share of the network's submission servers by admission mode (rest open)."
    )
    antivirus_cleanup_rate_per_day: Rate | None = Field(
        None, description="Antivirus cleanup hazard of a visible bot in this network, per day."
    )
    dynamic_ip_listed_share: Probability | None = Field(
        None, description="Share of the network's dynamic addresses on receivers' policy lists."
    )
    nat_hosts_per_address: float | None = Field(
        None, ge=1, le=1e6, description="Hosts sharing one public address (NAT) in this network."
    )


_DefenderCount = uncertain(Bounds(0.0, MAX_COUNT, "a count"))
_DefenderMoney = uncertain(Bounds(0.0, 1e15, "an amount of money"))


def _counts_description(what: str) -> str:
    defaults = "; ".join(f"{cur}: {table[what][0]:g} ({table[what][1]})" for cur, table in DEFENDER_COUNTS.items())
    return f"Default by currency — {defaults}; other currencies: the USD count."


class Defenders(Model):
    """Who pays for countermeasures: how many servers, organisations and users, and what users' time is worth.

    Each countermeasure's ``cost`` is per server, per organisation and per user; these counts
    multiply it (times the share that takes part). Left out, a count takes the default of the
    scenario's currency (the economy it stands for); they are orders of magnitude for a
    country, so a scenario whose spammers stand for a slice of the world's spam should scale
    them down with it.
    """

    servers: _DefenderCount | None = Field(
        None, description="Mail servers (submission and receiving). " + _counts_description("servers")
    )
    organisations: _DefenderCount | None = Field(
        None, description="Organisations running mail. " + _counts_description("organisations")
    )
    users: _DefenderCount | None = Field(None, description="Mail users (mailboxes). " + _counts_description("users"))
    value_of_time_per_hour: _DefenderMoney | None = Field(
        None,
        description="Value of an hour of a user's time (currency), for users' friction. Default: the "
        "externality's value of recipients' time for the currency (JPY: 2,000 JPY/h, Japan's wage statistics "
        "around 2011; USD: 25 USD/h, Rao & Reiley 2012); not guessed for other currencies.",
    )


class LegitimateMail(Model):
    """Legitimate mail, so that spam's share of traffic is an output."""

    messages_per_day: Count = Field(0.0, description="Legitimate messages per day.")


MAX_EVENTS = 1000
"""Most events a scenario may list (each is validated by validating the scenario it makes)."""


class Event(Model):
    """A change at a given time: from then on, the scenario has these parameters.

    An event sets parameters the way ``--set`` does; it cannot change the world's structure
    (spammers, channels, horizon, engine, currency, campaigns' timing).
    """

    day: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Days since the start when the event happens. Give this or `year`."
    )
    year: float | None = Field(
        None,
        allow_inf_nan=False,
        description=f"Calendar year when the event happens, e.g. 2010.2 (needs horizon.start_year; "
        f"{DAYS_PER_YEAR} days per year). Give this or `day`.",
    )
    set: dict[str, Any] = Field(
        description="Parameters the event sets, by dotted path as with `--set`, e.g. "
        "{countermeasures.op25b.adoption: 0.9, spammers.overseas.budget: 0}.",
        json_schema_extra={"minProperties": 1, "propertyNames": {"pattern": r"^[^.]+(\.[^.]+)*$"}},
    )
    note: Line = Field("", max_length=500, description="What the event is, e.g. 'Rustock botnet taken down'.")

    @field_validator("set")
    @classmethod
    def _sets_something(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("an event sets at least one parameter, e.g. {countermeasures.op25b.adoption: 0.9}")
        return value

    @model_validator(mode="after")
    def _one_time(self) -> Event:
        if (self.day is None) == (self.year is None):
            raise ValueError("give exactly one of day or year")
        return self

    def day_since_start(self, start_year: float | None) -> float:
        """When the event happens, in days since the start.

        Parameters
        ----------
        start_year
            ``horizon.start_year`` of the scenario (needed if the event gives ``year``).

        Raises
        ------
        ValueError
            If the event gives ``year`` and ``start_year`` is None.
        """
        if self.day is not None:
            return self.day
        assert self.year is not None
        if start_year is None:
            raise ValueError("`year` needs horizon.start_year; without it, give `day` (days since the start)")
        return (self.year - start_year) * DAYS_PER_YEAR


class Scenario(Model):
    """A complete spamsim scenario."""

    name: Line = Field(min_length=1, max_length=128, description="Scenario name, used in results.")
    description: Text = Field("", max_length=MAX_TEXT, description="What the scenario shows, in a sentence or two.")
    horizon: Horizon = Field(default_factory=Horizon, description="Time span and ledger step.")  # type: ignore[arg-type]
    engine: Engine = Field(default_factory=Engine, description="Simulation mode.")  # type: ignore[arg-type]
    market: Market = Field(description="What a message that reaches an inbox earns.")
    costs: Costs = Field(default_factory=Costs, description="What sending costs.")  # type: ignore[arg-type]
    enforcement: Enforcement = Field(
        default_factory=Enforcement,  # type: ignore[arg-type]
        description="Detection, prosecution and fines.",
    )
    spammers: list[Spammer] = Field(min_length=1, max_length=64, description="The spammers.")
    channels: Channels = Field(default_factory=lambda: Channels(), description="The routes spam can take.")
    countermeasures: CountermeasuresBase = Field(
        default_factory=lambda: Countermeasures(), description="What defenders do."
    )
    legitimate_mail: LegitimateMail = Field(
        default_factory=lambda: LegitimateMail(), description="Legitimate mail volume."
    )
    defenders: Defenders = Field(
        default_factory=lambda: Defenders(),
        description="Who pays for the countermeasures (servers, organisations, users) and what users' time is worth.",
    )
    networks: list[Network] = Field(
        default_factory=list,
        max_length=64,
        description="Named networks with their own OP25B, submission modes, antivirus and listing policy.",
    )
    events: list[Event] = Field(
        default_factory=list,
        max_length=MAX_EVENTS,
        description="Changes at given times (a takedown, a law, a new policy), applied in time order. "
        "Each sets parameters by dotted path as `--set` does.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = [s.name for s in self.spammers]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"spammer names must be unique; repeated: {', '.join(duplicated)}")
        present = set(self.channels.names())
        networks = [n.name for n in self.networks]
        repeated = sorted({n for n in networks if networks.count(n) > 1})
        if repeated:
            raise ValueError(f"network names must be unique; repeated: {', '.join(repeated)}")
        for name, botnet in self.channels.botnet_specs().items():
            unknown = sorted(set(botnet.networks) - set(networks))
            if unknown:
                raise ValueError(
                    f"botnet {name!r} sits in network(s) {', '.join(unknown)} that `networks` does not define "
                    f"(defined: {', '.join(networks) or 'none'})"
                )
            if botnet.networks and (min(botnet.networks.values()) < 0 or sum(botnet.networks.values()) <= 0):
                raise ValueError(f"botnet {name!r}: `networks` needs non-negative shares with a positive sum")
        filtering = self.countermeasures.receiver_filtering
        if filtering is not None:
            unknown = sorted(set(filtering.catch_rate_by_channel) - present)
            if unknown:
                raise ValueError(
                    f"receiver_filtering.catch_rate_by_channel names channel(s) {', '.join(unknown)} that "
                    f"`channels` does not define (defined: {', '.join(sorted(present))})"
                )
        for spammer in self.spammers:
            missing = sorted(set(spammer.strategy.mix) - present)
            if missing:
                raise ValueError(
                    f"spammer {spammer.name!r} uses channel(s) {', '.join(missing)} that "
                    f"`channels` does not define (defined: {', '.join(sorted(present)) or 'none'})"
                )
        issues = [
            Issue(path, dotted_path(path), message)
            for path, value in schedules(self)
            if (message := _schedule_keys_problem(value, self.horizon.start_year))
        ]
        if issues:
            raise issues_error(issues)
        return self

    @model_validator(mode="after")
    def _events_apply(self) -> Scenario:
        if self.events:
            from .events import check_events  # events.py builds scenarios: import it late

            check_events(self)
        return self

    @property
    def horizon_days(self) -> float:
        """The horizon in days: given, or the end of the last campaign."""
        if self.horizon.days is not None:
            return self.horizon.days
        return max(s.campaign.start_day + s.campaign.days for s in self.spammers)

    @property
    def n_steps(self) -> int:
        """Number of ledger steps in the horizon."""
        import math

        return max(1, math.ceil(self.horizon_days * 24.0 / self.horizon.step_hours - 1e-9))


def schedules(model: BaseModel) -> Iterator[tuple[tuple[str | int, ...], PiecewiseLinear]]:
    """Every schedule in ``model`` (a scenario or part of one) with its path, events excepted.

    Yields
    ------
    tuple
        ``(path, schedule)``; ``path`` is field names and list indices, e.g.
        ``("countermeasures", "op25b", "adoption")``.
    """
    for name in type(model).model_fields:
        if name != "events":  # an event's values are checked on the scenario it makes
            yield from _schedules_in(getattr(model, name), (name,))


def _schedules_in(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], PiecewiseLinear]]:
    if isinstance(value, PiecewiseLinear):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _schedules_in(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _schedules_in(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _schedules_in(item, (*path, key))


YEARS = (1900.0, 2100.0)
"""Schedule keys in this range read as calendar years; keys below it as days since the start."""


def _schedule_keys_problem(value: PiecewiseLinear, start_year: float | None) -> str | None:
    times = value.breakpoints()
    # Days can exceed 1900 in a long run ({0: 0.1, 5000: 0.9}); only all-year keys are years.
    if start_year is None and YEARS[0] <= min(times) and max(times) <= YEARS[1]:
        return "schedule keys look like years; set horizon.start_year (keys are days since the start otherwise)"
    if start_year is not None and min(times) < YEARS[0]:
        return (
            f"schedule key {min(times):g} looks like a day; with horizon.start_year set, keys are "
            "calendar years (e.g. 2005.5)"
        )
    return None


def _set_countermeasures_field() -> None:
    field = Scenario.model_fields["countermeasures"]
    field.annotation = Countermeasures
    field.default_factory = Countermeasures
    # Models are built on first use (``defer_build``): building every validator at import
    # would cost ``spamsim validate`` and ``--help`` a third of a second. A model already in
    # use (a countermeasure registered later) is rebuilt now.
    if Scenario.__pydantic_complete__:
        Scenario.model_rebuild(force=True)


def rebuild_countermeasures() -> None:
    """Rebuild the ``countermeasures`` section from the registry (after ``register``)."""
    global Countermeasures
    Countermeasures = _countermeasures_model()
    _set_countermeasures_field()


from .. import countermeasures as _registry  # noqa: E402, F401  (registers the built-ins and sets the section)
