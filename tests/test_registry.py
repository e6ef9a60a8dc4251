"""A countermeasure is one module, registered in one list (issue 11).

The test adds a toy countermeasure — greylisting, which makes the receiving MX refuse a
share of mail from senders that do not retry — the way the docs show: one class with its
parameters, names and stage, then ``register``. Nothing else is edited, yet it appears in the
scenario schema (with the loader's checks), in the ledger's ``blocked_by``, in ``compare`` and
Shapley, and under its own name in figures.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import Field

import spamsim
import spamsim.plots
from spamsim.countermeasures import REGISTRY, Countermeasure, Stage, Where, register, unregister
from spamsim.scenario.params import Probability


class Greylisting(Countermeasure):
    """Greylisting at recipients' MX: a first delivery attempt is deferred; spam software that
    does not retry loses the message."""

    key: ClassVar[str] = "greylisting"
    labels: ClassVar[dict[str, str]] = {"en": "Greylisting", "ja": "グレイリスティング"}
    stage: ClassVar[Stage] = "mx"

    no_retry_share: Probability = Field(description="Share of the spammer's mail sent by software that never retries.")

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.num(values.no_retry_share)


@pytest.fixture
def greylisting():
    register(Greylisting, before="blacklists")
    yield
    unregister("greylisting")


SCENARIO = {
    "name": "greylisting",
    "market": {"success_rate": 0.01, "profit_per_sale": 100},
    "countermeasures": {"greylisting": {"no_retry_share": 0.4}, "blacklists": {"adoption": 0.5}},
    "spammers": [{"campaign": {"messages_per_send": 1e5}}],
}


def test_a_registered_countermeasure_works_everywhere(greylisting):
    assert [cm.key for cm in REGISTRY].index("greylisting") < [cm.key for cm in REGISTRY].index("blacklists")
    # The schema knows it, with the loader's usual checks.
    with pytest.raises(spamsim.ScenarioError, match="no_retry_shar"):
        spamsim.load({**SCENARIO, "countermeasures": {"greylisting": {"no_retry_shar": 0.4}}})
    result = spamsim.run(SCENARIO, reps=200, seed=1)
    # Greylisting meets the mail before blacklists: it stops 40 % of the own server's mail.
    blocked = result.replications["blocked_by.greylisting"] / result.replications["attempted"]
    assert abs(blocked.mean() - 0.4) < 4 * blocked.std(ddof=1) / np.sqrt(blocked.size)
    comparison = spamsim.compare(SCENARIO, reps=100, seed=1, shapley=True)
    effects = comparison.effects_frame
    assert "greylisting" in set(effects["countermeasure"])
    rows = effects[(effects["countermeasure"] == "greylisting") & (effects["metric"] == "revenue")]
    rows = rows.set_index("context")
    assert rows.loc["alone", "ci95_high"] < 0  # switched on alone, it lowers revenue
    assert rows.loc["removed", "ci95_low"] > 0  # taken out of the full set, revenue rises
    shapley = comparison.shapley_replications()
    assert "greylisting" in shapley.columns
    figure = spamsim.plots.effects(comparison)
    texts = {t.get_text() for ax in figure.axes for t in ax.get_yticklabels() + ax.get_xticklabels()}
    assert "Greylisting" in texts


def test_unregistering_removes_it_from_the_schema(greylisting):
    unregister("greylisting")
    with pytest.raises(spamsim.ScenarioError, match="greylisting"):
        spamsim.load(SCENARIO)
    register(Greylisting, before="blacklists")  # the fixture unregisters it again
