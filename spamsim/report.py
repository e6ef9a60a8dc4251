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

This module computes what the page shows — sections made of blocks (paragraphs, tables,
figures) holding plain text and numbers written by :mod:`spamsim.fmt` — and the Jinja2
templates in ``spamsim/templates/report/`` (autoescape on) write the HTML. Words come from
the catalogue (:mod:`spamsim.i18n`); the few phrases with markup (``<strong>``) are
translated templates whose values are escaped when they are filled in.

Nothing is fetched from anywhere: figures are PNG ``data:`` URIs, the CSS is inline, there
is no script, and a Content-Security-Policy ``<meta>`` forbids the browser to load anything
but ``data:`` images and fonts. Japanese text comes with a subset of IPAexGothic (shipped by
``matplotlib-fontja``) embedded as a ``data:`` font, used only where the reader's computer
has no Japanese font. Everything from the scenario file (names, descriptions, the YAML) is
HTML-escaped by the templates: scenario files are untrusted data.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import math
import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import matplotlib as mpl
import pandas as pd
import yaml
from babel.lists import format_list
from markupsafe import Markup
from matplotlib.figure import Figure

from . import __version__, fmt
from .analysis.analytic import AnalyticResult, expected
from .analysis.effects import Comparison, countermeasure_names
from .analysis.effects import compare as run_compare
from .analysis.result import Result
from .api import run
from .atomic import write_text_atomic
from .i18n import LANGS, N_, gettext, translations
from .outputs import provenance as run_provenance
from .plots.labels import currency_label, metric_doc, metric_name, text, unit_label
from .scenario.loader import load, scenario_data
from .scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from .exploration import Exploration

THEMES = ("lecture", "paper")
FIGURE_DPI = {"lecture": 120, "paper": 220}
"""PNG resolution per figure theme: ~1,600 px wide either way (sharp on screen and paper)."""

TEMPLATES = Path(__file__).with_name("templates") / "report"
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


# -- words (English msgids; Japanese in the catalogue) ---------------------------------------

TEXT: dict[str, str] = {
    "title": N_("spamsim report: {name}"),
    "subtitle": N_("What spam earns, and what stops it — a Monte Carlo simulation with {reps} replications"),
    "generated": N_("Generated {when} by spamsim {version}; seed {seed}."),
    "contents": N_("Contents"),
    "no_description": N_("(The scenario has no description.)"),
    "footer": N_(
        "Made with spamsim {version}, a spam cost-benefit simulation toolkit. This page is "
        "self-contained: it loads nothing from the network."
    ),
    "sec_glance": N_("At a glance"),
    "sec_scenario": N_("The scenario"),
    "sec_results": N_("Funnel and money"),
    "sec_countermeasures": N_("Countermeasures"),
    "sec_costs": N_("Defenders' costs"),
    "sec_time": N_("Over time"),
    "sec_closed": N_("Closed-form expectations"),
    "sec_provenance": N_("Provenance and how to reproduce"),
    "glance_revenue": N_("Spammers' revenue"),
    "glance_net": N_("Net profit"),
    "glance_share": N_("Spam share of all mail"),
    "glance_sales": N_("Sales"),
    "glance_ci": N_("95% CI {low} to {high}"),
    "glance_note": N_("Means per run over {reps} replications, with the 95% confidence interval of the mean."),
    "scenario_intro": N_(
        "The scenario exactly as run (defaults filled in, overrides applied), as YAML. Save it as "
        "a file to run it again."
    ),
    "scenario_yaml": N_("Scenario YAML"),
    "metric": N_("Metric"),
    "mean": N_("Mean"),
    "ci_low": N_("95% CI low"),
    "ci_high": N_("95% CI high"),
    "meaning": N_("What it counts"),
    "summary_caption": N_(
        "Table {n}. Funnel and money per run: mean over {reps} replications and the 95% confidence "
        "interval of the mean; money in {cur}."
    ),
    "channel_caption": N_("Table {n}. Where the spam went: mean per run, by channel (money in {cur})."),
    "spammer_caption": N_(
        "Table {n}. Per spammer: mean per run (money in {cur}) and the share of runs in which the "
        "spammer was convicted or quit."
    ),
    "quantity": N_("Quantity"),
    "item": N_("Item"),
    "value": N_("Value"),
    "total": N_("Total"),
    "figure": N_("Figure {n}."),
    "fig_funnel": N_(
        "The funnel: mean messages per run at each stage (log scale) with 95% CIs; the share "
        "passing from the stage before is written under each stage, the mean revenue in the corner."
    ),
    "fig_effects": N_(
        "Each countermeasure's effect on the spammer's revenue: added alone to a world without "
        "countermeasures, and removed from the world with all of them (paired replications, 95% "
        "CIs; labels: change in per cent)."
    ),
    "fig_shapley": N_(
        "From the net profit with no countermeasures to that with all of them: each "
        "countermeasure's Shapley share of the reduction (95% CIs)."
    ),
    "fig_timeline": N_(
        "Over the run: the channels spam takes, spam's share of all mail and the adoption of "
        "countermeasures (means over replications, bands: 95% CIs)."
    ),
    "fig_populations": N_(
        "The infrastructure spam runs on over time: bots, open relays, stolen accounts (means over "
        "replications, bands: 95% CIs)."
    ),
    "fig_break_even": N_(
        "Closed form: expected revenue against cost plus expected fines over the success rate; "
        "spam pays where the revenue line is above the other."
    ),
    "not_drawn": N_("Not drawn: {reason}"),
    "no_populations": N_("the scenario has no botnet, open relays or compromised accounts."),
    "one_step": N_("this run has a single step, so there is no time series (see the funnel above)."),
    "no_countermeasures": N_(
        "This scenario defines no countermeasures (and no enforcement that can catch anyone), so "
        "there is nothing to compare."
    ),
    "compare_off": N_("Countermeasures defined: {names}. The comparison was not run (compare=False)."),
    "compare_intro": N_(
        "Every variant of the scenario — each countermeasure switched on or off — is run with the "
        "same seed, so differences come from paired replications (common random numbers). "
        "<em>Alone</em>: the countermeasure added to a world with none (negative: it lowers the "
        "spammer's revenue). <em>Removed</em>: taken out of the world with all of them (positive: "
        "revenue recovers without it)."
    ),
    "baseline": N_("Mean revenue per run with every countermeasure on: {on}; with none: {off}."),
    "countermeasure": N_("Countermeasure"),
    "context": N_("Context"),
    "alone": N_("Alone"),
    "removed": N_("Removed"),
    "d_revenue": N_("Revenue change ({cur})"),
    "d_net": N_("Net profit change ({cur})"),
    "ci95": N_("95% CI"),
    "pct_revenue": N_("% of revenue"),
    "effects_caption": N_(
        "Table {n}. What each countermeasure does to the spammer's money: mean change per run over "
        "{reps} paired replications, with 95% CIs."
    ),
    "shapley_caption": N_(
        "Table {n}. Shapley attribution: each countermeasure's share of the reduction in net "
        "profit from no countermeasures to all of them (exact, over all {k} on/off combinations); "
        "the shares add up to the total."
    ),
    "costs_intro": N_(
        "What each countermeasure costs those who run it — servers, organisations and users — over the "
        "{days}-day horizon, in closed form from the scenario's cost sections (a distribution contributes its "
        "mean; defaults are illustrative unless a source is given, see docs/model.md), and what it buys: the "
        "spammers' net profit it removes and the social cost it avoids (recipients' time and lost legitimate "
        "mail), per million {cur} of defenders' cost. The defenders' cost is deterministic, so a ratio's 95% CI "
        "is the effect's CI divided by it."
    ),
    "costs_none": N_("No countermeasure was compared, so there are no defenders' costs to weigh."),
    "one_off": N_("One-off ({cur})"),
    "running": N_("Running ({cur})"),
    "migration": N_("Migration ({cur})"),
    "friction": N_("Users' friction ({cur})"),
    "defender_cost": N_("Defenders' cost ({cur})"),
    "profit_removed": N_("Profit removed ({cur})"),
    "social_avoided": N_("Social cost avoided ({cur})"),
    "profit_per_cost": N_("Profit removed per 1M {cur}"),
    "social_per_cost": N_("Social cost avoided per 1M {cur}"),
    "cost_caption": N_("Table {n}. Defenders' cost of each countermeasure over the horizon, by part."),
    "cost_effect_caption": N_(
        "Table {n}. Cost-effectiveness: profit removed and social cost avoided by each countermeasure, alone and "
        "removed from all of them ({reps} paired replications, 95% CIs), and each per million {cur} of "
        "defenders' cost."
    ),
    "cost_sources": N_("Defaults used and their sources: {sources}"),
    "shapley_share": N_("Share of the reduction ({cur})"),
    "share_of_total": N_("Share of total"),
    "shapley_hint": N_("Run with shapley=True for the Shapley attribution of the total reduction (2^k variants)."),
    "closed_intro": N_(
        "Closed-form expectations (no sampling error) from the formulas of the lecture: E[revenue] "
        "= N · p · profit − cost − P(caught) · fine."
    ),
    "applicable": N_("The closed form applies to this scenario{exact}."),
    "first_order": N_(" (to first order: enforcement parameters are uncertain)"),
    "not_applicable": N_("The closed form does not fully apply to this scenario, because:"),
    "core_only": N_(
        "The numbers below are those of the scenario's own-server, no-dynamics core; only the "
        "lecture arithmetic is meaningful for the whole scenario. The simulation above is the "
        "answer."
    ),
    "lecture_arithmetic": N_("The lecture's arithmetic"),
    "lecture_line": N_(
        "{n} messages × success rate {p} × {profit} per sale = <strong>{rev}</strong> if every "
        "message reached an inbox and nothing stopped the spammer."
    ),
    "break_even_title": N_("Break-even success rate"),
    "break_even_line": N_(
        "Spam pays when the success rate (sales per message that reaches an inbox) is above "
        "<strong>{be}</strong>; this scenario's success rate is {rate}{ratio}."
    ),
    "break_even_ratio": N_(", {x} times the break-even rate"),
    "break_even_zero": N_("Sending costs nothing and nobody is fined: any success rate above zero pays."),
    "break_even_inf": N_("Nothing reaches an inbox: no success rate makes spam pay."),
    "externality_title": N_("Externality ratio"),
    "externality_line": N_(
        "Spam costs everyone else about <strong>{social}</strong> (recipients' time, filtering and "
        "infrastructure, legitimate mail lost to filters): <strong>{ratio}</strong> times the "
        'spammers\' expected revenue. Rao &amp; Reiley ("The Economics of Spam", Journal of Economic '
        "Perspectives, 2012) estimate the ratio at roughly 100 : 1 (about 70 for users' time, 30 for "
        "anti-spam technology); the note below says why this scenario differs."
    ),
    "ext_part": N_("Part"),
    "ext_formula": N_("Formula"),
    "ext_amount": N_("Amount"),
    "ext_times_revenue": N_("x revenue"),
    "ext_caption": N_("Society's cost of the spam in this scenario, by part (money in {cur})."),
    "ext_sources": N_("Unit costs and their sources"),
    "closed_caption": N_("Table {n}. Closed-form expectations per spammer (money in {cur})."),
    "break_even_not_drawn": N_("the closed form does not apply to the whole scenario."),
    "infinite": N_("never"),
    "prov_intro": N_(
        "Everything needed to repeat these numbers exactly: the same scenario and seed give "
        "identical numbers, whatever the number of worker processes."
    ),
    "reproduce": N_("To reproduce"),
    "reproduce_save": N_("Save the scenario YAML above as {file}, then run:"),
    "reproduce_file": N_("From the scenario file, run:"),
    "spamsim_version": N_("spamsim version"),
    "seed_entropy": N_("Seed (entropy)"),
    "reps": N_("Replications"),
    "workers": N_("Worker processes"),
    "command": N_("Command"),
    "timestamp_utc": N_("Time (UTC)"),
    "git_commit": N_("Git commit"),
    "python": N_("Python"),
    "numpy": N_("NumPy"),
    "platform": N_("Platform"),
    "prov_caption": N_("Table {n}. Provenance of this report."),
    "sec_robust": N_("Robust portfolios"),
    "robust_intro": N_(
        "Exploration {name}: {worlds} worlds (a design over the uncertainties) x {portfolios} portfolios x "
        "{reps} replications, every world run under every portfolio on the same random numbers. A portfolio "
        "is robust when spam pays for nobody in many worlds (satisficing), when it never falls far behind "
        "the best portfolio of a world (regret), and when it does so at a low defenders' cost."
    ),
    "robust_caption": N_(
        "Table {n}. Portfolios, most robust first: share of worlds in which every spammer's expected net "
        "profit is negative; maximum regret, median and 90th percentile over worlds of the best placed "
        "spammer's net profit; defenders' cost (money in {cur}); * on the Pareto front."
    ),
    "fig_pareto": N_("Robustness against the defenders' cost; the line is the Pareto front."),
    "prim_caption": N_(
        "Table {n}. Where spam stays profitable under {portfolio} (PRIM, box 1: coverage {coverage}, "
        "density {density}): the box's limits and the quasi-p-values of its restrictions."
    ),
    "prim_none": N_("Scenario discovery for {portfolio}: {note}."),
    "fig_prim": N_("PRIM's peeling trajectory: density against coverage of each candidate box."),
    "limit_low": N_("Lower limit"),
    "limit_high": N_("Upper limit"),
    "qp_low": N_("qp (lower)"),
    "qp_high": N_("qp (upper)"),
    "uncertainty": N_("Uncertainty"),
    "unknown": N_("unknown"),
}

HTML_KEYS = {"compare_intro", "lecture_line", "break_even_line", "externality_line"}
"""Phrases holding markup (``<em>``, ``<strong>``): filled with escaped values, not escaped."""


def _t(key: str, lang: str, **values: Any) -> str:
    """The report's phrase ``key`` in ``lang``; phrases with markup come back as ``Markup``."""
    if key in HTML_KEYS:
        # The catalogue's markup is ours; the values (numbers, names) are escaped by format.
        return Markup(translations(lang).gettext(TEXT[key])).format(**values)
    return gettext(TEXT[key], lang, **values)


def _name(key: str, lang: str) -> str:
    """A channel's or countermeasure's name as the figures write it."""
    return text(key, lang)


def _metric_label(metric: str, lang: str, currency: str) -> str:
    name = metric_name(metric, lang)
    if metric in MONEY:
        return unit_label(name, currency_label(currency, lang), lang)
    if metric in SHARES:
        return f"{name} (%)"
    return name


# -- numbers ---------------------------------------------------------------------------------


def fmt_number(x: Any, kind: str = "count", lang: str = "en") -> str:
    """A number for people: ``5,000,000``, ``12.3``, ``0.0123``, ``8 × 10⁻⁸``, ``84.8%``.

    ``kind`` is ``"count"`` (counts and money: thousands separators, whole numbers from 100
    up), ``"share"`` (a 0–1 share written in per cent) or ``"rate"`` (small probabilities:
    scientific notation below 0.001). NaN is a dash, infinity ``∞``; negative numbers use the
    minus sign. (:func:`spamsim.fmt.number`.)
    """
    return fmt.number(x, kind, lang)


def _kind(metric: str) -> str:
    if metric in SHARES:
        return "share"
    if metric in RATES:
        return "rate"
    return "count"


def _money(x: Any, currency: str, lang: str) -> str:
    return fmt.money(x, currency, lang)


def _money_prose(x: Any, currency: str, lang: str) -> str:
    """Money in a sentence: the full number, and for large amounts how it is read aloud
    (``109,942,122,459 JPY (≈ 110B)``, ``109,942,122,459円（約1099億円）``)."""
    written = _money(x, currency, lang)
    value = fmt.finite(x)
    if value is None or math.isinf(value) or abs(value) < (1e5 if lang == "ja" else 1e6):
        return written
    return gettext(N_("{amount} (≈ {short})"), lang, amount=written, short=fmt.money(value, currency, lang, short=True))


def _raw(x: Any) -> str:
    value = fmt.finite(x)
    return "" if value is None else repr(value)


# -- blocks the templates render ------------------------------------------------------------


@dataclass
class _Cell:
    text: str
    """Plain text (the template escapes it)."""
    cls: str = ""
    title: str = ""
    header: bool = False
    rowspan: int = 1
    ci: str = ""
    """A second, smaller line (a 95 % CI)."""


def _num(x: Any, kind: str = "count", lang: str = "en") -> _Cell:
    return _Cell(fmt.number(x, kind, lang), "num", _raw(x))


def _txt(value: Any, header: bool = False, cls: str = "") -> _Cell:
    return _Cell(str(value), cls, header=header)


def _table(caption: str, head: Sequence[_Cell], rows: Sequence[Sequence[_Cell]], cls: str = "") -> dict[str, Any]:
    return {"kind": "table", "caption": caption, "head": list(head), "rows": [list(r) for r in rows], "cls": cls}


def _p(content: str, cls: str = "") -> dict[str, Any]:
    return {"kind": "p", "text": content, "cls": cls}


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


@functools.cache
def _environment() -> jinja2.Environment:
    """The report's Jinja2 environment: package templates, HTML autoescaped, strict variables."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render one of the report's templates (``spamsim/templates/report/``)."""
    return _environment().get_template(template).render(**context)


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
        return render("notebook_frame.html.j2", page=self.html, title=self.title)

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self.html):,} characters, figures {', '.join(self.figures)}>"


class _Builder:
    """Collects sections of blocks, numbering figures and tables as they come."""

    def __init__(self, lang: str, theme: str):
        self.lang = lang
        self.theme = theme
        self.sections: list[dict[str, Any]] = []
        self.figures: list[str] = []
        self.skipped: dict[str, str] = {}
        self.n_figures = 0
        self.n_tables = 0

    def t(self, key: str, **values: Any) -> str:
        return _t(key, self.lang, **values)

    def next_table(self) -> int:
        self.n_tables += 1
        return self.n_tables

    def section(self, anchor: str, key: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        self.sections.append({"anchor": anchor, "heading": self.t(key), "blocks": blocks})
        return blocks

    def figure(
        self, kind: str, draw: Callable[[], Figure], caption_key: str, skip: tuple[type[BaseException], ...] = ()
    ) -> dict[str, Any]:
        """A figure with the PNG inline, or a note saying why it is not there."""
        try:
            fig = draw()
        except skip as exc:
            return self.not_drawn(kind, str(exc))
        png = _figure_png(fig, self.theme)
        self.n_figures += 1
        self.figures.append(kind)
        return {
            "kind": "figure",
            "figure": kind,
            "theme": self.theme,
            "data": base64.b64encode(png).decode("ascii"),
            "caption": self.t(caption_key),
            "label": self.t("figure", n=self.n_figures),
        }

    def not_drawn(self, kind: str, reason: str) -> dict[str, Any]:
        self.skipped[kind] = reason
        return {"kind": "skipped", "figure": kind, "text": self.t("not_drawn", reason=reason)}


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
    exploration: Exploration | None = None,
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
    exploration
        An exploration of this scenario (:func:`spamsim.explore`): adds a "Robust portfolios"
        section (robustness table, Pareto figure, PRIM box and peeling trajectory).

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
    blocks = b.section("glance", "sec_glance")
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
            value, low, high = (fmt.number(row[c], kind, lang) for c in ("mean", "ci95_low", "ci95_high"))
        alt = ""
        if lang == "ja" and metric in MONEY and abs(row["mean"]) >= 1e4:
            # Japanese reads large amounts in 万 and 億: the short form under the full number.
            alt = f"（約{fmt.money(row['mean'], currency, lang, short=True)}）"
        cards.append(
            {
                "metric": metric,
                "label": b.t(key),
                "value": value,
                "raw": _raw(row["mean"]),
                "alt": alt,
                "ci": b.t("glance_ci", low=low, high=high),
            }
        )
    blocks.append({"kind": "cards", "cards": cards})
    blocks.append(_p(b.t("glance_note", reps=fmt.number(reps, lang=lang)), "small"))

    # -- the scenario ------------------------------------------------------------------------
    blocks = b.section("scenario", "sec_scenario")
    dumped = yaml.safe_dump(scenario_data(loaded), sort_keys=False, allow_unicode=True)
    blocks.append(_p(b.t("scenario_intro")))
    blocks.append({"kind": "yaml", "summary": b.t("scenario_yaml"), "yaml": dumped})

    # -- funnel and money ---------------------------------------------------------------------
    blocks = b.section("results", "sec_results")
    rows = []
    for metric in summary.index:
        row = summary.loc[metric]
        kind = _kind(str(metric))
        strong = "key" if metric in ("revenue", "net_profit") else ""
        rows.append(
            [
                _txt(_metric_label(str(metric), lang, currency), header=True, cls=strong),
                _num(row["mean"], kind, lang),
                _num(row["ci95_low"], kind, lang),
                _num(row["ci95_high"], kind, lang),
                _txt(metric_doc(str(metric), lang), cls="doc"),
            ]
        )
    head = [
        _txt(b.t("metric")),
        _Cell(b.t("mean"), "num"),
        _Cell(b.t("ci_low"), "num"),
        _Cell(b.t("ci_high"), "num"),
        _txt(b.t("meaning")),
    ]
    caption = b.t(
        "summary_caption", n=b.next_table(), reps=fmt.number(result.reps, lang=lang), cur=currency_label(currency, lang)
    )
    blocks.append(_table(caption, head, rows, "summary"))
    blocks.append(b.figure("funnel", lambda: plots.funnel(result, theme=theme, lang=lang), "fig_funnel"))
    if len(result.ledger.channels) > 1:
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
        entities = [_name(str(c), lang) for c in frame.index]
        blocks.append(_transposed(b, "channel_caption", frame, columns, entities, currency, "by-channel", True))
    if len(result.ledger.spammers) > 1:
        frame = result.by_spammer
        entities = [str(s) for s in frame.index]
        blocks.append(
            _transposed(b, "spammer_caption", frame, list(frame.columns), entities, currency, "by-spammer", False)
        )

    # -- countermeasures -----------------------------------------------------------------------
    blocks = b.section("countermeasures", "sec_countermeasures")
    if not names:
        blocks.append(_p(b.t("no_countermeasures"), "note"))
    elif comparison is None:
        listed = format_list([_name(n, lang) for n in names], style="unit", locale=lang)
        blocks.append(_p(b.t("compare_off", names=listed), "note"))
    else:
        blocks.append(_p(b.t("compare_intro")))
        on = comparison.outcomes[comparison.all_on].replications["revenue"].mean()
        off = comparison.outcomes[comparison.all_off].replications["revenue"].mean()
        blocks.append(_p(b.t("baseline", on=_money_prose(on, currency, lang), off=_money_prose(off, currency, lang))))
        blocks.append(_effects_table(b, comparison, currency))
        blocks.append(b.figure("effects", lambda: plots.effects(comparison, theme=theme, lang=lang), "fig_effects"))
        if comparison.shapley_computed:
            blocks.append(_shapley_table(b, comparison, currency))
            blocks.append(
                b.figure("shapley", lambda: plots.shapley_waterfall(comparison, theme=theme, lang=lang), "fig_shapley")
            )
        else:
            blocks.append(_p(b.t("shapley_hint"), "small"))

    # -- defenders' costs -----------------------------------------------------------------------
    if names:
        blocks = b.section("costs", "sec_costs")
        if comparison is None:
            blocks.append(_p(b.t("costs_none"), "note"))
        else:
            blocks.extend(_cost_blocks(b, comparison, currency))

    # -- robust portfolios (an exploration) ------------------------------------------------------
    if exploration is not None:
        blocks = b.section("robust", "sec_robust")
        blocks.extend(_robust_blocks(b, exploration, theme))

    # -- over time ------------------------------------------------------------------------------
    blocks = b.section("time", "sec_time")
    if loaded.n_steps > 1:
        blocks.append(
            b.figure(
                "timeline", lambda: plots.timeline(result, theme=theme, lang=lang), "fig_timeline", skip=(ValueError,)
            )
        )
        from .plots.populations import population_columns

        if population_columns(result):
            blocks.append(
                b.figure(
                    "populations",
                    lambda: plots.populations(result, theme=theme, lang=lang),
                    "fig_populations",
                    skip=(ValueError,),
                )
            )
        else:
            blocks.append(b.not_drawn("populations", b.t("no_populations")))
    else:
        blocks.append(b.not_drawn("timeline", b.t("one_step")))

    # -- closed form ----------------------------------------------------------------------------
    blocks = b.section("closed", "sec_closed")
    blocks.extend(_closed_form(b, analytic, loaded, currency, plots))

    # -- provenance -----------------------------------------------------------------------------
    blocks = b.section("provenance", "sec_provenance")
    blocks.append(_p(b.t("prov_intro")))
    rows = []
    for key, value in prov.items():
        shown = value
        if key == "command" and isinstance(value, list):
            shown = str(value[0]) if len(value) == 1 else shlex.join(str(v) for v in value)
        if value is None:
            shown = b.t("unknown")
        cls = "mono" if key in ("seed_entropy", "git_commit", "command") else ""
        label = b.t(key) if key in TEXT else key
        rows.append([_txt(label, header=True), _Cell(str(shown), cls)])
    caption = b.t("prov_caption", n=b.next_table())
    blocks.append(_table(caption, [_txt(b.t("item")), _txt(b.t("value"))], rows, "provenance"))
    file = source or f"{re.sub(r'[^A-Za-z0-9._-]+', '-', loaded.name).strip('-') or 'scenario'}.yaml"
    blocks.append({"kind": "h3", "text": b.t("reproduce")})
    blocks.append(_p(b.t("reproduce_file") if source else b.t("reproduce_save", file=file)))
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
    blocks.append({"kind": "pre", "cls": "commands", "id": "reproduce", "text": "\n".join(lines)})

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
) -> dict[str, Any]:
    """A per-entity table with quantities as rows and entities (channels, spammers) as columns."""
    lang = b.lang
    head = [_txt(b.t("quantity"))] + [_Cell(label, "num") for label in entity_labels]
    if with_total:
        head.append(_Cell(b.t("total"), "num total"))
    rows = []
    for column in columns:
        kind = _kind(column)
        values = frame[column].tolist()
        row = [_txt(_metric_label(column, lang, currency), header=True)] + [_num(v, kind, lang) for v in values]
        if with_total:
            cell = _num(sum(values), kind, lang)
            cell.cls += " total"
            row.append(cell)
        rows.append(row)
    caption = b.t(caption_key, n=b.next_table(), cur=currency_label(currency, lang))
    return _table(caption, head, rows, cls)


def _effects_table(b: _Builder, comparison: Comparison, currency: str) -> dict[str, Any]:
    lang = b.lang
    cur = currency_label(currency, lang)
    frame = comparison.effects_frame
    head = [
        _txt(b.t("countermeasure")),
        _txt(b.t("context")),
        _Cell(b.t("d_revenue", cur=cur), "num", ci=b.t("ci95")),
        _Cell(b.t("pct_revenue"), "num"),
        _Cell(b.t("d_net", cur=cur), "num", ci=b.t("ci95")),
    ]
    rows = []
    for name in comparison.names:
        for i, context in enumerate(("alone", "removed")):
            sel = frame[(frame["countermeasure"] == name) & (frame["context"] == context)].set_index("metric")
            rev, net = sel.loc["revenue"], sel.loc["net_profit"]
            pct = fmt.finite(rev["revenue_change_pct"])
            pct_text = fmt.DASH if pct is None else fmt.signed_percent(pct / 100.0, 3, lang)
            row = []
            if i == 0:
                row.append(_Cell(_name(name, lang), header=True, rowspan=2))
            row += [
                _txt(b.t(context), cls="context"),
                _with_ci(rev["mean_change"], rev["ci95_low"], rev["ci95_high"], lang=lang),
                _Cell(pct_text, "num", _raw(pct)),
                _with_ci(net["mean_change"], net["ci95_low"], net["ci95_high"], lang=lang),
            ]
            rows.append(row)
    caption = b.t("effects_caption", n=b.next_table(), reps=fmt.number(comparison.reps, lang=lang))
    return _table(caption, head, rows, "effects")


PER_COST = 1e6
"""Cost-effectiveness per million units of the currency of defenders' cost (readable digits)."""


def _cost_blocks(b: _Builder, comparison: Comparison, currency: str) -> list[dict[str, Any]]:
    """The defenders' costs section: the cost by part, then what each countermeasure buys per unit of it."""
    lang = b.lang
    cur = currency_label(currency, lang)
    costs = comparison.defender_cost()
    blocks = [_p(b.t("costs_intro", days=fmt.number(costs.horizon_days, lang=lang), cur=cur))]
    parts = costs.frame()
    keys = {"one_off": "one_off", "running": "running", "migration": "migration", "friction": "friction"}
    head = [_txt(b.t("countermeasure"))] + [_Cell(b.t(k, cur=cur), "num") for k in keys]
    head.append(_Cell(b.t("defender_cost", cur=cur), "num total"))
    rows = []
    for name, row in parts.iterrows():
        cells = [_txt(_name(str(name), lang), header=True)] + [_num(row[p], lang=lang) for p in keys]
        total = _num(row["total"], lang=lang)
        total.cls += " total"
        rows.append([*cells, total])
    blocks.append(_table(b.t("cost_caption", n=b.next_table()), head, rows, "costs"))
    head = [
        _txt(b.t("countermeasure")),
        _txt(b.t("context")),
        _Cell(b.t("profit_removed", cur=cur), "num", ci=b.t("ci95")),
        _Cell(b.t("social_avoided", cur=cur), "num", ci=b.t("ci95")),
        _Cell(b.t("profit_per_cost", cur=cur), "num", ci=b.t("ci95")),
        _Cell(b.t("social_per_cost", cur=cur), "num", ci=b.t("ci95")),
    ]
    rows = []
    for effect in comparison.cost_effectiveness():
        for i, context in enumerate(("alone", "removed")):
            e = effect[context]
            row = []
            if i == 0:
                row.append(_Cell(_name(effect["countermeasure"], lang), header=True, rowspan=2))
            row.append(_txt(b.t(context), cls="context"))
            for key, scale in (
                ("profit_removed", 1.0),
                ("social_cost_avoided", 1.0),
                ("profit_removed_per_cost", PER_COST),
                ("social_cost_avoided_per_cost", PER_COST),
            ):
                mean, (low, high) = e[key]["mean"], e[key]["ci95"]
                if mean is None:
                    row.append(_Cell(fmt.DASH, "num"))
                else:
                    row.append(_with_ci(mean * scale, low * scale, high * scale, lang=lang))
            rows.append(row)
    caption = b.t("cost_effect_caption", n=b.next_table(), reps=fmt.number(comparison.reps, lang=lang), cur=cur)
    blocks.append(_table(caption, head, rows, "cost-effectiveness"))
    if costs.sources:
        listed = "; ".join(f"{key}: {source}" for key, source in costs.sources.items())
        blocks.append(_p(b.t("cost_sources", sources=listed), "small"))
    return blocks


def _robust_blocks(b: _Builder, found: Exploration, theme: str) -> list[dict[str, Any]]:
    """The robust portfolios section: the robustness table, the Pareto figure, PRIM's first box."""
    from . import plots
    from .plots.explore import portfolio_label

    lang, spec, table = b.lang, found.result.spec, found.robustness
    cur = currency_label(found.currency, lang)
    blocks = [
        _p(
            b.t(
                "robust_intro",
                name=spec.name,
                worlds=fmt.number(spec.design.worlds, lang=lang),
                portfolios=len(found.result.portfolios),
                reps=spec.reps,
            )
        )
    ]
    head = [_txt(_name("portfolio", lang))] + [
        _Cell(_name(k, lang), "num") for k in ("satisficing", "regret_max", "p50", "p90", "defender_cost")
    ]
    rows = []
    for name, row in table.iterrows():
        label = portfolio_label(str(name), lang) + (" *" if row["pareto"] else "")
        cells = [_txt(label, header=True), _num(row["satisficing"], "share", lang)]
        cells += [_num(row[k], "count", lang) for k in ("regret_max", "p50", "p90", "defender_cost")]
        rows.append(cells)
    blocks.append(_table(b.t("robust_caption", n=b.next_table(), cur=cur), head, rows, "robust"))
    blocks.append(
        b.figure(
            "robustness",
            lambda: plots.robustness_pareto(table, name=spec.name, currency=found.currency, theme=theme, lang=lang),
            "fig_pareto",
        )
    )
    portfolio = portfolio_label(found.portfolio, lang)
    if not found.boxes:
        blocks.append(_p(b.t("prim_none", portfolio=portfolio, note=found.discovery_note), "note"))
        return blocks
    box = found.boxes[0]
    head = [_txt(b.t("uncertainty"))] + [_Cell(b.t(k), "num") for k in ("limit_low", "limit_high", "qp_low", "qp_high")]
    rows = [
        [_txt(str(u), header=True)] + [_num(r[k], "rate", lang) for k in ("min", "max", "qp_low", "qp_high")]
        for u, r in box.limits.iterrows()
    ]
    caption = b.t(
        "prim_caption",
        n=b.next_table(),
        portfolio=portfolio,
        coverage=fmt.percent(box.coverage, 0, lang),
        density=fmt.percent(box.density, 0, lang),
    )
    blocks.append(_table(caption, head, rows, "prim"))
    blocks.append(
        b.figure(
            "prim",
            lambda: plots.prim_trajectory(box, portfolio=found.portfolio, theme=theme, lang=lang),
            "fig_prim",
        )
    )
    return blocks


def _with_ci(mean: Any, low: Any, high: Any, kind: str = "count", lang: str = "en") -> _Cell:
    """The mean, with its 95 % CI on a second, smaller line."""
    return _Cell(
        fmt.number(mean, kind, lang),
        "num",
        f"{_raw(mean)} (95% CI {_raw(low)} … {_raw(high)})",
        ci=f"{fmt.number(low, kind, lang)} … {fmt.number(high, kind, lang)}",
    )


def _ci(low: Any, high: Any, kind: str = "count", lang: str = "en") -> _Cell:
    return _Cell(
        f"{fmt.number(low, kind, lang)} … {fmt.number(high, kind, lang)}", "num ci", f"{_raw(low)} … {_raw(high)}"
    )


def _shapley_table(b: _Builder, comparison: Comparison, currency: str) -> dict[str, Any]:
    lang = b.lang
    frame = comparison.shapley_frame
    total = float(frame["mean"].sum())
    head = [
        _txt(b.t("countermeasure")),
        _Cell(b.t("shapley_share", cur=currency_label(currency, lang)), "num"),
        _Cell(b.t("ci95"), "num"),
        _Cell(b.t("share_of_total"), "num"),
    ]
    rows = []
    for name, row in frame.iterrows():
        share = row["mean"] / total if total else math.nan
        rows.append(
            [
                _txt(_name(str(name), lang), header=True),
                _num(row["mean"], lang=lang),
                _ci(row["ci95_low"], row["ci95_high"], lang=lang),
                _num(share, "share", lang),
            ]
        )
    total_row = [
        _txt(b.t("total"), header=True),
        _num(total, lang=lang),
        _txt(""),
        _num(1.0 if total else math.nan, "share", lang),
    ]
    for cell in total_row:
        cell.cls = (cell.cls + " total").strip()
    rows.append(total_row)
    caption = b.t("shapley_caption", n=b.next_table(), k=fmt.number(2 ** len(comparison.names), lang=lang))
    return _table(caption, head, rows, "shapley")


def _expected_value(value: Any) -> float:
    """The mean of a scenario value that may be a distribution."""
    mean = getattr(value, "expected", None)
    return float(mean()) if callable(mean) else float(value)


_REASONS = (
    (re.compile(r"^spammer (?P<n>.+) adapts its channel mix$"), N_("spammer {n} adapts its channel mix")),
    (
        re.compile(r"^spammer (?P<n>.+) uses channels with dynamics: (?P<c>.+)$"),
        N_("spammer {n} uses channels with dynamics: {c}"),
    ),
    (re.compile(r"^spammer (?P<n>.+) has a budget$"), N_("spammer {n} has a budget")),
    (re.compile(r"^own_server has a capacity limit$"), N_("the own server has a capacity limit")),
    (re.compile(r"^blacklist listings evolve with use$"), N_("blacklist listings evolve with use")),
)


def _reason(reason: str, lang: str) -> str:
    """One reason the closed form does not apply, in ``lang`` (the analysis words them in English)."""
    for pattern, msgid in _REASONS:
        match = pattern.match(reason)
        if match:
            values = match.groupdict()
            if "n" in values:
                name = values["n"]
                if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
                    name = name[1:-1]
                values["n"] = gettext(N_("“{name}”"), lang, name=name)
            if "c" in values:
                channels = [_name(c.strip(), lang) for c in values["c"].split(",")]
                values["c"] = format_list(channels, style="unit", locale=lang)
            return gettext(msgid, lang, **values)
    return reason


def _externality(b: _Builder, analytic: AnalyticResult, currency: str) -> dict[str, Any]:
    """The externality block (templates/report/externality.html.j2): its parts, total, note, sources.

    The terms come from :func:`spamsim.analysis.externality.externality` through the closed
    form; where a unit cost is not known for the scenario's currency nothing is guessed and
    only the note (what to set) is shown.
    """
    lang = b.lang
    ext = analytic.externality
    block: dict[str, Any] = {"kind": "externality", "title": b.t("externality_title"), "note": ext.note}
    if not ext.computed:
        block.update(line="", table=None, sources=[])
        return block
    head = [_txt(b.t(k)) for k in ("ext_part", "ext_formula", "ext_amount", "ext_times_revenue")]
    rows = [
        [
            _txt(gettext(p.label, lang), header=True),
            _txt(p.formula),
            _Cell(_money(p.amount, currency, lang), "num", _raw(p.amount)),
            _num(p.ratio_to_revenue, "count", lang),
        ]
        for p in ext.parts
    ]
    block.update(
        line=b.t(
            "externality_line",
            social=_money_prose(ext.total, currency, lang),
            ratio=fmt.number(ext.ratio, lang=lang),
        ),
        table=_table(b.t("ext_caption", cur=currency), head, rows),
        sources=[f"{gettext(p.label, lang)}: {p.source}" for p in ext.parts],
    )
    return block


def _closed_form(
    b: _Builder, analytic: AnalyticResult, scenario: Scenario, currency: str, plots: Any
) -> list[dict[str, Any]]:
    lang = b.lang
    blocks = [_p(b.t("closed_intro"))]
    if analytic.applicable:
        blocks.append(_p(b.t("applicable", exact="" if analytic.exact else b.t("first_order"))))
    else:
        blocks.append(
            {
                "kind": "caveat",
                "intro": b.t("not_applicable"),
                "reasons": [_reason(r, lang) for r in analytic.reasons],
                "outro": b.t("core_only"),
            }
        )
    totals = analytic.totals

    # The lecture's arithmetic: N x p x profit.
    from .analysis.curves import break_even_curve

    curve = None
    try:
        curve = break_even_curve(scenario)
    except (ValueError, ZeroDivisionError):
        curve = None
    profit = _expected_value(scenario.market.profit_per_sale)
    rate = curve.success_rate if curve is not None else math.nan
    lecture = totals.get("lecture_revenue", math.nan)
    per_message = rate * profit
    n_messages = (
        lecture / per_message if per_message and math.isfinite(per_message) else totals.get("messages", math.nan)
    )
    blocks.append({"kind": "h3", "text": b.t("lecture_arithmetic")})
    blocks.append(
        _p(
            b.t(
                "lecture_line",
                n=fmt.number(n_messages, lang=lang),
                p=fmt.number(rate, "rate", lang),
                profit=_money(profit, currency, lang),
                rev=_money_prose(lecture, currency, lang),
            )
        )
    )

    # Break-even success rate.
    blocks.append({"kind": "h3", "text": b.t("break_even_title")})
    if curve is not None:
        be = curve.break_even_success_rate
        if be == 0:
            blocks.append(_p(b.t("break_even_zero")))
        elif math.isinf(be):
            blocks.append(_p(b.t("break_even_inf")))
        else:
            ratio = b.t("break_even_ratio", x=fmt.number(rate / be, lang=lang)) if be > 0 and rate > 0 else ""
            blocks.append(
                _p(
                    b.t(
                        "break_even_line",
                        be=fmt.number(be, "rate", lang),
                        rate=fmt.number(rate, "rate", lang),
                        ratio=ratio,
                    )
                )
            )

    blocks.append(_externality(b, analytic, currency))

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
    head = [_txt(b.t("quantity"))] + [_Cell(str(s), "num") for s in frame.index]
    rows = []
    for column in columns:
        kind = _kind(column)
        label = _metric_label(column, lang, currency)
        if column == "fines":
            label = unit_label(gettext(N_("Expected fines"), lang), currency_label(currency, lang), lang)
        rows.append([_txt(label, header=True)] + [_num(v, kind, lang) for v in frame[column].tolist()])
    caption = b.t("closed_caption", n=b.next_table(), cur=currency_label(currency, lang))
    blocks.append(_table(caption, head, rows, "closed-form"))

    if analytic.applicable:
        blocks.append(
            b.figure(
                "break_even",
                lambda: plots.break_even(scenario, theme=b.theme, lang=lang),
                "fig_break_even",
                skip=(ValueError,),
            )
        )
    else:
        blocks.append(b.not_drawn("break_even", b.t("break_even_not_drawn")))
    return blocks


# -- the page --------------------------------------------------------------------------------

CSP = (
    "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

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
    when = _when(prov.get("timestamp_utc"))
    body = render(
        "body.html.j2",
        title=title,
        subtitle=b.t("subtitle", reps=fmt.number(reps, lang=b.lang)),
        description=scenario.description.strip(),
        no_description=b.t("no_description"),
        generated=b.t("generated", when=when, version=__version__, seed=entropy),
        contents=b.t("contents"),
        sections=b.sections,
        footer=b.t("footer", version=__version__),
    )
    # The font subset covers exactly the characters the page shows.
    fonts = _font_face(title + body)
    return render(
        "page.html.j2",
        lang=b.lang,
        csp=CSP,
        version=__version__,
        title=title,
        fonts=Markup(fonts),
        body=Markup(body),
    )


__all__ = ["Report", "build_report", "fmt_number", "render"]
