"""Where independent tasks run: this process, local worker processes, or a Dask cluster.

Every backend yields ``(key, result)`` pairs as tasks finish, in any order; callers never
let that order influence numbers (each task carries its own seed), so results are identical
whatever the backend and worker count.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

Task = tuple[Any, Callable[..., Any], tuple[Any, ...]]
"""A task: its key, a picklable top-level function, and its arguments."""


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Backend:
    """Runs tasks; ``run`` yields ``(key, result)`` as they complete."""

    name = "inline"

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
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))

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


class DaskBackend(Backend):
    """A Dask distributed cluster: an existing scheduler, or a LocalCluster started here."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the Dask backend needs dask[distributed]: pip install 'spamsim[distributed]'") from exc
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self.cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)

    def run(self, tasks: list[Task]) -> Iterator[tuple[Any, Any]]:
        from dask.distributed import as_completed

        # Keys unique per call: a key that was cancelled or released in an earlier call
        # must never be reused, or the scheduler may report the new task as cancelled.
        batch = uuid.uuid4().hex
        futures = {}
        for key, fn, args in tasks:
            futures[self.client.submit(fn, *args, key=f"spamsim-{batch}-{key}", pure=False)] = key
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_backend(workers: int | None = None, backend: str = "local", scheduler: str | None = None) -> Backend:
    """The backend for ``--workers``/``--backend``/``--scheduler``."""
    if scheduler or backend == "dask":
        return DaskBackend(scheduler, workers)
    workers = workers or default_workers()
    if backend not in ("local", "inline"):
        raise ValueError(f"unknown backend {backend!r}; use local or dask")
    return Backend() if workers <= 1 or backend == "inline" else LocalBackend(workers)
