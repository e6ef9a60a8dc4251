"""Every word a figure shows, in English and Japanese, and numbers written for each.

``text(key, lang)`` looks a phrase up; ``metric_label``, ``param_label``, ``channel_label``
and ``countermeasure_label`` build axis labels with units. Money carries the scenario's
currency (``market.currency``; JPY is written 円 in Japanese). Large numbers are abbreviated
the way each language reads them: ``5M``, ``30M``, ``1.2bn`` in English and ``500万``,
``3000万``, ``12億`` in Japanese.

The Japanese terms follow Japanese anti-spam usage: 第三者中継 (third-party relay, i.e. open
relay) and オープンリレー対策 for relay prevention, SMTP認証 (SMTP AUTH), OP25B (Outbound
Port 25 Blocking, JEAG 2006), 摘発確率 (probability of being caught), 罰金 (fine).
"""

from __future__ import annotations

import math

from matplotlib.ticker import FuncFormatter

MINUS = "\u2212"

TEXT: dict[str, dict[str, str]] = {
    # funnel stages and metrics
    "attempted": {"en": "Attempted", "ja": "送信数"},
    "delivered": {"en": "Delivered", "ja": "配送"},
    "inbox": {"en": "Inbox", "ja": "受信箱"},
    "opened": {"en": "Opened", "ja": "開封"},
    "clicked": {"en": "Clicked", "ja": "クリック"},
    "sales": {"en": "Sales", "ja": "販売数"},
    "blocked": {"en": "Blocked", "ja": "阻止数"},
    "filtered": {"en": "Filtered", "ja": "フィルタ除去"},
    "revenue": {"en": "Revenue", "ja": "収益"},
    "cost": {"en": "Sending cost", "ja": "送信コスト"},
    "fines": {"en": "Fines", "ja": "罰金"},
    "net_profit": {"en": "Net profit", "ja": "純利益"},
    "convictions": {"en": "Convictions", "ja": "有罪判決数"},
    "detections": {"en": "Detections", "ja": "摘発数"},
    "spam_share": {"en": "Spam share of all mail", "ja": "スパムの割合"},
    "legit_lost": {"en": "Legitimate mail lost", "ja": "誤判定された正規メール"},
    "quits": {"en": "Spammers who quit", "ja": "撤退したスパマー"},
    # channels
    "own_server": {"en": "Own server", "ja": "自前サーバ"},
    "open_relays": {"en": "Open relays", "ja": "オープンリレー"},
    "botnet": {"en": "Botnet", "ja": "ボットネット"},
    "compromised_accounts": {"en": "Compromised accounts", "ja": "乗っ取りアカウント"},
    # countermeasures
    "open_relay_prevention": {"en": "Relay prevention", "ja": "オープンリレー対策"},
    "submission_auth": {"en": "Submission auth", "ja": "送信認証（SMTP認証）"},
    "op25b": {"en": "OP25B", "ja": "OP25B"},
    "rate_limiting": {"en": "Rate limiting", "ja": "送信数制限"},
    "receiver_filtering": {"en": "Content filtering", "ja": "受信フィルタ"},
    "blacklists": {"en": "Blacklists", "ja": "ブラックリスト"},
    "antivirus": {"en": "Antivirus", "ja": "ウイルス対策"},
    "enforcement": {"en": "Enforcement", "ja": "法執行（罰金）"},
    # world series
    "relay_prevention": {"en": "Relay prevention", "ja": "オープンリレー対策"},
    "smtp_auth": {"en": "SMTP AUTH", "ja": "SMTP認証"},
    "bots": {"en": "Active bots", "ja": "稼働中のボット"},
    "hit_and_run_bots": {"en": "Hit-and-run bots", "ja": "ヒットアンドラン型ボット"},
    "relays_known": {"en": "Open relays known to spammers", "ja": "把握されたオープンリレー"},
    "accounts": {"en": "Stolen accounts", "ja": "乗っ取りアカウント"},
    "bots_2l": {"en": "Active\nbots", "ja": "稼働中の\nボット"},
    "hit_and_run_bots_2l": {"en": "Hit-and-run\nbots", "ja": "ヒットアンド\nラン型ボット"},
    "relays_known_2l": {"en": "Open relays\nknown", "ja": "把握された\nリレー"},
    "accounts_2l": {"en": "Stolen\naccounts", "ja": "乗っ取り\nアカウント"},
    # axes, legends, titles
    "year": {"en": "Year", "ja": "年"},
    "day": {"en": "Day", "ja": "経過日数 [日]"},
    "messages_log": {"en": "Messages and sales per run\n(log scale)", "ja": "通数・販売数\n（1回あたり, 対数軸）"},
    "count_log": {"en": "Count (log scale)", "ja": "件数（対数軸）"},
    "share_pct": {"en": "Share (%)", "ja": "割合 (%)"},
    "spam_share_pct": {"en": "Spam share (%)", "ja": "スパムの割合 (%)"},
    "channel_mix_pct": {"en": "Share of spam delivered (%)", "ja": "配信されたスパムの経路別割合 (%)"},
    "adoption_pct": {"en": "Adoption (%)", "ja": "導入率 (%)"},
    "channel_mix_pct_2l": {"en": "Share of spam\ndelivered (%)", "ja": "配信スパムの\n経路別割合 (%)"},
    "spam_share_pct_2l": {"en": "Spam share\nof mail (%)", "ja": "スパムの\n割合 (%)"},
    "adoption_pct_2l": {"en": "Adoption\n(%)", "ja": "導入率\n(%)"},
    "channel_mix_delivered_pct": {"en": "Delivered spam by channel (%)", "ja": "配信されたスパムの経路別割合 (%)"},
    "channel_mix_delivered_pct_2l": {"en": "Delivered spam\nby channel (%)", "ja": "配信スパムの\n経路別割合 (%)"},
    "spam_share_arriving": {
        "en": "Spam share of mail arriving at receivers' servers",
        "ja": "受信側サーバに届くメールに占めるスパムの割合",
    },
    "spam_share_arriving_2l": {
        "en": "Spam share of mail\narriving at\nreceivers' servers",
        "ja": "受信側サーバに届く\nメールに占める\nスパムの割合",
    },
    "spam_share_arriving_pct": {"en": "Spam share (%)", "ja": "スパム割合 (%)"},
    "spam_share_arriving_pct_2l": {"en": "Spam\nshare (%)", "ja": "スパム\n割合 (%)"},
    "delivered_note": {
        "en": "delivered: accepted by receivers' servers (refused mail not counted)",
        "ja": "配信: 受信側サーバが受理したもの（拒否されたメールは含まない）",
    },
    "mean_ci": {"en": "mean, 95% CI ({n} runs)", "ja": "平均, 95%信頼区間（{n}回）"},
    "ci_band": {"en": "shaded: 95% CI over {n} runs", "ja": "帯: 95%信頼区間（{n}回）"},
    "ci_band_mean": {"en": "shaded: 95% CI of the mean", "ja": "帯: 平均の95%信頼区間"},
    "error_bars": {"en": "error bars: 95% CI over {n} runs", "ja": "誤差棒: 95%信頼区間（{n}回）"},
    "fit_note": {"en": "error bars: 95% CI of the fitted counts", "ja": "誤差棒: 推定値の95%信頼区間"},
    "error_bars_ci": {"en": "error bars: 95% bootstrap CI", "ja": "誤差棒: 95%ブートストラップ信頼区間"},
    "error_bars_paired": {
        "en": "error bars: 95% CI over {n} paired runs",
        "ja": "誤差棒: 95%信頼区間（対応のある{n}回）",
    },
    "revenue_note": {
        "en": "Revenue {mean} {cur}\n95% CI {low} to {high}",
        "ja": "収益 {mean}{cur}\n95%信頼区間 {low}〜{high}",
    },
    "funnel_title": {"en": "{name}: from attempted messages to sales", "ja": "{name}: 送信から販売まで"},
    "effects_title": {
        "en": "{name}: each countermeasure's effect on {metric}",
        "ja": "{name}: 対策ごとのスパマーの{metric}への効果",
    },
    "alone": {"en": "Added alone (to none)", "ja": "単独で導入（他の対策なし）"},
    "removed": {"en": "Removed (from all)", "ja": "除外（他の対策はすべてあり）"},
    "change_in": {"en": "Change in {metric} ({cur})", "ja": "{metric}の変化 [{cur}]"},
    "countermeasure": {"en": "Countermeasure", "ja": "対策"},
    "shapley_title": {
        "en": "{name}: {metric} from no countermeasures to all",
        "ja": "{name}: 対策なしから全対策までの{metric}",
    },
    "all_off": {"en": "No countermeasures", "ja": "対策なし"},
    "all_on": {"en": "All countermeasures", "ja": "全対策"},
    "shapley_legend": {
        "en": "Shapley share of the reduction, 95% CI ({n} paired runs)",
        "ja": "削減へのシャープレイ寄与, 95%信頼区間（対応のある{n}回）",
    },
    "timeline_title": {"en": "{name}: spam share and the channels it takes", "ja": "{name}: スパムの割合と送信経路"},
    "half_adopted": {"en": "{name} 50%", "ja": "{name} 50%"},
    "populations_title": {"en": "{name}: spam infrastructure over time", "ja": "{name}: スパム送信基盤の推移"},
    "deterrence_title": {"en": "{name}: does the fine deter?", "ja": "{name}: 罰金は抑止になるか"},
    "zero_contour": {"en": "{metric} = 0", "ja": "{metric} = 0"},
    "zero_contour_ci": {"en": "its 95% CI", "ja": "その95%信頼区間"},
    "ci_includes": {"en": "95% CI includes {level}", "ja": "95%信頼区間が{level}を含む"},
    "cell_ci": {"en": "±: 95% CI half-width in % of the mean", "ja": "±: 95%信頼区間の半幅（平均に対する%）"},
    "max_ci": {
        "en": "95% CI half-width ≤ {pct} of the mean in every cell",
        "ja": "95%信頼区間の半幅は全セルで平均の{pct}以下",
    },
    "fine_individual": {"en": "Max. fine, individual", "ja": "罰金上限（個人）"},
    "fine_corporation": {"en": "Max. fine, corporation", "ja": "罰金上限（法人）"},
    "break_even_title": {"en": "{name}: the success rate at which spam pays", "ja": "{name}: スパムが採算に合う成功率"},
    "success_rate_axis": {
        "en": "Success rate\n(sales per inbox message, log scale)",
        "ja": "成功率\n（受信箱到達1通あたりの販売, 対数軸）",
    },
    "money_log": {"en": "Expected amount per run\n({cur}, log scale)", "ja": "1回あたりの期待値\n（{cur}, 対数軸）"},
    "expected_revenue": {"en": "Expected revenue", "ja": "期待収益"},
    "expected_charges": {"en": "Cost + expected fines", "ja": "費用＋罰金の期待値"},
    "break_even": {"en": "Break-even: {rate}", "ja": "損益分岐点: {rate}"},
    "break_even_zero": {"en": "Break-even at 0: sending costs nothing", "ja": "損益分岐点は0（送信コストなし）"},
    "scenario_rate": {"en": "Scenario: {rate}", "ja": "シナリオの値: {rate}"},
    "profit_zone": {"en": "profit", "ja": "利益"},
    "loss_zone": {"en": "loss", "ja": "損失"},
    "closed_form": {"en": "closed-form expectations (no sampling error)", "ja": "解析解による期待値（標本誤差なし）"},
    "rate_range": {
        "en": "grey: central 95% of the scenario's success rate",
        "ja": "灰色: シナリオの成功率分布の中央95%",
    },
    "not_applicable": {"en": "closed form of the own-server core only", "ja": "自前サーバ部分のみの解析解"},
    "sweep_title": {"en": "{name}: {metric}", "ja": "{name}: {metric}"},
    "sobol_axis": {"en": "Sobol index of {metric}", "ja": "{metric}のSobol指数"},
    "sobol_title": {"en": "Which parameter drives {metric}? (Sobol)", "ja": "{metric}を左右するパラメータ（Sobol法）"},
    "S1": {"en": "First order (S1)", "ja": "1次効果 (S1)"},
    "ST": {"en": "Total (ST)", "ja": "総効果 (ST)"},
    "morris_axis": {"en": "Elementary effect on {metric}{unit}", "ja": "{metric}への基本効果{unit}"},
    "morris_title": {
        "en": "Which parameter drives {metric}? (Morris)",
        "ja": "{metric}を左右するパラメータ（Morris法）",
    },
    "mu_star": {"en": "μ* (importance)", "ja": "μ*（重要度）"},
    "sigma": {"en": "σ (interactions)", "ja": "σ（交互作用・非線形性）"},
    "parameter": {"en": "Parameter", "ja": "パラメータ"},
    "ci95": {"en": "95% CI", "ja": "95%信頼区間"},
    "calibration_title": {"en": "Calibration: observed and fitted funnel", "ja": "較正: ファネルの観測値と推定値"},
    "observed": {"en": "Observed", "ja": "観測値"},
    "fitted": {"en": "Fitted, 95% CI", "ja": "推定値, 95%信頼区間"},
    "stage": {"en": "Funnel stage", "ja": "ファネルの段階"},
    "pass_note": {"en": "% under a stage: share of the stage before", "ja": "段階名の下: 前段階からの通過率"},
}
"""Phrases by key and language (``{placeholders}`` are filled by :func:`text`)."""

PARAMS: dict[str, dict[str, str]] = {
    "enforcement.fines.individual": {"en": "Fine, individual ({cur})", "ja": "罰金（個人） [{cur}]"},
    "enforcement.fines.corporation": {"en": "Fine, corporation ({cur})", "ja": "罰金（法人） [{cur}]"},
    "enforcement.caught_probability": {"en": "Probability of being caught", "ja": "摘発確率"},
    "enforcement.prosecution_probability": {"en": "Probability of prosecution", "ja": "起訴確率"},
    "enforcement.reach_abroad": {"en": "Enforcement reach abroad", "ja": "国外への執行力"},
    "enforcement.detection_per_million_messages": {
        "en": "Detection hazard per million messages",
        "ja": "100万通あたりの摘発率",
    },
    "market.success_rate": {"en": "Success rate (sales per inbox message)", "ja": "成功率"},
    "market.profit_per_sale": {"en": "Profit per sale ({cur})", "ja": "1件あたりの利益 [{cur}]"},
    "costs.per_message": {"en": "Cost per message ({cur})", "ja": "1通あたりの費用 [{cur}]"},
    "costs.fixed_per_day": {"en": "Fixed cost per day ({cur})", "ja": "1日あたりの固定費 [{cur}]"},
    "countermeasures.op25b.adoption": {"en": "OP25B adoption", "ja": "OP25B導入率"},
    "countermeasures.open_relay_prevention.adoption": {
        "en": "Relay prevention adoption",
        "ja": "オープンリレー対策の導入率",
    },
    "countermeasures.receiver_filtering.catch_rate": {"en": "Filter catch rate", "ja": "フィルタ検出率"},
    "countermeasures.blacklists.adoption": {"en": "Blacklist adoption", "ja": "ブラックリスト導入率"},
}
"""Axis labels of sweep and sensitivity parameters (dotted paths), with units."""

MONEY_METRICS = ("revenue", "cost", "fines", "net_profit")
"""Metrics in the scenario's currency."""

SHARE_METRICS = ("spam_share",)


def text(key: str, lang: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` with ``{placeholders}`` filled from ``values``."""
    entry = TEXT.get(key)
    if entry is None:  # a countermeasure carries its own names (spamsim.countermeasures)
        from ..countermeasures import REGISTRY

        entry = next((cm.labels for cm in REGISTRY if cm.key == key), None)
    phrase = key if entry is None else entry.get(lang, entry["en"])
    return phrase.format(**values) if values else phrase


def currency_label(currency: str, lang: str) -> str:
    """How a currency code is written: JPY is 円 in Japanese."""
    if lang == "ja" and currency.upper() == "JPY":
        return "円"
    return currency


def metric_name(metric: str, lang: str) -> str:
    """A metric's name without units (``net_profit`` → Net profit / 純利益)."""
    if metric.startswith("blocked_by."):
        name = metric.split(".", 1)[1]
        return {"en": f"Blocked by {text(name, 'en')}", "ja": f"{text(name, 'ja')}による阻止"}[lang]
    return text(metric, lang)


def metric_label(metric: str, lang: str, currency: str) -> str:
    """A metric's axis label with its unit (currency, %, or a count)."""
    name = metric_name(metric, lang)
    if metric in MONEY_METRICS:
        cur = currency_label(currency, lang)
        return f"{name} ({cur})" if lang == "en" else f"{name} [{cur}]"
    if metric in SHARE_METRICS:
        return f"{name} (%)"
    unit = {"en": "messages", "ja": "通"}[lang]
    if metric in ("sales", "convictions", "detections", "quits"):
        unit = {"en": "per run", "ja": "1回あたり"}[lang]
    return f"{name} ({unit})" if lang == "en" else f"{name} [{unit}]"


def param_label(path: str, lang: str, currency: str) -> str:
    """Axis label of a parameter given by its dotted path (the path itself if unknown)."""
    entry = PARAMS.get(path)
    if entry is None:
        return path
    return entry[lang].format(cur=currency_label(currency, lang))


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
    return text(name, lang)


def countermeasure_label(name: str, lang: str) -> str:
    return text(name, lang)


# -- numbers -------------------------------------------------------------------------------


def _trim(value: float, digits: int) -> str:
    """``value`` with at most ``digits`` significant digits, without trailing zeros."""
    if value == 0:
        return "0"
    decimals = max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)
    s = f"{value:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def format_number(value: float, lang: str, digits: int = 3) -> str:
    """A number abbreviated for reading aloud: ``5M``, ``1.2bn`` / ``500万``, ``12億``.

    Numbers below 1 keep up to ``digits`` significant digits (``0.0019``); very small ones
    use scientific notation (``1.5e−6``). Negative numbers use the minus sign (U+2212).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    sign = MINUS if value < 0 else ""
    x = abs(float(value))
    if x == 0:
        return "0"
    if x < 1e-3:
        mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{sign}{mantissa}e{MINUS if int(exponent) < 0 else ''}{abs(int(exponent))}"
    if x < 1:
        return sign + _trim(x, digits)
    if lang == "ja":
        units = ((1e12, "兆"), (1e8, "億"), (1e4, "万"))
        for size, unit in units:
            if x >= size:
                return f"{sign}{_trim(x / size, digits)}{unit}"
        return sign + (f"{x:,.0f}" if x >= 1000 else _trim(x, digits))
    units = ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k"))
    for size, unit in units:
        if x >= size:
            return f"{sign}{_trim(x / size, digits)}{unit}"
    return sign + _trim(x, digits)


def format_percent(value: float, digits: int = 2) -> str:
    """A share (0–1) as a percentage: ``0.0123`` → ``1.2%``."""
    if value is None or math.isnan(value):
        return "–"
    pct = 100.0 * value
    if pct != 0 and abs(pct) < 0.01:
        return format_number(pct, "en", digits) + "%"
    s = _trim(abs(pct), digits) if abs(pct) < 100 else f"{abs(pct):.0f}"
    return (MINUS if pct < 0 else "") + s + "%"


def format_rate(value: float, lang: str) -> str:
    """A pass rate: a percentage from 1 % up, ``1 in 6.4k`` / ``6400分の1`` below."""
    if value is None or math.isnan(value):
        return "–"
    if value >= 0.01 or value == 0:
        return format_percent(value)
    one_in = format_number(1.0 / value, lang, 2)
    return f"1 in {one_in}" if lang == "en" else f"{one_in}分の1"


def number_formatter(lang: str, digits: int = 3) -> FuncFormatter:
    """Tick formatter abbreviating large numbers as :func:`format_number` does."""
    return FuncFormatter(lambda x, _pos: format_number(x, lang, digits))


def percent_formatter() -> FuncFormatter:
    """Tick formatter for shares (0–1) shown in percent, with the minus sign."""
    return FuncFormatter(lambda x, _pos: (MINUS if x < 0 else "") + f"{abs(100 * x):.0f}")
