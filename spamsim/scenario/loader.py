"""Load and validate scenarios, reporting every problem at once with where it is.

``load(path)`` reads YAML safely (:mod:`.yamlio`), applies ``--set`` overrides
(:mod:`.overrides`), validates with the pydantic schema (:mod:`.schema`) and turns every
validation error into ``FILE:LINE:COL: dotted.field: message``.
"""

from __future__ import annotations

import difflib
import errno
import io
import numbers
import os
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any, BinaryIO, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from typing_extensions import TypeAliasType

from .errors import ISSUES_ERROR, Problem, ScenarioError, dotted_path, printable
from .overrides import apply_overrides
from .schema import Scenario
from .yamlio import YAML11_BOOLEANS, Located, Path, YamlProblem, parse_yaml, yaml_number

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest scenario, sweep or counts file read (a scenario is a few kilobytes; the biggest
shipped one is under 10 KiB). Reading stops one byte past it, so no file costs more than this
much memory to refuse, and the YAML limits in :mod:`.yamlio` bound what is built from it."""


MAX_PROBLEMS = 50
"""Most problems described for one file. A hostile or badly broken file can have tens of
thousands (one per unknown key); describing each costs a "did you mean" search, and nobody
reads past the first screen. The rest are counted in one last line."""


def load(
    source: str | os.PathLike[str] | Mapping[str, Any] | Scenario,
    overrides: Iterable[str] = (),
) -> Scenario:
    """Load a scenario from a YAML file, a mapping, or pass a :class:`Scenario` through.

    Parameters
    ----------
    source
        Path of a scenario YAML file, a mapping with the same structure, or a Scenario.
    overrides
        ``dotted.path=value`` edits applied before validation, as with ``spamsim run --set``;
        ``value`` is read as YAML (``0.02``, ``{dist: uniform, low: 0, high: 1}``).

    Returns
    -------
    Scenario
        The validated, immutable scenario.

    Raises
    ------
    ScenarioError
        With every problem found, each as ``FILE:LINE:COL: field.path: message``.

    Examples
    --------
    >>> import spamsim
    >>> sc = spamsim.load("scenarios/lecture.yaml", overrides=["market.success_rate=0.02"])
    """
    overrides = list(overrides)
    if isinstance(source, Scenario):
        if not overrides:
            return source
        return _validate(Located(scenario_data(source)), "<scenario>", overrides)
    if isinstance(source, Mapping):
        return _validate(Located(_plain(source)), "<dict>", overrides)
    path = FsPath(source)
    name = source_name(source)
    text = read_text(path)
    try:
        located = parse_yaml(text, name)
    except YamlProblem as exc:
        raise ScenarioError(exc.problems) from None
    if isinstance(located.data, dict) and "name" not in located.data:
        located.data["name"] = "stdin" if name == STDIN_NAME else path.stem
    return _validate(located, name, overrides)


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data that loads back to an equal scenario.

    ``None`` is kept where it means something (``channels.own_server: null`` switches the
    channel off) and dropped inside distributions (a beta given by mean/sd has no a/b).
    """

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            is_dist = "dist" in value
            return {k: clean(v) for k, v in value.items() if not (is_dist and v is None)}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(scenario.model_dump(mode="json"))  # type: ignore[no-any-return]


STDIN = "-"
"""The file name that means "read standard input" (shown as ``<stdin>`` in messages)."""
STDIN_NAME = "<stdin>"

_KINDS = (
    (stat.S_ISDIR, "is a directory, not a scenario file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)
_WHAT_TO_DO = "; give the path of a YAML file, or - to read standard input"


def source_name(path: str | os.PathLike[str]) -> str:
    """How a file argument is named in messages: ``<stdin>`` for ``-``, else the path as given."""
    return STDIN_NAME if str(path) == STDIN else str(path)


def read_capped(stream: BinaryIO, cap: int, name: str) -> bytes:
    """Read ``stream`` to its end, but never more than ``cap + 1`` bytes in all.

    The extra byte tells a file of exactly ``cap`` bytes from a longer one; whatever the file
    claims its size is (a file still growing, ``/proc`` files, standard input), nothing past
    it is ever read.

    Raises
    ------
    ScenarioError
        If the stream holds more than ``cap`` bytes.
    """
    chunks: list[bytes] = []
    remaining = cap + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > cap:
        raise ScenarioError([Problem(name, None, None, "", f"larger than {cap / 2**20:g} MiB: not read any further")])
    return data


def _open_regular(path: FsPath, name: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file, without ever blocking.

    ``O_NONBLOCK`` makes opening a FIFO with no writer return at once (a plain ``open`` waits
    for a writer forever); the kind of file is then checked on the open descriptor, so a file
    swapped between a check and the open cannot slip through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # opening a socket (or a FIFO in some modes)
            kind = os.stat(path).st_mode
            raise _kind_error(kind, name) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _kind_error(mode, name)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return io.FileIO(fd, "rb", closefd=True)


def _kind_error(mode: int, name: str) -> ScenarioError:
    for test, message in _KINDS:
        if test(mode):
            hint = "" if test is stat.S_ISDIR else _WHAT_TO_DO
            return ScenarioError([Problem(name, None, None, "", message + hint)])
    return ScenarioError([Problem(name, None, None, "", "is not a regular file" + _WHAT_TO_DO)])


def read_text(path: FsPath | str) -> str:
    """Read a scenario, sweep or counts file as UTF-8, refusing anything but regular files.

    ``-`` reads standard input. Devices, FIFOs and sockets are refused at once (opening never
    blocks); at most :data:`MAX_FILE_BYTES` + 1 bytes are read (:func:`read_capped`). Every
    I/O problem becomes a :class:`ScenarioError` naming the file.
    """
    name = source_name(path)
    try:
        if str(path) == STDIN:
            raw = read_capped(sys.stdin.buffer, MAX_FILE_BYTES, name)
        else:
            with _open_regular(FsPath(path), name) as stream:
                raw = read_capped(stream, MAX_FILE_BYTES, name)
    except FileNotFoundError:
        raise ScenarioError([Problem(name, None, None, "", "no such file")]) from None
    except PermissionError:
        raise ScenarioError([Problem(name, None, None, "", "permission denied")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(name, None, None, "", "is a directory, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, None, None, "", exc.strerror or str(exc))]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            [Problem(name, line, column, "", "not valid UTF-8 text (save the file as UTF-8)")]
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    # Numbers from numpy (np.int64, np.float32, np.bool_) are numbers to a user in a notebook;
    # validation is strict about Python types, so they become Python numbers here. Strings
    # stay strings: a "500" from Python is as wrong as one from a file.
    if isinstance(value, bool | str | int | float) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    numpy = sys.modules.get("numpy")  # a numpy value implies numpy is loaded; never import it here
    if numpy is not None and isinstance(value, numpy.bool_):  # numpy's boolean is not a numbers.Number
        return bool(value)
    return value


def validate_located(located: Located, source: str, model: type[M]) -> M:
    """Validate parsed YAML against ``model``, reporting every problem with its location."""
    if not isinstance(located.data, dict):
        raise ScenarioError([Problem(source, 1, 1, "", f"expected a mapping of fields ({model.__name__})")])
    try:
        # strict: no string is read as a number or a boolean, no boolean as a number, anywhere
        # in the tree (also in models such as distributions that are not strict themselves).
        validated = model.model_validate(located.data, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        found = [p for err in errors[:MAX_PROBLEMS] for p in _problems(err, located, source, model)]
        # A refused tag or duplicate key already explains the value at its path.
        known = {p.path for p in located.problems}
        found = [p for p in found if p.path not in known]
        found.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise ScenarioError(_at_most(located.problems + found, len(errors) - MAX_PROBLEMS, source)) from None
    if located.problems:
        raise ScenarioError(_at_most(located.problems, 0, source))
    return validated


def _at_most(problems: list[Problem], unexplained: int, source: str) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS` problems, and a last one that says how many more there are."""
    more = max(0, len(problems) - MAX_PROBLEMS) + max(0, unexplained)
    if not more:
        return problems
    shown = problems[:MAX_PROBLEMS]
    return [*shown, Problem(source, None, None, "", f"… and {more:,} more problems (fix these first)")]


def _validate(located: Located, source: str, overrides: list[str]) -> Scenario:
    problems = apply_overrides(located, overrides)
    if problems:
        raise ScenarioError(located.problems + problems)
    return validate_located(located, source, Scenario)


def _problems(err: Any, located: Located, source: str, model: type[BaseModel]) -> list[Problem]:
    if err["type"] == ISSUES_ERROR:
        # A whole-scenario check (schedules, events) that knows which field it is about.
        found = []
        for issue in err["ctx"]["issues"]:
            mark = located.mark_of(issue.path, key=issue.key)
            if mark is None:
                found.append(Problem(source, None, None, issue.shown, issue.message))
            else:
                found.append(Problem(mark.source, mark.line, mark.column, issue.shown, issue.message))
        return found
    error = describe_error(err, located.data, model)
    mark = located.mark_of(error.mark_path, key=error.key)
    dotted = dotted_path(error.path)
    if mark is None:
        return [Problem(source, None, None, dotted, error.message)]
    return [Problem(mark.source, mark.line, mark.column, dotted, error.message)]


@dataclass(frozen=True)
class DescribedError:
    """A pydantic error told in the scenario's terms: which field, what is wrong, where to point."""

    path: Path
    """The field, as keys and indices of the scenario data."""
    message: str
    mark_path: Path
    """Where to point in the file: the field itself, or its parent for a missing field."""
    key: bool
    """Point at the key at ``mark_path`` (an unknown field) rather than its value."""


def describe_error(err: Any, data: Any, model: type[BaseModel]) -> DescribedError:
    """Turn one pydantic error (from ``ValidationError.errors()``) into a :class:`DescribedError`.

    Parameters
    ----------
    err
        One item of ``ValidationError.errors()``.
    data
        The data that was validated.
    model
        The model it was validated against (for "did you mean" suggestions).
    """
    kind = err["type"]
    path = _data_path(data, err["loc"], keep_last=kind in ("missing", "extra_forbidden"))
    message = str(err["msg"])
    if message.startswith(("Value error, ", "Assertion failed, ")):
        message = message.split(", ", 1)[1]
    if kind == "extra_forbidden":
        known = _field_names(err["loc"][:-1], model)
        name = str(path[-1])
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif known:
            message += f"; expected one of: {', '.join(sorted(known))}"
        return DescribedError(path, message, path, True)
    if kind == "missing":
        path = (*path, err["loc"][-1]) if path[-1:] != err["loc"][-1:] else path
        return DescribedError(path, "required field is missing", path[:-1], False)
    strict = _strict_type_message(kind, err.get("input"))
    if strict is not None:
        return DescribedError(path, strict, path, False)
    if kind.endswith(("_parsing", "_type")) and isinstance(err.get("input"), str | int | float):
        message += f" (got {err['input']!r})"
    return DescribedError(path, message, path, False)


_NUMBER_ERRORS = ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float")
_BOOL_ERRORS = ("bool_type", "bool_parsing")


def _strict_type_message(kind: str, value: Any) -> str | None:
    """The message for a value of the wrong type under strict validation, or ``None``.

    Says what was expected, what was given (a string is shown as a string, so ``"500"``
    reads as text) and what to write instead.
    """
    if isinstance(value, bool):
        given = f"a boolean ({str(value).lower()})"
    elif isinstance(value, str):
        given = f"the string {printable(repr(value if len(value) <= 60 else value[:60] + '…'))}"
    elif isinstance(value, int | float):
        given = f"{value!r}"
    else:
        return None
    if kind in _NUMBER_ERRORS:
        whole = kind.startswith("int")
        expected = "expected a whole number" if whole else "expected a number"
        if isinstance(value, float) and whole and value.is_integer():
            return f"{expected}, got {value!r}; write {int(value)}"
        if isinstance(value, str) and (yaml_number(value.strip()) is not None):
            return f"{expected}, got {given}; remove the quotes"
        if isinstance(value, str) and value in YAML11_BOOLEANS:
            return f"{expected}, got {given} (YAML 1.1 read it as a boolean; neither is a number)"
        return f"{expected}, got {given}"
    if kind in _BOOL_ERRORS:
        if isinstance(value, str) and value in YAML11_BOOLEANS:
            word = "true" if value.lower() in ("yes", "on", "y") else "false"
            return f"expected true or false, got {given}; write {word} (YAML 1.1 read {value} as {word})"
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return f"expected true or false, got {given}; remove the quotes"
        return f"expected true or false, got {given}"
    if kind == "string_type" and not isinstance(value, str):
        return f"expected text, got {given}; put it in quotes if it is meant as text"
    return None


def _data_path(data: Any, loc: tuple[Any, ...], keep_last: bool = False) -> Path:
    """The part of a pydantic error location that names real keys and indices in ``data``.

    Pydantic adds union and discriminator tags (``number``, ``distribution``, ``uniform``) to
    locations; they are not in the YAML, so they are dropped here.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif keep_last and i == len(loc) - 1 and isinstance(node, dict):
            path.append(part)  # a missing or unknown final key
        else:
            continue
    return tuple(path)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, TypeAliasType):  # Probability, Money, ... (see .params)
        return _models_in(annotation.__value__)
    if get_origin(annotation) is Annotated:
        return _models_in(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _field_names(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    """Field names valid at a (pydantic) location: the candidates for "did you mean"."""
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, str):
            deeper = [
                m
                for model in models
                if part in model.model_fields
                for m in _models_in(model.model_fields[part].annotation)
            ]
            if deeper:
                models = deeper
            else:  # a union tag such as "distribution" or "beta": narrow by the dist name
                tagged = [m for m in models if part in str(m.model_fields.get("dist", ""))]
                models = tagged or models
    return sorted({name for model in models for name in model.model_fields})
