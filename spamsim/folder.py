"""A results folder written as one transaction: the old folder or the new one, never a mix.

A command that writes ``--out D`` opens a :class:`ResultsFolder` *before* it simulates:

1. the parent of ``D`` is created and a lock is taken on the sibling ``.D.lock``
   (``fcntl.flock``, non-blocking; it lives next to ``D`` so it survives the swap), so a
   second writer is refused at once and an unwritable ``--out`` fails before any work;
2. leftovers of a writer that died (``.D.staging-*``, ``.D.old-*``) are restored or removed;
3. what ``D`` holds is checked: other results (another kind, scenario or seed) are refused
   unless ``force``; a folder holding files spamsim did not write is never replaced;
4. the command writes its files (figures included) into a fresh staging folder
   ``.D.staging-PID-XXXX`` next to ``D``;
5. :meth:`ResultsFolder.commit` writes ``manifest.json`` last (kind, scenario digest, seed,
   version, time, every file's sha256 and size, and a completion mark) and swaps the staging
   folder with ``D`` in one ``renameat2(RENAME_EXCHANGE)`` where Linux offers it, else with
   two renames that a later writer can finish or undo.

Readers (:func:`read_manifest`) refuse a folder without a valid manifest, of another kind, or
whose files no longer match it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from . import __version__
from .runner.errors import RefusedError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
KINDS = ("run", "compare", "sweep", "sensitivity", "calibrate", "explore")

RERUN = {
    "run": "spamsim run FILE --out {folder}",
    "compare": "spamsim compare FILE --out {folder}",
    "sweep": "spamsim sweep SWEEP_FILE --out {folder}",
    "sensitivity": "spamsim sensitivity FILE -p ... --out {folder}",
    "calibrate": "spamsim calibrate FILE --observed COUNTS --fit PARAM --out {folder}",
    "explore": "spamsim explore EXPLORE_FILE --out {folder}",
}
"""What to tell a user who needs to write a folder of this kind again."""

SPAMSIM_NAMES = frozenset(
    {
        MANIFEST,
        "summary.json",
        "replications.parquet",
        "timeseries.parquet",
        "ledger.npz",
        "scenario.resolved.yaml",
        "provenance.json",
        "comparison.json",
        "effects.parquet",
        "costs.parquet",
        "variants.parquet",
        "shapley.parquet",
        "indices.parquet",
        "indices.json",
        "points.parquet",
        "summary.parquet",
        "sweep.json",
        "points",
        "calibrated.yaml",
        "estimates.parquet",
        "fit.parquet",
    }
)
"""Names spamsim writes into a results folder (figures are recognised by :func:`_is_figure`)."""

_FIGURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(png|svg|pdf)$")
_TEMPORARY = re.compile(r"^\..+\.tmp$")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while a results folder was open; ``message`` says truthfully what is on disk."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_digest(data: Any) -> str:
    """sha256 of JSON-able data in canonical form (sorted keys, no spaces).

    Parameters
    ----------
    data
        For a scenario, :func:`spamsim.scenario.loader.scenario_data` of it.

    Returns
    -------
    str
        64 hex digits, the same for the same data whatever the key order.
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_digest(scenario: Any) -> str:
    """The digest of a resolved scenario (defaults filled in, overrides applied)."""
    from .scenario.loader import scenario_data

    return data_digest(scenario_data(scenario))


@dataclass(frozen=True)
class Identity:
    """Whose results a folder holds: same kind, scenario digest and seed is the same result."""

    kind: str
    digest: str
    seed: int | None
    scenario: str = ""

    def describe(self) -> str:
        seed = "" if self.seed is None else f", seed {self.seed}"
        # The digest tells apart two versions of a scenario with the same name (another --set, an edit).
        name = f"scenario {self.scenario!r} #{self.digest[:8]}" if self.scenario else f"scenario #{self.digest[:8]}"
        return f"results of `spamsim {self.kind}` ({name}{seed})"

    def same(self, other: Identity) -> bool:
        return (self.kind, self.digest, self.seed) == (other.kind, other.digest, other.seed)


def _siblings(target: Path, tag: str) -> list[Path]:
    # The full pattern, not a prefix: ``.x.old-…`` must not match the staging folder of a folder named ``x.old-1``.
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.{tag}-[0-9]+-[0-9a-f]{{6}}$")
    try:
        return sorted(p for p in target.parent.iterdir() if pattern.match(p.name))
    except OSError:
        return []


def _is_figure(name: str) -> bool:
    return bool(_FIGURE.match(name))


def _is_spamsims(name: str) -> bool:
    """A name spamsim writes into a results folder: its files, figures (also `spamsim plot`'s), temporaries."""
    return name in SPAMSIM_NAMES or _is_figure(name) or bool(_TEMPORARY.match(name))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the few system calls of a swap, so Ctrl-C lands before or after it."""
    signals = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return False
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # an old kernel or a filesystem without the flag: fall back to two renames
    raise OSError(code, os.strerror(code), str(a))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _refuse_os(target: Path, exc: OSError) -> RefusedError:
    reason = exc.strerror or str(exc)
    where = exc.filename or target
    return RefusedError(f"cannot write results to {target}: {where}: {reason}; pick another --out")


class ResultsFolder:
    """Write ``target`` as one transaction (see the module docstring).

    Parameters
    ----------
    target
        The ``--out`` folder, exactly as the user gave it (only the command line chooses paths).
    identity
        Kind, scenario digest and seed of the results about to be written.
    force
        Replace a folder holding other spamsim results whole.

    Use as a context manager; call :meth:`commit` once every file is written into
    :attr:`path`. Leaving the block without a commit removes the staging folder and leaves
    ``target`` as it was.
    """

    def __init__(self, target: str | os.PathLike[str], identity: Identity, *, force: bool = False):
        self.shown = Path(target)
        self.target = Path(os.path.abspath(os.path.expanduser(target)))
        if self.target.is_symlink():
            self.target = Path(os.path.realpath(self.target))
        self.identity = identity
        self.force = force
        self.path: Path = self.target  # the staging folder once opened
        self.existed = False
        self.committed = False
        self._lock_fd: int | None = None
        self._open = False
        self._after_commit: list[Path] = []

    # -- opening ------------------------------------------------------------------------------

    def open(self) -> ResultsFolder:
        """Take the lock, recover a dead writer's leftovers, check ``target``, create staging."""
        if self.target.name in ("", ".", ".."):
            raise RefusedError(f"cannot write results to {self.shown}: pick a folder with a name as --out")
        blocker = next((p for p in self.target.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise RefusedError(
                f"cannot write results to {self.shown}: {blocker} is a file, not a folder; pick another --out"
            )
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            try:
                self.recover()
                self._check_target()
                self.path = self.target.parent / f".{self.target.name}.staging-{os.getpid()}-{secrets.token_hex(3)}"
                self.path.mkdir()
            except BaseException:
                self._unlock()
                raise
        except OSError as exc:
            raise _refuse_os(self.shown, exc) from None
        self._open = True
        return self

    @property
    def lock_path(self) -> Path:
        return self.target.parent / f".{self.target.name}.lock"

    def _lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            finally:
                os.close(fd)
            raise RefusedError(
                f"another spamsim (pid {holder}) is writing {self.shown}; wait for it or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def recover(self) -> None:
        """Finish or undo the swap of a writer that died; remove its staging folders.

        Called with the lock held, so every leftover belongs to a writer that no longer runs.
        """
        olds = _siblings(self.target, "old")
        if olds and not self.target.exists():
            # Died between the two renames of the fallback swap: the old results come back.
            os.rename(olds[-1], self.target)
            olds = olds[:-1]
        for leftover in [*olds, *_siblings(self.target, "staging")]:
            _remove(leftover)

    def _check_target(self) -> None:
        target, shown = self.target, self.shown
        if not target.exists():
            return
        if not target.is_dir():
            raise RefusedError(f"--out {shown} is a file, not a folder; pick another --out")
        names = sorted(p.name for p in target.iterdir())
        if not names:
            return
        self.existed = True
        manifest = _load_manifest(target)
        if manifest is None:
            foreign = [n for n in names if not _is_spamsims(n)]
            if foreign:
                raise RefusedError(
                    f"{shown} is not a spamsim results folder (it holds {_listing(foreign)}); "
                    "spamsim never replaces such a folder, even with --force: pick another --out"
                )
            if not self.force:
                raise RefusedError(
                    f"{shown} holds files of an unfinished or older spamsim results folder (no {MANIFEST}); "
                    "--force replaces it whole, or pick another --out"
                )
            return
        listed = {str(f["path"]).split("/", 1)[0] for f in manifest.get("files", [])}
        foreign = [n for n in names if n not in listed and not _is_spamsims(n)]
        if foreign:
            raise RefusedError(
                f"{shown} holds files spamsim did not write ({_listing(foreign)}); move them away or pick another --out"
            )
        there = Identity(
            str(manifest.get("kind")),
            str(manifest.get("scenario_digest")),
            manifest.get("seed"),
            str(manifest.get("scenario", "")),
        )
        if not there.same(self.identity) and not self.force:
            raise RefusedError(
                f"{shown} holds {there.describe()}; writing {self.identity.describe()} there would mix them. "
                "--force replaces it whole, or pick another --out"
            )

    # -- closing ------------------------------------------------------------------------------

    def remove_after_commit(self, path: Path) -> None:
        """Remove ``path`` once the swap is done, still under the lock (a sweep's working folder)."""
        self._after_commit.append(path)

    def commit(self, extra: dict[str, Any] | None = None) -> Path:
        """Write ``manifest.json`` last, then swap the staging folder in as ``target``."""
        if not self._open:
            raise RuntimeError("commit() of a results folder that is not open")
        write_manifest(self.path, self.identity, extra)
        _fsync_dir(self.path)
        with _signals_deferred():
            if self.target.exists() and _renameat2_exchange(self.path, self.target):
                self.committed = True
            else:
                old = self.target.parent / f".{self.target.name}.old-{os.getpid()}-{secrets.token_hex(3)}"
                if self.target.exists():
                    os.rename(self.target, old)
                os.rename(self.path, self.target)
                self.committed = True
                self.path = old
            _fsync_dir(self.target.parent)
        for path in [self.path, *self._after_commit]:  # the previous results (or nothing), then work folders
            _remove(path)
        self.path = self.target
        self._close()
        return self.target

    def abort(self) -> None:
        """Remove the staging folder and release the lock; ``target`` stays as it was."""
        if self._open and not self.committed:
            _remove(self.path)
        self._close()

    def _close(self) -> None:
        self._open = False
        self._unlock()

    def interrupted_message(self) -> str:
        """What Ctrl-C leaves on disk, said truthfully."""
        if self.committed:
            return f"interrupted; {self.shown} was already written (it holds the new results)"
        if self.existed:
            return f"interrupted; {self.shown} was not changed (it still holds the previous results)"
        return f"interrupted; nothing was written to {self.shown}"

    def __enter__(self) -> ResultsFolder:
        return self if self._open else self.open()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted):
            raise Interrupted(self.interrupted_message()) from None


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def write_manifest(folder: Path, identity: Identity, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """List every file of ``folder`` (sha256, size) and write ``manifest.json`` (the last file)."""
    from .atomic import write_text_atomic

    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == MANIFEST:
            continue
        files.append({"path": relative, "size": path.stat().st_size, "sha256": sha256_file(path)})
    manifest = {
        "format": "spamsim-results",
        "format_version": FORMAT_VERSION,
        "kind": identity.kind,
        "scenario": identity.scenario,
        "scenario_digest": identity.digest,
        "seed": identity.seed,
        "spamsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
        "files": files,
        "complete": True,
    }
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def _load_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder`` if it is one spamsim wrote and completed, else None."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != "spamsim-results" or data.get("complete") is not True:
        return None
    if not isinstance(data.get("files"), list) or data.get("kind") not in KINDS:
        return None
    return data


def read_manifest(folder: str | os.PathLike[str], kind: str | tuple[str, ...]) -> dict[str, Any]:
    """Check that ``folder`` is a complete results folder of ``kind`` whose files match; return its manifest.

    Raises
    ------
    RefusedError
        Without a valid manifest, of another kind, or when a listed file is missing or changed.
    """
    shown = Path(folder)
    kinds = (kind,) if isinstance(kind, str) else kind
    rerun = RERUN[kinds[0]].format(folder=shown)
    if not shown.is_dir():
        raise RefusedError(f"{shown}: no such results folder; write it with `{rerun}`")
    manifest = _load_manifest(shown)
    if manifest is None:
        why = "no manifest.json" if not (shown / MANIFEST).exists() else "its manifest.json is incomplete or damaged"
        raise RefusedError(f"{shown}: not a complete spamsim results folder ({why}); rerun `{rerun}`")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RefusedError(
            f"{shown} was written by spamsim {manifest.get('spamsim_version')} in another format "
            f"(version {manifest.get('format_version')}); rerun `{rerun}`"
        )
    if manifest["kind"] not in kinds:
        wanted = " or ".join(f"`spamsim {k} --out`" for k in kinds)
        raise RefusedError(f"{shown} holds the results of `spamsim {manifest['kind']}`, not of {wanted}")
    again = RERUN[manifest["kind"]].format(folder=shown)
    for entry in manifest["files"]:
        relative = str(entry.get("path", ""))
        if _is_figure(relative):
            continue  # figures are listed but not read back, and `spamsim plot` redraws them in place
        path = shown / relative
        if relative.startswith("/") or ".." in Path(relative).parts:
            raise RefusedError(f"{shown}/{MANIFEST} lists a path outside the folder ({relative}); rerun `{rerun}`")
        try:
            matches = path.stat().st_size == entry.get("size") and sha256_file(path) == entry.get("sha256")
        except OSError:
            raise RefusedError(f"{shown}/{relative} is missing (listed in its manifest); rerun `{again}`") from None
        if not matches:
            raise RefusedError(
                f"{shown}/{relative} does not match its manifest (changed after it was written); rerun `{again}`"
            )
    return manifest


def safe_slug(name: str, fallback: str = "sweep", limit: int = 64) -> str:
    """A file-name-safe slug of ``name``: ``[A-Za-z0-9._-]``, no leading dot or dash, bounded length.

    A name read from a file must never choose where output goes; at most it names one
    folder under a place the command line chose.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip(".-")[:limit].rstrip(".-")
    return slug or fallback
