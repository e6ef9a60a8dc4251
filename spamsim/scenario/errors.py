"""Scenario problems reported the way compilers do: ``FILE:LINE:COL: field.path: message``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic_core import PydanticCustomError


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, limit: int | None = None) -> str:
    """``text`` safe to print on a terminal: every non-printable character escaped.

    Control characters (ESC starts terminal escape sequences), newlines, and invisible or
    direction-changing characters (Unicode categories C* and Z* other than the space) are shown
    the way Python writes them, ``\\x1b``, ``\\n``, ``\\u202e``; printable text, Japanese
    included, is left alone.

    Parameters
    ----------
    text
        Any text that came from a user (a file name, a value, a name).
    limit
        If given, show at most this many characters of ``text``, then ``…``.

    Examples
    --------
    >>> printable("evil\x1b[31mred\nline")
    'evil\\x1b[31mred\\nline'
    """
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def dotted_path(path: tuple[str | int, ...]) -> str:
    """A data path as users read it: ``market.success_rate``, ``spammers.0.campaign``, ``events[2].day``.

    Event items are written with brackets because the keys of an event's ``set`` are dotted
    paths themselves: ``events[2].set.countermeasures.op25b.adoption``.
    """
    if len(path) >= 2 and path[0] == "events" and isinstance(path[1], int):
        rest = ".".join(str(p) for p in path[2:])
        return f"events[{path[1]}]" + (f".{rest}" if rest else "")
    return ".".join(str(p) for p in path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, with where it is."""

    source: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        # Everything here may come from the user (a file name, a key, a value): never let a
        # control sequence through to the terminal, and keep a problem on one line.
        where = printable(self.source)
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        field = f" {printable(self.path)}:" if self.path else ""
        return f"{where}:{field} {printable(self.message)}"


class ScenarioError(ValueError):
    """A scenario could not be loaded; ``problems`` lists everything that is wrong."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Issue:
    """A problem found by a check over the whole scenario, with the data path it belongs to.

    Checks that see the whole scenario (schedule keys against ``horizon.start_year``, events)
    raise it through :func:`issues_error`, so the loader can point at ``path`` in the file
    even though pydantic would place the error at the scenario's root.
    """

    path: tuple[str | int, ...]
    """Where to point in the scenario data (the nearest existing ancestor is used)."""
    shown: str
    """The field path to show, e.g. ``events[2].set.countermeasures.op25b.adoption``."""
    message: str
    key: bool = False
    """Point at the mapping key at ``path`` rather than at its value."""

    def __str__(self) -> str:
        return f"{self.shown}: {self.message}" if self.shown else self.message


ISSUES_ERROR = "scenario_issues"
"""The pydantic error type that carries a tuple of :class:`Issue` in its context."""


def issues_error(issues: list[Issue]) -> PydanticCustomError:
    """A pydantic error carrying ``issues``; its message lists them all, for use outside the loader."""
    from pydantic_core import PydanticCustomError  # here: printing an error must not load pydantic

    text = "; ".join(str(issue) for issue in issues)
    return PydanticCustomError(ISSUES_ERROR, "{text}", {"text": text, "issues": tuple(issues)})
