"""The documentation site: it builds with ``mkdocs build --strict``, loads nothing from outside
itself, its generated references cover every scenario field and CLI command, and the tutorial's
commands work.

The site is built once per module (about 5-20 s on a busy machine); everything else reads it.
"""

from __future__ import annotations

import functools
import html.parser
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.exceptions import TyperException

from spamsim.cli import app
from spamsim.scenario.schema import Scenario

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_docs")

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
SPAMSIM = Path(sys.executable).with_name("spamsim")


def _env() -> dict[str, str]:
    # The checkout's code first on the path, so the site documents (and the tutorial runs) this tree.
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "COLUMNS": "120"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,  # hang guard only
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


# -- offline ------------------------------------------------------------------------------------

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
"""An address outside the site: a scheme with ``//`` (http, https, ftp) or protocol-relative."""

CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.IGNORECASE)


class _Resources(html.parser.HTMLParser):
    """Collects every address the page *loads* (scripts, styles, fonts, images, frames, media)."""

    LOADING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src", "audio": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in self.LOADING and self.LOADING[tag] in values:
            self.loaded.append(values[self.LOADING[tag]])
        if tag == "link" and "href" in values:  # stylesheets, fonts, preconnect, icons
            self.loaded.append(values["href"])
        if "style" in values:
            self.loaded += CSS_URL.findall(values["style"])

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.loaded += CSS_URL.findall(data)


def test_site_loads_nothing_from_outside(site: Path) -> None:
    """No script, style, font or image comes from a CDN: the site works offline (links to cited
    sources, which a reader follows on purpose, are allowed)."""
    outside = []
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        outside += [f"{page.relative_to(site)}: {url}" for url in parser.loaded if EXTERNAL.match(url)]
    for sheet in site.rglob("*.css"):
        urls = CSS_URL.findall(sheet.read_text(encoding="utf-8"))
        outside += [f"{sheet.relative_to(site)}: {url}" for url in urls if EXTERNAL.match(url)]
    for script in site.rglob("*.js"):
        # A script that fetches fonts or other scripts from a CDN at run time.
        text = script.read_text(encoding="utf-8", errors="replace")
        outside += [
            f"{script.relative_to(site)}: {m}" for m in re.findall(r"fonts\.googleapis\.com|cdn\.jsdelivr", text)
        ]
    assert not outside, "the site loads resources from outside itself:\n" + "\n".join(outside)


def test_resources_parser_sees_cdn_addresses() -> None:
    """The offline check would catch a CDN script, stylesheet or font."""
    parser = _Resources()
    parser.feed(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">'
        "<style>@import 'https://example.org/a.css';</style>"
        '<a href="https://cacm.acm.org/">a cited source</a><script src="assets/javascripts/bundle.js"></script>'
    )
    assert [u for u in parser.loaded if EXTERNAL.match(u)] == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "//fonts.googleapis.com/css?family=Roboto",
        "https://example.org/a.css",
    ]


# -- generated references cover the code ----------------------------------------------------------


@functools.cache
def _schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


def _schema_paths() -> list[str]:
    """Every field of the scenario schema as a dotted path (``[]`` for list items), walked here
    independently of docs/hooks.py."""
    schema = _schema()
    defs = schema["$defs"]
    distributions = {"Fixed", "Uniform", "Triangular", "Normal", "LogNormal", "Beta"}
    paths: list[str] = []

    def refs(node: Any) -> list[tuple[str, bool]]:
        found: list[tuple[str, bool]] = []
        if isinstance(node, dict):
            if "$ref" in node:
                found.append((node["$ref"].rsplit("/", 1)[-1], False))
            if node.get("type") == "array" and "$ref" in node.get("items", {}):
                found.append((node["items"]["$ref"].rsplit("/", 1)[-1], True))
            for key in ("anyOf", "oneOf", "allOf"):
                for alt in node.get(key, []):
                    found += refs(alt)
        return found

    def walk(model: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        for name, node in model.get("properties", {}).items():
            path = prefix + name
            paths.append(path)
            for target, is_list in refs(node):
                if target not in distributions and target not in seen:
                    walk(defs[target], f"{path}[]." if is_list else f"{path}.", seen | {target})

    walk(schema, "", frozenset())
    return paths


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_scenario_reference_lists_every_field(site: Path) -> None:
    paths = _schema_paths()
    assert "spammers[].campaign.messages_per_send" in paths
    assert "countermeasures.op25b.adoption" in paths
    text = _text(site / "reference" / "scenario.html")
    missing = [p for p in paths if p not in text]
    assert not missing, f"scenario fields missing from the scenario reference: {missing}"


def test_parameter_table_lists_every_numeric_field(site: Path) -> None:
    """The model reference's parameter table holds every numeric parameter with a unit."""
    text = _text(site / "model.html")
    for path in ("market.success_rate", "enforcement.fines.corporation", "channels.botnet.sends_per_bot_hour"):
        assert path in text
    assert "{{" not in text and "spamsim:parameters" not in text  # the marker was replaced
    # Every numeric leaf the schema offers appears in the table (sections and strings do not).
    numeric = [p for p in _schema_paths() if _is_numeric(p)]
    assert len(numeric) > 50
    missing = [p for p in numeric if p not in text]
    assert not missing, f"numeric parameters missing from the model reference: {missing}"


def test_model_reference_tabulates_default_costs_with_sources(site: Path) -> None:
    """Each countermeasure's default cost and its source are in the model reference, generated from the code."""
    from spamsim.countermeasures import REGISTRY, SubmissionAuth

    text = _text(site / "model.html")
    assert "spamsim:cost-defaults" not in text
    for cm in REGISTRY:
        assert cm.default_cost.source.split(":")[0] in text, cm.key
    assert "RFC 2554, 1999; RFC 4954, 2007" in text and SubmissionAuth.default_cost.jpy["migration_days"] == 365
    assert "defenders.value_of_time_per_hour" in text and "currency per user-hour" in text


def _is_numeric(path: str) -> bool:
    schema = _schema()
    defs = schema["$defs"]
    node: dict[str, Any] = schema
    for part in path.split("."):
        name = part.removesuffix("[]")
        props = _resolve(node, defs).get("properties", {})
        if name not in props:
            return False
        node = props[name]
    alts = [node] + [a for key in ("anyOf", "oneOf") for a in node.get(key, [])]
    alts += [b for a in alts for key in ("anyOf", "oneOf") for b in a.get(key, [])]
    return any(a.get("type") in ("number", "integer") for a in alts)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "properties" in node:
        return node
    if node.get("type") == "array" and "$ref" in node.get("items", {}):
        return defs[node["items"]["$ref"].rsplit("/", 1)[-1]]
    if "$ref" in node:
        return defs[node["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf"):
        for alt in node.get(key, []):
            resolved = _resolve(alt, defs)
            if "properties" in resolved:
                return resolved
    return {}


def test_cli_reference_lists_every_command_and_option(site: Path) -> None:
    group = typer.main.get_command(app)
    text = _text(site / "reference" / "cli.html")
    commands = list(group.commands.items())  # type: ignore[attr-defined]
    assert {"run", "compare", "analytic", "sweep", "validate", "schema"} <= {name for name, _ in commands}
    missing = []
    for name, command in commands:
        if f"spamsim {name}" not in text:
            missing.append(f"spamsim {name}")
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-") and opt not in text:
                    missing.append(f"spamsim {name} {opt}")
    assert not missing, f"missing from the CLI reference: {missing}"


def test_api_reference_is_rendered_from_docstrings(site: Path) -> None:
    text = _text(site / "reference" / "api.html")
    for name in ("run", "compare", "expected", "Result", "funnel", "shapley_waterfall"):
        assert name in text
    # A phrase from spamsim.api.run's docstring: the page is generated from it, not written by hand.
    assert "Number of Monte Carlo replications" in text


def test_included_pages_come_from_their_sources(site: Path) -> None:
    for page, source in (
        ("BENCHMARKS.html", "BENCHMARKS.md"),
        ("SECURITY.html", "SECURITY.md"),
        ("validation/index.html", "validation/README.md"),
    ):
        first_heading = next(
            line.lstrip("#").strip()
            for line in (ROOT / source).read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        )
        assert first_heading in _text(site / page)
    assert (site / "scenarios" / "lecture.yaml").read_bytes() == (ROOT / "scenarios" / "lecture.yaml").read_bytes()


def _hooks() -> Any:
    spec = importlib.util.spec_from_file_location("spamsim_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_limits_page_joins_the_nav_when_it_exists(tmp_path: Path) -> None:
    hooks = _hooks()
    nav: list[Any] = [{"Home": "index.md"}, {"Reference": [{"Command line": "reference/cli.md"}]}]
    config = {"docs_dir": str(tmp_path), "nav": [dict(item) for item in nav]}
    assert hooks.on_config(config)["nav"] == nav  # no page, no entry
    (tmp_path / "limits.md").write_text("# Known limits\n", encoding="utf-8")
    assert {"Known limits": "limits.md"} in hooks.on_config(config)["nav"]
    assert sum(item == {"Known limits": "limits.md"} for item in hooks.on_config(config)["nav"]) == 1


def test_site_does_not_publish_the_hooks(site: Path) -> None:
    assert not list(site.rglob("hooks.py")) and not list(site.rglob("*.pyc"))


# -- the tutorial's commands ----------------------------------------------------------------------


def _console_blocks(markdown: str) -> list[tuple[bool, list[str], list[str]]]:
    """``(marked to run, commands, expected output lines)`` of every ```console block."""
    blocks = []
    for match in re.finditer(r"(<!-- run -->\s*\n)?```console\n(.*?)```", markdown, re.DOTALL):
        lines = match.group(2).splitlines()
        commands = [line[2:] for line in lines if line.startswith("$ ")]
        output = [line for line in lines if not line.startswith("$ ")]
        blocks.append((match.group(1) is not None, commands, output))
    return blocks


def _parse(command: str) -> None:
    """Parse a ``spamsim ...`` command line as the CLI would, without running it."""
    args = shlex.split(command)
    assert args[0] == "spamsim", command
    group = typer.main.get_command(app)
    name, rest = args[1], args[2:]
    assert name in group.commands, f"no command {name!r}: {command}"  # type: ignore[attr-defined]
    cmd = group.commands[name]  # type: ignore[attr-defined]
    cmd.make_context(f"spamsim {name}", list(rest))  # raises on an unknown option or a bad value
    for arg in rest:
        if arg.endswith((".yaml", ".yml")) and not arg.startswith("-"):
            assert (ROOT / arg).is_file(), f"{command}: no file {arg}"


def test_tutorial_console_blocks_parse() -> None:
    blocks = _console_blocks(TUTORIAL.read_text(encoding="utf-8"))
    commands = [c for _, cs, _ in blocks for c in cs]
    assert len(commands) >= 10 and sum(run for run, _, _ in blocks) >= 2
    for command in commands:
        _parse(command)


def test_command_parser_rejects_what_the_cli_rejects() -> None:
    """The parse check can fail: a misspelt option, a bad value, an unknown command, a missing file."""
    for bad in (
        "spamsim run scenarios/lecture.yaml --rep 10",
        "spamsim run scenarios/lecture.yaml --reps many",
        "spamsim simulate scenarios/lecture.yaml",
        "spamsim run scenarios/no-such-file.yaml",
    ):
        with pytest.raises((AssertionError, TyperException)):  # NoSuchOption, BadParameter, or our assert
            _parse(bad)


@pytest.mark.parametrize(
    "block", [b for b in _console_blocks(TUTORIAL.read_text(encoding="utf-8")) if b[0]], ids=lambda b: b[1][0]
)
def test_tutorial_commands_marked_to_run_work(block: tuple[bool, list[str], list[str]]) -> None:
    """Commands in blocks marked ``<!-- run -->`` run through the real entry point, exit 0 and print
    the block's first line of output."""
    _, commands, output = block
    for command in commands:
        args = shlex.split(command)
        proc = subprocess.run(
            [str(SPAMSIM), *args[1:]],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,  # hang guard only
        )
        assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stderr}"
        if output:
            assert output[0].strip() in proc.stdout, f"{command}: expected {output[0]!r} in\n{proc.stdout}"
