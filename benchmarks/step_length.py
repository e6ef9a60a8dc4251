"""Headline numbers at several ledger step lengths (issue 10's table): they must agree.

Run: ``.venv/bin/python benchmarks/step_length.py`` (about a minute on 2 cores). Prints, for
spambot-era and japan-2011 at 24, 6, 3 and 1 hour steps (256 replications, seed 11), revenue,
spam share and net profit with 95 % CIs, and own-server mail delivered under a 6-hour listing
delay with 4 sends a day at 24 … 1 hour steps next to its closed form.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import spamsim

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _cell(summary, metric: str) -> str:  # type: ignore[no-untyped-def]
    row = summary.loc[metric]
    return f"{row['mean']:.4g} [{row['ci95_low']:.4g}, {row['ci95_high']:.4g}]"


def main() -> None:
    for name in ("spambot-era", "japan-2011"):
        for step in (24, 6, 3, 1):
            result = spamsim.run(
                SCENARIOS / f"{name}.yaml", reps=256, seed=11, overrides=[f"horizon.step_hours={step}"]
            )
            s = result.summary
            unsent = f"  unsent {s.loc['unsent', 'mean']:.3g}" if "unsent" in s.index else ""
            print(
                f"{name:12} {step:>2} h  revenue {_cell(s, 'revenue')}  spam_share {_cell(s, 'spam_share')}  "
                f"net_profit {_cell(s, 'net_profit')}{unsent}",
                flush=True,
            )
    overrides = [
        "spammers.0.campaign={messages_per_send: 1.0e6, sends_per_day: 4, days: 2}",
        "horizon.days=2",
        "countermeasures={blacklists: {adoption: 0.8, listing_delay_hours: 6}}",
    ]
    # Each send leaves at once; the server's addresses are listed an Exp(6 h) after its first message.
    closed = sum(1e6 * (1 - 0.8 * (1 - np.exp(-6.0 * k / 6.0))) for k in range(8))
    print(f"own server, 6 h listing delay, 4 sends a day for 2 days: closed form {closed:,.0f} delivered")
    for step in (24, 12, 6, 3, 1):
        result = spamsim.run(
            SCENARIOS / "lecture.yaml", reps=256, seed=11, overrides=[*overrides, f"horizon.step_hours={step}"]
        )
        print(f"  step {step:>2} h: delivered {_cell(result.summary, 'delivered')}", flush=True)


if __name__ == "__main__":
    main()
