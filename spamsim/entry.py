"""The ``spamsim`` console script.

Every command goes to the command line in :mod:`spamsim.cli` (typer), except the plainest
call of the one command that editors and pre-commit hooks run on every save:
``spamsim validate FILE...`` with no option. That call is answered by
:func:`spamsim.scenario.check.check_files`, the same function the typer command calls, without
importing typer and rich (a fifth of its start-up; the target is 0.3 s, BENCHMARKS.md row 6).
Anything else — an option, ``--help``, ``-`` for standard input — takes the full command line.
"""

from __future__ import annotations

import os
import sys


def _plain_validate(args: list[str]) -> bool:
    return len(args) > 1 and args[0] == "validate" and not any(arg.startswith("-") for arg in args[1:])


def main() -> None:
    """Console-script entry point."""
    # Pydantic looks for plugins (observability hooks such as logfire) by scanning the entry
    # points of every installed package when it builds its first validator: 10-40 ms of each
    # command's start-up for hooks the command line never uses. A user who sets the variable
    # keeps their setting.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = sys.argv[1:]
    if _plain_validate(args) and not os.environ.get("SPAMSIM_DEBUG"):
        from .scenario.check import check_files

        try:
            code = check_files(args[1:])
        except KeyboardInterrupt:
            sys.stderr.write("interrupted; nothing was written\n")
            code = 130
        except Exception as exc:  # noqa: BLE001 - the same last line of defence as the full CLI
            from .runner.errors import internal_error

            sys.stderr.write(internal_error(exc) + "\n")
            code = 1
        sys.exit(code)
    from .cli import main as cli_main

    cli_main()


__all__ = ["main"]


if __name__ == "__main__":  # pragma: no cover - `python -m spamsim.entry`, as the console script
    main()
