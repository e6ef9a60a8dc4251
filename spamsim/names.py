"""Every name and label spamsim shows — CLI tables, figures, the report — in English and Japanese.

The words come from spamsim's one catalogue (:mod:`spamsim.i18n`): the dictionaries below
map a stable key to its English msgid, and the Japanese is the gettext translation in
``spamsim/locale/ja/LC_MESSAGES/spamsim.po``. ``text(key, lang)`` looks a phrase up;
``metric_label``, ``param_label``, ``channel_label`` and ``countermeasure_label`` build axis
labels with units. Money carries the scenario's currency (``market.currency``; JPY is written
円 in Japanese). Numbers are written by :mod:`spamsim.fmt` (Babel): ``5M``, ``30M``, ``1.2B``
in English and ``500万``, ``3000万``, ``12億`` in Japanese. CLI tables and the HTML report use
the same helpers, so one thing has one name everywhere.

The Japanese terms follow Japanese anti-spam usage: 第三者中継 (third-party relay, i.e. open
relay) and オープンリレー対策 for open relay prevention, SMTP認証 (SMTP AUTH), OP25B (Outbound
Port 25 Blocking, JEAG 2006), 摘発確率 (probability of being caught), 罰金 (fine).
"""

from __future__ import annotations

from . import fmt
from .i18n import N_, Names, gettext

MINUS = fmt.MINUS

TEXT_IDS: dict[str, str] = {
    "attempted": N_("Attempted"),
    "delivered": N_("Delivered"),
    "inbox": N_("Inbox"),
    "opened": N_("Opened"),
    "clicked": N_("Clicked"),
    "sales": N_("Sales"),
    "blocked": N_("Blocked"),
    "filtered": N_("Filtered"),
    "revenue": N_("Revenue"),
    "cost": N_("Sending cost"),
    "fines": N_("Fines"),
    "net_profit": N_("Net profit"),
    "convictions": N_("Convictions"),
    "detections": N_("Detections"),
    "spam_share": N_("Spam share of arriving mail"),
    "legit_lost": N_("Legitimate mail lost"),
    "quits": N_("Spammers who quit"),
    "own_server": N_("Own server"),
    "open_relays": N_("Open relays"),
    "botnet": N_("Botnet"),
    "compromised_accounts": N_("Compromised accounts"),
    "open_relay_prevention": N_("Open relay prevention"),
    "submission_auth": N_("Submission auth"),
    "op25b": N_("OP25B"),
    "rate_limiting": N_("Rate limiting"),
    "receiver_filtering": N_("Receiver filtering"),
    "blacklists": N_("Blacklists"),
    "antivirus": N_("Antivirus"),
    "enforcement": N_("Enforcement"),
    "defender_cost": N_("Defenders' cost"),
    "defender_cost.one_off": N_("Defenders' one-off cost"),
    "defender_cost.running": N_("Defenders' running cost"),
    "defender_cost.migration": N_("Defenders' migration cost"),
    "defender_cost.friction": N_("Users' friction"),
    "profit_removed": N_("Spammers' profit removed"),
    "social_cost_avoided": N_("Social cost avoided"),
    "relay_prevention": N_("Open relay prevention"),
    "smtp_auth": N_("SMTP AUTH"),
    "bots": N_("Active bots"),
    "hit_and_run_bots": N_("Hit-and-run bots"),
    "relays_known": N_("Open relays known to spammers"),
    "accounts": N_("Stolen accounts"),
    "bots_2l": N_("Active\nbots"),
    "hit_and_run_bots_2l": N_("Hit-and-run\nbots"),
    "relays_known_2l": N_("Open relays\nknown"),
    "accounts_2l": N_("Stolen\naccounts"),
    "year": N_("Year"),
    "day": N_("Day"),
    "messages_log": N_("Messages and sales per run\n(log scale)"),
    "count_log": N_("Count (log scale)"),
    "share_pct": N_("Share (%)"),
    "spam_share_pct": N_("Spam share (%)"),
    "channel_mix_pct": N_("Share of spam delivered (%)"),
    "adoption_pct": N_("Adoption (%)"),
    "channel_mix_pct_2l": N_("Share of spam\ndelivered (%)"),
    "spam_share_pct_2l": N_("Spam share\nof mail (%)"),
    "adoption_pct_2l": N_("Adoption\n(%)"),
    "channel_mix_delivered_pct": N_("Delivered spam by channel (%)"),
    "channel_mix_delivered_pct_2l": N_("Delivered spam\nby channel (%)"),
    "spam_share_arriving": N_("Spam share of mail arriving at receivers' servers"),
    "spam_share_arriving_2l": N_("Spam share of mail\narriving at\nreceivers' servers"),
    "spam_share_arriving_pct": N_("Spam share (%)"),
    "spam_share_arriving_pct_2l": N_("Spam\nshare (%)"),
    "delivered_note": N_("delivered: accepted by receivers' servers (refused mail not counted)"),
    "mean_ci": N_("mean, 95% CI ({n} runs)"),
    "ci_band": N_("shaded: 95% CI over {n} runs"),
    "ci_band_mean": N_("shaded: 95% CI of the mean"),
    "error_bars": N_("error bars: 95% CI over {n} runs"),
    "fit_note": N_("error bars: 95% CI of the fitted counts"),
    "error_bars_ci": N_("error bars: 95% bootstrap CI"),
    "error_bars_paired": N_("error bars: 95% CI over {n} paired runs"),
    "revenue_note": N_("Revenue {mean} {cur}\n95% CI {low} to {high}"),
    "funnel_title": N_("{name}: from attempted messages to sales"),
    "effects_title": N_("{name}: each countermeasure's effect on {metric}"),
    "alone": N_("Added alone (to none)"),
    "removed": N_("Removed (from all)"),
    "change_in": N_("Change in {metric} ({cur})"),
    "countermeasure": N_("Countermeasure"),
    "shapley_title": N_("{name}: {metric} from no countermeasures to all"),
    "all_off": N_("No countermeasures"),
    "all_on": N_("All countermeasures"),
    "shapley_legend": N_("Shapley share of the reduction, 95% CI ({n} paired runs)"),
    "timeline_title": N_("{name}: spam share and the channels it takes"),
    "half_adopted": N_("{name} 50%"),
    "populations_title": N_("{name}: spam infrastructure over time"),
    "deterrence_title": N_("{name}: does the fine deter?"),
    "zero_contour": N_("{metric} = 0"),
    "zero_contour_ci": N_("its 95% CI"),
    "ci_includes": N_("95% CI includes {level}"),
    "cell_ci": N_("±: 95% CI half-width in % of the mean"),
    "max_ci": N_("95% CI half-width ≤ {pct} of the mean in every cell"),
    "fine_individual": N_("Max. fine, individual"),
    "fine_corporation": N_("Max. fine, corporation"),
    "break_even_title": N_("{name}: the success rate at which spam pays"),
    "success_rate_axis": N_("Success rate\n(sales per inbox message, log scale)"),
    "money_log": N_("Expected amount per run\n({cur}, log scale)"),
    "expected_revenue": N_("Expected revenue"),
    "expected_charges": N_("Cost + expected fines"),
    "break_even": N_("Break-even: {rate}"),
    "break_even_zero": N_("Break-even at 0: sending costs nothing"),
    "scenario_rate": N_("Scenario: {rate}"),
    "profit_zone": N_("profit"),
    "loss_zone": N_("loss"),
    "closed_form": N_("closed-form expectations (no sampling error)"),
    "rate_range": N_("grey: central 95% of the scenario's success rate"),
    "not_applicable": N_("closed form of the own-server core only"),
    "sweep_title": N_("{name}: {metric}"),
    "sobol_axis": N_("Sobol index of {metric}"),
    "sobol_title": N_("Which parameter drives {metric}? (Sobol)"),
    "S1": N_("First order (S1)"),
    "ST": N_("Total (ST)"),
    "morris_axis": N_("Elementary effect on {metric}{unit}"),
    "morris_title": N_("Which parameter drives {metric}? (Morris)"),
    "mu_star": N_("μ* (importance)"),
    "sigma": N_("σ (interactions)"),
    "parameter": N_("Parameter"),
    "ci95": N_("95% CI"),
    "calibration_title": N_("Calibration: observed and fitted funnel"),
    "observed": N_("Observed"),
    "fitted": N_("Fitted, 95% CI"),
    "stage": N_("Funnel stage"),
    "pass_note": N_("% under a stage: share of the stage before"),
    # metric names the report's tables use as well
    "unsent": N_("Unsent (no capacity)"),
    "switches": N_("Channel switches"),
    "convicted_share": N_("Runs in which it was convicted"),
    "quit_share": N_("Runs in which it quit"),
    "messages": N_("Messages"),
    "p_convicted": N_("Probability of conviction"),
    "break_even_success_rate": N_("Break-even success rate"),
    "cost_per_sale": N_("Cost per sale"),
    "lecture_revenue": N_("Lecture arithmetic N·p·profit"),
    "fine": N_("Fine if convicted"),
    # exploration: robust portfolios and scenario discovery (spamsim explore)
    "portfolio": N_("Portfolio"),
    "portfolio_none": N_("None of the levers on"),
    "satisficing": N_("Worlds where no spammer profits"),
    "regret_mean": N_("Mean regret"),
    "regret_max": N_("Max regret"),
    "p10": N_("10th pct."),
    "p50": N_("Median"),
    "p90": N_("90th pct."),
    "pareto": N_("Pareto"),
    "pareto_title": N_("{name}: robustness against defenders' cost"),
    "pareto_front": N_("Pareto front"),
    "other_portfolios": N_("Other portfolios"),
    "satisficing_axis": N_("Worlds in which no spammer profits"),
    "defender_cost_axis": N_("Defenders' cost over the horizon ({cur})"),
    "cost_unknown": N_("Defenders' costs not computed: robustness only"),
    "worlds_note": N_("{worlds} worlds x {reps} replications per portfolio"),
    "prim_title": N_("Where spam stays profitable under {portfolio}: PRIM peeling"),
    "coverage": N_("Coverage"),
    "density": N_("Density"),
    "restricted": N_("Restricted dimensions"),
    "chosen_box": N_("Box reported"),
}

PARAM_IDS: dict[str, str] = {
    "enforcement.fines.individual": N_("Fine, individual ({cur})"),
    "enforcement.fines.corporation": N_("Fine, corporation ({cur})"),
    "enforcement.caught_probability": N_("Probability of being caught"),
    "enforcement.prosecution_probability": N_("Probability of prosecution"),
    "enforcement.reach_abroad": N_("Enforcement reach abroad"),
    "enforcement.detection_per_million_messages": N_("Detection hazard per million messages"),
    "market.success_rate": N_("Success rate (sales per inbox message)"),
    "market.profit_per_sale": N_("Profit per sale ({cur})"),
    "costs.per_message": N_("Cost per message ({cur})"),
    "costs.fixed_per_day": N_("Fixed cost per day ({cur})"),
    "countermeasures.op25b.adoption": N_("OP25B adoption"),
    "countermeasures.open_relay_prevention.adoption": N_("Open relay prevention adoption"),
    "countermeasures.receiver_filtering.catch_rate": N_("Filter catch rate"),
    "countermeasures.blacklists.adoption": N_("Blacklist adoption"),
}

DOC_IDS: dict[str, str] = {
    "unsent": N_("messages the channels had no capacity for"),
    "attempted": N_("messages the spammers tried to send"),
    "blocked": N_("messages stopped before reaching recipients' servers"),
    "delivered": N_("messages accepted by recipients' servers"),
    "filtered": N_("delivered messages caught by receivers' filters"),
    "inbox": N_("messages that reached an inbox"),
    "opened": N_("messages opened"),
    "clicked": N_("links clicked"),
    "sales": N_("sales made"),
    "revenue": N_("profit from sales"),
    "cost": N_("sending costs: per message, per send, fixed"),
    "fines": N_("fines paid"),
    "net_profit": N_("revenue - cost - fines"),
    "detections": N_("times a spammer was detected"),
    "convictions": N_("times a spammer was convicted"),
    "quits": N_("spammers who quit because spam stopped paying"),
    "switches": N_("times a spammer changed its best channel"),
    "spam_share": N_("spam's share of mail arriving at receivers' servers"),
    "legit_lost": N_("legitimate messages wrongly filtered"),
}
"""What each metric counts (its unit is in its label), for tables."""

COST_METRICS = (
    "defender_cost",
    "defender_cost.one_off",
    "defender_cost.running",
    "defender_cost.migration",
    "defender_cost.friction",
    "profit_removed",
    "social_cost_avoided",
)
"""Defenders' costs and what a countermeasure buys (:mod:`spamsim.analysis.costs`, ``compare``), in the currency."""

MONEY_METRICS = ("revenue", "cost", "fines", "net_profit", *COST_METRICS)
"""Metrics in the scenario's currency."""

SHARE_METRICS = ("spam_share",)


TEXT: dict[str, Names] = {key: Names(msgid) for key, msgid in TEXT_IDS.items()}
"""Phrases by key and language (``{placeholders}`` are filled by :func:`text`); from the catalogue."""

PARAMS: dict[str, Names] = {key: Names(msgid) for key, msgid in PARAM_IDS.items()}
"""Axis labels of sweep and sensitivity parameters (dotted paths), with units; from the catalogue."""


def text(key: str, lang: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` with ``{placeholders}`` filled from ``values``.

    A countermeasure's key gives its name from the registry; an unknown key is returned as is.
    """
    msgid = TEXT_IDS.get(key)
    if msgid is None:  # a countermeasure carries its own names (spamsim.countermeasures)
        from .countermeasures import REGISTRY

        cm = next((c for c in REGISTRY if c.key == key), None)
        phrase = key if cm is None else cm.display_name(lang)
        return phrase.format(**values) if values else phrase
    return gettext(msgid, lang, **values)


def currency_label(currency: str, lang: str) -> str:
    """How a currency code is written: JPY is 円 in Japanese."""
    return fmt.currency_symbol(currency, lang)


def metric_name(metric: str, lang: str) -> str:
    """A metric's name without units (``net_profit`` → Net profit / 純利益)."""
    if metric.startswith("blocked_by."):
        return gettext(N_("Blocked by {name}"), lang, name=countermeasure_label(metric.split(".", 1)[1], lang))
    if metric in TEXT_IDS:
        return text(metric, lang)
    return metric.replace("_", " ")


def metric_doc(metric: str, lang: str) -> str:
    """What a metric counts, in a few words (empty when there is nothing to say)."""
    if metric.startswith("blocked_by."):
        return gettext(N_("messages stopped by {name}"), lang, name=countermeasure_label(metric.split(".", 1)[1], lang))
    msgid = DOC_IDS.get(metric)
    return "" if msgid is None else gettext(msgid, lang)


def unit_label(name: str, unit: str, lang: str) -> str:
    """``name (unit)`` in English, ``name [unit]`` in Japanese."""
    return f"{name} ({unit})" if lang == "en" else f"{name} [{unit}]"


def metric_label(metric: str, lang: str, currency: str) -> str:
    """A metric's axis label with its unit (currency, %, or a count)."""
    name = metric_name(metric, lang)
    if metric in MONEY_METRICS:
        return unit_label(name, currency_label(currency, lang), lang)
    if metric in SHARE_METRICS:
        return f"{name} (%)"
    unit = gettext(N_("messages"), lang)
    if metric in ("sales", "convictions", "detections", "quits"):
        unit = gettext(N_("per run"), lang)
    return unit_label(name, unit, lang)


def param_label(path: str, lang: str, currency: str) -> str:
    """Axis label of a parameter given by its dotted path (the path itself if unknown)."""
    msgid = PARAM_IDS.get(path)
    if msgid is None:
        return path
    return gettext(msgid, lang, cur=currency_label(currency, lang))


def wrap_label(label: str, width: int) -> str:
    """Break a long label onto lines of about ``width`` characters.

    The unit in brackets goes to its own line first (``Profit per sale\n(JPY)``); English
    then breaks between words. Japanese, which has no spaces, breaks only before brackets.
    """
    if len(label) <= width or "\n" in label:
        return label
    for opener in (" (", " [", "（", "["):
        cut = label.rfind(opener)
        if cut > 0:
            head, tail = label[:cut], label[cut:].lstrip()
            return wrap_label(head, width) + "\n" + tail
    import textwrap

    return "\n".join(textwrap.wrap(label, width)) or label


def channel_label(name: str, lang: str) -> str:
    """A channel's name (a botnet or channel the catalogue does not know keeps its own name)."""
    msgid = TEXT_IDS.get(name)
    return name if msgid is None else gettext(msgid, lang)


def countermeasure_label(name: str, lang: str) -> str:
    """A countermeasure's display name, from the registry (which carries its msgid)."""
    from .countermeasures import REGISTRY

    for cm in REGISTRY:
        if cm.key == name:
            return cm.display_name(lang)
    msgid = TEXT_IDS.get(name)  # not a registered countermeasure: enforcement, adoption series
    return name.replace("_", " ") if msgid is None else gettext(msgid, lang)
