"""Processes for the page's background work: refined runs, countermeasure effects, figures.

The server answers a click in one Python process, whose threads share one interpreter lock.
A figure being drawn (matplotlib holds the lock through most of it) or a refined run still in
its block of replications when the next click arrives used to hold back the closed form and the
quick run by up to a second. Background work therefore runs in worker processes that

* run at a lower scheduling priority (``nice`` :data:`NICE`), so the answer to a click comes
  first on a machine with few cores (the quick run that answers it runs in a worker of its own,
  :data:`FOREGROUND`, at the server's priority);
* are killed at once when their work is abandoned (a newer click, Cancel), instead of
  finishing their block; a killed worker is replaced by forking a new one from a server that
  has the library imported already (``forkserver``), which takes milliseconds.

The numbers do not depend on where they are computed: a worker calls the same library
functions with the same scenario and seed.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .trace import mark

NICE = 5
"""How much lower a worker's priority is than the server's (Unix ``nice`` increment). Mild: the work a
click supersedes is killed anyway, so little competes with a click, and on a machine busy with other
work a larger increment leaves the effects and figures a small share of the CPU (at 10, about a tenth
of a contended core)."""

KEEP_IDLE = 2
"""Idle workers kept for the next piece of work (more are started when needed, then ended)."""

WAIT_SECONDS = 0.005
"""How often a caller looks at its progress and whether it was cancelled while a worker works."""

PRELOAD = (
    "spamsim.api",
    "spamsim.analysis.effects",
    "spamsim.app.jobs",
    "spamsim.app.server",
    "spamsim.plots.funnel",
    "spamsim.plots.effects",
    "spamsim.plots.deterrence",
    "spamsim.plots.timeline",
)
"""Modules the fork server imports once, so a new worker starts with them (and in milliseconds)."""

Progress = Callable[[float], None]
"""How work in a worker reports its progress (0-1)."""


@functools.cache
def _context() -> Any:
    """``forkserver`` where the platform has it (Unix), else ``spawn`` (workers then start slower)."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return mp.get_context("spawn")


def _serve(conn: Connection, progress: Any, nice: int) -> None:
    """A worker's loop: receive ``(function, args)``, send back ``(True, value)`` or ``(False, exception)``."""
    if nice and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(nice)

    def report(fraction: float) -> None:
        progress.value = fraction

    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, fn(*args, progress=report))
        except Exception as exc:  # noqa: BLE001 - sent to the caller, who shows it in the page
            reply = (False, exc)
        try:
            conn.send(reply)
        except OSError:  # the server has gone (or dropped this worker): nobody waits for the answer
            return
        except Exception as exc:  # noqa: BLE001 - a value or exception that does not pickle
            try:
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            except OSError:
                return


class Worker:
    """One worker process and the pipe to it; used by one caller at a time."""

    def __init__(self, nice: int = NICE) -> None:
        ctx = _context()
        self._conn, child = ctx.Pipe()
        self._progress = ctx.Value("d", 0.0, lock=False)
        self._process = ctx.Process(
            target=_serve, args=(child, self._progress, nice), daemon=True, name="spamsim-app-worker"
        )
        self._process.start()
        child.close()

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self._process.is_alive()

    def call(self, report: Progress, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """Run ``fn(*args, progress=...)`` in the worker; ``(True, value)`` or ``(False, exception)``.

        ``report`` is called with the worker's progress while it works; whatever ``report``
        raises (the job's ``Cancelled``) propagates, and the worker is then left mid-work:
        the caller must :meth:`kill` it.
        """
        self._progress.value = 0.0
        mark("worker-send", fn=fn.__name__)
        self._conn.send((fn, args))
        mark("worker-sent", fn=fn.__name__)
        while not self._conn.poll(WAIT_SECONDS):
            report(float(self._progress.value))
            if not self._process.is_alive():
                return False, RuntimeError(f"the worker process ended (exit code {self._process.exitcode})")
        try:
            result: tuple[bool, Any] = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(1)
            return False, RuntimeError(f"the worker process ended (exit code {self._process.exitcode})")
        mark("worker-received", fn=fn.__name__)
        return result

    def kill(self) -> None:
        """End the process at once (its work is abandoned)."""
        self._process.kill()
        self._process.join(5)
        self._conn.close()


class Pool:
    """Workers at one priority: an idle one is reused, a busy one abandoned is killed."""

    def __init__(self, nice: int = NICE, keep_idle: int = KEEP_IDLE) -> None:
        self.nice = nice
        self.keep_idle = keep_idle
        self._idle: list[Worker] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start the idle workers now (the fork server imports the library once, at start-up)."""
        with self._lock:
            missing = self.keep_idle - len(self._idle)
        started = [Worker(self.nice) for _ in range(max(missing, 0))]
        with self._lock:
            self._idle += started

    def run(self, report: Progress, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args, progress=...)`` in a worker; its exception is raised here, as is ``report``'s.

        Parameters
        ----------
        report
            Called with the progress (0-1) every :data:`WAIT_SECONDS`; to abandon the work it
            raises, and the worker is killed.
        fn
            A module-level function (it is pickled by name) taking ``progress`` as a keyword.
        args
            Its arguments (pickled: scenarios, results and comparisons are).
        """
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.alive:
            worker = Worker(self.nice)
        try:
            ok, value = worker.call(report, fn, *args)
        except BaseException:
            worker.kill()
            raise
        with self._lock:
            if worker.alive and len(self._idle) < self.keep_idle:
                self._idle.append(worker)
                worker = None
        if worker is not None:
            worker.kill()
        if not ok:
            raise value
        return value


BACKGROUND = Pool()
"""The app's background workers (shared by every browser tab)."""

FOREGROUND = Pool(nice=0, keep_idle=1)
"""The worker for the quick run a click waits for, at the server's own priority. In the server's
thread the run shared the interpreter lock with the page's updates, so it waited until the closed
form had been sent (30-45 ms), and a newer click had to wait for its block to end; here it starts
as soon as the click arrives and is killed at once when the next click supersedes it."""
