"""The scenario schema: what a scenario YAML file may say, with units and valid ranges.

Every model is frozen and forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Every field has a description: it becomes the JSON Schema's documentation
(``spamsim schema``), which editors show while a scenario is being written.

Money is in the scenario's currency (``market.currency``); durations are in days or hours
as the field name says; rates are per day unless the name says otherwise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .params import Count, Days, Hours, Money, Probability, Rate


class Model(BaseModel):
    """Base of every scenario model: immutable and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Horizon(Model):
    """How long the simulated world runs and how finely the ledger records it."""

    days: Days | None = Field(
        None,
        description="Length of the simulation in days. Default: the end of the last campaign.",
    )
    step_hours: Hours = Field(
        24.0,
        description="Ledger step in hours: counts and money are recorded per step "
        "(24 = daily, 1 = hourly).",
    )


class Engine(Model):
    """How messages are simulated."""

    mode: Literal["batched", "exact"] = Field(
        "batched",
        description="`batched` draws how many messages pass each stage with binomial draws "
        "(cost independent of volume); `exact` draws one Bernoulli per message and exists "
        "to prove the two agree. Use `exact` only for small volumes.",
    )


class Campaign(Model):
    """A spam campaign: the same send repeated several times a day."""

    messages_per_send: Count = Field(
        description="Messages in one send (the lecture: 1,000,000).",
    )
    sends_per_day: float = Field(
        1.0, gt=0, le=1e4, description="Sends per day, evenly spaced (the lecture: several)."
    )
    days: Days = Field(1.0, gt=0, description="Duration of the campaign in days.")
    start_day: Days = Field(0.0, description="Day on which the first send happens.")

    @property
    def n_sends(self) -> int:
        """Number of sends in the campaign (a partial last interval counts if it starts)."""
        import math

        return max(1, math.ceil(self.days * self.sends_per_day - 1e-9))


class Spammer(Model):
    """One spammer: who they are (for enforcement) and what they send."""

    name: str = Field(
        "spammer", min_length=1, max_length=64, description="Name used in results and `--set`."
    )
    location: Literal["domestic", "abroad"] = Field(
        "domestic",
        description="Where the spammer operates; enforcement reaches spammers abroad only "
        "with probability `enforcement.reach_abroad`.",
    )
    legal_form: Literal["individual", "corporation"] = Field(
        "individual", description="Legal form, which selects the fine (`enforcement.fines`)."
    )
    campaign: Campaign = Field(description="What the spammer sends and when.")


class Funnel(Model):
    """Recipient behaviour split into stages; success = open x click x purchase."""

    open_rate: Probability = Field(description="Share of inbox messages that are opened.")
    click_rate: Probability = Field(description="Share of opened messages whose link is clicked.")
    purchase_rate: Probability = Field(description="Share of clicks that end in a sale.")


class Market(Model):
    """What a delivered message earns."""

    currency: str = Field(
        "JPY", min_length=1, max_length=8, description="Currency of every amount of money."
    )
    profit_per_sale: Money = Field(
        description="Profit per sale in `currency` (the lecture: 500 JPY)."
    )
    success_rate: Probability | None = Field(
        None,
        description="Probability that a message reaching an inbox ends in a sale (the "
        "lecture: 0.01). Give this or `funnel`, not both.",
    )
    funnel: Funnel | None = Field(
        None, description="Open/click/purchase stages instead of one success rate."
    )

    @model_validator(mode="after")
    def _one_success_model(self) -> Market:
        if (self.success_rate is None) == (self.funnel is None):
            raise ValueError("give exactly one of success_rate or funnel")
        return self


class Costs(Model):
    """What sending costs the spammer (each spammer pays its own)."""

    per_message: Money = Field(0.0, description="Cost per attempted message, in `currency`.")
    per_send: Money = Field(0.0, description="Cost per send (e.g. list rental), in `currency`.")
    fixed_per_day: Money = Field(
        0.0, description="Fixed cost per day while the campaign runs, in `currency`."
    )


class Fines(Model):
    """Fine on conviction by legal form (Japan's Act on Regulation of Transmission of Specified
    Electronic Mail, as amended 2008: up to 1,000,000 JPY for individuals and up to
    30,000,000 JPY for corporations)."""

    individual: Money = Field(0.0, description="Fine for an individual, in `currency`.")
    corporation: Money = Field(0.0, description="Fine for a corporation, in `currency`.")


class Enforcement(Model):
    """Detection, prosecution and fines."""

    caught_probability: Probability = Field(
        0.0,
        description="Probability that a domestic spammer is detected over the whole "
        "horizon by enforcement activity that does not depend on volume.",
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


class Scenario(Model):
    """A complete spamsim scenario."""

    name: str = Field(min_length=1, max_length=128, description="Scenario name, used in results.")
    description: str = Field("", description="What the scenario shows, in a sentence or two.")
    horizon: Horizon = Field(default_factory=Horizon, description="Time span and ledger step.")  # type: ignore[arg-type]
    engine: Engine = Field(default_factory=Engine, description="Simulation mode.")  # type: ignore[arg-type]
    market: Market = Field(description="What a message that reaches an inbox earns.")
    costs: Costs = Field(default_factory=Costs, description="What sending costs.")  # type: ignore[arg-type]
    enforcement: Enforcement = Field(
        default_factory=Enforcement,  # type: ignore[arg-type]
        description="Detection, prosecution and fines.",
    )
    spammers: list[Spammer] = Field(min_length=1, max_length=64, description="The spammers.")

    @model_validator(mode="after")
    def _unique_spammer_names(self) -> Scenario:
        names = [s.name for s in self.spammers]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"spammer names must be unique; repeated: {', '.join(duplicated)}")
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
