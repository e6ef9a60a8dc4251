"""Errors the runner raises for work it will not (or can no longer) do; the CLI exits 2 on them."""

from __future__ import annotations


class RefusedError(ValueError):
    """Work that would not finish in reasonable time or memory was refused up front."""


class WorkersLostError(RefusedError):
    """Every worker of a cluster went away while work was pending.

    Not the user's mistake, but not a bug in spamsim either: the message says what to do
    (restart the workers, rerun with ``--resume``), which is what exit code 2 promises, so it
    is a :class:`RefusedError` and never reported as an internal error.
    """


def internal_error(exc: BaseException) -> str:
    """The one line a command prints for a bug in spamsim (never for a user's mistake)."""
    return f"internal error: {type(exc).__name__}: {exc} (run with SPAMSIM_DEBUG=1 or --debug for the traceback)"


__all__ = ["RefusedError", "WorkersLostError", "internal_error"]
