"""Inputs are bounded before they are read whole (issue 12): files, YAML, numbers, names, ``--set``.

Memory is checked with tracemalloc and work with operation counts, never with the clock.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamsim.scenario import ScenarioError, load, loader, yamlio
from spamsim.scenario.errors import Problem
from spamsim.scenario.sweep import load_sweep

from .conftest import LECTURE_MINIMAL, ROOT, SCENARIOS
from .fuzzing import documents, dump

MiB = 2**20


def problems(source, overrides=()):
    with pytest.raises(ScenarioError) as info:
        load(source, overrides)
    return [str(p) for p in info.value.problems]


def cli(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real console script; ``timeout`` only guards against a hang (it never judges speed)."""
    exe = Path(sys.executable).with_name("spamsim")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SPAMSIM_DEBUG", None)
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


# -- only regular files, read through a cap ---------------------------------------------------


@pytest.fixture
def no_reading(monkeypatch):
    """Fail if anything is read: devices and FIFOs must be refused before a single byte."""

    def read_capped(*args, **kwargs):
        raise AssertionError("read_capped was called")

    monkeypatch.setattr(loader, "read_capped", read_capped)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_unread(no_reading):
    assert problems("/dev/zero") == [
        "/dev/zero: is a character device, not a regular file; give the path of a YAML file, or - to read standard input"
    ]


FIFO_SCRIPT = """
import sys
from spamsim.analysis.calibration import read_counts
from spamsim.scenario import ScenarioError, load
from spamsim.scenario.sweep import load_sweep
for read in (load, load_sweep, read_counts):
    try:
        read(sys.argv[1])
    except ScenarioError as exc:
        print(exc)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_without_a_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    # In a subprocess: today's main blocks forever in open(). The timeout is only a hang guard.
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    done = subprocess.run(
        [sys.executable, "-c", FIFO_SCRIPT, str(fifo)], capture_output=True, text=True, env=env, timeout=120
    )
    expected = (
        f"{fifo}: is a named pipe (FIFO), not a regular file; give the path of a YAML file, or - to read standard input"
    )
    assert done.stdout.splitlines() == [expected] * 3, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_cli_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = cli("validate", str(fifo), timeout=120)
    assert done.returncode == 2
    assert "is a named pipe (FIFO), not a regular file" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
def test_a_socket_is_refused(tmp_path, no_reading):
    path = tmp_path / "s.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert problems(path) == [
            f"{path}: is a socket, not a regular file; give the path of a YAML file, or - to read standard input"
        ]


class Endless:
    """A stream that never ends (a file still growing, /dev/zero behind a lying stat), recording reads."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def read(self, size: int = -1) -> bytes:
        assert size >= 0, "an unbounded read"
        self.asked.append(size)
        return b"a" * size


def test_reading_stops_one_byte_past_the_cap():
    stream = Endless()
    with pytest.raises(ScenarioError, match="larger than 0.5 MiB"):
        loader.read_capped(stream, MiB // 2, "growing.yaml")
    assert sum(stream.asked) == MiB // 2 + 1


def test_a_file_past_the_cap_is_read_no_further(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 5000)
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1000)
    read = []
    real = loader.read_capped

    def spy(stream, cap, name):
        class Counting:
            def read(self, size):
                chunk = stream.read(size)
                read.append(len(chunk))
                return chunk

        return real(Counting(), cap, name)

    monkeypatch.setattr(loader, "read_capped", spy)
    assert problems(big) == [f"{big}: larger than {1000 / MiB:g} MiB: not read any further"]
    assert sum(read) == 1001


def test_dash_reads_standard_input(monkeypatch):
    text = (SCENARIOS / "lecture.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    assert load("-").name == "lecture"
    done = cli("validate", "-", stdin="name: x\nmarket: {success_rate: 017}\n")
    assert done.returncode == 2
    assert "<stdin>:2:24: market.success_rate: 017 is ambiguous" in done.stderr


# -- time and memory bounded by the node budget -----------------------------------------------


def flat_list(size: int) -> str:
    head = "name: x\nmarket: {success_rate: 0.1, profit_per_sale: 1}\nspammers: ["
    return head + "1, " * ((size - len(head)) // 3) + "1]\n"


def many_spammers(n: int) -> str:
    head = "name: x\nmarket: {success_rate: 0.1, profit_per_sale: 1}\nspammers:\n"
    return head + "".join(f"  - {{name: s{i}, campaign: {{messages_per_send: 1}}}}\n" for i in range(n))


class CountingParser:
    """The event source, counting the events the loader asks for (its work)."""

    events = 0

    source: type = object

    def __init__(self, text: str) -> None:
        self._parser = self.source(text)

    def get_event(self):  # type: ignore[no-untyped-def]
        CountingParser.events += 1
        return self._parser.get_event()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._parser, name)


@pytest.mark.parametrize("kind", ["flat-list", "100k-spammers"])
def test_hostile_big_files_stop_at_the_node_budget(tmp_path, monkeypatch, kind):
    text = flat_list(10 * MiB - 100) if kind == "flat-list" else many_spammers(100_000)
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    CountingParser.events = 0
    monkeypatch.setattr(CountingParser, "source", yamlio._EventSource)
    monkeypatch.setattr(yamlio, "_EventSource", CountingParser)
    (p,) = problems(path)
    assert f"document too large: more than {yamlio.MAX_NODES:,} values" in p and p.startswith(f"{path}:")
    # Composing stopped at the budget: events for the nodes, their collections' ends, a few more.
    assert CountingParser.events <= 2 * yamlio.MAX_NODES + 10


MEMORY_BOUND = 40 * MiB
"""Peak traced memory to refuse a 10 MiB file: the text (as bytes and as str) and the nodes of a
5,000-node budget. Today's main builds every node of the file first (gigabytes)."""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(flat_list(10 * MiB - 100), id="flat-list"),
        pytest.param(many_spammers(100_000), id="100k-spammers"),
        pytest.param("".join(f"k{i}: {{a: [1, 2]}}\n" for i in range(600_000)), id="wide-mapping"),
        pytest.param("a:\n" + "".join(f"{' ' * (i + 1)}k{i}:\n" for i in range(2000)), id="deep-mapping"),
        pytest.param("name: x\ndescription: " + "long " * (2 * MiB) + "\n", id="long-string"),
    ],
)
def test_memory_to_refuse_a_10_mib_file_is_bounded(tmp_path, monkeypatch, text):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(yamlio, "MAX_NODES", 5_000)
    del text
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"peak {peak / MiB:.1f} MiB"


def test_too_many_spammers_are_refused_before_each_is_validated(write):
    (p,) = problems(write(many_spammers(5000)))
    assert p.endswith("spammers: List should have at most 64 items after validation, not 5000")


def test_problems_are_capped(write):
    keys = ", ".join(f"k{i}: 1" for i in range(500))
    found = problems(write(LECTURE_MINIMAL.replace("market: {", "market: {" + keys + ", ")))
    assert len(found) == loader.MAX_PROBLEMS + 1
    assert found[-1].endswith(f"… and {500 - loader.MAX_PROBLEMS:,} more problems (fix these first)")


# -- YAML 1.2 core schema ---------------------------------------------------------------------


def test_yaml_1_1_spellings_are_reported_where_they_are(write):
    path = write(
        """
        name: t
        market: {success_rate: 0.01, profit_per_sale: 017}
        spammers:
          - name: s
            campaign: {messages_per_send: 1_000, days: 1:30, start_day: 0b11}
        enforcement: {enabled: yes}
        """
    )
    f = str(path)
    assert problems(path) == [
        f"{f}:2:47: market.profit_per_sale: 017 is ambiguous: YAML 1.1 reads it as octal 15; write 17 (decimal) or "
        "0o17 (octal)",
        f"{f}:5:35: spammers.0.campaign.messages_per_send: 1_000: underscores in numbers are not read (YAML 1.1 did); "
        "write 1000",
        f"{f}:5:48: spammers.0.campaign.days: 1:30 is not a number here (YAML 1.1 read it as base 60); write the "
        "number itself, or quote it if it is text",
        f"{f}:5:65: spammers.0.campaign.start_day: 0b11: binary numbers are not read (YAML 1.1 did); write 3",
        f"{f}:6:24: enforcement.enabled: expected true or false, got the string 'yes'; write true (YAML 1.1 read yes "
        "as true)",
    ]


def test_core_schema_numbers_and_constants():
    data = yamlio.parse_yaml("a: [0o17, 0x1F, 1e6, .5, -.inf, ~, null, True, FALSE, 17, '017', on]\nb:\n", "f").data
    assert data["a"][:5] == [15, 31, 1e6, 0.5, float("-inf")]
    assert data["a"][5:] == [None, None, True, False, 17, "017", "on"]
    assert data["b"] is None


def test_strings_and_booleans_are_never_numbers(write):
    path = write(
        """
        name: t
        market: {success_rate: "0.01", profit_per_sale: true}
        spammers:
          - name: s
            campaign: {messages_per_send: 1000, sends_per_day: true, days: '2'}
        enforcement: {enabled: "true"}
        """
    )
    f = str(path)
    assert problems(path) == [
        f"{f}:2:24: market.success_rate: expected a number, got the string '0.01'; remove the quotes",
        f"{f}:2:49: market.profit_per_sale: expected a number or a distribution, got a boolean (true)",
        f"{f}:5:56: spammers.0.campaign.sends_per_day: expected a number, got a boolean (true)",
        f"{f}:5:68: spammers.0.campaign.days: expected a number, got the string '2'; remove the quotes",
        f"{f}:6:24: enforcement.enabled: expected true or false, got the string 'true'; remove the quotes",
    ]


def test_distributions_schedules_and_events_still_load(write):
    sc = load(
        write(
            """
            name: t
            horizon: {days: 10}
            market: {success_rate: {dist: uniform, low: 0.001, high: 0.01}, profit_per_sale: {0: 500, 5: 400}}
            spammers:
              - name: s
                campaign: {messages_per_send: 1e6, days: 10}
            events:
              - {day: 3, set: {market.success_rate: 0.02}, note: Rules change}
            """
        )
    )
    assert sc.market.success_rate.dist == "uniform"
    assert sc.market.profit_per_sale.at(2.5) == 450
    assert sc.events[0].note == "Rules change"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_files_still_load(path):
    if path.name.endswith("-sweep.yaml"):
        load_sweep(path)
    elif path.name.startswith("explore-"):
        from spamsim.scenario.explore import load_explore

        load_explore(path)
    else:
        load(path)


# -- names and terminal output ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "text", "shown"),
    [
        ("name", '"two\\nlines"', "\\n"),
        ("name", '"\\e[31mred"', "\\x1b"),
        ("spammer", '"s\\u202e"', "\\u202e"),
        ("note", '"a\\tb"', "\\t"),
    ],
)
def test_names_are_one_printable_line(write, where, text, shown):
    scenario = LECTURE_MINIMAL + "horizon: {days: 2}\nevents: [{day: 1, set: {market.success_rate: 0.02}, note: n}]\n"
    scenario = {
        "name": scenario.replace("name: t", f"name: {text}"),
        "spammer": scenario.replace("name: s", f"name: {text}"),
        "note": scenario.replace("note: n", f"note: {text}"),
    }[where]
    (p,) = problems(write(scenario))
    assert "must be one line of printable text" in p and shown in p
    assert p.isprintable()


def test_descriptions_may_span_lines_but_not_hold_control_characters(write):
    sc = load(write(LECTURE_MINIMAL + "description: |\n  One line.\n  Another\tline.\n"))
    assert sc.description == "One line.\nAnother\tline.\n"
    (p,) = problems(write(LECTURE_MINIMAL + 'description: "bell\\a"\n'))
    assert "\\x07" in p


def test_sweep_names_are_one_printable_line(tmp_path):
    (tmp_path / "base.yaml").write_text(LECTURE_MINIMAL, encoding="utf-8")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        'name: "a\\nb"\nbase: base.yaml\ndesign: {parameters: {market.success_rate: [0.1]}}\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match="must be one line of printable text"):
        load_sweep(sweep)


def test_printable_escapes_control_characters_only():
    from spamsim.scenario.errors import printable

    assert printable("evil\x1b[2Jred\nline\t日本語 ok") == "evil\\x1b[2Jred\\nline\\t日本語 ok"
    assert printable("\u202e\x7f\U000e0001") == "\\u202e\\x7f\\U000e0001"
    assert printable("x" * 100, limit=10) == "x" * 10 + "…"
    assert (
        str(Problem("f\x1b.yaml", 1, 2, "a\nb", "bad \x1b]0;title\x07"))
        == "f\\x1b.yaml:1:2: a\\nb: bad \\x1b]0;title\\x07"
    )


def test_escape_sequences_never_reach_the_terminal_raw(tmp_path):
    evil = tmp_path / "evil\x1b[2J.yaml"
    evil.write_text(
        'name: "\\e]0;owned\\a"\nmarket: {success_rate: "\\e[31m", profit_per_sale: 1, "\\e[2Jk": 1}\n'
        "spammers: [{campaign: {messages_per_send: 1}}]\n",
        encoding="utf-8",
    )
    done = cli("validate", str(evil))
    assert done.returncode == 2
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    assert "evil\\x1b[2J.yaml:" in done.stderr and "\\x1b[31m" in done.stderr


# -- --set ------------------------------------------------------------------------------------


def test_set_errors_name_the_set_never_a_line_of_the_file():
    lecture = SCENARIOS / "lecture.yaml"
    (p,) = problems(lecture, ["nonexistent.path=1"])
    assert p.startswith("--set nonexistent.path=1: nonexistent: unknown field 'nonexistent'; ")
    assert "lecture.yaml" not in p


def test_set_below_a_single_value_is_an_error():
    assert problems(SCENARIOS / "lecture.yaml", ["market.success_rate.deeper=0.5"]) == [
        "--set market.success_rate.deeper=0.5: market.success_rate.deeper: cannot set deeper below "
        "market.success_rate: market.success_rate is the single value 0.01, not a mapping "
        "(to change it, --set market.success_rate=…)"
    ]


def test_set_values_follow_the_core_schema():
    lecture = SCENARIOS / "lecture.yaml"
    (p,) = problems(lecture, ["market.profit_per_sale=017"])
    assert p == (
        "--set market.profit_per_sale=017: market.profit_per_sale: 017 is ambiguous: YAML 1.1 reads it as octal 15; "
        "write 17 (decimal) or 0o17 (octal)"
    )
    (p,) = problems(lecture, ["market.profit_per_sale='500'"])
    assert p.endswith("expected a number, got the string '500'; remove the quotes")
    assert load(lecture, ["market.profit_per_sale=0o17"]).market.profit_per_sale == 15


# -- property: anything small is refused cleanly, in memory linear in its size ----------------

TOKENS = ["a", "b", "name", ":", " ", "\n", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: ", "017", "yes", "1:30"]
TOKENS += ["'", '"', "!!str ", "!!int ", "0x1F", "1e6", "~", "#", "\t", "? ", "|\n", "  ", "---\n", "\\e"]
BYTES_PER_CHAR = 4_000
"""Traced bytes allowed per character of text (nodes, marks, data, pydantic errors)."""
BASE_BYTES = 4 * MiB
"""Traced bytes allowed whatever the size (validating even a tiny scenario builds some models)."""


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        documents.map(dump),
        st.lists(st.sampled_from(TOKENS), max_size=60).map("".join),
        st.integers(0, 30).map(lambda n: "a: &x [1]\n" + "".join(f"b{i}: &x [*x, *x, *x]\n" for i in range(n))),
    )
)
def test_small_yaml_is_loaded_or_refused_cleanly_in_linear_memory(text):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlio, "MAX_NODES", 2_000)  # so that alias bombs stay small too
        tracemalloc.start()
        try:
            try:
                located = yamlio.parse_yaml(text, "fuzz.yaml")
                loader.validate_located(located, "fuzz.yaml", loader.Scenario)
            except (yamlio.YamlProblem, ScenarioError) as exc:
                assert all(str(p).isprintable() for p in exc.problems)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < BASE_BYTES + BYTES_PER_CHAR * len(text)


def test_numbers_from_numpy_are_numbers_but_strings_from_python_are_not():
    import numpy as np

    data = {
        "name": "m",
        "market": {"success_rate": np.float32(0.5), "profit_per_sale": np.int64(500)},
        "spammers": [{"campaign": {"messages_per_send": np.int64(10)}}],
        "enforcement": {"enabled": np.bool_(False)},
    }
    sc = load(data)
    assert (sc.market.profit_per_sale, sc.enforcement.enabled) == (500, False)
    data["market"]["profit_per_sale"] = "500"
    assert problems(data) == [
        "<dict>: market.profit_per_sale: expected a number, got the string '500'; remove the quotes"
    ]


@pytest.mark.parametrize(
    "text",
    [
        (SCENARIOS / "timeline.yaml").read_text(encoding="utf-8"),
        "a: [017, 1_000, yes, '017', !!binary aGk=]\nb: &x {k: 1}\nc: {<<: *x, j: 2}\na: dup\n",
        "a: [1, *nowhere]\n",
        "a: 1\n---\nb: 2\n",
        "a: " + "[" * 100 + "]" * 100 + "\n",
    ],
    ids=["timeline", "problems", "undefined-alias", "two-documents", "deep"],
)
def test_the_pure_python_parser_gives_the_same_answers(monkeypatch, text):
    def outcome():
        try:
            located = yamlio.parse_yaml(text, "f")
        except yamlio.YamlProblem as exc:
            return [str(p) for p in exc.problems]
        return located.data, located.values, [str(p) for p in located.problems]

    fast = outcome()
    monkeypatch.setattr(yamlio, "_EventSource", yaml.SafeLoader)
    assert outcome() == fast


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{a: " * 3000 + "1" + "}" * 3000])
def test_deep_flow_collections_are_refused_with_the_depth_limit(text):
    with pytest.raises(yamlio.YamlProblem, match=f"document nested deeper than {yamlio.MAX_DEPTH} levels"):
        yamlio.parse_yaml(text, "f")
