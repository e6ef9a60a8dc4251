"""The ``spamsim`` command line: thin — parse, call the library, print with rich.

Exit codes: 0 success; 2 a bad scenario, bad arguments or refused work (the message says
what to change); 1 an unexpected internal error (one line; ``--debug`` shows the
traceback); 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .analysis.analytic import SocialCost, expected
from .analysis.calibration import calibrate
from .analysis.effects import Comparison, compare
from .analysis.result import METRIC_DOCS, Result
from .analysis.sensitivity import sensitivity
from .analysis.summary import CI_ZERO_EVENTS
from .api import run as run_scenario
from .atomic import write_atomic, write_text_atomic
from .outputs import dump_json, save_comparison, save_run
from .runner.backends import make_backend
from .runner.preflight import preflight
from .runner.replications import RefusedError
from .runner.sweep import run_sweep
from .scenario import ScenarioError, load
from .scenario.schema import Scenario
from .scenario.sweep import load_sweep

app = typer.Typer(
    name="spamsim",
    help="Simulate what spam earns and what each countermeasure takes away.\n\n"
    "Start with:  spamsim run scenarios/lecture.yaml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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
        except KeyboardInterrupt:
            err.print("interrupted; nothing partial was written", markup=False)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if _debug():
                raise
            err.print(
                f"internal error: {type(exc).__name__}: {exc} (run with SPAMSIM_DEBUG=1 or --debug for the traceback)",
                markup=False,
            )
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

FileArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False, dir_okay=True)]


@app.command()
@friendly_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.", show_default=False)],
) -> None:
    """Check scenario files; print [bold]ok[/] or every problem as FILE:LINE:COL: field: message.

    Exit code 0 if all are valid, 2 otherwise.

    Example:  spamsim validate scenarios/*.yaml
    """
    failed = False
    for file in files:
        try:
            load(file)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            continue
        out.print("ok" if len(files) == 1 else f"{file}: ok", markup=False)
    if failed:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editors that validate YAML as you type).

    Example:  spamsim schema > spamsim.schema.json
    """
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
            "scenario.resolved.yaml and provenance.json here.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Run a scenario and print the funnel and the money: mean and 95 % CI per metric.

    Example:  spamsim run scenarios/lecture.yaml --reps 1000 --seed 1 --set market.success_rate=0.02
    """
    preflight(workers)
    scenario = load(file, set_ or [])
    with _progress(reps, quiet=as_json) as advance:
        result = run_scenario(scenario, reps=reps, seed=seed, workers=workers, progress=advance)
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
    if out_dir is not None:
        written = save_run(result, out_dir, workers=workers, command=["spamsim", *sys.argv[1:]])
        figures = _write_figures(out_dir, [("funnel", result), ("timeline", result), ("populations", result)])
        err.print(f"wrote {len(written)} files and figures {', '.join(figures) or 'none'} to {out_dir}/", markup=False)


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
        data = load(results if results.is_file() else results / "scenario.resolved.yaml")
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

    preflight(workers)
    if lang not in ("en", "ja") or theme not in ("lecture", "paper"):
        raise RefusedError("--lang is en or ja; --theme is lecture or paper")
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
            "--out", help="Write comparison.json, effects.parquet, shapley.parquet, provenance.json.", file_okay=False
        ),
    ] = None,
) -> None:
    """How much each countermeasure changes the spammer's revenue, from paired replications.

    For each countermeasure: its effect added alone to a world with none, and when removed
    from the world with all; with --shapley, each one's share of the total reduction in net
    profit.

    Example:  spamsim compare scenarios/japan-2011.yaml --shapley --reps 200 --seed 1
    """
    preflight(workers)
    scenario = load(file, set_ or [])
    bar = _VariantProgress(quiet=as_json)
    with bar:
        comparison = compare(
            scenario,
            countermeasure or None,
            shapley=shapley,
            reps=reps,
            seed=seed,
            workers=workers,
            progress=bar.update,
        )
    payload = comparison.to_json()
    if as_json:
        sys.stdout.write(dump_json(payload))
    else:
        out.print(comparison_table(comparison))
        out.print(f"seed {comparison.entropy} — repeat with --seed {comparison.entropy}", style="dim")
    if out_dir is not None:
        written = save_comparison(comparison, out_dir, workers=workers, command=["spamsim", *sys.argv[1:]])
        jobs: list[tuple[str, Any]] = [("effects", comparison)]
        if comparison.shapley_computed:
            jobs.append(("shapley", comparison))
        figures = _write_figures(out_dir, jobs)
        err.print(f"wrote {len(written)} files and figures {', '.join(figures)} to {out_dir}/", markup=False)


def comparison_table(comparison: Comparison) -> Table:
    """Countermeasure effects as a slide-ready table."""
    sc = comparison.scenario
    currency = sc.market.currency
    base = comparison.baseline()
    table = Table(
        title=f"{sc.name}: what each countermeasure takes from the spammer ({comparison.reps:,} paired replications)",
        caption=(
            f"revenue with every countermeasure on: {_fmt(base['revenue']['mean'])} {currency}, "
            f"net profit {_fmt(base['net_profit']['mean'])} {currency}; changes are means of paired "
            "differences with 95 % CI. alone = added to a world without countermeasures; "
            "removed = taken out of the world with all of them."
        ),
    )
    table.add_column("countermeasure")
    table.add_column(f"alone: revenue change ({currency})", justify="right")
    table.add_column("%", justify="right")
    table.add_column(f"removed: revenue change ({currency})", justify="right")
    table.add_column("%", justify="right")
    shapley = comparison.shapley() if comparison.shapley_computed else None
    if shapley:
        table.add_column(f"Shapley share of profit reduction ({currency})", justify="right")
        table.add_column("share", justify="right")
        total = sum(v["mean"] for v in shapley.values())
    for effect in comparison.effects():
        name = effect["countermeasure"]
        cells = [name.replace("_", " ")]
        for context in ("alone", "removed"):
            e = effect[context]
            change = e["revenue_change"]
            cells.append(f"{_short(change['mean'])} [{_short(change['ci95'][0])}, {_short(change['ci95'][1])}]")
            pct = e["revenue_change_pct"]
            cells.append("—" if pct is None else f"{pct:+.1f}")
        if shapley:
            v = shapley[name]
            cells.append(f"{_short(v['mean'])} [{_short(v['ci95'][0])}, {_short(v['ci95'][1])}]")
            cells.append(f"{100 * v['mean'] / total:.0f} %" if total else "—")
        table.add_row(*cells)
    return table


@app.command("analytic")
@friendly_errors
def analytic_command(
    file: FileArg,
    set_: SetOption = None,
    seconds_per_spam: Annotated[float, typer.Option(help="Recipient seconds lost per inbox spam.", min=0)] = 5.0,
    value_of_time: Annotated[
        float, typer.Option(help="Value of one hour of recipients' time (currency).", min=0)
    ] = 2000.0,
    value_of_lost_mail: Annotated[
        float, typer.Option(help="Cost of one legitimate message lost to a filter (currency).", min=0)
    ] = 100.0,
    as_json: JsonOption = False,
) -> None:
    """Closed-form expectations: revenue, profit, break-even success rate, deterrence, externality.

    Exact for fixed campaigns through the spammer's own server (the lecture's case); for
    scenarios with adaptive spammers or channel dynamics it says why it does not apply.

    Example:  spamsim analytic scenarios/lecture.yaml --set enforcement.caught_probability=0.1
    """
    scenario = load(file, set_ or [])
    result = expected(scenario, SocialCost(seconds_per_spam, value_of_time, value_of_lost_mail))
    if as_json:
        sys.stdout.write(dump_json(result.to_json()))
        return
    currency = scenario.market.currency
    if not result.applicable:
        err.print("closed form does not apply fully: " + "; ".join(result.reasons), markup=False)
        err.print("the numbers below are the lecture arithmetic for the fixed-campaign core only", markup=False)
    table = Table(title=f"{scenario.name}: expected values (closed form{'' if result.exact else ', first order'})")
    table.add_column("spammer")
    labels = {
        "messages": "messages",
        "sales": "sales",
        "revenue": f"revenue ({currency})",
        "cost": f"cost ({currency})",
        "fines": f"expected fines ({currency})",
        "net_profit": f"net profit ({currency})",
        "p_convicted": "P(convicted)",
        "break_even_success_rate": "break-even success rate",
        "cost_per_sale": f"cost per sale ({currency})",
    }
    for label in labels.values():
        table.add_column(label, justify="right")
    for name, row in result.per_spammer.iterrows():
        table.add_row(str(name), *[_fmt_small(row[k]) for k in labels])
    out.print(table)
    t = result.totals
    out.print(
        f"lecture arithmetic N x p x profit: {_fmt(t['lecture_revenue'])} {currency}; "
        f"society's cost {_fmt(t['social_cost'])} {currency} = "
        f"{_fmt_small(t['externality_ratio'])} x the spammers' revenue (externality ratio)"
    )
    frontier = result.frontier
    marks = Table(title="deterrence frontier: fine at which expected profit is zero")
    marks.add_column("P(caught over campaign)", justify="right")
    for name in frontier["spammer"].unique():
        marks.add_column(f"{name} ({currency})", justify="right")
    for p in (0.001, 0.01, 0.05, 0.1, 0.5, 1.0):
        row = [f"{p:g}"]
        for name in frontier["spammer"].unique():
            f = frontier[frontier.spammer == name]
            nearest = f.iloc[(f["caught_probability"] - p).abs().argmin()]
            row.append(_fmt_small(nearest["zero_profit_fine"]))
        marks.add_row(*row)
    out.print(marks)


@app.command("sweep")
@friendly_errors
def sweep_command(
    file: Annotated[Path, typer.Argument(help="Sweep YAML file.", show_default=False)],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default: out/sweeps/NAME).", file_okay=False),
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
) -> None:
    """Run a parameter sweep (grid, points, random or Latin hypercube), in parallel and resumable.

    Each finished point is written atomically to OUT/points/; after an interruption,
    --resume runs only the points that are missing. Numbers do not depend on the backend
    or the number of workers.

    Example:  spamsim sweep scenarios/deterrence-sweep.yaml --workers 2 --out out/deterrence
    """
    preflight(workers, backend, scheduler)
    spec, base_path = load_sweep(file)
    base = load(base_path)
    out_dir = out_dir or Path("out") / "sweeps" / spec.name
    bar = _VariantProgress(quiet=as_json, label="points")
    try:
        with make_backend(workers, backend, scheduler) as engine, bar:
            result = run_sweep(spec, base, engine, out=out_dir, resume=resume, progress=bar.update)
    except KeyboardInterrupt:
        err.print(f"interrupted: finished points are saved in {out_dir}/points; continue with --resume", markup=False)
        raise typer.Exit(130) from None
    summary = result.summary
    params = list(result.points[0]) if result.points else []
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(summary[p])]
    metric = spec.metrics[0] if "net_profit" not in spec.metrics else "net_profit"
    fines = [p for p in numeric if p.startswith("enforcement.fines.")]
    if len(numeric) == 2 and fines:
        x_param = next(p for p in numeric if p not in fines)
        _write_figures(out_dir, [("deterrence", result.summary)], x=x_param, y=fines[0], metric=metric)
    elif len(numeric) == 2:
        _write_figures(out_dir, [("sweep-heatmap", result)], x=numeric[1], y=numeric[0], metric=metric)
    elif len(numeric) == 1:
        _write_figures(out_dir, [("sweep", result)], x=numeric[0], metric=metric)
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
    table = Table(title=f"{spec.name}: {len(result.points)} points x {spec.reps} replications")
    for column in summary.columns:
        if column == "point" or column.endswith((".se", ".ci95_low", ".ci95_high")):
            continue
        table.add_column(column, justify="right")
    for _, row in summary.head(40).iterrows():
        table.add_row(
            *[
                _fmt_small(row[c])
                for c in summary.columns
                if not (c == "point" or c.endswith((".se", ".ci95_low", ".ci95_high")))
            ]
        )
    out.print(table)
    if len(summary) > 40:
        out.print(f"… {len(summary) - 40} more points in {out_dir}/summary.parquet", style="dim")
    err.print(
        f"{result.computed} points computed, {len(result.points) - result.computed} resumed; results in {out_dir}/",
        markup=False,
    )


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
        Path | None, typer.Option("--out", help="Write indices.parquet, indices.json, points.parquet.", file_okay=False)
    ] = None,
) -> None:
    """Which parameters matter most: Sobol (S1, ST) or Morris (mu*, sigma) indices with 95 % CIs (SALib).

    Example:  spamsim sensitivity scenarios/japan-2011.yaml --method sobol --n 64
    -p market.profit_per_sale=1000:10000 -p enforcement.reach_abroad=0:1 --metric net_profit
    """
    preflight(workers, backend, scheduler)
    scenario = load(file, set_ or [])
    bar = _VariantProgress(quiet=as_json, label="points")
    with make_backend(workers, backend, scheduler) as engine, bar:
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
    if as_json:
        sys.stdout.write(dump_json(payload))
    else:
        table = Table(
            title=f"{scenario.name}: {method} sensitivity of {metric} ({payload['runs']} points x {reps} reps)"
        )
        table.add_column("parameter")
        for column in result.indices.columns:
            table.add_column(column, justify="right")
        for name, row in result.indices.iterrows():
            table.add_row(str(name), *[_fmt_small(v) for v in row])
        out.print(table)
    if out_dir is not None:
        write_atomic(out_dir / "indices.parquet", lambda tmp: result.indices.reset_index().to_parquet(tmp, index=False))
        write_text_atomic(out_dir / "indices.json", dump_json(payload))
        write_atomic(out_dir / "points.parquet", lambda tmp: result.sweep.replications.to_parquet(tmp, index=False))
        err.print(f"wrote 3 files to {out_dir}/", markup=False)


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
            "--out", help="Write calibrated.yaml, estimates.parquet, fit.parquet, calibration.png.", file_okay=False
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit funnel probabilities to observed stage counts (maximum likelihood, profile-likelihood CIs).

    Example:  spamsim calibrate scenarios/lecture.yaml --observed scenarios/observed/spamalytics.yaml
    --fit market.success_rate -o calibrated.yaml
    """
    scenario = load(file, set_ or [])
    result = calibrate(scenario, observed, fit)
    if output is not None:
        write_text_atomic(output, result.to_yaml())
        err.print(f"wrote the calibrated scenario to {output}", markup=False)
    if out_dir is not None:
        write_text_atomic(out_dir / "calibrated.yaml", result.to_yaml())
        write_atomic(
            out_dir / "estimates.parquet", lambda tmp: result.estimates.reset_index().to_parquet(tmp, index=False)
        )
        fit_frame = result.fitted_counts()
        write_atomic(out_dir / "fit.parquet", lambda tmp: fit_frame.to_parquet(tmp, index=False))
        figures = _write_figures(out_dir, [("calibration", fit_frame)])
        err.print(
            f"wrote calibrated.yaml, estimates.parquet, fit.parquet, {', '.join(figures)} to {out_dir}/", markup=False
        )
    if as_json:
        sys.stdout.write(dump_json(result.to_json()))
        return
    table = Table(
        title=f"{scenario.name}: calibrated to {observed}", caption=f"log-likelihood {result.log_likelihood:.4g}"
    )
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    table.add_column("95 % CI", justify="right")
    table.add_column("interval", style="dim")
    for name, row in result.estimates.iterrows():
        table.add_row(
            str(name),
            _fmt_small(row["estimate"]),
            f"[{_fmt_small(row['ci_low'])}, {_fmt_small(row['ci_high'])}]",
            str(row["method"]),
        )
    out.print(table)


class _VariantProgress:
    """A rich progress bar over variants (stderr, interactive terminals only)."""

    def __init__(self, quiet: bool, label: str = "variants"):
        self.enabled = not quiet and err.is_terminal
        self.label = label
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> _VariantProgress:
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


def result_table(result: Result) -> Table:
    """The funnel and the money as a rich table: mean and 95 % CI per metric."""
    sc = result.scenario
    table = Table(
        title=f"{sc.name} — {result.reps:,} replications",
        caption=f"mean and 95 % confidence interval of the mean; money in {result.currency}",
    )
    wide = out.width >= 110
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95 % CI", justify="right")
    if wide:
        table.add_column("what it counts", style="dim")
    summary = result.summary
    for metric in summary.index:
        row = summary.loc[metric]
        name = f"{metric} ({result.currency})" if metric in MONEY else str(metric)
        ci = _ci_cell(row)
        doc = METRIC_DOCS.get(str(metric), "")
        if str(metric).startswith("blocked_by."):
            doc = f"blocked by {str(metric).split('.', 1)[1].replace('_', ' ')}"
        style = "bold" if metric in ("revenue", "net_profit") else None
        cells = [name, _fmt(row["mean"]), ci] + ([doc] if wide else [])
        table.add_row(*cells, style=style)
    return table


def _ci_cell(row: pd.Series) -> str:
    """The 95 % CI of one summary row as shown in the table.

    Parameters
    ----------
    row
        A row of ``Result.summary``.

    Returns
    -------
    str
        ``[low, high]``; for an event no replication saw, how many saw it and the upper bound
        (``0 of 200 (upper bound 0.0184)``); a dash when there is no interval.
    """
    lo, hi = row["ci95_low"], row["ci95_high"]
    if lo != lo:
        return "—"
    if row["ci_method"] == CI_ZERO_EVENTS:
        return f"0 of {int(row['n']):,} (upper bound {_fmt_small(hi)})"
    return f"[{_fmt(lo)}, {_fmt(hi)}]"


def channel_table(result: Result) -> Table:
    """Where the spam went: per channel, mean per replication of each stage and blocker."""
    frame = result.by_channel
    table = Table(title="by channel (mean per replication)")
    table.add_column("channel")
    columns = (
        ["attempted", "unsent"]
        + [f"blocked_by.{n}" for n in result.blocked_by]
        + [
            "delivered",
            "filtered",
            "sales",
            "revenue",
        ]
    )
    for column in columns:
        label = column.replace("blocked_by.", "blocked: ").replace("_", " ")
        table.add_column(label, justify="right")
    for channel, row in frame.iterrows():
        table.add_row(str(channel), *[_fmt(row[c]) for c in columns])
    return table


def spammer_table(result: Result) -> Table:
    """Per spammer: money (mean per replication) and how often it was convicted or quit."""
    frame = result.by_spammer
    table = Table(title=f"by spammer (mean per replication, money in {result.currency})")
    table.add_column("spammer")
    for column in frame.columns:
        table.add_column(column.replace("_", " "), justify="right")
    for spammer, row in frame.iterrows():
        table.add_row(str(spammer), *[_fmt(v) for v in row])
    return table


def _short(x: float | None) -> str:
    """Compact money for tables: 1.23M, -45.6k (SI prefixes, three significant digits)."""
    if x is None or x != x:
        return "—"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _fmt_small(x: float) -> str:
    """Like :func:`_fmt`, but keeps significant digits of small numbers (rates, ratios)."""
    if x != x:
        return "—"
    if x in (float("inf"), float("-inf")):
        return "∞" if x > 0 else "-∞"
    if 0 < abs(x) < 1:
        return f"{x:.3g}"
    return _fmt(x)


def _fmt(x: float) -> str:
    if x != x:
        return "—"
    if abs(x) >= 1e12:
        return f"{x:.4g}"
    if abs(x - round(x)) < 1e-9 or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.4g}"


def main() -> None:
    """Console-script entry point."""
    if "--debug" in sys.argv[1:]:
        os.environ["SPAMSIM_DEBUG"] = "1"
    app(prog_name="spamsim")


if __name__ == "__main__":  # pragma: no cover
    main()
