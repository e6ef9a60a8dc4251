"""One self-contained HTML report of a scenario, for a lecturer to e-mail or put on a course page.

>>> import spamsim.report as rp
>>> rep = rp.build_report("scenarios/japan-2011.yaml", reps=200, seed=1, lang="ja")  # doctest: +SKIP
>>> rep.write("japan-2011.html")  # doctest: +SKIP

The page holds everything a reader needs, in one file that works offline: the scenario as
run (resolved YAML), the funnel and the money with 95 % confidence intervals (overall, per
channel, per spammer), each countermeasure's effect (paired replications, optionally
Shapley attribution), the time series, the closed-form expectations (the lecture's
arithmetic, the break-even success rate, the externality ratio) and the provenance with
the commands that repeat the numbers exactly.

Nothing is fetched from anywhere: figures are PNG ``data:`` URIs, the CSS is inline, there
is no script, and a Content-Security-Policy ``<meta>`` forbids the browser to load anything
but ``data:`` images and fonts. Japanese text comes with a subset of IPAexGothic (shipped by
``matplotlib-fontja``) embedded as a ``data:`` font, used only where the reader's computer
has no Japanese font. Everything from the scenario file (names, descriptions, the YAML) is
HTML-escaped: scenario files are untrusted data.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
import yaml
from matplotlib.figure import Figure

from . import __version__
from .analysis.analytic import AnalyticResult, expected
from .analysis.effects import Comparison, countermeasure_names
from .analysis.effects import compare as run_compare
from .analysis.result import METRIC_DOCS, Result
from .api import run
from .atomic import write_text_atomic
from .outputs import provenance as run_provenance
from .plots.labels import currency_label
from .scenario.loader import load, scenario_data
from .scenario.schema import Scenario

LANGS = ("en", "ja")
THEMES = ("lecture", "paper")
FIGURE_DPI = {"lecture": 120, "paper": 220}
"""PNG resolution per figure theme: ~1,600 px wide either way (sharp on screen and paper)."""

MINUS = "\u2212"
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
MONEY = {
    "revenue",
    "cost",
    "fines",
    "net_profit",
    "message_cost",
    "channel_cost",
    "lecture_revenue",
    "fine",
    "cost_per_sale",
    "social_cost",
}
SHARES = {"spam_share", "convicted_share", "quit_share", "p_convicted"}
RATES = {"break_even_success_rate"}


# -- words -----------------------------------------------------------------------------------

TEXT: dict[str, tuple[str, str]] = {
    # page
    "title": ("spamsim report: {name}", "spamsim レポート: {name}"),
    "subtitle": (
        "What spam earns, and what stops it — a Monte Carlo simulation with {reps} replications",
        "スパムはいくら稼ぎ、何がそれを止めるか — {reps}回反復のモンテカルロ・シミュレーション",
    ),
    "generated": (
        "Generated {when} by spamsim {version}; seed {seed}.",
        "{when}に spamsim {version} で作成（シード {seed}）。",
    ),
    "contents": ("Contents", "目次"),
    "no_description": ("(The scenario has no description.)", "（シナリオに説明はありません。）"),
    "footer": (
        "Made with spamsim {version}, a spam cost-benefit simulation toolkit. This page is "
        "self-contained: it loads nothing from the network.",
        "spamsim {version}（スパムの費用便益シミュレーション）で作成。このページは単独で完結しており、"
        "ネットワークから何も読み込みません。",
    ),
    # sections
    "sec_glance": ("At a glance", "概要"),
    "sec_scenario": ("The scenario", "シナリオ"),
    "sec_results": ("Funnel and money", "ファネルと収支"),
    "sec_countermeasures": ("Countermeasures", "対策の効果"),
    "sec_time": ("Over time", "時間推移"),
    "sec_closed": ("Closed-form expectations", "解析解による期待値"),
    "sec_provenance": ("Provenance and how to reproduce", "来歴と再現方法"),
    # glance
    "glance_revenue": ("Spammers' revenue", "スパマーの収益"),
    "glance_net": ("Net profit", "純利益"),
    "glance_share": ("Spam share of all mail", "全メールに占めるスパムの割合"),
    "glance_sales": ("Sales", "販売数"),
    "glance_ci": ("95% CI {low} to {high}", "95%信頼区間 {low}〜{high}"),
    "glance_note": (
        "Means per run over {reps} replications, with the 95% confidence interval of the mean.",
        "{reps}回の反復の1回あたり平均と、平均の95%信頼区間。",
    ),
    # scenario
    "scenario_intro": (
        "The scenario exactly as run (defaults filled in, overrides applied), as YAML. "
        "Save it as a file to run it again.",
        "実行したとおりのシナリオ（既定値・上書きを反映）のYAML。ファイルに保存すれば再実行できます。",
    ),
    "scenario_yaml": ("Scenario YAML", "シナリオのYAML"),
    # tables
    "metric": ("Metric", "指標"),
    "mean": ("Mean", "平均"),
    "ci_low": ("95% CI low", "95%信頼区間 下限"),
    "ci_high": ("95% CI high", "95%信頼区間 上限"),
    "meaning": ("What it counts", "説明"),
    "summary_caption": (
        "Table {n}. Funnel and money per run: mean over {reps} replications and the 95% "
        "confidence interval of the mean; money in {cur}.",
        "表{n}. 1回あたりのファネルと収支: {reps}回の反復の平均と平均の95%信頼区間（金額の単位は{cur}）。",
    ),
    "channel_caption": (
        "Table {n}. Where the spam went: mean per run, by channel (money in {cur}).",
        "表{n}. スパムの経路別の行方: 1回あたり平均（金額の単位は{cur}）。",
    ),
    "spammer_caption": (
        "Table {n}. Per spammer: mean per run (money in {cur}) and the share of runs in "
        "which the spammer was convicted or quit.",
        "表{n}. スパマー別: 1回あたり平均（金額の単位は{cur}）と、有罪・撤退となった反復の割合。",
    ),
    "quantity": ("Quantity", "項目"),
    "item": ("Item", "項目"),
    "value": ("Value", "値"),
    "total": ("Total", "合計"),
    # figures
    "figure": ("Figure {n}.", "図{n}."),
    "fig_funnel": (
        "The funnel: mean messages per run at each stage (log scale) with 95% CIs; the share "
        "passing from the stage before is written under each stage, the mean revenue in the corner.",
        "ファネル: 各段階の1回あたり平均通数（対数軸）と95%信頼区間。段階名の下は前段階からの通過率、右上は平均収益。",
    ),
    "fig_effects": (
        "Each countermeasure's effect on the spammer's revenue: added alone to a world "
        "without countermeasures, and removed from the world with all of them "
        "(paired replications, 95% CIs; labels: change in per cent).",
        "対策ごとのスパマーの収益への効果: 対策のない世界に単独で導入した場合と、全対策のある世界から"
        "除外した場合（対応のある反復, 95%信頼区間。ラベルは変化率）。",
    ),
    "fig_shapley": (
        "From the net profit with no countermeasures to that with all of them: each "
        "countermeasure's Shapley share of the reduction (95% CIs).",
        "対策なしから全対策までの純利益: 削減に対する各対策のシャープレイ寄与（95%信頼区間）。",
    ),
    "fig_timeline": (
        "Over the run: the channels spam takes, spam's share of all mail and the adoption "
        "of countermeasures (means over replications, bands: 95% CIs).",
        "期間中の推移: スパムの送信経路、全メールに占めるスパムの割合、対策の導入率（反復の平均, 帯は95%信頼区間）。",
    ),
    "fig_populations": (
        "The infrastructure spam runs on over time: bots, open relays, stolen accounts "
        "(means over replications, bands: 95% CIs).",
        "スパム送信基盤の推移: ボット、オープンリレー、乗っ取りアカウント（反復の平均, 帯は95%信頼区間）。",
    ),
    "fig_break_even": (
        "Closed form: expected revenue against cost plus expected fines over the success "
        "rate; spam pays where the revenue line is above the other.",
        "解析解: 成功率に対する期待収益と費用＋罰金の期待値。収益の線が上にある範囲でスパムは採算が合う。",
    ),
    "not_drawn": ("Not drawn: {reason}", "描画なし: {reason}"),
    "no_populations": (
        "the scenario has no botnet, open relays or compromised accounts.",
        "シナリオにボットネット、オープンリレー、乗っ取りアカウントがないため。",
    ),
    "one_step": (
        "this run has a single step, so there is no time series (see the funnel above).",
        "この実行は1ステップのみのため時系列はありません（上のファネルを参照）。",
    ),
    # countermeasures
    "no_countermeasures": (
        "This scenario defines no countermeasures (and no enforcement that can catch "
        "anyone), so there is nothing to compare.",
        "このシナリオには対策（および摘発の可能性のある法執行）がないため、比較は行いません。",
    ),
    "compare_off": (
        "Countermeasures defined: {names}. The comparison was not run (compare=False).",
        "定義された対策: {names}。比較は実行していません（compare=False）。",
    ),
    "compare_intro": (
        "Every variant of the scenario — each countermeasure switched on or off — is run "
        "with the same seed, so differences come from paired replications (common random "
        "numbers). <em>Alone</em>: the countermeasure added to a world with none "
        "(negative: it lowers the spammer's revenue). <em>Removed</em>: taken out of the "
        "world with all of them (positive: revenue recovers without it).",
        "シナリオの各変種（対策ごとのオン・オフ）を同じシードで実行するため、差は対応のある反復"
        "（共通乱数）から推定されます。<em>単独</em>: 対策のない世界にその対策だけを導入"
        "（負の値: スパマーの収益を下げる）。<em>除外</em>: 全対策のある世界からその対策を外す"
        "（正の値: それがないと収益が回復する）。",
    ),
    "baseline": (
        "Mean revenue per run with every countermeasure on: {on}; with none: {off}.",
        "1回あたり平均収益: 全対策あり {on}、対策なし {off}。",
    ),
    "countermeasure": ("Countermeasure", "対策"),
    "context": ("Context", "条件"),
    "alone": ("Alone", "単独"),
    "removed": ("Removed", "除外"),
    "d_revenue": ("Revenue change ({cur})", "収益の変化 [{cur}]"),
    "d_net": ("Net profit change ({cur})", "純利益の変化 [{cur}]"),
    "ci95": ("95% CI", "95%信頼区間"),
    "pct_revenue": ("% of revenue", "収益比"),
    "effects_caption": (
        "Table {n}. What each countermeasure does to the spammer's money: mean change per "
        "run over {reps} paired replications, with 95% CIs.",
        "表{n}. 各対策がスパマーの収支に与える効果: 対応のある{reps}回の反復での1回あたり平均変化と95%信頼区間。",
    ),
    "shapley_caption": (
        "Table {n}. Shapley attribution: each countermeasure's share of the reduction in "
        "net profit from no countermeasures to all of them (exact, over all {k} on/off "
        "combinations); the shares add up to the total.",
        "表{n}. シャープレイ値による寄与: 対策なしから全対策までの純利益の削減に対する各対策の寄与"
        "（全{k}通りのオン・オフの組み合わせによる厳密計算）。寄与の合計は削減の総額に一致します。",
    ),
    "shapley_share": ("Share of the reduction ({cur})", "削減への寄与 [{cur}]"),
    "share_of_total": ("Share of total", "全体に占める割合"),
    "shapley_hint": (
        "Run with shapley=True for the Shapley attribution of the total reduction (2^k variants).",
        "全体の削減のシャープレイ値による分解は shapley=True で実行できます（2^k 通りの変種）。",
    ),
    # closed form
    "closed_intro": (
        "Closed-form expectations (no sampling error) from the formulas of the lecture: "
        "E[revenue] = N · p · profit − cost − P(caught) · fine.",
        "講義の公式による解析的な期待値（標本誤差なし）: E[収益] = N · p · 利益 − 費用 − P(摘発) · 罰金。",
    ),
    "applicable": (
        "The closed form applies to this scenario{exact}.",
        "このシナリオには解析解がそのまま当てはまります{exact}。",
    ),
    "first_order": (
        " (to first order: enforcement parameters are uncertain)",
        "（法執行のパラメータが不確実なため1次近似）",
    ),
    "not_applicable": (
        "The closed form does not fully apply to this scenario, because:",
        "このシナリオには解析解が完全には当てはまりません。理由:",
    ),
    "core_only": (
        "The numbers below are those of the scenario's own-server, no-dynamics core; only the "
        "lecture arithmetic is meaningful for the whole scenario. The simulation above is "
        "the answer.",
        "以下の数値は自前サーバ・動的要素なしの中核部分についてのもので、シナリオ全体について意味があるのは"
        "講義の計算だけです。答えは上のシミュレーションです。",
    ),
    "lecture_arithmetic": ("The lecture's arithmetic", "講義の計算"),
    "lecture_line": (
        "{n} messages × success rate {p} × {profit} per sale = <strong>{rev}</strong> if "
        "every message reached an inbox and nothing stopped the spammer.",
        "{n}通 × 成功率 {p} × 1件あたり{profit} = <strong>{rev}</strong>"
        "（全通が受信箱に届き、何もスパマーを止めない場合）。",
    ),
    "break_even_title": ("Break-even success rate", "損益分岐の成功率"),
    "break_even_line": (
        "Spam pays when the success rate (sales per message that reaches an inbox) is "
        "above <strong>{be}</strong>; this scenario's success rate is {rate}{ratio}.",
        "受信箱に届いたメールのうち販売に至る割合が<strong>{be}</strong>を超えればスパムは採算が合います。"
        "このシナリオの成功率は{rate}です{ratio}。",
    ),
    "break_even_ratio": (", {x} times the break-even rate", "（損益分岐の{x}倍）"),
    "break_even_zero": (
        "Sending costs nothing and nobody is fined: any success rate above zero pays.",
        "送信コストも罰金もないため、成功率が0より大きければ必ず採算が合います。",
    ),
    "break_even_inf": (
        "Nothing reaches an inbox: no success rate makes spam pay.",
        "受信箱に何も届かないため、どんな成功率でも採算は合いません。",
    ),
    "externality_title": ("Externality ratio", "外部性比率"),
    "externality_line": (
        "Spam costs everyone else about <strong>{social}</strong> (recipients' time, "
        "legitimate mail lost to filters): <strong>{ratio}</strong> times the spammers' "
        'expected revenue. Rao &amp; Reiley ("The Economics of Spam", Journal of '
        "Economic Perspectives, 2012) estimate the ratio at roughly 100 : 1.",
        "スパムが社会に負わせる費用（受信者の時間、フィルタで失われた正規メール）は約"
        "<strong>{social}</strong>で、スパマーの期待収益の<strong>{ratio}</strong>倍です。"
        'Rao &amp; Reiley（"The Economics of Spam", Journal of Economic Perspectives, 2012）は'
        "この比率をおよそ100対1と推定しています。",
    ),
    "externality_assumptions": (
        "Assumptions (illustrative): {sec} seconds of a recipient's time per "
        "spam in an inbox, valued at {hour} per hour; {lost} per legitimate "
        "message lost.",
        "仮定（例示）: 受信箱のスパム1通あたり受信者の時間{sec}秒、1時間あたり{hour}と評価。"
        "失われた正規メール1通あたり{lost}。",
    ),
    "closed_caption": (
        "Table {n}. Closed-form expectations per spammer (money in {cur}).",
        "表{n}. スパマー別の解析的期待値（金額の単位は{cur}）。",
    ),
    "break_even_not_drawn": (
        "the closed form does not apply to the whole scenario.",
        "解析解がシナリオ全体には当てはまらないため。",
    ),
    "infinite": ("never", "なし"),
    # provenance
    "prov_intro": (
        "Everything needed to repeat these numbers exactly: the same scenario and seed give "
        "identical numbers, whatever the number of worker processes.",
        "この数値を正確に再現するための情報: 同じシナリオと同じシードからは、ワーカー数によらず同一の"
        "数値が得られます。",
    ),
    "reproduce": ("To reproduce", "再現するには"),
    "reproduce_save": (
        "Save the scenario YAML above as {file}, then run:",
        "上のシナリオのYAMLを {file} として保存し、次を実行します:",
    ),
    "reproduce_file": ("From the scenario file, run:", "シナリオファイルから次を実行します:"),
    "spamsim_version": ("spamsim version", "spamsimのバージョン"),
    "seed_entropy": ("Seed (entropy)", "シード（エントロピー）"),
    "reps": ("Replications", "反復回数"),
    "workers": ("Worker processes", "ワーカープロセス数"),
    "command": ("Command", "コマンド"),
    "timestamp_utc": ("Time (UTC)", "作成時刻（UTC）"),
    "git_commit": ("Git commit", "Gitコミット"),
    "python": ("Python", "Python"),
    "numpy": ("NumPy", "NumPy"),
    "platform": ("Platform", "プラットフォーム"),
    "prov_caption": ("Table {n}. Provenance of this report.", "表{n}. このレポートの来歴。"),
    "unknown": ("unknown", "不明"),
}

LABELS: dict[str, tuple[str, str]] = {
    "unsent": ("Unsent (no capacity)", "未送信（容量不足）"),
    "attempted": ("Attempted", "送信試行"),
    "blocked": ("Blocked", "阻止"),
    "delivered": ("Delivered", "配送"),
    "filtered": ("Filtered", "フィルタ除去"),
    "inbox": ("Inbox", "受信箱"),
    "opened": ("Opened", "開封"),
    "clicked": ("Clicked", "クリック"),
    "sales": ("Sales", "販売数"),
    "revenue": ("Revenue", "収益"),
    "cost": ("Sending cost", "送信コスト"),
    "fines": ("Fines", "罰金"),
    "net_profit": ("Net profit", "純利益"),
    "detections": ("Detections", "摘発数"),
    "convictions": ("Convictions", "有罪判決数"),
    "quits": ("Spammers who quit", "撤退したスパマー"),
    "switches": ("Channel switches", "経路の切り替え"),
    "spam_share": ("Spam share of all mail", "スパムの割合"),
    "legit_lost": ("Legitimate mail lost", "誤判定された正規メール"),
    "convicted_share": ("Runs in which it was convicted", "有罪となった反復の割合"),
    "quit_share": ("Runs in which it quit", "撤退した反復の割合"),
    "messages": ("Messages", "通数"),
    "p_convicted": ("Probability of conviction", "有罪となる確率"),
    "break_even_success_rate": ("Break-even success rate", "損益分岐の成功率"),
    "cost_per_sale": ("Cost per sale", "販売1件あたりの費用"),
    "lecture_revenue": ("Lecture arithmetic N·p·profit", "講義の計算 N·p·利益"),
    "fine": ("Fine if convicted", "有罪時の罰金"),
}

METRIC_DOCS_JA = {
    "unsent": "経路の容量が足りず送れなかった通数",
    "attempted": "スパマーが送信を試みた通数",
    "blocked": "受信側サーバに届く前に阻止された通数",
    "delivered": "受信側サーバが受け取った通数",
    "filtered": "届いたうち受信フィルタに捕捉された通数",
    "inbox": "受信箱に届いた通数",
    "opened": "開封された通数",
    "clicked": "クリックされたリンク数",
    "sales": "販売件数",
    "revenue": "販売による利益",
    "cost": "送信コスト（1通ごと・1送信ごと・固定費）",
    "fines": "支払った罰金",
    "net_profit": "収益 − 送信コスト − 罰金",
    "detections": "スパマーが摘発された回数",
    "convictions": "スパマーが有罪となった回数",
    "quits": "採算が合わず撤退したスパマーの数",
    "switches": "スパマーが最良の経路を切り替えた回数",
    "spam_share": "受信側サーバに届くメールに占めるスパムの割合",
    "legit_lost": "誤って除去された正規メールの通数",
}


def _t(key: str, lang: str, **values: Any) -> str:
    entry = TEXT[key]
    phrase = entry[1] if lang == "ja" else entry[0]
    return phrase.format(**values) if values else phrase


def _name(key: str, lang: str) -> str:
    """A channel's or countermeasure's name as the figures write it."""
    from .plots.labels import text

    return text(key, lang)


def _metric_name(metric: str, lang: str) -> str:
    if metric.startswith("blocked_by."):
        cm = _name(metric.split(".", 1)[1], lang)
        return f"うち{cm}による阻止" if lang == "ja" else f"Blocked by {cm}"
    entry = LABELS.get(metric)
    if entry is None:
        return metric.replace("_", " ")
    return entry[1] if lang == "ja" else entry[0]


def _metric_label(metric: str, lang: str, currency: str) -> str:
    name = _metric_name(metric, lang)
    if metric in MONEY:
        cur = currency_label(currency, lang)
        return f"{name} [{cur}]" if lang == "ja" else f"{name} ({cur})"
    if metric in SHARES:
        return f"{name} (%)"
    return name


def _metric_doc(metric: str, lang: str) -> str:
    if metric.startswith("blocked_by."):
        cm = _name(metric.split(".", 1)[1], lang)
        return f"{cm}に阻止された通数" if lang == "ja" else f"messages stopped by {cm}"
    if lang == "ja":
        return METRIC_DOCS_JA.get(metric, "")
    # The unit is in the metric's label already.
    return METRIC_DOCS.get(metric, "").replace(" (currency)", "")


# -- numbers ---------------------------------------------------------------------------------


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _scientific(x: float, digits: int = 2) -> str:
    mantissa, exponent = f"{abs(x):.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    power = "10" + str(int(exponent)).translate(SUPERSCRIPT)
    return (MINUS if x < 0 else "") + f"{mantissa} × {power}"


def fmt_number(x: Any, kind: str = "count") -> str:
    """A number for people: ``5,000,000``, ``12.3``, ``0.0123``, ``8 × 10⁻⁸``, ``84.8%``.

    ``kind`` is ``"count"`` (counts and money: thousands separators, whole numbers from 100
    up), ``"share"`` (a 0–1 share written in per cent) or ``"rate"`` (small probabilities:
    scientific notation below 0.001). NaN is a dash, infinity ``∞``; negative numbers use the
    minus sign.
    """
    value = _finite(x)
    if value is None:
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    if kind == "share":
        pct = 100.0 * value
        if pct == 0:
            return "0%"
        if abs(pct) < 0.01:
            return _scientific(pct) + "%"
        return (MINUS if pct < 0 else "") + _significant(abs(pct), 3) + "%"
    sign = MINUS if value < 0 else ""
    a = abs(value)
    if a == 0:
        return "0"
    if a >= 1e15:
        return _scientific(value, 3)
    if a >= 100:
        return sign + f"{a:,.0f}"
    if a >= 1e-3:
        return sign + _significant(a, 3)
    return _scientific(value, 2)


def _significant(a: float, digits: int) -> str:
    decimals = max(digits - 1 - int(math.floor(math.log10(a))), 0)
    s = f"{a:,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _kind(metric: str) -> str:
    if metric in SHARES:
        return "share"
    if metric in RATES:
        return "rate"
    return "count"


def _money(x: Any, currency: str, lang: str) -> str:
    text = fmt_number(x, "count")
    cur = currency_label(currency, lang)
    return f"{text}{cur}" if cur == "円" else f"{text} {cur}"


def _money_prose(x: Any, currency: str, lang: str) -> str:
    """Money in a sentence: the full number, and for large amounts how it is read aloud
    (``109,942,122,459 JPY (≈ 110bn)``, ``109,942,122,459円（約1099億円）``)."""
    from .plots.labels import format_number

    text = _money(x, currency, lang)
    value = _finite(x)
    if value is None or math.isinf(value) or abs(value) < (1e5 if lang == "ja" else 1e6):
        return text
    short = format_number(value, lang)
    if lang == "ja":
        return f"{text}（約{short}{currency_label(currency, lang)}）"
    return f"{text} (≈ {short})"


def _raw(x: Any) -> str:
    value = _finite(x)
    return "" if value is None else repr(value)


# -- HTML building blocks --------------------------------------------------------------------


def esc(value: Any) -> str:
    """HTML-escape anything (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


@dataclass
class _Cell:
    text: str
    """Already-escaped HTML."""
    cls: str = ""
    title: str = ""
    header: bool = False
    rowspan: int = 1


def _num(x: Any, kind: str = "count") -> _Cell:
    return _Cell(esc(fmt_number(x, kind)), "num", _raw(x))


def _txt(value: Any, header: bool = False, cls: str = "") -> _Cell:
    return _Cell(esc(value), cls, header=header)


def _table(caption: str, head: Sequence[_Cell], rows: Sequence[Sequence[_Cell]], cls: str = "") -> str:
    # Short tables stay on one printed page; long ones break between rows (header repeated).
    wrap = "table-wrap short" if len(rows) <= 16 else "table-wrap"
    out = [f'<div class="{wrap}"><table class="{esc(cls)}">', f"<caption>{caption}</caption>", "<thead><tr>"]
    for cell in head:
        attrs = f' class="{esc(cell.cls)}"' if cell.cls else ""
        out.append(f'<th scope="col"{attrs}>{cell.text}</th>')
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for cell in row:
            tag = "th" if cell.header else "td"
            attrs = ' scope="row"' if cell.header else ""
            if cell.cls:
                attrs += f' class="{esc(cell.cls)}"'
            if cell.title:
                attrs += f' title="{esc(cell.title)}"'
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            out.append(f"<{tag}{attrs}>{cell.text}</{tag}>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _figure_png(fig: Figure, theme: str) -> bytes:
    """The figure as PNG bytes, written with the settings :func:`spamsim.plots.save` uses."""
    from .plots.style import SAVE_RC

    style = getattr(fig, "spamsim_style", None)
    rc = dict(style.rc) if style is not None else {}
    rc.update(SAVE_RC)
    buf = io.BytesIO()
    with mpl.rc_context(rc):
        fig.savefig(buf, format="png", dpi=FIGURE_DPI[theme], metadata={"Software": "spamsim"})
    return buf.getvalue()


# -- the report ------------------------------------------------------------------------------


@dataclass
class Report:
    """A built report: the HTML page and what went into it.

    Attributes
    ----------
    html
        The whole page, one self-contained HTML document (UTF-8 text).
    title
        The page title (also its ``<h1>``).
    lang
        ``"en"`` or ``"ja"``.
    result
        The run (:func:`spamsim.run`) behind the tables and figures.
    comparison
        The countermeasure comparison, or None when there was none.
    analytic
        The closed-form expectations (:func:`spamsim.expected`).
    provenance
        Versions, seed entropy, time and commit (:func:`spamsim.outputs.provenance`).
    figures
        Kinds of the figures in the page, in order (``"funnel"``, ``"effects"``, ...).
    skipped
        Figures left out, with the reason given in the page.
    """

    html: str
    title: str
    lang: str
    result: Result
    comparison: Comparison | None
    analytic: AnalyticResult
    provenance: dict[str, Any]
    figures: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) atomically and return the path."""
        return write_text_atomic(path, self.html)

    def _repr_html_(self) -> str:
        # In a notebook: the page in a sandboxed frame, so its CSS does not restyle the notebook.
        return (
            f'<iframe sandbox="" srcdoc="{esc(self.html)}" title="{esc(self.title)}" '
            'style="width:100%;height:80vh;border:1px solid #ccc"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self.html):,} characters, figures {', '.join(self.figures)}>"


class _Builder:
    """Collects sections, numbering figures and tables as they come."""

    def __init__(self, lang: str, theme: str):
        self.lang = lang
        self.theme = theme
        self.sections: list[tuple[str, str, list[str]]] = []
        self.figures: list[str] = []
        self.skipped: dict[str, str] = {}
        self.n_figures = 0
        self.n_tables = 0

    def t(self, key: str, **values: Any) -> str:
        return _t(key, self.lang, **values)

    def next_table(self) -> int:
        self.n_tables += 1
        return self.n_tables

    def section(self, anchor: str, key: str) -> list[str]:
        parts: list[str] = []
        self.sections.append((anchor, self.t(key), parts))
        return parts

    def figure(
        self, kind: str, draw: Callable[[], Figure], caption_key: str, skip: tuple[type[BaseException], ...] = ()
    ) -> str:
        """A ``<figure>`` with the PNG inline, or a note saying why it is not there."""
        try:
            fig = draw()
        except skip as exc:
            return self.not_drawn(kind, str(exc))
        png = _figure_png(fig, self.theme)
        self.n_figures += 1
        self.figures.append(kind)
        caption = self.t(caption_key)
        data = base64.b64encode(png).decode("ascii")
        return (
            f'<figure id="fig-{esc(kind)}" class="theme-{esc(self.theme)}" data-kind="{esc(kind)}">'
            f'<img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
            f'<figcaption><span class="label">{esc(self.t("figure", n=self.n_figures))}</span> '
            f"{esc(caption)}</figcaption></figure>"
        )

    def not_drawn(self, kind: str, reason: str) -> str:
        self.skipped[kind] = reason
        return f'<p class="note" data-skipped="{esc(kind)}">{esc(self.t("not_drawn", reason=reason))}</p>'


def build_report(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    *,
    reps: int = 200,
    seed: int | None = None,
    lang: str = "en",
    compare: bool = True,
    shapley: bool = False,
    workers: int = 1,
    theme: str = "lecture",
    command: Sequence[str] | None = None,
) -> Report:
    """Run a scenario and build one self-contained HTML page about it.

    Parameters
    ----------
    scenario
        A :class:`~spamsim.scenario.schema.Scenario`, a path to a scenario YAML file, or a
        mapping.
    reps
        Replications of the run (and of each variant in the comparison).
    seed
        Seed for exactly repeatable numbers; ``None`` draws fresh entropy, which the page
        reports (the run and the comparison share it).
    lang
        ``"en"`` or ``"ja"``: headings, tables and figures in English or Japanese.
    compare
        Compare countermeasures (:func:`spamsim.compare`) when the scenario defines any.
    shapley
        Also the exact Shapley attribution (2^k variants for k countermeasures).
    workers
        Local worker processes (the numbers do not depend on it).
    theme
        Figure theme: ``"lecture"`` (16:9, large type; default) or ``"paper"``.
    command
        Command line recorded in the provenance (default: the equivalent Python call).

    Returns
    -------
    Report
        ``.html`` is the page; ``.write(path)`` writes it atomically.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; use one of: {', '.join(THEMES)}")
    from . import plots

    source = str(scenario) if isinstance(scenario, str | os.PathLike) else None
    loaded = load(scenario)
    result = run(loaded, reps=reps, seed=seed, workers=workers)
    entropy = result.entropy
    names = countermeasure_names(loaded)
    comparison = None
    if compare and names:
        comparison = run_compare(loaded, reps=reps, seed=entropy, shapley=shapley, workers=workers)
    analytic = expected(loaded)
    if command is None:
        call = f"spamsim.report.build_report({source or '<scenario>'!r}, reps={reps}, seed={entropy}, lang={lang!r}"
        call += f", compare={compare}, shapley={shapley}, workers={workers}, theme={theme!r})"
        command = [call]
    prov = run_provenance(entropy, reps, workers, list(command))

    b = _Builder(lang, theme)
    title = b.t("title", name=loaded.name)
    currency = loaded.market.currency
    summary = result.summary

    # -- at a glance -------------------------------------------------------------------------
    parts = b.section("glance", "sec_glance")
    cards = []
    for metric, key in (
        ("revenue", "glance_revenue"),
        ("net_profit", "glance_net"),
        ("sales", "glance_sales"),
        ("spam_share", "glance_share"),
    ):
        if metric not in summary.index:
            continue
        row = summary.loc[metric]
        kind = _kind(metric)
        if metric in MONEY:
            value = _money(row["mean"], currency, lang)
            low, high = _money(row["ci95_low"], currency, lang), _money(row["ci95_high"], currency, lang)
        else:
            value, low, high = (fmt_number(row[c], kind) for c in ("mean", "ci95_low", "ci95_high"))
        extra = ""
        if lang == "ja" and metric in MONEY and abs(row["mean"]) >= 1e4:
            from .plots.labels import format_number

            approx = esc(format_number(row["mean"], "ja")) + esc(currency_label(currency, lang))
            extra = f'<span class="alt">（約{approx}）</span>'
        cards.append(
            f'<div class="card" data-metric="{esc(metric)}"><div class="card-label">{esc(b.t(key))}</div>'
            f'<div class="card-value" title="{esc(_raw(row["mean"]))}">{esc(value)}{extra}</div>'
            f'<div class="card-ci">{esc(b.t("glance_ci", low=low, high=high))}</div></div>'
        )
    parts.append(f'<div class="cards">{"".join(cards)}</div>')
    parts.append(f'<p class="small">{esc(b.t("glance_note", reps=f"{reps:,}"))}</p>')

    # -- the scenario ------------------------------------------------------------------------
    parts = b.section("scenario", "sec_scenario")
    data = scenario_data(loaded)
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parts.append(f"<p>{esc(b.t('scenario_intro'))}</p>")
    parts.append(
        f"<details open><summary>{esc(b.t('scenario_yaml'))}</summary>"
        f'<pre class="yaml" id="scenario-yaml">{esc(dumped)}</pre></details>'
    )

    # -- funnel and money ---------------------------------------------------------------------
    parts = b.section("results", "sec_results")
    rows = []
    for metric in summary.index:
        row = summary.loc[metric]
        kind = _kind(str(metric))
        strong = "key" if metric in ("revenue", "net_profit") else ""
        rows.append(
            [
                _txt(_metric_label(str(metric), lang, currency), header=True, cls=strong),
                _num(row["mean"], kind),
                _num(row["ci95_low"], kind),
                _num(row["ci95_high"], kind),
                _txt(_metric_doc(str(metric), lang), cls="doc"),
            ]
        )
    head = [
        _txt(b.t("metric")),
        _Cell(esc(b.t("mean")), "num"),
        _Cell(esc(b.t("ci_low")), "num"),
        _Cell(esc(b.t("ci_high")), "num"),
        _txt(b.t("meaning")),
    ]
    caption = esc(b.t("summary_caption", n=b.next_table(), reps=f"{result.reps:,}", cur=currency_label(currency, lang)))
    parts.append(_table(caption, head, rows, "summary"))
    parts.append(b.figure("funnel", lambda: plots.funnel(result, theme=theme, lang=lang), "fig_funnel"))
    channels = list(result.ledger.channels)
    if len(channels) > 1:
        frame = result.by_channel
        columns = [
            "attempted",
            "unsent",
            *[f"blocked_by.{n}" for n in result.blocked_by],
            "delivered",
            "filtered",
            "inbox",
        ]
        if loaded.market.funnel is not None:
            columns += ["opened", "clicked"]
        columns += ["sales", "revenue"]
        columns = [c for c in columns if c in frame.columns]
        parts.append(
            _transposed(
                b,
                "channel_caption",
                frame,
                columns,
                [_name(str(c), lang) for c in frame.index],
                currency,
                "by-channel",
                with_total=True,
            )
        )
    spammers = list(result.ledger.spammers)
    if len(spammers) > 1:
        frame = result.by_spammer
        parts.append(
            _transposed(
                b,
                "spammer_caption",
                frame,
                list(frame.columns),
                [str(s) for s in frame.index],
                currency,
                "by-spammer",
                with_total=False,
            )
        )

    # -- countermeasures -----------------------------------------------------------------------
    parts = b.section("countermeasures", "sec_countermeasures")
    if not names:
        parts.append(f'<p class="note">{esc(b.t("no_countermeasures"))}</p>')
    elif comparison is None:
        listed = ", ".join(_name(n, lang) for n in names)
        parts.append(f'<p class="note">{esc(b.t("compare_off", names=listed))}</p>')
    else:
        parts.append(f"<p>{b.t('compare_intro')}</p>")
        on = comparison.outcomes[comparison.all_on].replications["revenue"].mean()
        off = comparison.outcomes[comparison.all_off].replications["revenue"].mean()
        parts.append(
            f"<p>{esc(b.t('baseline', on=_money_prose(on, currency, lang), off=_money_prose(off, currency, lang)))}</p>"
        )
        parts.append(_effects_table(b, comparison, currency))
        parts.append(b.figure("effects", lambda: plots.effects(comparison, theme=theme, lang=lang), "fig_effects"))
        if comparison.shapley_computed:
            parts.append(_shapley_table(b, comparison, currency))
            parts.append(
                b.figure("shapley", lambda: plots.shapley_waterfall(comparison, theme=theme, lang=lang), "fig_shapley")
            )
        else:
            parts.append(f'<p class="small">{esc(b.t("shapley_hint"))}</p>')

    # -- over time ------------------------------------------------------------------------------
    parts = b.section("time", "sec_time")
    if loaded.n_steps > 1:
        parts.append(
            b.figure(
                "timeline", lambda: plots.timeline(result, theme=theme, lang=lang), "fig_timeline", skip=(ValueError,)
            )
        )
        from .plots.populations import population_columns

        if population_columns(result):
            parts.append(
                b.figure(
                    "populations",
                    lambda: plots.populations(result, theme=theme, lang=lang),
                    "fig_populations",
                    skip=(ValueError,),
                )
            )
        else:
            parts.append(b.not_drawn("populations", b.t("no_populations")))
    else:
        parts.append(b.not_drawn("timeline", b.t("one_step")))

    # -- closed form ----------------------------------------------------------------------------
    parts = b.section("closed", "sec_closed")
    parts.append(_closed_form(b, analytic, loaded, currency, plots))

    # -- provenance -----------------------------------------------------------------------------
    parts = b.section("provenance", "sec_provenance")
    parts.append(f"<p>{esc(b.t('prov_intro'))}</p>")
    rows = []
    for key, value in prov.items():
        shown = value
        if key == "command" and isinstance(value, list):
            shown = str(value[0]) if len(value) == 1 else shlex.join(str(v) for v in value)
        if value is None:
            shown = b.t("unknown")
        cls = "mono" if key in ("seed_entropy", "git_commit", "command") else ""
        label = b.t(key) if key in TEXT else key
        rows.append([_txt(label, header=True), _Cell(esc(shown), cls)])
    parts.append(
        _table(esc(b.t("prov_caption", n=b.next_table())), [_txt(b.t("item")), _txt(b.t("value"))], rows, "provenance")
    )
    file = source or f"{re.sub(r'[^A-Za-z0-9._-]+', '-', loaded.name).strip('-') or 'scenario'}.yaml"
    parts.append(f"<h3>{esc(b.t('reproduce'))}</h3>")
    parts.append(f"<p>{esc(b.t('reproduce_file') if source else b.t('reproduce_save', file=file))}</p>")
    lines = [
        f"spamsim run {shlex.quote(file)} --reps {reps} --seed {entropy}"
        + (f" --workers {workers}" if workers != 1 else "")
    ]
    if comparison is not None:
        lines.append(
            f"spamsim compare {shlex.quote(file)} --reps {reps} --seed {entropy}" + (" --shapley" if shapley else "")
        )
    lines.append("")
    lines.append("# Python")
    lines.append("import spamsim.report as rp")
    lines.append(
        f"rp.build_report({file!r}, reps={reps}, seed={entropy}, lang={lang!r}"
        + ("" if compare else ", compare=False")
        + (", shapley=True" if shapley else "")
        + (f", theme={theme!r}" if theme != "lecture" else "")
        + ").write('report.html')"
    )
    parts.append(f'<pre class="commands" id="reproduce">{esc(chr(10).join(lines))}</pre>')

    page = _page(b, title, loaded, prov, entropy, reps)
    return Report(
        html=page,
        title=title,
        lang=lang,
        result=result,
        comparison=comparison,
        analytic=analytic,
        provenance=prov,
        figures=list(b.figures),
        skipped=dict(b.skipped),
    )


# -- section helpers -------------------------------------------------------------------------


def _transposed(
    b: _Builder,
    caption_key: str,
    frame: pd.DataFrame,
    columns: list[str],
    entity_labels: list[str],
    currency: str,
    cls: str,
    with_total: bool,
) -> str:
    """A per-entity table with quantities as rows and entities (channels, spammers) as columns."""
    lang = b.lang
    head = [_txt(b.t("quantity"))] + [_Cell(esc(label), "num") for label in entity_labels]
    if with_total:
        head.append(_Cell(esc(b.t("total")), "num total"))
    rows = []
    for column in columns:
        kind = _kind(column)
        values = frame[column].tolist()
        row = [_txt(_metric_label(column, lang, currency), header=True)] + [_num(v, kind) for v in values]
        if with_total:
            cell = _num(sum(values), kind)
            cell.cls += " total"
            row.append(cell)
        rows.append(row)
    caption = esc(b.t(caption_key, n=b.next_table(), cur=currency_label(currency, lang)))
    return _table(caption, head, rows, cls)


def _effects_table(b: _Builder, comparison: Comparison, currency: str) -> str:
    lang = b.lang
    cur = currency_label(currency, lang)
    frame = comparison.effects_frame
    head = [
        _txt(b.t("countermeasure")),
        _txt(b.t("context")),
        _Cell(esc(b.t("d_revenue", cur=cur)) + f'<span class="ci">{esc(b.t("ci95"))}</span>', "num"),
        _Cell(esc(b.t("pct_revenue")), "num"),
        _Cell(esc(b.t("d_net", cur=cur)) + f'<span class="ci">{esc(b.t("ci95"))}</span>', "num"),
    ]
    rows = []
    for name in comparison.names:
        for i, context in enumerate(("alone", "removed")):
            sel = frame[(frame["countermeasure"] == name) & (frame["context"] == context)].set_index("metric")
            rev, net = sel.loc["revenue"], sel.loc["net_profit"]
            pct = _finite(rev["revenue_change_pct"])
            pct_text = "—" if pct is None else ("+" if pct > 0 else "") + fmt_number(pct / 100.0, "share")
            row = []
            if i == 0:
                row.append(_Cell(esc(_name(name, lang)), header=True, rowspan=2))
            row += [
                _txt(b.t(context), cls="context"),
                _with_ci(rev["mean_change"], rev["ci95_low"], rev["ci95_high"]),
                _Cell(esc(pct_text), "num", _raw(pct)),
                _with_ci(net["mean_change"], net["ci95_low"], net["ci95_high"]),
            ]
            rows.append(row)
    caption = esc(b.t("effects_caption", n=b.next_table(), reps=f"{comparison.reps:,}"))
    return _table(caption, head, rows, "effects")


def _with_ci(mean: Any, low: Any, high: Any, kind: str = "count") -> _Cell:
    """The mean, with its 95 % CI on a second, smaller line."""
    return _Cell(
        f"{esc(fmt_number(mean, kind))}"
        f'<span class="ci">{esc(fmt_number(low, kind))} … {esc(fmt_number(high, kind))}</span>',
        "num",
        f"{_raw(mean)} (95% CI {_raw(low)} … {_raw(high)})",
    )


def _ci(low: Any, high: Any, kind: str = "count") -> _Cell:
    return _Cell(esc(f"{fmt_number(low, kind)} … {fmt_number(high, kind)}"), "num ci", f"{_raw(low)} … {_raw(high)}")


def _shapley_table(b: _Builder, comparison: Comparison, currency: str) -> str:
    lang = b.lang
    frame = comparison.shapley_frame
    total = float(frame["mean"].sum())
    head = [
        _txt(b.t("countermeasure")),
        _Cell(esc(b.t("shapley_share", cur=currency_label(currency, lang))), "num"),
        _Cell(esc(b.t("ci95")), "num"),
        _Cell(esc(b.t("share_of_total")), "num"),
    ]
    rows = []
    for name, row in frame.iterrows():
        share = row["mean"] / total if total else math.nan
        rows.append(
            [
                _txt(_name(str(name), lang), header=True),
                _num(row["mean"]),
                _ci(row["ci95_low"], row["ci95_high"]),
                _num(share, "share"),
            ]
        )
    total_row = [_txt(b.t("total"), header=True), _num(total), _txt(""), _num(1.0 if total else math.nan, "share")]
    for cell in total_row:
        cell.cls = (cell.cls + " total").strip()
    rows.append(total_row)
    caption = esc(b.t("shapley_caption", n=b.next_table(), k=f"{2 ** len(comparison.names):,}"))
    return _table(caption, head, rows, "shapley")


def _expected_value(value: Any) -> float:
    """The mean of a scenario value that may be a distribution."""
    mean = getattr(value, "expected", None)
    return float(mean()) if callable(mean) else float(value)


_REASONS = (
    (
        re.compile(r"^spammer (?P<n>.+) adapts its channel mix$"),
        ("spammer {n} adapts its channel mix", "スパマー{n}は送信経路の配分を適応的に変える"),
    ),
    (
        re.compile(r"^spammer (?P<n>.+) uses channels with dynamics: (?P<c>.+)$"),
        ("spammer {n} uses channels with dynamics: {c}", "スパマー{n}は動的な経路を使う: {c}"),
    ),
    (re.compile(r"^spammer (?P<n>.+) has a budget$"), ("spammer {n} has a budget", "スパマー{n}に予算の上限がある")),
    (
        re.compile(r"^own_server has a capacity limit$"),
        ("the own server has a capacity limit", "自前サーバに容量の上限がある"),
    ),
    (
        re.compile(r"^blacklist listings evolve with use$"),
        ("blacklist listings evolve with use", "ブラックリストへの登録が利用に応じて変化する"),
    ),
)


def _reason(reason: str, lang: str) -> str:
    """One reason the closed form does not apply, in ``lang`` (the analysis words them in English)."""
    for pattern, phrases in _REASONS:
        match = pattern.match(reason)
        if match:
            values = match.groupdict()
            if "n" in values:
                name = values["n"]
                if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
                    name = name[1:-1]
                values["n"] = f"「{name}」" if lang == "ja" else f"“{name}”"
            if "c" in values:
                sep = "、" if lang == "ja" else ", "
                values["c"] = sep.join(_name(c.strip(), lang) for c in values["c"].split(","))
            return phrases[1 if lang == "ja" else 0].format(**values)
    return reason


def _closed_form(b: _Builder, analytic: AnalyticResult, scenario: Scenario, currency: str, plots: Any) -> str:
    lang = b.lang
    out = [f"<p>{esc(b.t('closed_intro'))}</p>"]
    if analytic.applicable:
        out.append(f"<p>{esc(b.t('applicable', exact='' if analytic.exact else b.t('first_order')))}</p>")
    else:
        items = "".join(f"<li>{esc(_reason(r, lang))}</li>" for r in analytic.reasons)
        out.append(
            f'<div class="caveat"><p>{esc(b.t("not_applicable"))}</p><ul>{items}</ul>'
            f"<p>{esc(b.t('core_only'))}</p></div>"
        )
    totals = analytic.totals

    # The lecture's arithmetic: N x p x profit.
    from .analysis.curves import break_even_curve

    curve = None
    try:
        curve = break_even_curve(scenario)
    except (ValueError, ZeroDivisionError):
        curve = None
    market = scenario.market
    profit = _expected_value(market.profit_per_sale)
    rate = curve.success_rate if curve is not None else math.nan
    lecture = totals.get("lecture_revenue", math.nan)
    per_message = rate * profit
    n_messages = (
        lecture / per_message if per_message and math.isfinite(per_message) else totals.get("messages", math.nan)
    )
    out.append(f"<h3>{esc(b.t('lecture_arithmetic'))}</h3>")
    out.append(
        "<p>"
        + b.t(
            "lecture_line",
            n=esc(fmt_number(n_messages)),
            p=esc(fmt_number(rate, "rate")),
            profit=esc(_money(profit, currency, lang)),
            rev=esc(_money_prose(lecture, currency, lang)),
        )
        + "</p>"
    )

    # Break-even success rate.
    out.append(f"<h3>{esc(b.t('break_even_title'))}</h3>")
    if curve is not None:
        be = curve.break_even_success_rate
        if be == 0:
            out.append(f"<p>{esc(b.t('break_even_zero'))}</p>")
        elif math.isinf(be):
            out.append(f"<p>{esc(b.t('break_even_inf'))}</p>")
        else:
            ratio = ""
            if be > 0 and rate > 0:
                ratio = b.t("break_even_ratio", x=fmt_number(rate / be))
            out.append(
                "<p>"
                + b.t(
                    "break_even_line",
                    be=esc(fmt_number(be, "rate")),
                    rate=esc(fmt_number(rate, "rate")),
                    ratio=esc(ratio),
                )
                + "</p>"
            )

    # Externality ratio.
    social = analytic.social_cost
    out.append(f"<h3>{esc(b.t('externality_title'))}</h3>")
    ratio = totals.get("externality_ratio", math.nan)
    out.append(
        "<p>"
        + b.t(
            "externality_line",
            social=esc(_money_prose(totals.get("social_cost", math.nan), currency, lang)),
            ratio=esc(fmt_number(ratio)),
        )
        + "</p>"
    )
    out.append(
        '<p class="small">'
        + esc(
            b.t(
                "externality_assumptions",
                sec=fmt_number(social.seconds_per_spam),
                hour=_money(social.value_of_time_per_hour, currency, lang),
                lost=_money(social.value_of_lost_legit_mail, currency, lang),
            )
        )
        + "</p>"
    )

    # Per spammer.
    frame = analytic.per_spammer
    columns = [
        c
        for c in (
            "messages",
            "inbox",
            "sales",
            "revenue",
            "cost",
            "fines",
            "net_profit",
            "p_convicted",
            "break_even_success_rate",
            "cost_per_sale",
            "fine",
            "lecture_revenue",
        )
        if c in frame.columns
    ]
    head = [_txt(b.t("quantity"))] + [_Cell(esc(str(s)), "num") for s in frame.index]
    rows = []
    for column in columns:
        kind = _kind(column)
        label = _metric_label(column, lang, currency)
        if column == "fines":
            label = {
                "en": f"Expected fines ({currency_label(currency, lang)})",
                "ja": f"罰金の期待値 [{currency_label(currency, lang)}]",
            }[lang]
        rows.append([_txt(label, header=True)] + [_num(v, kind) for v in frame[column].tolist()])
    caption = esc(b.t("closed_caption", n=b.next_table(), cur=currency_label(currency, lang)))
    out.append(_table(caption, head, rows, "closed-form"))

    if analytic.applicable:
        out.append(
            b.figure(
                "break_even",
                lambda: plots.break_even(scenario, theme=b.theme, lang=lang),
                "fig_break_even",
                skip=(ValueError,),
            )
        )
    else:
        out.append(b.not_drawn("break_even", b.t("break_even_not_drawn")))
    return "".join(out)


# -- the page --------------------------------------------------------------------------------

CSP = (
    "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d8d8d8; --accent: #0072b2;
  --soft: #f4f6f8; --warn: #fff6e0; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55; font-size: 16px;
  font-family: "spamsim-ja", "Segoe UI", "Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans",
    "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", YuGothic, Meiryo, "Noto Sans CJK JP",
    "Noto Sans JP", "IPAexGothic", sans-serif; }
main, header.page, footer.page { max-width: 64rem; margin: 0 auto; padding: 0 1.5rem; }
header.page { padding-top: 2rem; border-bottom: 3px solid var(--accent); padding-bottom: 1rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 .4rem; overflow-wrap: anywhere; }
h2 { font-size: 1.4rem; margin: 2.4rem 0 .8rem; padding-bottom: .25rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
p { margin: .6rem 0; }
.subtitle { font-size: 1.1rem; color: var(--muted); margin: 0 0 .6rem; }
.description { font-size: 1.05rem; margin: .6rem 0; overflow-wrap: anywhere; }
.meta, .small, .note, figcaption, caption { color: var(--muted); font-size: .9rem; }
.note { background: var(--soft); border-left: 4px solid var(--rule); padding: .5rem .8rem; }
.caveat { background: var(--warn); border-left: 4px solid #e69f00; padding: .3rem .9rem; margin: .8rem 0; }
.caveat ul { margin: .3rem 0; }
nav.toc { margin: 1rem 0 0; font-size: .95rem; }
nav.toc ol { margin: 0; padding-left: 1.4rem; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: .8rem 0; }
.card { flex: 1 1 13rem; border: 1px solid var(--rule); border-radius: 6px; padding: .7rem .9rem;
  background: var(--soft); }
.card-label { font-size: .85rem; color: var(--muted); }
.card-value { font-size: 1.45rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card-value .alt { display: block; font-size: .85rem; font-weight: normal; color: var(--muted); line-height: 1.3; }
.card-ci { font-size: .8rem; color: var(--muted); font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; margin: 1rem 0 1.4rem; }
table { border-collapse: collapse; font-size: .9rem; min-width: min(100%, 48rem); }
caption { caption-side: top; text-align: left; padding: 0 0 .4rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--rule); vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid #888; vertical-align: bottom; font-weight: 600; }
tbody th { font-weight: normal; }
tbody th.key { font-weight: 700; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.total, th.total { font-weight: 600; background: var(--soft); }
td.doc { color: var(--muted); font-size: .85rem; }
td.mono, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; }
td.mono { font-size: .8rem; overflow-wrap: anywhere; }
table.summary tbody tr:nth-child(even), table.by-channel tbody tr:nth-child(even),
table.by-spammer tbody tr:nth-child(even), table.closed-form tbody tr:nth-child(even) { background: #fafafa; }
table.effects td.context { color: var(--muted); white-space: nowrap; }
td .ci, th .ci { display: block; font-size: .78rem; color: var(--muted); font-weight: normal; }
table.provenance tbody th { white-space: nowrap; }
table.effects tbody th { font-weight: 600; }
figure { margin: 1.2rem 0 1.8rem; }
figure img { display: block; width: 100%; max-width: 60rem; height: auto; margin: 0 auto;
  border: 1px solid #eee; }
figure.theme-paper img { width: 36rem; max-width: 100%; }
figcaption { margin-top: .4rem; }
figcaption .label { font-weight: 600; color: var(--ink); }
details summary { cursor: pointer; color: var(--accent); margin: .3rem 0; }
pre { background: var(--soft); border: 1px solid var(--rule); border-radius: 4px; padding: .7rem .9rem;
  font-size: .8rem; line-height: 1.4; overflow: auto; white-space: pre; }
pre.yaml { max-height: 28rem; }
footer.page { margin-top: 3rem; padding-top: 1rem; padding-bottom: 2rem; border-top: 1px solid var(--rule);
  color: var(--muted); font-size: .85rem; }
@media print {
  @page { size: A4; margin: 15mm 14mm; }
  body { font-size: 10pt; }
  main, header.page, footer.page { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; margin-top: 1.4rem; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, .cards, .card, tr, .caveat { break-inside: avoid; page-break-inside: avoid; }
  table { break-inside: auto; font-size: 8.5pt; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  pre, pre.yaml { max-height: none; overflow: visible; white-space: pre-wrap; font-size: 7.5pt; }
  pre.yaml { columns: 2; column-gap: 2em; }
  .table-wrap.short { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-width: 100%; border: none; }
  a { color: inherit; text-decoration: none; }
  .card { background: none; }
}
"""


CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _font_face(text: str) -> str:
    """``@font-face`` with a subset of IPAexGothic for the Japanese characters in ``text``.

    Empty when the text has none, or the font (``matplotlib-fontja``) or fontTools is missing:
    the page then relies on the reader's own fonts.
    """
    if not CJK.search(text):
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        from .plots.style import japanese_font_path

        path = japanese_font_path()
        if path is None:
            return ""
        font = TTFont(str(path))
        cmap = font.getBestCmap() or {}
        # Only the Japanese characters: Latin text keeps the reader's own fonts.
        codepoints = sorted({ord(c) for c in CJK.findall(text) if ord(c) in cmap})
        if not codepoints:
            return ""
        options = subset.Options()
        options.flavor = "woff"
        options.hinting = False
        options.name_IDs = ["*"]  # keep the copyright and licence records
        options.name_languages = ["*"]
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff"
        font.save(buf)
    except Exception:  # noqa: BLE001 - a missing or odd font must not cost the report
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        "/* IPAexGothic (IPA Font License Agreement v1.0), subset to this page's characters */\n"
        f'@font-face {{ font-family: "spamsim-ja"; src: url(data:font/woff;base64,{data}) format("woff"); '
        "font-display: block; }\n"
    )


def _when(stamp: Any) -> str:
    """``2026-11-28 19:01 UTC`` from an ISO timestamp (now if there is none)."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        moment = dt.datetime.now(dt.UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _page(b: _Builder, title: str, scenario: Scenario, prov: Mapping[str, Any], entropy: int, reps: int) -> str:
    lang = b.lang
    toc = "".join(f'<li><a href="#{esc(anchor)}">{esc(heading)}</a></li>' for anchor, heading, _ in b.sections)
    body_sections = "".join(
        f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>{"".join(parts)}</section>'
        for anchor, heading, parts in b.sections
    )
    when = _when(prov.get("timestamp_utc"))
    description = scenario.description.strip()
    desc_html = (
        f'<p class="description" id="scenario-description">{esc(description)}</p>'
        if description
        else f'<p class="description note" id="scenario-description">{esc(b.t("no_description"))}</p>'
    )
    header = (
        f'<header class="page"><h1 id="report-title">{esc(title)}</h1>'
        f'<p class="subtitle">{esc(b.t("subtitle", reps=f"{reps:,}"))}</p>'
        f"{desc_html}"
        f'<p class="meta">{esc(b.t("generated", when=when, version=__version__, seed=entropy))}</p>'
        f'<nav class="toc" aria-label="{esc(b.t("contents"))}"><ol>{toc}</ol></nav></header>'
    )
    footer = f'<footer class="page"><p>{esc(b.t("footer", version=__version__))}</p></footer>'
    body = f"{header}<main>{body_sections}</main>{footer}"
    fonts = _font_face(title + body)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="spamsim {esc(__version__)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>\n{fonts}{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


__all__ = ["Report", "build_report", "fmt_number"]
