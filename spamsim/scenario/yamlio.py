"""Safe YAML reading that remembers where every value came from.

A document is parsed into events by libyaml (PyYAML's ``CSafeLoader`` parser; the pure-Python
``SafeLoader`` parser where PyYAML was built without libyaml), composed into nodes by a small
loop here, and turned into plain data by a walk that

* resolves plain scalars with the YAML 1.2 **core schema** only: ``null``/``~``/empty,
  ``true``/``false`` (three spellings each), decimal, ``0o`` and ``0x`` integers, and floats
  including ``1e6``, ``.inf`` and ``.nan``. Everything else is text. YAML 1.1 spellings that
  PyYAML would have silently turned into numbers (``017`` as octal 15, ``1_000``, ``1:30`` as
  90, ``0b101``) are reported with where they are and what to write instead;
  ``yes``/``no``/``on``/``off`` stay text, and the loader explains them where a boolean or a
  number was expected;
* records the line and column of every key and value (for ``FILE:LINE:COL`` messages);
* reports duplicate keys instead of overwriting;
* keeps time and memory linear in the file and bounded: composing stops as soon as the
  document has more than :data:`MAX_NODES` nodes or is nested deeper than :data:`MAX_DEPTH`
  (without recursion, so no stack can overflow), and expanding aliases and merge keys stops
  at the same node budget ("billion laughs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Problem, dotted_path

MAX_NODES = 100_000
"""Most YAML nodes a document may have, counted while composing and again after expanding
aliases and merge keys. The largest shipped scenario has about 150 and a scenario with the
most events the schema allows (1,000) about 10,000; 100,000 leaves room for long schedules
and sweep designs while keeping the worst case near 100 MB and a few seconds (each node costs
a few hundred bytes in nodes, marks and the data built from them)."""
MAX_DEPTH = 64
"""Deepest nesting a document may have (a scenario nests about 6 levels)."""

Path = tuple[str | int, ...]

_EventSource: Any = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
"""libyaml's parser, ~20x faster than PyYAML's pure-Python one, which is the fallback."""
if _EventSource is None:  # pragma: no cover - depends on how PyYAML was built
    _EventSource = yaml.SafeLoader

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_BINARY = re.compile(r"^[-+]?0b[01_]+$")
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters YAML does not allow in a document (as PyYAML's reader checks)."""

YAML11_BOOLEANS = frozenset(
    w for word in ("yes", "no", "on", "off", "y", "n") for w in (word, word.capitalize(), word.upper())
)
"""Words YAML 1.1 read as booleans; with the core schema they are text, and the loader says so
where a boolean or a number was expected."""


def resolve_plain(value: str) -> str:
    """The core-schema tag of a plain (unquoted) scalar: null, bool, int, float or str."""
    if _NULL.match(value):
        return NULL
    if value in _TRUE or value in _FALSE:
        return BOOL
    if _INT.match(value) and not _LEADING_ZERO.match(value):
        return INT
    if _FLOAT.match(value) and not _LEADING_ZERO.match(value):
        return FLOAT
    if value == "<<":
        return MERGE
    return STR


def yaml_number(text: str) -> int | float | None:
    """``text`` as a number if it spells one in the core schema (``500``, ``1e6``), else ``None``."""
    tag = resolve_plain(text)
    if tag == INT:
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text) if len(text) <= 100 else None
    if tag == FLOAT:
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        return float("nan") if lowered == ".nan" else float(text)
    return None


def yaml11_problem(value: str) -> str | None:
    """What is wrong with a plain scalar that YAML 1.1 would read as a number, else ``None``."""
    if _LEADING_ZERO.match(value):
        digits = value.lstrip("+-")
        sign = value[: len(value) - len(digits)]
        decimal = f"{sign}{int(digits)}"
        if all(c in "01234567" for c in digits):
            octal = int(digits, 8) * (-1 if sign == "-" else 1)
            return (
                f"{value} is ambiguous: YAML 1.1 reads it as octal {octal}; write {decimal} (decimal) "
                f"or {sign}0o{digits.lstrip('0') or '0'} (octal)"
            )
        return f"{value} is ambiguous (a leading zero once meant octal); write {decimal}"
    if _SEXAGESIMAL.match(value):
        return (
            f"{value} is not a number here (YAML 1.1 read it as base 60); write the number itself, "
            f"or quote it if it is text"
        )
    if _BINARY.match(value):
        return f"{value}: binary numbers are not read (YAML 1.1 did); write {int(value.replace('_', ''), 0)}"
    if "_" in value:
        bare = value.replace("_", "")
        if bare and (_INT.match(bare) or _FLOAT.match(bare)) and not bare.startswith("_"):
            return f"{value}: underscores in numbers are not read (YAML 1.1 did); write {bare}"
    return None


class _Pos:
    """A node's start (0-based line and column): all of a mark that is kept, to save memory."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Mark:
    """Where a key or value starts (1-based line and column) in a named source."""

    source: str
    line: int | None = None
    column: int | None = None


@dataclass
class Located:
    """Plain data plus the marks of every value and mapping key in it."""

    data: Any
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Problems that do not stop validation (duplicate keys, refused tags)."""

    def mark_of(self, path: Path, *, key: bool = False) -> Mark | None:
        """The mark of ``path`` (its key if ``key``), else of its nearest ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.values:
                return self.values[path[:n]]
        return None


class YamlProblem(Exception):
    """The YAML itself is unusable; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def _mark(source: str, m: Any) -> Mark:
    if m is None:
        return Mark(source)
    return Mark(source, m.line + 1, m.column + 1)


def parse_yaml(text: str, source: str) -> Located:
    """Parse one YAML document into plain data with marks.

    Duplicate keys, refused tags and YAML 1.1 spellings of numbers are collected in
    ``Located.problems`` (validation still runs, so they are reported with everything else).

    Raises
    ------
    YamlProblem
        On syntax errors, documents too large or too deep, and alias bombs.
    """
    bad = _NON_PRINTABLE.search(text)
    if bad:
        # Control characters are refused before parsing, so both parsers say the same thing.
        position = bad.start()
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        raise YamlProblem(
            [Problem(source, line, column, "", f"character {bad.group()!r} is not allowed in YAML")]
        ) from None
    parser = _EventSource(text)
    try:
        root = _compose(parser, source)
    except yaml.MarkedYAMLError as exc:
        mark = _mark(source, exc.problem_mark)
        problem = f"YAML syntax error: {exc.problem}"
        if "maximum nesting depth" in str(exc.problem):  # libyaml's scanner looks ahead past our limit
            problem = f"document nested deeper than {MAX_DEPTH} levels"
        raise YamlProblem([Problem(source, mark.line, mark.column, "", problem)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblem([Problem(source, None, None, "", f"YAML error: {exc}")]) from None
    finally:
        parser.dispose()
    located = Located(None)
    if root is None:
        raise YamlProblem([Problem(source, None, None, "", "the file is empty")])
    budget = [MAX_NODES]
    located.data = _build(root, (), source, located, located.problems, budget, 0)
    return located


def _too_large(source: str, line: int | None, column: int | None, what: str) -> YamlProblem:
    return YamlProblem([Problem(source, line, column, "", what)])


def _compose(parser: Any, source: str) -> yaml.Node | None:
    """Compose the single document of ``parser``'s event stream into nodes, within the limits.

    A loop with an explicit stack rather than PyYAML's recursive composer: depth and size are
    checked on every event, so a hostile document is refused after at most
    :data:`MAX_NODES` events, whatever its length, and never exhausts the stack.
    """
    parser.get_event()  # StreamStart
    if parser.check_event(yaml.StreamEndEvent):
        parser.get_event()
        return None
    parser.get_event()  # DocumentStart
    anchors: dict[str, yaml.Node] = {}
    # Open collections: (node, anchor, pending key or None); mapping items arrive as key, value.
    stack: list[tuple[yaml.Node, str | None]] = []
    pending: list[Any] = []  # per open mapping: the key waiting for its value
    nodes = 0
    root: yaml.Node | None = None

    def attach(node: yaml.Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1][0]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif pending[-1] is None:
            pending[-1] = node
        else:
            parent.value.append((pending[-1], node))
            pending[-1] = None

    while True:
        event = parser.get_event()
        if isinstance(event, yaml.DocumentEndEvent):
            break
        start = event.start_mark
        pos = _Pos(start.line, start.column)
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            node, anchor = stack.pop()
            if isinstance(node, yaml.MappingNode):
                pending.pop()
            if anchor is not None:
                anchors[anchor] = node
            attach(node)
            continue
        nodes += 1
        if nodes > MAX_NODES:
            raise _too_large(
                source, pos.line + 1, pos.column + 1, f"document too large: more than {MAX_NODES:,} values"
            )
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _too_large(source, pos.line + 1, pos.column + 1, f"undefined alias *{event.anchor}")
            attach(anchors[event.anchor])
            continue
        tag = event.tag
        if isinstance(event, yaml.ScalarEvent):
            if tag is None or tag == "!":
                tag = resolve_plain(event.value) if event.implicit[0] else STR
            node = yaml.ScalarNode(tag, event.value, pos, None, event.style or None)
            if event.anchor is not None:
                anchors[event.anchor] = node
            attach(node)
            continue
        if len(stack) >= MAX_DEPTH:
            raise _too_large(source, pos.line + 1, pos.column + 1, f"document nested deeper than {MAX_DEPTH} levels")
        if isinstance(event, yaml.SequenceStartEvent):
            stack.append((yaml.SequenceNode(SEQ if tag in (None, "!") else tag, [], pos, None), event.anchor))
        else:
            stack.append((yaml.MappingNode(MAP if tag in (None, "!") else tag, [], pos, None), event.anchor))
            pending.append(None)
    if not parser.check_event(yaml.StreamEndEvent):
        event = parser.get_event()
        raise _too_large(
            source,
            event.start_mark.line + 1,
            event.start_mark.column + 1,
            "expected a single document, but found another one (remove the `---`)",
        )
    return root


def _build(
    node: yaml.Node,
    path: Path,
    source: str,
    located: Located,
    problems: list[Problem],
    budget: list[int],
    depth: int,
) -> Any:
    budget[0] -= 1
    mark = _mark(source, node.start_mark)
    if budget[0] < 0:
        raise YamlProblem(
            [
                Problem(
                    source,
                    mark.line,
                    mark.column,
                    dotted_path(path),
                    f"document too large: more than {MAX_NODES:,} values after expanding aliases (an alias bomb?)",
                )
            ]
        )
    if depth > MAX_DEPTH:
        raise YamlProblem(
            [
                Problem(
                    source,
                    mark.line,
                    mark.column,
                    dotted_path(path[:8]) + "…",
                    f"document nested deeper than {MAX_DEPTH} levels",
                )
            ]
        )
    if isinstance(node, yaml.MappingNode):
        if node.tag != MAP:
            located.values[path] = mark
            problems.append(_tag_problem(source, mark, path, node.tag))
            return {}
        return _build_mapping(node, path, source, located, problems, budget, depth, mark)
    located.values[path] = mark
    if isinstance(node, yaml.SequenceNode):
        if node.tag != SEQ:
            problems.append(_tag_problem(source, mark, path, node.tag))
            return []
        return [
            _build(item, (*path, i), source, located, problems, budget, depth + 1) for i, item in enumerate(node.value)
        ]
    try:
        return _scalar(node, path, source, mark, problems)
    except (ValueError, OverflowError) as exc:
        problems.append(Problem(source, mark.line, mark.column, dotted_path(path), str(exc)))
        return None


def _build_mapping(
    node: yaml.MappingNode,
    path: Path,
    source: str,
    located: Located,
    problems: list[Problem],
    budget: list[int],
    depth: int,
    mark: Mark,
) -> dict[str, Any]:
    # Merge keys (`<<: *base`) first, so keys given explicitly win and their marks are kept.
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == MERGE):
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for sub in sources:
            if not isinstance(sub, yaml.MappingNode):
                m = _mark(source, sub.start_mark)
                problems.append(Problem(source, m.line, m.column, dotted_path(path), "`<<` merges mappings only"))
                continue
            built = _build(sub, path, source, located, problems, budget, depth)
            for key, value in built.items():
                merged.setdefault(key, value)
    located.values[path] = mark
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key_mark = _mark(source, key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(
                Problem(source, key_mark.line, key_mark.column, dotted_path(path), "mapping keys must be plain names")
            )
            continue
        if key_node.tag == MERGE:
            continue
        key = str(key_node.value)
        child = (*path, key)
        if key in out:
            first = located.keys[child]
            problems.append(
                Problem(
                    source,
                    key_mark.line,
                    key_mark.column,
                    dotted_path(child),
                    f"duplicate key (first given on line {first.line})",
                )
            )
            continue
        located.keys[child] = key_mark
        out[key] = _build(value_node, child, source, located, problems, budget, depth + 1)
    for key, value in merged.items():
        out.setdefault(key, value)
    return out


def _scalar(node: yaml.ScalarNode, path: Path, source: str, mark: Mark, problems: list[Problem]) -> Any:
    """The value of a scalar node under the core schema; problems for what it does not allow."""
    tag, value = node.tag, str(node.value)
    if tag == STR:
        problem = yaml11_problem(value) if node.style is None else None
        if problem:
            problems.append(Problem(source, mark.line, mark.column, dotted_path(path), problem))
        return value
    if tag == NULL and _NULL.match(value):
        return None
    if tag == BOOL and value in _TRUE + _FALSE:
        return value in _TRUE
    if tag == INT and _INT.match(value) and not _LEADING_ZERO.match(value):
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        if len(value) > 100:  # Python refuses to convert very long digit strings; no count is that long
            raise ValueError(f"number too long ({len(value):,} digits)")
        return int(value)
    if tag == FLOAT and (_FLOAT.match(value) or _INT.match(value)) and not _LEADING_ZERO.match(value):
        lowered = value.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(value)
    if tag in (NULL, BOOL, INT, FLOAT):
        kind = {NULL: "null", BOOL: "true or false", INT: "an integer", FLOAT: "a number"}[tag]
        problems.append(
            Problem(source, mark.line, mark.column, dotted_path(path), f"{value!r} tagged {tag} is not {kind}")
        )
        return None
    if tag == MERGE:
        problems.append(Problem(source, mark.line, mark.column, dotted_path(path), "`<<` is only allowed as a key"))
        return None
    problems.append(_tag_problem(source, mark, path, tag))
    return None


def _tag_problem(source: str, mark: Mark, path: Path, tag: str) -> Problem:
    return Problem(
        source,
        mark.line,
        mark.column,
        dotted_path(path),
        f"YAML tag {tag!r} is not allowed: scenario files are data, never code",
    )
