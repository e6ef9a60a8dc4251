"""``spamsim validate``: check scenario files and report each problem on its own line.

The work behind the command, kept apart from the command line so that it needs neither typer
nor rich: editors and pre-commit hooks run ``spamsim validate`` on every save, and the console
script (:mod:`spamsim.entry`) answers such a plain call from here without loading the rest of
the command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .errors import ScenarioError


def check_files(
    files: Sequence[str | os.PathLike[str]], stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Validate every file; print ``ok`` for each valid one and every problem of the others.

    A sweep or exploration file (one with a ``base:``) is checked as one, with its base scenario.

    Parameters
    ----------
    files
        Scenario YAML files (``-`` reads standard input).
    stdout, stderr
        Where ``ok`` lines and problems (``FILE:LINE:COL: field: message``) go; default the
        process's streams.

    Returns
    -------
    int
        The exit code: 0 if every file is valid, 2 otherwise.
    """
    from .loader import load

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    failed = False
    for file in files:
        try:
            try:
                load(file)
            except ScenarioError as exc:
                if not _names_a_base(exc):
                    raise
                _load_study(file)  # a sweep or an exploration: checked with its base scenario
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                stderr.write(f"{problem}\n")
            stderr.flush()
            continue
        stdout.write("ok\n" if len(files) == 1 else f"{file}: ok\n")
        stdout.flush()
    return 2 if failed else 0


def _names_a_base(exc: ScenarioError) -> bool:
    # A scenario has no `base:` field, so a problem there is a `base:` key: sweep and
    # exploration files are built on one.
    return any(p.path == "base" for p in exc.problems)


def _load_study(file: str | os.PathLike[str]) -> None:
    """Validate a sweep or exploration file (an exploration has ``uncertainties`` or ``levers``), and its base."""
    from .explore import load_explore
    from .loader import load, read_text, source_name
    from .sweep import load_sweep
    from .yamlio import parse_yaml

    data = parse_yaml(read_text(file), source_name(file)).data  # parsed fine: `load` got this far
    exploration = isinstance(data, dict) and ("uncertainties" in data or "levers" in data)
    _, base = (load_explore if exploration else load_sweep)(file)
    load(base)


__all__ = ["check_files"]
