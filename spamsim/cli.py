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

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .analysis.result import METRIC_DOCS, Result
from .api import run as run_scenario
from .outputs import dump_json, save_run
from .runner.replications import RefusedError
from .scenario import ScenarioError, load
from .scenario.schema import Scenario

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
                f"internal error: {type(exc).__name__}: {exc} "
                "(run with SPAMSIM_DEBUG=1 or --debug for the traceback)",
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
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Simulate what spam earns and what each countermeasure takes away."""
    if debug:
        os.environ["SPAMSIM_DEBUG"] = "1"


FileArg = Annotated[
    Path, typer.Argument(help="Scenario YAML file.", show_default=False, dir_okay=True)
]


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
            help="Override a field: dotted.path=value (repeatable), "
            "e.g. --set market.success_rate=0.02",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes.", min=1)] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of the table.")
    ] = False,
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
        out.print(
            f"seed entropy {result.entropy} — repeat with --seed {result.entropy}", style="dim"
        )
    if out_dir is not None:
        written = save_run(result, out_dir, workers=workers, command=["spamsim", *sys.argv[1:]])
        err.print(f"wrote {len(written)} files to {out_dir}/", markup=False)


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
        lo, hi = row["ci95_low"], row["ci95_high"]
        ci = "—" if lo != lo else f"[{_fmt(lo)}, {_fmt(hi)}]"
        doc = METRIC_DOCS.get(str(metric), "")
        if str(metric).startswith("blocked_by."):
            doc = f"blocked by {str(metric).split('.', 1)[1].replace('_', ' ')}"
        style = "bold" if metric in ("revenue", "net_profit") else None
        cells = [name, _fmt(row["mean"]), ci] + ([doc] if wide else [])
        table.add_row(*cells, style=style)
    return table


def channel_table(result: Result) -> Table:
    """Where the spam went: per channel, mean per replication of each stage and blocker."""
    frame = result.by_channel
    table = Table(title="by channel (mean per replication)")
    table.add_column("channel")
    columns = ["attempted", "unsent"] + [f"blocked_by.{n}" for n in result.blocked_by] + [
        "delivered", "filtered", "sales", "revenue",
    ]
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
