"""The ``spamsim`` command line: thin — parse, call the library, print with rich.

Exit codes: 0 success; 2 a bad scenario, bad arguments or refused work (the message says
what to change); 1 an unexpected internal error (one line; ``--debug`` shows the
traceback); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from . import __version__
from .atomic import write_atomic, write_text_atomic
from .i18n import N_, gettext
from .runner.errors import RefusedError, internal_error
from .scenario.errors import ScenarioError
from .tables import Cell, Column, Grid, fit

if TYPE_CHECKING:  # pragma: no cover - annotations only; imported where used
    import pandas as pd
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from .analysis.effects import Comparison
    from .analysis.result import Result
    from .folder import Identity, ResultsFolder

app = typer.Typer(
    name="spamsim",
    help="Simulate what spam earns and what each countermeasure takes away.\n\n"
    "Start with:  spamsim run scenarios/lecture.yaml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


class _LazyConsole:
    """A rich ``Console`` made on first use: a command that prints nothing through it (``validate``,
    ``--version``) never pays rich's import."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out: Any = _LazyConsole(highlight=False, soft_wrap=True)
err: Any = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

MONEY = {"revenue", "cost", "fines", "net_profit"}


def _debug() -> bool:
    return bool(os.environ.get("SPAMSIM_DEBUG"))


def friendly_errors(command: F) -> F:
    """Turn library errors into messages and exit codes; never a traceback for bad input."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ScenarioError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            raise typer.Exit(2) from None
        except RefusedError as exc:
            err.print(f"refused: {exc}", markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt as exc:
            # A results folder being written says what Ctrl-C left on disk (spamsim.folder.Interrupted).
            err.print(getattr(exc, "message", None) or "interrupted; nothing was written", markup=False)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if _debug():
                raise
            err.print(internal_error(exc), markup=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"spamsim {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Simulate what spam earns and what each countermeasure takes away."""
    if debug:
        os.environ["SPAMSIM_DEBUG"] = "1"


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field: dotted.path=value (repeatable).", show_default=False),
]
"""``--set`` as every command that loads a scenario takes it."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace an --out folder that holds other spamsim results (replaced whole)."),
]


def _open_out(out_dir: Path | None, identity: Identity, force: bool) -> ResultsFolder | None:
    """Open ``--out`` as a transaction before any work: lock, mixing check, staging folder.

    An unwritable or locked ``--out`` is refused here, in a second, not after the simulation.
    """
    from .folder import ResultsFolder

    return None if out_dir is None else ResultsFolder(out_dir, identity, force=force).open()


def _within(folder: ResultsFolder | None) -> contextlib.AbstractContextManager[Any]:
    return folder if folder is not None else contextlib.nullcontext()


FileArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False, dir_okay=True)]


@app.command()
@friendly_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario, sweep or exploration YAML files.", show_default=False)],
) -> None:
    """Check scenario files (and sweep and exploration files, with their base scenario); print
    [bold]ok[/] or every problem as FILE:LINE:COL: field: message.

    Exit code 0 if all are valid, 2 otherwise.

    Example:  spamsim validate scenarios/*.yaml
    """
    from .scenario.check import check_files

    code = check_files(files)
    if code:
        raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editors that validate YAML as you type).

    Example:  spamsim schema > spamsim.schema.json
    """
    from .scenario.schema import Scenario

    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Scenario.model_json_schema(),
    }
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@app.command("run")
@friendly_errors
def run_command(
    file: FileArg,
    reps: Annotated[int, typer.Option(help="Monte Carlo replications.", min=1)] = 1000,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for an exactly repeatable run (default: fresh, reported).", min=0),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a field: dotted.path=value (repeatable), e.g. --set market.success_rate=0.02",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes (at most the cores).", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write summary.json, replications.parquet, timeseries.parquet, "
            "scenario.resolved.yaml, provenance.json, figures and manifest.json here (as one transaction).",
            file_okay=False,
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Run a scenario and print the funnel and the money: mean and 95 % CI per metric.

    Example:  spamsim run scenarios/lecture.yaml --reps 1000 --seed 1 --set market.success_rate=0.02
    """
    from .api import run as run_scenario
    from .folder import Identity, scenario_digest
    from .outputs import dump_json, write_run_files
    from .runner.preflight import preflight
    from .runner.seeding import entropy_of, seed_sequence
    from .scenario.loader import load

    preflight(workers)
    scenario = load(file, set_ or [])
    # A fresh seed is drawn here, before --out is opened, so the folder's mixing check knows it.
    entropy = entropy_of(seed_sequence(seed))
    folder = _open_out(out_dir, Identity("run", scenario_digest(scenario), entropy, scenario.name), force)
    with _within(folder):
        with _progress(reps, quiet=as_json) as advance:
            result = run_scenario(scenario, reps=reps, seed=entropy, workers=workers, progress=advance)
        if as_json:
            payload = result.to_json()
            sys.stdout.write(dump_json(payload))
        else:
            out.print(result_table(result))
            if len(result.ledger.channels) > 1 or result.blocked_by:
                out.print(channel_table(result))
            if len(result.ledger.spammers) > 1:
                out.print(spammer_table(result))
            out.print(f"seed entropy {result.entropy} — repeat with --seed {result.entropy}", style="dim")
        if folder is not None:
            written = write_run_files(result, folder.path, workers=workers, command=["spamsim", *sys.argv[1:]])
            jobs = [("funnel", result), ("timeline", result), ("populations", result)]
            figures = _write_figures(folder.path, jobs)
            folder.commit()
            err.print(
                f"wrote {len(written)} files and figures {', '.join(figures) or 'none'} to {out_dir}/", markup=False
            )


def _check_output_file(path: Path, option: str, suffixes: tuple[str, ...]) -> None:
    """Refuse an output file the command could not write, before any work is done.

    Raises
    ------
    RefusedError
        If ``path`` has another extension, is a folder, or its folder does not exist.
    """
    if path.is_dir():
        raise RefusedError(
            f"{option} {path}: is a folder; give a file name, e.g. {option} {path / ('out' + suffixes[0])}"
        )
    if path.suffix.lower() not in suffixes:
        raise RefusedError(
            f"{option} {path}: cannot write a {path.suffix or 'file without extension'}; "
            f"use one of {', '.join(suffixes)}, e.g. {option} {path.with_suffix(suffixes[0])}"
        )
    if not path.parent.is_dir():
        raise RefusedError(f"{option} {path}: folder {path.parent} does not exist; create it first")


def _write_figures(out_dir: Path, jobs: list[tuple[str, Any]], **options: Any) -> list[str]:
    """Draw the default figures of a command into ``out_dir`` (PNG, lecture theme).

    A figure that does not apply to these results (a time series of a one-step run) is
    skipped, not an error.
    """
    from . import plots

    written = []
    for kind, data in jobs:
        try:
            figure = plots.FIGURES[kind](data, **options)
        except ValueError:
            continue
        plots.save(figure, out_dir / f"{kind}.png")
        written.append(f"{kind}.png")
    return written


@app.command("plot")
@friendly_errors
def plot_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="funnel, timeline, populations, effects, shapley, deterrence, sweep, "
            "sweep-heatmap, sensitivity, calibration or break-even.",
            show_default=False,
        ),
    ],
    results: Annotated[
        Path,
        typer.Argument(
            help="A results folder written with --out (or a scenario file for break-even).", show_default=False
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Figure file: .png, .svg or .pdf (default: RESULTS/KIND.png).")
    ] = None,
    theme: Annotated[str, typer.Option(help="lecture (16:9, large type) or paper (one column).")] = "lecture",
    lang: Annotated[str, typer.Option(help="en or ja (Japanese labels).")] = "en",
    x: Annotated[str | None, typer.Option(help="Sweep parameter on the x axis.")] = None,
    y: Annotated[str | None, typer.Option(help="Sweep parameter on the y axis (heatmaps).")] = None,
    metric: Annotated[str, typer.Option(help="Metric for sweep figures.")] = "net_profit",
) -> None:
    """Draw a figure from saved results (PNG, SVG or PDF with embedded Type 42 fonts).

    Example:  spamsim plot funnel out/lecture -o funnel.pdf --theme paper --lang ja
    """
    from . import plots, stored
    from .scenario.loader import load

    if output is not None:
        _check_output_file(output, "--output", tuple(plots.output.FORMATS))
    if kind not in plots.FIGURES:
        raise RefusedError(f"unknown figure {kind!r}; one of: {', '.join(plots.FIGURES)}")
    if theme not in ("lecture", "paper") or lang not in ("en", "ja"):
        raise RefusedError("--theme is lecture or paper; --lang is en or ja")
    options: dict[str, Any] = {"theme": theme, "lang": lang}
    if kind in ("funnel", "timeline", "populations"):
        data: Any = stored.load_result(results)
    elif kind in ("effects", "shapley"):
        data = stored.load_comparison(results)
    elif kind == "sensitivity":
        data = stored.load_sensitivity(results)
    elif kind == "calibration":
        data = stored.load_fit(results)
    elif kind == "break-even":
        data = load(results) if results.is_file() else stored.load_scenario(results)
    else:
        data = stored.load_sweep_summary(results)
        params = [
            c
            for c in data.columns
            if c != "point" and "." in c and c.rsplit(".", 1)[1] not in ("mean", "se", "ci95_low", "ci95_high")
        ]
        if kind == "sweep":
            options.update(x=x or params[0], metric=metric)
        elif kind == "sweep-heatmap" or kind == "deterrence":
            if len(params) < 2 and (x is None or y is None):
                raise RefusedError(f"{kind} needs two swept parameters (--x and --y)")
            options.update(x=x or params[-1], y=y or params[0], metric=metric)
    try:
        figure = plots.FIGURES[kind](data, **options)
    except ValueError as exc:
        raise RefusedError(f"cannot draw {kind} from {results}: {exc}") from None
    target = output or (results if results.is_dir() else results.parent) / f"{kind}.png"
    plots.save(figure, target)
    err.print(f"wrote {target}", markup=False)


@app.command("report")
@friendly_errors
def report_command(
    file: FileArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    reps: Annotated[int, typer.Option(help="Replications (and per compared variant).", min=2)] = 200,
    seed: Annotated[int | None, typer.Option(help="Seed (default: fresh, recorded in the report).", min=0)] = None,
    lang: Annotated[str, typer.Option(help="en or ja.")] = "en",
    theme: Annotated[str, typer.Option(help="Figure theme: lecture or paper.")] = "lecture",
    shapley: Annotated[bool, typer.Option("--shapley", help="Include Shapley attribution (2^k variants).")] = False,
    no_compare: Annotated[bool, typer.Option("--no-compare", help="Skip the countermeasure comparison.")] = False,
    set_: SetOption = None,
    workers: Annotated[int, typer.Option(help="Local worker processes (at most the cores).", min=1)] = 1,
) -> None:
    """One self-contained HTML report (figures inlined, no external URLs) to e-mail or put online.

    Example:  spamsim report scenarios/japan-2011.yaml -o report.html --reps 200 --seed 1 --lang ja
    """
    from .report import build_report
    from .runner.preflight import preflight
    from .scenario.loader import load

    preflight(workers)
    if lang not in ("en", "ja") or theme not in ("lecture", "paper"):
        raise RefusedError("--lang is en or ja; --theme is lecture or paper")
    _check_output_file(output, "--output", (".html", ".htm"))
    scenario = load(file, set_ or [])
    report = build_report(
        scenario,
        reps=reps,
        seed=seed,
        lang=lang,
        theme=theme,
        compare=not no_compare,
        shapley=shapley,
        workers=workers,
        command=["spamsim", *sys.argv[1:]],
    )
    report.write(output)
    err.print(f"wrote {output} ({output.stat().st_size / 1024:,.0f} KB)", markup=False)


@app.command("compare")
@friendly_errors
def compare_command(
    file: FileArg,
    countermeasure: Annotated[
        list[str] | None,
        typer.Option(
            "--countermeasure",
            "-c",
            help="Countermeasure to compare (repeatable; default: all the scenario defines).",
            show_default=False,
        ),
    ] = None,
    shapley: Annotated[
        bool, typer.Option("--shapley", help="Exact Shapley attribution over all 2^k on/off sets.")
    ] = False,
    reps: Annotated[int, typer.Option(help="Replications per variant.", min=2)] = 200,
    seed: Annotated[int | None, typer.Option(help="Seed shared by all variants.", min=0)] = None,
    set_: SetOption = None,
    workers: Annotated[int, typer.Option(help="Local worker processes (at most the cores).", min=1)] = 1,
    as_json: JsonOption = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write comparison.json, effects.parquet, costs.parquet, shapley.parquet, provenance.json, figures and "
            "manifest.json (as one transaction).",
            file_okay=False,
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """How much each countermeasure changes the spammer's revenue, from paired replications.

    For each countermeasure: its effect added alone to a world with none, and when removed
    from the world with all; with --shapley, each one's share of the total reduction in net
    profit. Then each one's defenders' cost over the horizon (the scenario's `cost:` sections)
    and what it buys: spammers' profit removed and social cost avoided per million of the
    currency of that cost, with 95 % CIs.

    Example:  spamsim compare scenarios/japan-2011.yaml --shapley --reps 200 --seed 1
    """
    from .analysis.effects import compare
    from .folder import Identity, scenario_digest
    from .outputs import dump_json, write_comparison_files
    from .runner.preflight import preflight
    from .runner.seeding import entropy_of, seed_sequence
    from .scenario.loader import load

    preflight(workers)
    scenario = load(file, set_ or [])
    entropy = entropy_of(seed_sequence(seed))  # drawn before --out is opened, for its mixing check
    folder = _open_out(out_dir, Identity("compare", scenario_digest(scenario), entropy, scenario.name), force)
    with _within(folder):
        bar = _VariantProgress(quiet=as_json)
        with bar:
            comparison = compare(
                scenario,
                countermeasure or None,
                shapley=shapley,
                reps=reps,
                seed=entropy,
                workers=workers,
                progress=bar.update,
            )
        payload = comparison.to_json()
        if as_json:
            sys.stdout.write(dump_json(payload))
        else:
            out.print(comparison_table(comparison))
            out.print(cost_table(comparison))
            for note in cost_notes(comparison):
                out.print(note, style="dim", markup=False)
            out.print(f"seed {comparison.entropy} — repeat with --seed {comparison.entropy}", style="dim")
        if folder is not None:
            written = write_comparison_files(
                comparison, folder.path, workers=workers, command=["spamsim", *sys.argv[1:]]
            )
            jobs: list[tuple[str, Any]] = [("effects", comparison)]
            if comparison.shapley_computed:
                jobs.append(("shapley", comparison))
            figures = _write_figures(folder.path, jobs)
            folder.commit()
            err.print(f"wrote {len(written)} files and figures {', '.join(figures)} to {out_dir}/", markup=False)


def comparison_table(comparison: Comparison, width: int | None = None, lang: str = "en") -> Table:
    """Countermeasure effects as a slide-ready table that fits the terminal."""
    from . import fmt
    from .names import countermeasure_label, currency_label

    sc = comparison.scenario
    cur = currency_label(sc.market.currency, lang)
    base = comparison.baseline()
    grid = Grid(
        title=_w(
            N_("{name}: what each countermeasure takes from the spammer ({reps} paired replications)"),
            lang,
            name=sc.name,
            reps=fmt.number(comparison.reps, lang=lang),
        ),
        caption=_w(
            N_(
                "revenue with every countermeasure on: {revenue}, net profit {net}; changes are means of paired "
                "differences with 95 % CI. alone = added to a world without countermeasures; "
                "removed = taken out of the world with all of them."
            ),
            lang,
            revenue=fmt.money(base["revenue"]["mean"], sc.market.currency, lang),
            net=fmt.money(base["net_profit"]["mean"], sc.market.currency, lang),
        ),
        corner=_w(N_("countermeasure"), lang),
        columns=[
            Column(_w(N_("alone: revenue change ({cur})"), lang, cur=cur)),
            Column("%"),
            Column(_w(N_("removed: revenue change ({cur})"), lang, cur=cur)),
            Column("%"),
        ],
    )
    shapley = comparison.shapley() if comparison.shapley_computed else None
    total = 0.0
    if shapley:
        grid.columns += [
            Column(_w(N_("Shapley share of profit reduction ({cur})"), lang, cur=cur)),
            Column(_w(N_("share"), lang)),
        ]
        total = sum(v["mean"] for v in shapley.values())
    for effect in comparison.effects():
        name = effect["countermeasure"]
        cells = []
        for context in ("alone", "removed"):
            e = effect[context]
            change = e["revenue_change"]
            cells.append(Cell(fmt.compact(change["mean"], lang), _interval(*change["ci95"], lang)))
            pct = e["revenue_change_pct"]
            cells.append(Cell(fmt.DASH if pct is None else fmt.signed_percent(pct / 100.0, 3, lang)))
        if shapley:
            v = shapley[name]
            cells.append(Cell(fmt.compact(v["mean"], lang), _interval(*v["ci95"], lang)))
            cells.append(Cell(fmt.percent(v["mean"] / total, 2, lang) if total else fmt.DASH))
        grid.add(countermeasure_label(name, lang), cells)
    return fit(grid, _width(width))


PER_COST = 1e6
"""Cost-effectiveness is shown per million units of the currency of defender cost (readable digits)."""


def cost_table(comparison: Comparison, width: int | None = None, lang: str = "en") -> Table:
    """Defenders' cost of each countermeasure and what it buys, per million of the currency, as a table that fits."""
    from . import fmt
    from .names import countermeasure_label, currency_label

    sc = comparison.scenario
    cur = currency_label(sc.market.currency, lang)
    grid = Grid(
        title=_w(N_("{name}: defenders' cost and cost-effectiveness of each countermeasure"), lang, name=sc.name),
        caption=_w(
            N_(
                "money in {cur}. Defenders' cost over the {days}-day horizon (closed form, expected values; see "
                "docs/model.md). Effects of taking each countermeasure out of the world with all of them (paired, "
                "95 % CI): spammers' net profit removed and social cost avoided (recipients' time and lost "
                "legitimate mail), each per million {cur} of defenders' cost."
            ),
            lang,
            days=fmt.number(sc.horizon_days, lang=lang),
            cur=cur,
        ),
        corner=_w(N_("countermeasure"), lang),
        columns=[
            Column(_w(N_("defenders' cost"), lang)),
            Column(_w(N_("profit removed per 1M"), lang)),
            Column(_w(N_("social cost avoided per 1M"), lang)),
        ],
    )
    for row in comparison.cost_effectiveness():
        e = row["removed"]
        cells = [Cell(fmt.compact(row["defender_cost"], lang))]
        for key in ("profit_removed_per_cost", "social_cost_avoided_per_cost"):
            ratio = e[key]
            if ratio["mean"] is None:
                cells.append(Cell(fmt.DASH))
            else:
                low, high = ratio["ci95"]
                cells.append(
                    Cell(fmt.compact(ratio["mean"] * PER_COST, lang), _interval(low * PER_COST, high * PER_COST, lang))
                )
        grid.add(countermeasure_label(row["countermeasure"], lang), cells)
    return fit(grid, _width(width))


def cost_notes(comparison: Comparison) -> list[str]:
    """What to set when a cost or a social cost is not known in the scenario's currency (shown as a dash)."""
    currency = comparison.scenario.market.currency
    costs = comparison.defender_cost()
    unknown = [k for k in costs.by_countermeasure if not math.isfinite(costs.of(k))]
    notes = []
    if "enforcement" in comparison.names:
        notes.append("enforcement: no defenders' cost model (—); its effects are in the table above")
    if unknown:
        notes.append(
            f"no default defenders' cost in {currency} for {', '.join(unknown)}: give each a `cost:` section "
            "(defaults exist for JPY and USD; see docs/model.md, Defenders' costs)"
        )
    if comparison.social.with_currency(currency).missing():
        notes.append(
            f"social cost avoided not priced in {currency}: spamsim has no default value of recipients' time or of "
            "lost legitimate mail in it (it has for JPY and USD)"
        )
    return notes


@app.command("analytic")
@friendly_errors
def analytic_command(
    file: FileArg,
    set_: SetOption = None,
    seconds_per_spam: Annotated[
        float | None, typer.Option(help="Recipient seconds lost per inbox spam [default: 5, Rao & Reiley].", min=0)
    ] = None,
    value_of_time: Annotated[
        float | None,
        typer.Option(
            help="Value of one hour of recipients' time, in the scenario's currency [default: per currency].", min=0
        ),
    ] = None,
    filtering_cost_per_spam: Annotated[
        float | None,
        typer.Option(
            help="Filtering and server cost per spam arriving, in the currency [default: per currency].", min=0
        ),
    ] = None,
    value_of_lost_mail: Annotated[
        float | None,
        typer.Option(
            help="Cost of one legitimate message lost to a filter, in the currency [default: per currency].", min=0
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Closed-form expectations: revenue, profit, break-even success rate, deterrence, externality.

    Exact for fixed campaigns through the spammer's own server (the lecture's case); for
    scenarios with adaptive spammers or channel dynamics it says why it does not apply.

    Example:  spamsim analytic scenarios/lecture.yaml --set enforcement.caught_probability=0.1
    """
    from .analysis.analytic import SocialCost, expected
    from .outputs import dump_json
    from .scenario.loader import load

    scenario = load(file, set_ or [])
    social = SocialCost.for_currency(
        scenario.market.currency,
        seconds_per_spam=seconds_per_spam,
        value_of_time_per_hour=value_of_time,
        filtering_cost_per_spam=filtering_cost_per_spam,
        value_of_lost_legit_mail=value_of_lost_mail,
    )
    result = expected(scenario, social)
    if as_json:
        sys.stdout.write(dump_json(result.to_json()))
        return
    currency = scenario.market.currency
    if not result.applicable:
        err.print("closed form does not apply fully: " + "; ".join(result.reasons), markup=False)
        err.print("the numbers below are the lecture arithmetic for the fixed-campaign core only", markup=False)
    out.print(analytic_table(scenario.name, result, currency))
    t = result.totals
    ext = result.externality
    if ext.computed:
        society = (
            f"society's cost {_fmt(t['social_cost'])} {currency} = "
            f"{_fmt_small(t['externality_ratio'])} x the spammers' revenue (externality ratio: "
            + ", ".join(f"{p.label} {_fmt(p.amount)}" for p in ext.parts)
            + ")"
        )
    else:
        society = "externality not computed"
    out.print(f"lecture arithmetic N x p x profit: {_fmt(t['lecture_revenue'])} {currency}; {society}", markup=False)
    out.print(ext.note, markup=False)
    out.print(frontier_table(result, currency))


@app.command("app")
@friendly_errors
def app_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file to start from (default: the lecture's).", show_default=False),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind (default: this machine only).")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    lang: Annotated[str, typer.Option(help="Language of the page: en or ja.")] = "en",
) -> None:
    """Lecture mode in the browser: sliders, switches and live figures, served locally.

    Needs spamsim's optional "app" extra (make app installs it; without it the command says how).

    Example:  spamsim app scenarios/japan-2011.yaml --lang ja
    """
    from .i18n import LANGS

    if lang not in LANGS:
        err.print(f"unknown language {lang!r} for --lang; use one of: {', '.join(LANGS)}", markup=False)
        raise typer.Exit(2)
    try:
        import shiny  # noqa: F401 - only to tell a missing extra from other failures
    except ImportError:
        from .app import INSTALL_HINT

        err.print(f"spamsim app needs the app extra, which is not installed; run: {INSTALL_HINT}", markup=False)
        raise typer.Exit(2) from None
    from .app import serve
    from .app.presets import add_file
    from .scenario.loader import load

    preset = "lecture"
    if file is not None:
        load(file)  # a bad file is reported here, as by every command, not in the page
        preset = add_file(file).key
    err.print(f"spamsim app: serving on http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
    serve(preset, host=host, port=port, browser=not no_browser, lang=lang)


@app.command("sweep")
@friendly_errors
def sweep_command(
    file: Annotated[Path, typer.Argument(help="Sweep YAML file.", show_default=False)],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Results folder (default: out/sweeps/NAME, NAME made file-name safe).", file_okay=False
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (default and most: all cores). A sweep estimated to take longer than "
            "SPAMSIM_MAX_SECONDS (default 3600) on them is refused; set SPAMSIM_ACCEPT_LONG=1 to run it anyway.",
            min=1,
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="local (worker processes) or dask (a LocalCluster).")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (checked before running).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted sweep in --out.")] = False,
    as_json: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Run a parameter sweep (grid, points, random or Latin hypercube), in parallel and resumable.

    Each finished point is written atomically to the working folder .OUT.partial/ next to OUT;
    after an interruption, --resume runs only the points that are missing. The finished sweep
    replaces OUT whole. Numbers do not depend on the backend or the number of workers.

    Example:  spamsim sweep scenarios/deterrence-sweep.yaml --workers 2 --out out/deterrence
    """
    import pandas as pd

    from .folder import safe_slug
    from .outputs import dump_json
    from .runner.backends import make_backend
    from .runner.preflight import preflight
    from .runner.sweep import partial_folder, run_sweep
    from .scenario.loader import load
    from .scenario.sweep import load_sweep

    preflight(workers, backend, scheduler)
    spec, base_path = load_sweep(file)
    base = load(base_path)
    # The sweep file's name only ever names one safe folder under out/sweeps/; paths come from the command line.
    out_dir = out_dir or Path("out") / "sweeps" / safe_slug(spec.name)
    metric = spec.metrics[0] if "net_profit" not in spec.metrics else "net_profit"

    def draw(result: Any, folder: Path) -> None:
        """The sweep's default figure, drawn into the folder's transaction."""
        summary = result.summary
        params = list(result.points[0]) if result.points else []
        numeric = [p for p in params if pd.api.types.is_numeric_dtype(summary[p])]
        fines = [p for p in numeric if p.startswith("enforcement.fines.")]
        if len(numeric) == 2 and fines:
            x_param = next(p for p in numeric if p not in fines)
            _write_figures(folder, [("deterrence", result.summary)], x=x_param, y=fines[0], metric=metric)
        elif len(numeric) == 2:
            _write_figures(folder, [("sweep-heatmap", result)], x=numeric[1], y=numeric[0], metric=metric)
        elif len(numeric) == 1:
            _write_figures(folder, [("sweep", result)], x=numeric[0], metric=metric)

    bar = _VariantProgress(quiet=as_json, label="points")
    try:
        with make_backend(workers, backend, scheduler) as engine, bar:
            result = run_sweep(
                spec, base, engine, out=out_dir, resume=resume, progress=bar.update, force=force, finish=draw
            )
    except KeyboardInterrupt as exc:
        said = getattr(exc, "message", None) or "interrupted; nothing was written"
        err.print(
            f"{said}; finished points are kept in {partial_folder(out_dir)}; continue with --resume", markup=False
        )
        raise typer.Exit(130) from None
    summary = result.summary
    if as_json:
        payload = {
            "sweep": spec.name,
            "points": len(result.points),
            "computed": result.computed,
            "reps": spec.reps,
            "seed": spec.seed,
            "out": str(out_dir),
            "summary": json.loads(summary.to_json(orient="records")),
        }
        sys.stdout.write(dump_json(payload))
        return
    out.print(sweep_table(spec.name, summary, len(result.points), spec.reps))
    if len(summary) > 40:
        out.print(f"… {len(summary) - 40} more points in {out_dir}/summary.parquet", style="dim")
    err.print(
        f"{result.computed} points computed, {len(result.points) - result.computed} resumed; results in {out_dir}/",
        markup=False,
    )


@app.command("explore")
@friendly_errors
def explore_command(
    file: Annotated[Path, typer.Argument(help="Exploration YAML file.", show_default=False)],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Results folder (default: out/explore/NAME, NAME made file-name safe).", file_okay=False
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default and most: all cores).", min=1)] = None,
    backend: Annotated[str, typer.Option(help="local (worker processes) or dask (a LocalCluster).")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (checked before running).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted exploration in --out.")] = False,
    portfolio: Annotated[
        str | None,
        typer.Option(
            help="Portfolio whose profitable worlds PRIM and CART describe (default: the most robust one "
            "that some world still defeats)."
        ),
    ] = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Explore uncertainties x countermeasure portfolios: robust portfolios and where spam still pays.

    Every world of the design (Latin hypercube or Sobol over the uncertainties) runs under
    every portfolio on common random numbers; prints the portfolios by robustness (share of
    worlds where no spammer profits, regret, percentiles, defenders' cost, Pareto front) and
    writes the outcomes (Parquet), PRIM and CART boxes (CSV/JSON, peeling trajectory figure)
    and the Pareto figure into --out. Resumable like sweep; numbers do not depend on workers.

    Example:  spamsim explore scenarios/explore-quick.yaml --workers 2 --out out/explore-quick
    """
    from .exploration import explore
    from .folder import safe_slug
    from .outputs import dump_json
    from .runner.backends import make_backend
    from .runner.preflight import preflight
    from .runner.sweep import partial_folder
    from .scenario.explore import load_explore
    from .scenario.loader import load

    preflight(workers, backend, scheduler)
    spec, base_path = load_explore(file)
    base = load(base_path)
    out_dir = out_dir or Path("out") / "explore" / safe_slug(spec.name, fallback="explore")
    bar = _VariantProgress(quiet=as_json, label="blocks")
    try:
        with make_backend(workers, backend, scheduler) as engine, bar:
            found = explore(
                spec, base, engine, out_dir, resume=resume, force=force, portfolio=portfolio, progress=bar.update
            )
    except KeyboardInterrupt as exc:
        said = getattr(exc, "message", None) or "interrupted; nothing was written"
        err.print(
            f"{said}; finished blocks are kept in {partial_folder(out_dir)}; continue with --resume", markup=False
        )
        raise typer.Exit(130) from None
    if as_json:
        sys.stdout.write(dump_json({**found.to_json(), "out": str(out_dir), "computed": found.result.computed}))
        return
    out.print(robustness_table(spec.name, found.robustness, spec.design.worlds, spec.reps, found.currency))
    out.print(discovery_text(found))
    err.print(f"{found.result.computed} blocks computed; results in {out_dir}/", markup=False)


@app.command("sensitivity")
@friendly_errors
def sensitivity_command(
    file: FileArg,
    param: Annotated[list[str], typer.Option("--param", "-p", help="PATH=LOW:HIGH (repeatable).", show_default=False)],
    method: Annotated[str, typer.Option(help="sobol or morris.")] = "sobol",
    metric: Annotated[str, typer.Option(help="Output metric, e.g. net_profit, revenue.")] = "net_profit",
    n: Annotated[int, typer.Option("--n", help="Sobol base samples (power of 2) or Morris trajectories.", min=2)] = 64,
    reps: Annotated[int, typer.Option(help="Replications per point.", min=2)] = 20,
    seed: Annotated[int, typer.Option(help="Seed for sampling and runs.", min=0)] = 0,
    set_: SetOption = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default and most: all cores).", min=1)] = None,
    backend: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    as_json: JsonOption = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write indices.parquet, indices.json, points.parquet, manifest.json.", file_okay=False
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Which parameters matter most: Sobol (S1, ST) or Morris (mu*, sigma) indices with 95 % CIs (SALib).

    Example:  spamsim sensitivity scenarios/japan-2011.yaml --method sobol --n 64
    -p market.profit_per_sale=1000:10000 -p enforcement.reach_abroad=0:1 --metric net_profit
    """
    from .analysis.sensitivity import sensitivity
    from .folder import Identity, scenario_digest
    from .outputs import dump_json
    from .runner.backends import make_backend
    from .runner.preflight import preflight
    from .scenario.loader import load

    preflight(workers, backend, scheduler)
    scenario = load(file, set_ or [])
    folder = _open_out(out_dir, Identity("sensitivity", scenario_digest(scenario), seed, scenario.name), force)
    with _within(folder), make_backend(workers, backend, scheduler) as engine, _points_bar(as_json) as bar:
        result = sensitivity(
            scenario,
            param,
            metric=metric,
            method=method,
            n=n,
            reps=reps,
            seed=seed,  # type: ignore[arg-type]
            backend=engine,
            progress=bar.update,
        )
        payload = result.to_json()
        if folder is not None:
            staging = folder.path
            write_atomic(
                staging / "indices.parquet", lambda tmp: result.indices.reset_index().to_parquet(tmp, index=False)
            )
            write_text_atomic(staging / "indices.json", dump_json(payload))
            write_atomic(staging / "points.parquet", lambda tmp: result.sweep.replications.to_parquet(tmp, index=False))
            folder.commit()
            err.print(f"wrote 3 files and manifest.json to {out_dir}/", markup=False)
    if as_json:
        sys.stdout.write(dump_json(payload))
    else:
        out.print(sensitivity_table(scenario.name, method, metric, result, payload["runs"], reps))


@app.command("calibrate")
@friendly_errors
def calibrate_command(
    file: FileArg,
    observed: Annotated[
        Path, typer.Option("--observed", help="Counts file: counts: {attempted: N, ..., sales: S}.", show_default=False)
    ],
    fit: Annotated[
        list[str],
        typer.Option(
            "--fit", help="Parameter to estimate (repeatable), e.g. market.funnel.click_rate.", show_default=False
        ),
    ],
    set_: SetOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the calibrated scenario YAML here.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write calibrated.yaml, estimates.parquet, fit.parquet, calibration.png, manifest.json.",
            file_okay=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Fit funnel probabilities to observed stage counts (maximum likelihood, profile-likelihood CIs).

    Example:  spamsim calibrate scenarios/lecture.yaml --observed scenarios/observed/spamalytics.yaml
    --fit market.success_rate -o calibrated.yaml
    """
    from .analysis.calibration import calibrate
    from .folder import Identity, data_digest, scenario_digest
    from .outputs import dump_json
    from .scenario.loader import load

    scenario = load(file, set_ or [])
    # The fit depends on the scenario, the observed counts and the fitted parameters; no seed.
    digest = data_digest({"scenario": scenario_digest(scenario), "observed": _file_digest(observed), "fit": fit})
    folder = _open_out(out_dir, Identity("calibrate", digest, None, scenario.name), force)
    with _within(folder):
        result = calibrate(scenario, observed, fit)
        if folder is not None:
            staging = folder.path
            write_text_atomic(staging / "calibrated.yaml", result.to_yaml())
            write_atomic(
                staging / "estimates.parquet", lambda tmp: result.estimates.reset_index().to_parquet(tmp, index=False)
            )
            fit_frame = result.fitted_counts()
            write_atomic(staging / "fit.parquet", lambda tmp: fit_frame.to_parquet(tmp, index=False))
            figures = _write_figures(staging, [("calibration", fit_frame)])
            folder.commit()
            err.print(
                f"wrote calibrated.yaml, estimates.parquet, fit.parquet, {', '.join(figures)} to {out_dir}/",
                markup=False,
            )
    if output is not None:
        write_text_atomic(output, result.to_yaml())
        err.print(f"wrote the calibrated scenario to {output}", markup=False)
    if as_json:
        sys.stdout.write(dump_json(result.to_json()))
        return
    out.print(calibration_table(scenario.name, str(observed), result))


def _file_digest(path: Path) -> str | None:
    """sha256 of a file's bytes, or None if it cannot be read (the command then reports it)."""
    from .folder import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return None


def _points_bar(quiet: bool) -> _VariantProgress:
    """The progress bar over sensitivity points."""
    return _VariantProgress(quiet=quiet, label="points")


class _VariantProgress:
    """A rich progress bar over variants (stderr, interactive terminals only)."""

    def __init__(self, quiet: bool, label: str = "variants"):
        self.enabled = not quiet and err.is_terminal
        self.label = label
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> _VariantProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        if self.enabled:
            self.bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
        return self

    def update(self, done: int, total: int) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("compare", total=total)
            self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class _progress:
    """A rich progress bar on stderr for long runs; silent for short or scripted ones."""

    def __init__(self, total: int, quiet: bool):
        self.total = total
        self.enabled = not quiet and err.is_terminal and total >= 2000
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int], None] | None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        if not self.enabled:
            return None
        self.bar = Progress(
            TextColumn("replications"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("run", total=self.total)
        bar = self.bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _w(msgid: str, lang: str, **values: object) -> str:
    """A table's words from the catalogue (:mod:`spamsim.i18n`)."""
    return gettext(msgid, lang, **values)


def _width(width: int | None) -> int:
    return out.width if width is None else width


def _money_name(metric: str, currency: str, lang: str) -> str:
    """A metric's name from the catalogue, with the currency for money (``Revenue (JPY)``)."""
    from .names import currency_label, metric_name, unit_label

    name = metric_name(metric, lang)
    return unit_label(name, currency_label(currency, lang), lang) if metric in MONEY else name


def sweep_table(
    name: str, summary: pd.DataFrame, points: int, reps: int, width: int | None = None, lang: str = "en"
) -> Table:
    """The first 40 points of a sweep (``spamsim sweep``): parameters and metric means."""
    from . import fmt

    shown = [c for c in summary.columns if not (c == "point" or c.endswith((".se", ".ci95_low", ".ci95_high")))]
    grid = Grid(
        title=_w(N_("{name}: {points} points x {reps} replications"), lang, name=name, points=points, reps=reps),
        corner=_w(N_("point"), lang),
        columns=[Column(str(c)) for c in shown],
    )
    for index, row in summary.head(40).iterrows():
        label = str(row["point"]) if "point" in summary.columns else str(index)
        grid.add(label, [Cell(fmt.compact(row[c], lang)) for c in shown])
    return fit(grid, _width(width))


def robustness_table(
    name: str, table: pd.DataFrame, worlds: int, reps: int, currency: str, width: int | None = None, lang: str = "en"
) -> Table:
    """Portfolios, most robust first (``spamsim explore``): satisficing, regret, percentiles, cost."""
    from . import fmt
    from .plots.explore import portfolio_label

    money = currency
    grid = Grid(
        title=_w(N_("{name}: {worlds} worlds x {reps} replications"), lang, name=name, worlds=worlds, reps=reps),
        caption=_w(
            N_(
                "no profit: share of worlds where every spammer's expected net profit < 0; regret (max over "
                "worlds), p50, p90: the best placed spammer's net profit ({cur}); cost: defenders' cost ({cur}); "
                "* on the Pareto front of no profit against cost"
            ),
            lang,
            cur=money,
        ),
        corner=_w(N_("portfolio"), lang),
        columns=[
            Column(_w(N_("no profit"), lang)),
            Column(_w(N_("regret"), lang)),
            Column(_w(N_("p50"), lang)),
            Column(_w(N_("p90"), lang)),
            Column(_w(N_("cost"), lang)),
        ],
    )
    for name_, row in table.iterrows():
        cost = row["defender_cost"]
        label = portfolio_label(str(name_), lang, sep="+") + (" *" if row["pareto"] else "")
        grid.add(
            label,
            [
                Cell(fmt.percent(row["satisficing"], 0, lang)),
                Cell(fmt.compact(row["regret_max"], lang)),
                Cell(fmt.compact(row["p50"], lang)),
                Cell(fmt.compact(row["p90"], lang)),
                Cell(fmt.compact(cost, lang) if cost == cost else "n/a"),
            ],
        )
    return fit(grid, _width(width))


def discovery_text(found: Any) -> str:
    """One paragraph on where spam stays profitable under the discovery's portfolio (PRIM's first box)."""
    from . import fmt

    lead = (
        f"Scenario discovery for {found.portfolio}: spam stays profitable in "
        f"{int(found.profitable.sum())} of {len(found.profitable)} worlds."
    )
    if not found.boxes:
        return f"{lead} {found.discovery_note}"
    box = found.boxes[0]
    limits = "; ".join(f"{u} in [{fmt.compact(r['min'])}, {fmt.compact(r['max'])}]" for u, r in box.limits.iterrows())
    return (
        f"{lead} PRIM box 1 (coverage {fmt.percent(box.coverage, 0)}, density {fmt.percent(box.density, 0)}): "
        f"{limits}. Boxes in prim_boxes.csv/json, CART leaves in cart_boxes.csv."
    )


def sensitivity_table(
    name: str, method: str, metric: str, result: Any, runs: int, reps: int, width: int | None = None, lang: str = "en"
) -> Table:
    """Sobol or Morris indices per parameter (``spamsim sensitivity``)."""
    from . import fmt

    grid = Grid(
        title=_w(
            N_("{name}: {method} sensitivity of {metric} ({runs} points x {reps} reps)"),
            lang,
            name=name,
            method=method,
            metric=metric,
            runs=runs,
            reps=reps,
        ),
        corner=_w(N_("parameter"), lang),
        columns=[Column(str(c)) for c in result.indices.columns],
    )
    for parameter, row in result.indices.iterrows():
        grid.add(str(parameter), [Cell(fmt.compact(v, lang)) for v in row])
    return fit(grid, _width(width))


def calibration_table(name: str, observed: str, result: Any, width: int | None = None, lang: str = "en") -> Table:
    """Calibrated parameters with their 95 % CIs (``spamsim calibrate``)."""
    from . import fmt

    grid = Grid(
        title=_w(N_("{name}: calibrated to {observed}"), lang, name=name, observed=observed),
        caption=_w(N_("log-likelihood {value}"), lang, value=fmt.compact(result.log_likelihood, lang, 4)),
        corner=_w(N_("parameter"), lang),
        columns=[
            Column(_w(N_("estimate"), lang)),
            Column(_w(N_("95 % CI"), lang)),
            Column(_w(N_("interval"), lang), number=False, style="dim"),
        ],
    )
    for parameter, row in result.estimates.iterrows():
        cells = [
            Cell(fmt.compact(row["estimate"], lang)),
            Cell(_interval(row["ci_low"], row["ci_high"], lang)),
            Cell(str(row["method"]), number=False),
        ]
        grid.add(str(parameter), cells)
    return fit(grid, _width(width))


def analytic_table(name: str, result: Any, currency: str, width: int | None = None, lang: str = "en") -> Table:
    """Closed-form expectations per spammer (``spamsim analytic``), laid out to fit the terminal."""
    from . import fmt
    from .names import currency_label, metric_name, unit_label

    cur = currency_label(currency, lang)
    columns = {
        "messages": metric_name("messages", lang),
        "sales": metric_name("sales", lang),
        "revenue": unit_label(metric_name("revenue", lang), cur, lang),
        "cost": unit_label(metric_name("cost", lang), cur, lang),
        "fines": unit_label(_w(N_("Expected fines"), lang), cur, lang),
        "net_profit": unit_label(metric_name("net_profit", lang), cur, lang),
        "p_convicted": metric_name("p_convicted", lang),
        "break_even_success_rate": metric_name("break_even_success_rate", lang),
        "cost_per_sale": unit_label(metric_name("cost_per_sale", lang), cur, lang),
    }
    grid = Grid(
        title=_w(
            N_("{name}: expected values (closed form)")
            if result.exact
            else N_("{name}: expected values (closed form, first order)"),
            lang,
            name=name,
        ),
        corner=_w(N_("spammer"), lang),
        columns=[Column(label) for label in columns.values()],
        transposable=True,
    )
    for spammer, row in result.per_spammer.iterrows():
        grid.add(str(spammer), [Cell(fmt.compact(row[k], lang)) for k in columns])
    return fit(grid, _width(width))


def frontier_table(result: Any, currency: str, width: int | None = None, lang: str = "en") -> Table:
    """The deterrence frontier (``spamsim analytic``): the fine at which expected profit is zero."""
    from . import fmt
    from .names import currency_label, unit_label

    frontier = result.frontier
    spammers = list(frontier["spammer"].unique())
    cur = currency_label(currency, lang)
    grid = Grid(
        title=_w(N_("deterrence frontier: fine at which expected profit is zero"), lang),
        corner=_w(N_("P(caught over campaign)"), lang),
        columns=[Column(unit_label(str(name), cur, lang)) for name in spammers],
    )
    for p in (0.001, 0.01, 0.05, 0.1, 0.5, 1.0):
        cells = []
        for name in spammers:
            f = frontier[frontier.spammer == name]
            nearest = f.iloc[(f["caught_probability"] - p).abs().argmin()]
            cells.append(Cell(fmt.compact(nearest["zero_profit_fine"], lang)))
        grid.add(fmt.compact(p, lang), cells)
    return fit(grid, _width(width))


def result_table(result: Result, width: int | None = None, lang: str = "en") -> Table:
    """The funnel and the money as a rich table: mean and 95 % CI per metric.

    Parameters
    ----------
    result
        A run.
    width
        Terminal width in columns (default: the console's); the layout is chosen to fit it.
    lang
        ``"en"`` or ``"ja"``.
    """
    from . import fmt
    from .names import currency_label, metric_doc

    sc = result.scenario
    grid = Grid(
        title=_w(N_("{name} — {reps} replications"), lang, name=sc.name, reps=fmt.number(result.reps, lang=lang)),
        caption=_w(
            N_("mean and 95 % confidence interval of the mean; money in {cur}"),
            lang,
            cur=currency_label(result.currency, lang),
        ),
        corner=_w(N_("metric"), lang),
        columns=[
            Column(_w(N_("mean"), lang)),
            Column(_w(N_("95 % CI"), lang)),
            Column(_w(N_("what it counts"), lang), number=False, optional=True, style="dim"),
        ],
    )
    summary = result.summary
    for metric in summary.index:
        row = summary.loc[metric]
        style = "bold" if metric in ("revenue", "net_profit") else None
        share = str(metric).endswith("_share")
        # The mean gets the digits its interval needs to read apart (5M [4.996M, 5.003M] → 5M).
        digits = fmt.separating_digits(row["ci95_low"], row["ci95_high"], lang)
        mean = fmt.percent(row["mean"], 3, lang) if share else fmt.compact(row["mean"], lang, digits)
        cells = [
            Cell(mean),
            Cell(_ci_cell(row, lang, share=share)),
            Cell(metric_doc(str(metric), lang), number=False),
        ]
        grid.add(_money_name(str(metric), result.currency, lang), cells, style=style)
    return fit(grid, _width(width))


def _ci_cell(row: pd.Series, lang: str = "en", share: bool = False) -> str:
    """The 95 % CI of one summary row as shown in the table.

    Parameters
    ----------
    row
        A row of ``Result.summary``.
    lang
        ``"en"`` or ``"ja"``.
    share
        Whether the metric is a share (written in per cent).

    Returns
    -------
    str
        ``[low, high]``; for an event no replication saw, how many saw it and the upper bound
        (``0 of 200 (upper bound 0.0184)``); a dash when there is no interval.
    """
    from . import fmt
    from .analysis.summary import CI_ZERO_EVENTS

    lo, hi = row["ci95_low"], row["ci95_high"]
    if lo != lo:
        return fmt.DASH
    if row["ci_method"] == CI_ZERO_EVENTS:
        return _w(
            N_("0 of {n} (upper bound {high})"),
            lang,
            n=fmt.number(int(row["n"]), lang=lang),
            high=fmt.compact(hi, lang),
        )
    if share:
        return f"[{fmt.percent(lo, 3, lang)}, {fmt.percent(hi, 3, lang)}]"
    return _interval(lo, hi, lang)


def _interval(lo: float, hi: float, lang: str = "en") -> str:
    """``[low, high]`` with as many digits as it takes for the two ends to read apart."""
    from . import fmt

    digits = fmt.separating_digits(lo, hi, lang)
    return f"[{fmt.compact(lo, lang, digits)}, {fmt.compact(hi, lang, digits)}]"


def channel_table(result: Result, width: int | None = None, lang: str = "en") -> Table:
    """Where the spam went: per channel, mean per replication of each stage and blocker."""
    from . import fmt
    from .names import channel_label

    frame = result.by_channel
    columns = ["attempted", "unsent", *[f"blocked_by.{n}" for n in result.blocked_by]]
    columns += ["delivered", "filtered", "sales", "revenue"]
    grid = Grid(
        title=_w(N_("by channel (mean per replication)"), lang),
        corner=_w(N_("channel"), lang),
        columns=[Column(_money_name(c, result.currency, lang)) for c in columns],
        transposable=True,
    )
    for channel, row in frame.iterrows():
        grid.add(channel_label(str(channel), lang), [Cell(fmt.compact(row[c], lang)) for c in columns])
    return fit(grid, _width(width))


def spammer_table(result: Result, width: int | None = None, lang: str = "en") -> Table:
    """Per spammer: money (mean per replication) and how often it was convicted or quit."""
    from .names import currency_label, metric_name

    frame = result.by_spammer
    grid = Grid(
        title=_w(
            N_("by spammer (mean per replication, money in {cur})"), lang, cur=currency_label(result.currency, lang)
        ),
        corner=_w(N_("spammer"), lang),
        columns=[Column(metric_name(str(c), lang)) for c in frame.columns],
        transposable=True,
    )
    for spammer, row in frame.iterrows():
        grid.add(str(spammer), [Cell(_compact_or_share(c, v, lang)) for c, v in row.items()])
    return fit(grid, _width(width))


def _compact_or_share(column: object, value: float, lang: str) -> str:
    """Shares (``*_share``) in per cent, everything else compact."""
    from . import fmt

    return fmt.percent(value, 3, lang) if str(column).endswith("_share") else fmt.compact(value, lang)


def _short(x: float | None, lang: str = "en") -> str:
    """Compact numbers for tables: ``1.23M``, ``−45.6K`` (:func:`spamsim.fmt.compact`)."""
    from . import fmt

    return fmt.compact(x, lang)


def _fmt_small(x: float, lang: str = "en") -> str:
    """Numbers in tables, small ones with their significant digits (:func:`spamsim.fmt.compact`)."""
    from . import fmt

    return fmt.compact(x, lang)


def _fmt(x: float, lang: str = "en") -> str:
    """Numbers in prose, in full with thousands separators (:func:`spamsim.fmt.number`)."""
    from . import fmt

    return fmt.number(x, "count", lang)


def main() -> None:
    """Console-script entry point."""
    if "--debug" in sys.argv[1:]:
        os.environ["SPAMSIM_DEBUG"] = "1"
    app(prog_name="spamsim")


if __name__ == "__main__":  # pragma: no cover
    main()
