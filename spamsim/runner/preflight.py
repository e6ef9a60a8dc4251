"""Checks of where work would run, made before any simulation starts.

A wrong ``--backend``, more local workers than cores, a missing Dask extra or an unreachable
scheduler are the user's to fix: each is a :class:`RefusedError` (exit code 2) naming what
was typed and what to do, found in seconds rather than after a run has started.
"""

from __future__ import annotations

import numbers
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .backends import SCHEDULER_TIMEOUT_SECONDS, default_workers
from .errors import RefusedError

BACKENDS = ("local", "dask")
"""Backend names a user may choose (``inline``, this process, is for tests and the API)."""

DEFAULT_SCHEDULER_PORT = 8786
"""Dask's default scheduler port, used when an address names none."""


def install_command(extra: str = "distributed") -> str:
    """The command that installs an optional extra (default: Dask) into the running interpreter's environment."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():  # a source checkout (editable install)
        return f"{sys.executable} -m pip install -e '{root}[{extra}]'"
    return f"{sys.executable} -m pip install 'spamsim[{extra}]'"


def dask_client_modules() -> tuple[Any, Any]:
    """``(Client, LocalCluster)`` from ``dask.distributed``, or a refusal with the install command."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise RefusedError(
            f"the dask backend needs the optional Dask extra, which is not installed ({exc}); "
            f"install it with: {install_command()}"
        ) from None
    return Client, LocalCluster


def check_workers(workers: int | None, *, cli: bool = True) -> None:
    """Refuse more local worker processes than this machine gives spamsim cores.

    Parameters
    ----------
    workers
        Requested local workers (None: all cores).
    cli
        Name the option as typed on the command line (``--workers``) or in Python (``workers=``).
    """
    name = "--workers " if cli else "workers="
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be an integer number of processes, got {workers!r} ({type(workers).__name__})")
    if workers < 1:
        raise RefusedError(f"{name}{workers}: use 1 or more worker processes")
    cores = default_workers()
    if workers > cores:
        cluster = " (or a Dask cluster with --scheduler)" if cli else ""
        raise RefusedError(
            f"{name}{workers}: this machine gives spamsim {cores} core{'s' if cores != 1 else ''}; "
            f"use {name}{cores} or fewer{cluster}"
        )


def scheduler_endpoint(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a TCP-like scheduler address, or None for other transports."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls", "ws", "wss") or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_SCHEDULER_PORT
    except ValueError:
        raise RefusedError(f"--scheduler {address}: the port is not a number; use e.g. tcp://10.0.0.5:8786") from None
    return parts.hostname, port


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT_SECONDS) -> None:
    """Refuse a scheduler that does not accept a TCP connection within ``timeout`` seconds."""
    endpoint = scheduler_endpoint(address)
    if endpoint is None:
        return  # another transport (inproc, ucx): Client(timeout=...) reports it
    host, port = endpoint
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RefusedError(
            f"cannot reach the Dask scheduler at {address} ({reason}); start it (dask scheduler) "
            "or check the address given to --scheduler"
        ) from None


def preflight(
    workers: int | None = None, backend: str = "local", scheduler: str | None = None, *, cli: bool = True
) -> None:
    """Check where work would run before any of it starts.

    Parameters
    ----------
    workers
        Local worker processes (or the LocalCluster's size with ``backend="dask"``); ignored
        for an existing cluster given by ``scheduler``.
    backend
        ``local`` or ``dask`` (``inline``, this process only, is accepted for tests).
    scheduler
        A Dask scheduler address; implies the dask backend.
    cli
        Word the messages for the command line (``--workers``) or Python (``workers=``).

    Raises
    ------
    RefusedError
        An unknown backend, too many workers, a missing Dask extra or an unreachable scheduler.
    """
    if backend not in (*BACKENDS, "inline"):
        typed = f"--backend {backend!r}" if cli else f"backend={backend!r}"
        raise RefusedError(f"unknown {typed}; use local or dask")
    if scheduler is None:
        check_workers(workers, cli=cli)
    if scheduler is not None or backend == "dask":
        dask_client_modules()
    if scheduler is not None:
        check_scheduler(scheduler)


__all__ = ["BACKENDS", "check_scheduler", "check_workers", "dask_client_modules", "install_command", "preflight"]
