"""``--set dotted.path=value`` edits, applied to the raw scenario before validation.

A path walks mappings by key and lists by index or by the ``name`` of an item, so
``spammers.0.campaign.messages_per_send=10000`` and
``spammers.overseas.campaign.messages_per_send=10000`` both work. The value is read as
YAML, so numbers, booleans, lists and ``{dist: …}`` mappings are written as in a file. The
edited value is validated exactly like the file, and errors in it name the ``--set``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import Problem
from .yamlio import Located, Mark, Path, YamlProblem, parse_yaml


def apply_overrides(located: Located, overrides: Iterable[str]) -> list[Problem]:
    """Apply ``path=value`` overrides in place; return the problems found (empty if none)."""
    problems: list[Problem] = []
    for text in overrides:
        source = f"--set {text}"
        if "=" not in text:
            problems.append(Problem(source, None, None, "", "expected dotted.path=value"))
            continue
        dotted, raw_value = text.split("=", 1)
        dotted = dotted.strip()
        parts = [p for p in dotted.split(".")]
        if not dotted or any(not p for p in parts):
            problems.append(Problem(source, None, None, dotted, "empty field name in path"))
            continue
        try:
            value = parse_yaml(raw_value, source).data if raw_value.strip() else None
        except YamlProblem as exc:
            problems.extend(Problem(source, None, None, dotted, p.message) for p in exc.problems)
            continue
        if located.data is None:
            located.data = {}
        problem = _set(located, parts, value, source)
        if problem:
            problems.append(Problem(source, None, None, dotted, problem))
    return problems


def assign(root: Any, parts: list[str], value: Any) -> Path:
    """Set ``value`` at the dotted path ``parts`` inside ``root``, in place.

    Mappings are walked by key (missing or scalar intermediate keys become new mappings) and
    lists by index or by the ``name`` of an item, as ``--set`` does.

    Parameters
    ----------
    root
        Plain scenario data (mappings, lists, scalars).
    parts
        The path split at its dots, e.g. ``["spammers", "overseas", "campaign", "days"]``.
    value
        What to put there (plain data).

    Returns
    -------
    Path
        The path that was set, with list items as indices (``("spammers", 1, "campaign", "days")``).

    Raises
    ------
    ValueError
        If the path names a list item that does not exist or descends into a scalar.
    """
    node = root
    path: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            key: str | int = part
            if last:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict | list):
                    node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            index = _index(node, part)
            if index is None:
                names = [str(item.get("name")) for item in node if isinstance(item, dict)]
                hint = f" (items: {', '.join(names)})" if any(names) else ""
                raise ValueError(f"no list item {part!r}: use an index 0..{len(node) - 1} or a name{hint}")
            key = index
            if last:
                node[index] = value
            else:
                node = node[index]
        else:
            raise ValueError(f"cannot descend into {'.'.join(map(str, path)) or 'the scenario'}: not a mapping")
        path.append(key)
    return tuple(path)


def _set(located: Located, parts: list[str], value: Any, source: str) -> str | None:
    try:
        prefix = assign(located.data, parts, value)
    except ValueError as exc:
        return str(exc)
    # Errors in the new value (and anything below it) are reported against the --set.
    for table in (located.values, located.keys):
        for stale in [p for p in table if p[: len(prefix)] == prefix]:
            del table[stale]
    located.values[prefix] = Mark(source)
    return None


def _index(items: list[Any], part: str) -> int | None:
    if part.lstrip("-").isdigit():
        index = int(part)
        return index if -len(items) <= index < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("name")) == part:
            return i
    return None


__all__ = ["Path", "apply_overrides", "assign"]
