"""Default counts of the defenders who pay for countermeasures, by currency (pure data, with sources).

The scenario's ``defenders:`` section (:class:`spamsim.scenario.schema.Defenders`) leaves a
count out to take these; :mod:`spamsim.countermeasures.cost` and
:mod:`spamsim.analysis.costs` use them.
"""

from __future__ import annotations

DEFENDER_COUNTS: dict[str, dict[str, tuple[float, str]]] = {
    "JPY": {
        "servers": (
            1.0e5,
            "illustrative: about 100,000 mail servers run by Japan's ISPs, universities, firms and public bodies "
            "(no census of mail servers used)",
        ),
        "organisations": (
            4.2e5,
            "illustrative: about a tenth of Japan's roughly 4.2 million enterprises (2009 Economic Census) running "
            "their own mail",
        ),
        "users": (
            9.6e7,
            "MIC, Communications Usage Trend Survey 2011: about 96 million Internet users in Japan at the end of 2011",
        ),
    },
    "USD": {
        "servers": (3.0e5, "illustrative: about three times the JPY default, for a US-sized economy"),
        "organisations": (1.2e6, "illustrative: about three times the JPY default, for a US-sized economy"),
        "users": (2.4e8, "illustrative: about 240 million Internet users (a US-sized economy around 2011)"),
    },
}
"""Default counts of servers, organisations and users per currency (the economy it stands for), ``(value, source)``;
any other currency takes the USD counts (counts are not money)."""


def defender_counts(currency: str) -> dict[str, tuple[float, str]]:
    """Default counts for ``currency`` (:data:`DEFENDER_COUNTS`; the USD ones for a currency not listed)."""
    return DEFENDER_COUNTS.get(currency.upper(), DEFENDER_COUNTS["USD"])
