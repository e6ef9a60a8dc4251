"""Safe YAML reading that remembers where every value came from.

PyYAML's ``SafeLoader`` never constructs Python objects from tags, but its plain
``safe_load`` forgets line numbers and silently keeps the last of two duplicate keys. Here
the document is composed into nodes with ``SafeLoader`` and turned into plain data by a
small walk that

* records the line and column of every key and value (for ``FILE:LINE:COL`` messages),
* reports duplicate keys instead of overwriting,
* refuses alias bombs ("billion laughs") and absurdly deep documents by counting nodes as
  they are expanded, so memory stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Problem, dotted_path

MAX_NODES = 200_000
"""Most YAML nodes (after expanding aliases) a scenario may contain."""
MAX_DEPTH = 64
"""Deepest nesting a scenario may have."""

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as ``1e6`` as numbers.

    YAML 1.1 (PyYAML's default) needs a dot and a signed exponent (``1.0e+6``); a scenario
    author writing ``1e6`` messages means a number.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
        |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


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


def _mark(source: str, m: yaml.Mark | None) -> Mark:
    if m is None:
        return Mark(source)
    return Mark(source, m.line + 1, m.column + 1)


def parse_yaml(text: str, source: str) -> Located:
    """Parse one YAML document into plain data with marks.

    Duplicate keys, refused tags and non-string keys are collected in
    ``Located.problems`` (validation still runs, so they are reported with everything else).

    Raises
    ------
    YamlProblem
        On syntax errors, alias bombs or excessive nesting.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        # Control characters are refused while the text is read, before any mark exists.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlProblem(
            [Problem(source, line, column, "", f"character {exc.character!r} is not allowed in YAML")]
        ) from None
    try:
        root = loader.get_single_node()
    except RecursionError:
        # PyYAML's composer recurses once per nesting level; a hostile document nested
        # thousands deep exhausts the stack before our own depth check can run.
        raise YamlProblem(
            [Problem(source, None, None, "", f"document nested deeper than {MAX_DEPTH} levels")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = _mark(source, exc.problem_mark)
        raise YamlProblem([Problem(source, mark.line, mark.column, "", f"YAML syntax error: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblem([Problem(source, None, None, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    located = Located(None)
    if root is None:
        raise YamlProblem([Problem(source, None, None, "", "the file is empty")])
    budget = [MAX_NODES]
    located.data = _build(root, (), source, loader, located, located.problems, budget, 0)
    return located


def _build(
    node: yaml.Node,
    path: Path,
    source: str,
    loader: _Loader,
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
    located.values[path] = mark
    if isinstance(node, yaml.MappingNode):
        try:
            loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.MarkedYAMLError as exc:
            m = _mark(source, exc.problem_mark)
            problems.append(Problem(source, m.line, m.column, dotted_path(path), str(exc.problem)))
            return {}
        if node.tag != "tag:yaml.org,2002:map":
            problems.append(_tag_problem(source, mark, path, node.tag))
            return {}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_mark = _mark(source, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(
                        source,
                        key_mark.line,
                        key_mark.column,
                        dotted_path(path),
                        "mapping keys must be plain names",
                    )
                )
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
            out[key] = _build(value_node, child, source, loader, located, problems, budget, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            problems.append(_tag_problem(source, mark, path, node.tag))
            return []
        return [
            _build(item, (*path, i), source, loader, located, problems, budget, depth + 1)
            for i, item in enumerate(node.value)
        ]
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        problems.append(_tag_problem(source, mark, path, node.tag))
        return None
    except (ValueError, OverflowError) as exc:
        problems.append(Problem(source, mark.line, mark.column, dotted_path(path), str(exc)))
        return None
    if not isinstance(value, str | int | float | bool | type(None)):
        # Safe tags such as !!binary, !!timestamp or !!set make bytes, dates and sets:
        # none of them is a valid scenario value, so say so here.
        problems.append(
            Problem(
                source,
                mark.line,
                mark.column,
                dotted_path(path),
                f"unsupported value of type {type(value).__name__}",
            )
        )
        return None
    return value


def _tag_problem(source: str, mark: Mark, path: Path, tag: str) -> Problem:
    return Problem(
        source,
        mark.line,
        mark.column,
        dotted_path(path),
        f"YAML tag {tag!r} is not allowed: scenario files are data, never code",
    )
