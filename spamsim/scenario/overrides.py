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

from .errors import Problem, printable
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
            parsed = parse_yaml(raw_value, source) if raw_value.strip() else None
        except YamlProblem as exc:
            problems.extend(Problem(source, None, None, dotted, p.message) for p in exc.problems)
            continue
        if parsed is not None and parsed.problems:
            # YAML 1.1 spellings (`017`, `1_000`), duplicate keys and refused tags in the value.
            problems.extend(Problem(source, None, None, dotted, p.message) for p in parsed.problems)
            continue
        value = parsed.data if parsed is not None else None
        if located.data is None:
            located.data = {}
        problem = _set(located, parts, value, source)
        if problem:
            problems.append(Problem(source, None, None, dotted, problem))
    return problems


def assign(root: Any, parts: list[str], value: Any) -> Path:
    """Set ``value`` at the dotted path ``parts`` inside ``root``, in place.

    Mappings are walked by key (missing or null intermediate keys become new mappings) and
    lists by index or by the ``name`` of an item, as ``--set`` does. A path that goes on below
    a single value (``market.success_rate.deeper`` where ``success_rate`` is ``0.01``) is an
    error: silently replacing the value by a mapping would lose it.

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
        If the path names a list item that does not exist or goes below a single value.
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
                if node.get(part) is None:
                    node[part] = {}
                elif not isinstance(node[part], dict | list):
                    raise ValueError(_below_scalar([*path, part], node[part], parts[i + 1 :]))
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
                if not isinstance(node[index], dict | list):
                    raise ValueError(_below_scalar([*path, index], node[index], parts[i + 1 :]))
                node = node[index]
        else:
            raise ValueError(f"cannot descend into {'.'.join(map(str, path)) or 'the scenario'}: not a mapping")
        path.append(key)
    return tuple(path)


def _below_scalar(path: list[str | int], value: Any, rest: list[str]) -> str:
    shown = printable(repr(value), limit=60)
    where = ".".join(map(str, path))
    return (
        f"cannot set {'.'.join(rest)} below {where}: {where} is the single value {shown}, not a mapping "
        f"(to change it, --set {where}=…)"
    )


def _set(located: Located, parts: list[str], value: Any, source: str) -> str | None:
    try:
        prefix = assign(located.data, parts, value)
    except ValueError as exc:
        return str(exc)
    # Errors in the new value (and anything below it) are reported against the --set, and so
    # are errors about keys the --set created on its way (`nonexistent` in
    # `--set nonexistent.path=1`): none of them is on a line of the file.
    for table in (located.values, located.keys):
        for stale in [p for p in table if p[: len(prefix)] == prefix]:
            del table[stale]
    mark = Mark(source)
    for n in range(1, len(prefix)):
        if prefix[:n] not in located.values:
            located.keys[prefix[:n]] = mark
            located.values[prefix[:n]] = mark
    located.keys[prefix] = mark
    located.values[prefix] = mark
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
