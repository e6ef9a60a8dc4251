"""Where independent tasks run: this process, local worker processes, or a Dask cluster.

Every backend yields ``(key, result)`` pairs as tasks finish, in any order; callers never
let that order influence numbers (each task carries its own seed), so results are identical
whatever the backend and worker count.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .errors import RefusedError, WorkersLostError

Task = tuple[Any, Callable[..., Any], tuple[Any, ...]]
"""A task: its key, a picklable top-level function, and its arguments."""


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_PR_SET_PDEATHSIG = 1
"""``prctl`` option (linux/prctl.h): the signal this process gets when its parent thread ends."""

PARENT_POLL_SECONDS = 0.5
"""How often a worker checks that the process it serves is still alive."""


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends (False where unavailable)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def die_with_parent(owner: int | None = None, parent_death_signal: bool = True) -> None:
    """Make this worker process end when the process it works for ends, even by SIGKILL.

    A SIGKILLed parent runs no cleanup, so its workers must notice by themselves: Linux's
    ``PR_SET_PDEATHSIG`` kills this process the moment its parent *thread* ends (right for a
    single-threaded parent such as multiprocessing's forkserver), and a daemon thread checks
    every :data:`PARENT_POLL_SECONDS` that the parent has not changed (re-parenting means it
    died) and that ``owner`` (the main spamsim process, when the parent is a forkserver)
    still runs.

    Parameters
    ----------
    owner
        Process id of the spamsim process these workers serve, if it is not the parent.
    parent_death_signal
        Use ``PR_SET_PDEATHSIG``; False where the parent is multi-threaded (Dask's nannies
        start workers from a helper thread whose end would kill the worker at once).
    """
    parent = os.getppid()
    if parent_death_signal:
        _set_parent_death_signal()

    def watch() -> None:
        while True:
            if os.getppid() != parent or (owner is not None and not _alive(owner)):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(PARENT_POLL_SECONDS)

    threading.Thread(target=watch, name="spamsim-die-with-parent", daemon=True).start()


def local_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes that end with this process, however it ends.

    ``forkserver``: no fork of a process that may hold threads (BLAS, rich), and no
    start-method side effect at import time (a lesson from Mesa). The workers'
    parent is then the forkserver, which exits when this process does; the workers watch
    both (:func:`die_with_parent`).
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def dask_setup(worker: object) -> None:
    """Dask preload hook (``preload=["spamsim.runner.backends"]``): a LocalCluster's worker
    process ends when the spamsim process that started it does."""
    die_with_parent(parent_death_signal=False)


class Backend:
    """Runs tasks; ``run`` yields ``(key, result)`` as they complete."""

    name = "inline"
    workers = 1
    """How many tasks run at once (for estimates of a sweep's duration)."""

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, Any]]:
        for key, fn, args in tasks:
            yield key, fn(*args)

    def close(self) -> None:
        """Release workers (idempotent)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalBackend(Backend):
    """Local worker processes (``forkserver``: no fork of a threaded parent)."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = local_pool(workers)

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, Any]]:
        # Keep a bounded number of tasks in flight so memory stays flat on huge sweeps and
        # an interruption loses at most ~2 tasks per worker.
        pending: dict[Future[Any], Any] = {}
        queue = iter(tasks)
        try:
            while True:
                while len(pending) < 2 * self.workers:
                    task = next(queue, None)
                    if task is None:
                        break
                    key, fn, args = task
                    pending[self.pool.submit(fn, *args)] = key
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key = pending.pop(future)
                    yield key, future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


WORKERS_GONE_SECONDS = 10.0
"""How long a Dask cluster may have no worker at all, with work pending, before the run stops
(``SPAMSIM_WORKERS_GONE_SECONDS``): long enough for a nanny to restart a dead worker."""

SCHEDULER_TIMEOUT_SECONDS = 5.0
"""How long to wait for a Dask scheduler to answer before reporting it unreachable."""


def workers_gone_seconds() -> float:
    """:data:`WORKERS_GONE_SECONDS`, or ``SPAMSIM_WORKERS_GONE_SECONDS`` when set."""
    try:
        return max(0.0, float(os.environ.get("SPAMSIM_WORKERS_GONE_SECONDS", WORKERS_GONE_SECONDS)))
    except ValueError:
        return WORKERS_GONE_SECONDS


class DaskBackend(Backend):
    """A Dask distributed cluster: an existing scheduler, or a LocalCluster started here.

    If every worker goes away while tasks are pending (killed, out of memory, a cluster
    scaled to zero) for :func:`workers_gone_seconds`, :meth:`run` raises
    :class:`WorkersLostError` instead of waiting forever; what the message says about
    finished work comes from :attr:`on_loss` (a sweep sets it to name its saved points).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        from .preflight import dask_client_modules

        client_cls, cluster_cls = dask_client_modules()
        self.cluster = None
        self.on_loss: Callable[[int, int], str] | None = None
        if scheduler:
            try:
                self.client = client_cls(scheduler, timeout=SCHEDULER_TIMEOUT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - whatever answered (or not), it is no scheduler
                # Something may accept the TCP connection and then speak another protocol
                # (a web server, a proxy): Dask then fails in odd ways (a MemoryError on a
                # bogus frame length), all of which mean "not a Dask scheduler".
                reason = "no answer" if isinstance(exc, TimeoutError | OSError) else type(exc).__name__
                raise RefusedError(
                    f"cannot reach the Dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT_SECONDS:g} s "
                    f"({reason}: {str(exc)[:200]}); start it (dask scheduler) or check the address given to "
                    "--scheduler"
                ) from None
        else:
            self.cluster = cluster_cls(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # Runs dask_setup() in each worker process: it ends when this process does.
                preload=["spamsim.runner.backends"],
            )
            self.client = client_cls(self.cluster)

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Worker threads the cluster has now (at least 1)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # noqa: BLE001 - only an estimate of parallelism
            return 1

    def _worker_count(self) -> int:
        try:
            return len(self.client.nthreads())
        except Exception:  # noqa: BLE001 - a scheduler that does not answer has no workers for us
            return 0

    def _lost(self, finished: int, submitted: int) -> WorkersLostError:
        if self.on_loss is not None:
            return WorkersLostError(self.on_loss(finished, submitted))
        return WorkersLostError(
            f"all Dask workers are gone; {finished} of {submitted} tasks finished; restart the workers and run again"
        )

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, Any]]:
        from dask.distributed import wait as dask_wait
        from distributed.scheduler import KilledWorker

        # Keys unique per call: a key that was cancelled or released in an earlier call
        # must never be reused, or the scheduler may report the new task as cancelled.
        batch = uuid.uuid4().hex
        futures = {}
        for key, fn, args in tasks:
            futures[self.client.submit(fn, *args, key=f"spamsim-{batch}-{key}", pure=False)] = key
        pending = set(futures)
        finished = 0
        no_workers_since: float | None = None
        try:
            while pending:
                try:
                    done, _ = dask_wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                for future in done:
                    pending.discard(future)
                    try:
                        result = future.result()
                    except KilledWorker:
                        raise self._lost(finished, len(tasks)) from None
                    finished += 1
                    yield futures[future], result
                if done:
                    no_workers_since = None
                    continue
                # Nothing finished for a while: a cluster with no workers would wait forever.
                if self._worker_count() > 0:
                    no_workers_since = None
                elif no_workers_since is None:
                    no_workers_since = time.monotonic()
                elif time.monotonic() - no_workers_since >= workers_gone_seconds():
                    raise self._lost(finished, len(tasks))
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_backend(workers: int | None = None, backend: str = "local", scheduler: str | None = None) -> Backend:
    """The backend for ``--workers``/``--backend``/``--scheduler`` (checked first by
    :func:`spamsim.runner.preflight.preflight`, so a mistake is a :class:`RefusedError`)."""
    from .preflight import preflight

    preflight(workers, backend, scheduler)
    if scheduler or backend == "dask":
        return DaskBackend(scheduler, workers)
    workers = workers or default_workers()
    return Backend() if workers <= 1 or backend == "inline" else LocalBackend(workers)
