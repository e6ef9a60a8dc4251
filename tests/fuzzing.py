"""Fuzzing helpers: hypothesis strategies for scenario documents and mutated YAML text.

Used by tests/test_hardening.py (a quick profile in ``make test``) and by ``make fuzz``
(the long profile: ``SPAMSIM_FUZZ_EXAMPLES=10000``).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import strategies as st

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# Small, fast scenarios as seeds for mutation (the others are exercised elsewhere).
SEED_FILES = ["lecture.yaml", "lecture-uncertain.yaml", "open-relay-era.yaml", "smtp-auth.yaml", "spambot-era.yaml"]
SEED_TEXTS = [(SCENARIOS / name).read_text(encoding="utf-8") for name in SEED_FILES]

EXAMPLES = int(os.environ.get("SPAMSIM_FUZZ_EXAMPLES", "60"))

numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 0.5, 1e15, 1e16, -1, 1e-300, 1e300]),
)
scalars = st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=12))
distributions = st.fixed_dictionaries(
    {"dist": st.sampled_from(["fixed", "uniform", "triangular", "normal", "lognormal", "beta", "gamma"])},
    optional={
        "value": numbers,
        "low": numbers,
        "high": numbers,
        "mode": numbers,
        "mean": numbers,
        "sd": numbers,
        "a": numbers,
        "b": numbers,
    },
)
values = st.one_of(scalars, distributions, st.lists(scalars, max_size=3))

campaign = st.fixed_dictionaries(
    {"messages_per_send": st.one_of(numbers, distributions)},
    optional={"sends_per_day": numbers, "days": numbers, "start_day": numbers, "extra": values},
)
spammer = st.fixed_dictionaries(
    {"campaign": campaign},
    optional={
        "name": st.text(min_size=0, max_size=8),
        "location": st.sampled_from(["domestic", "abroad", "mars"]),
        "legal_form": st.sampled_from(["individual", "corporation", 3]),
        "strategy": st.one_of(
            st.sampled_from(["fixed", "adaptive", "chaotic"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "kind": st.sampled_from(["fixed", "adaptive"]),
                    "mix": st.dictionaries(
                        st.sampled_from(["own_server", "botnet", "open_relays", "x"]), numbers, max_size=3
                    ),
                    "reaction_days": numbers,
                    "quit_after_days": numbers,
                },
            ),
        ),
        "budget": values,
    },
)
documents = st.fixed_dictionaries(
    {
        "name": st.text(min_size=0, max_size=10),
        "market": st.fixed_dictionaries(
            {},
            optional={
                "success_rate": st.one_of(numbers, distributions),
                "profit_per_sale": st.one_of(numbers, distributions),
                "currency": scalars,
                "funnel": st.dictionaries(st.sampled_from(["open_rate", "click_rate", "purchase_rate"]), values),
            },
        ),
        "spammers": st.one_of(st.lists(spammer, min_size=0, max_size=3), scalars),
    },
    optional={
        "horizon": st.fixed_dictionaries({}, optional={"days": numbers, "step_hours": numbers, "start_year": numbers}),
        "costs": st.dictionaries(
            st.sampled_from(["per_message", "per_send", "fixed_per_day", "nope"]), values, max_size=3
        ),
        "enforcement": st.dictionaries(
            st.sampled_from(
                [
                    "caught_probability",
                    "detection_per_million_messages",
                    "reach_abroad",
                    "fines",
                    "on_conviction",
                    "enabled",
                ]
            ),
            values,
            max_size=4,
        ),
        "channels": st.dictionaries(
            st.sampled_from(["own_server", "open_relays", "botnet", "compromised_accounts"]),
            st.one_of(
                st.none(),
                st.dictionaries(
                    st.sampled_from(["count", "hosts", "initial_bots", "capacity_per_hour", "theft_per_day"]),
                    numbers,
                    max_size=3,
                ),
            ),
            max_size=3,
        ),
        "countermeasures": st.dictionaries(
            st.sampled_from(["op25b", "open_relay_prevention", "receiver_filtering", "blacklists", "antivirus"]),
            st.dictionaries(
                st.sampled_from(["adoption", "catch_rate", "enabled", "cleanup_rate_per_day"]), values, max_size=2
            ),
            max_size=3,
        ),
        "engine": st.fixed_dictionaries({}, optional={"mode": st.sampled_from(["batched", "exact", "quantum"])}),
    },
)

YAML_NOISE = list(":{}[],&*!|>-#'\"\n\t ?%@`") + [
    "!!python/object:os.system",
    "<<: *a",
    "&a ",
    "1e999",
    ".nan",
    "\xff",
    "\x00",
]


@st.composite
def mutated_texts(draw: st.DrawFn) -> bytes:
    """A shipped scenario with a few random insertions, deletions and replacements."""
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(st.one_of(st.sampled_from(YAML_NOISE), st.text(max_size=4)))
        if op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif op == "replace":
            text = text[:i] + piece + text[i + len(piece) :]
        else:
            j = draw(st.integers(i, min(len(text), i + 80)))
            text = text[:j] + text[i:j] + text[j:]
    data = text.encode("utf-8", errors="surrogatepass") if draw(st.booleans()) else text.encode("utf-8", "replace")
    if draw(st.integers(0, 20)) == 0:
        data = data[: len(data) // 2] + b"\xff\xfe" + data[len(data) // 2 :]
    return data


def dump(document: object) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
