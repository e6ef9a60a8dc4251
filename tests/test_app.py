"""The lecture app (``spamsim app``): its pure logic, its command, and the page in a real browser.

The browser tests start ``spamsim app`` on a free port (the real console script) and drive the
page in headless Chromium through Playwright, with the system's Chromium (never a downloaded
browser). Every number checked in the page is recomputed here with the library. Set
``SPAMSIM_APP_SHOTS=DIR`` to keep a screenshot after each step.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import spamsim as ss
from spamsim import fmt
from spamsim.analysis import curves
from spamsim.i18n import gettext

from .conftest import CHROMIUM_ARGS, ROOT, SCENARIOS, chromium, spamsim_cli

shiny = pytest.importorskip("shiny", reason="the app extra is not installed: pip install 'spamsim[app]'")

from spamsim.app import controls, jobs, presets  # noqa: E402 - needs shiny's availability checked first

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_app")

LECTURE = SCENARIOS / "lecture.yaml"


# -- pure logic ------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", [p.key for p in presets.PRESETS])
def test_an_untouched_preset_is_the_shipped_scenario(preset: str) -> None:
    scenario = ss.load(presets.preset_path(preset))
    edits = controls.overrides(scenario, controls.preset_positions(scenario), controls.countermeasure_states(scenario))
    assert edits == []
    assert controls.build(scenario, edits) == scenario


def test_a_moved_slider_is_one_override_and_the_closed_form_follows() -> None:
    scenario = ss.load(LECTURE)
    positions = {**controls.preset_positions(scenario), "success": -6.0, "fine_individual": 2.0}
    edits = controls.overrides(scenario, positions, {})
    assert edits == ["market.success_rate=1e-06"]
    revenue = curves.expected_totals(controls.build(scenario, edits))["revenue"]
    assert revenue == pytest.approx(1e6 * 1e-6 * 500)


def test_log_sliders_have_a_zero_notch_and_round_to_readable_values() -> None:
    fine = controls.BY_ID["fine_individual"]
    assert controls.value_at(fine, fine.low) == 0.0
    assert controls.position(fine, 0.0) == fine.low
    assert controls.position(fine, 1e6) == 6.0
    assert controls.value_at(controls.BY_ID["profit"], 2.7) == 501.0  # three significant digits
    assert controls.describe(controls.BY_ID["success"], -6.0, "JPY", "en") == "1 in 1M"
    assert controls.describe(controls.BY_ID["profit"], 2.7, "JPY", "ja", exact=500.0) == "500円"


def test_switches_become_enabled_overrides() -> None:
    scenario = ss.load(SCENARIOS / "open-relay-era.yaml")
    edits = controls.overrides(scenario, {}, {"blacklists": False, "receiver_filtering": True})
    assert edits == ["countermeasures.blacklists.enabled=false"]
    assert not controls.build(scenario, edits).countermeasures.active("blacklists")


def test_a_funnel_file_gets_one_success_rate_in_place_of_its_funnel(write) -> None:
    path = write(
        """
        name: funnel
        market: {currency: JPY, profit_per_sale: 500, funnel: {open_rate: 0.1, click_rate: 0.1, purchase_rate: 0.1}}
        spammers:
          - {name: s, location: domestic, legal_form: individual, campaign: {messages_per_send: 1000000}}
        """
    )
    scenario = ss.load(path)
    assert controls.preset_positions(scenario)["success"] == -3.0  # 0.1 x 0.1 x 0.1
    edits = controls.overrides(scenario, {"success": -4.0}, {})
    assert edits == ["market.funnel=null", "market.success_rate=0.0001"]
    assert controls.build(scenario, edits).market.success_rate == 1e-4


def test_a_file_from_the_command_line_is_offered_first(write) -> None:
    path = write("name: mine\nspammers: [{name: s, campaign: {messages_per_send: 10}}]\n", name="mine.yaml")
    preset = presets.add_file(path)
    try:
        assert presets.available()[0] == preset
        assert presets.preset_path(preset.key) == path.resolve()
    finally:
        presets.USER_PRESETS.clear()


def test_an_invalid_scenario_shows_the_loaders_messages(write) -> None:
    from spamsim.app.server import problems_box
    from spamsim.scenario.errors import ScenarioError

    scenario = ss.load(LECTURE)
    with pytest.raises(ScenarioError) as caught:
        controls.build(scenario, ["market.success_rate=2"])
    html = str(problems_box(caught.value, "ja"))
    assert str(caught.value.problems[0]) in html
    assert gettext("This combination is not a valid scenario:", "ja") in html


def test_exported_yaml_loads_back_to_the_same_scenario_and_numbers(tmp_path: Path) -> None:
    scenario = ss.load(LECTURE)
    edits = controls.overrides(scenario, {"success": -3.0, "volume": 5.0}, {})
    shown = controls.build(scenario, edits)
    text = controls.scenario_yaml(shown, preset_file="scenarios/lecture.yaml", edits=edits, reps=50, seed=7)
    assert "--reps 50 --seed 7" in text
    path = tmp_path / "whatif.yaml"
    path.write_text(text, encoding="utf-8")
    assert ss.load(path) == shown
    a = ss.run(path, reps=50, seed=7).summary.loc["revenue", "mean"]
    b = ss.run(shown, reps=50, seed=7).summary.loc["revenue", "mean"]
    assert a == b


def test_a_job_publishes_each_stage_and_can_be_cancelled() -> None:
    scenario = ss.load(LECTURE)
    job = jobs.Job([jobs.simulate(scenario, 20), jobs.simulate(scenario, 40)])
    assert job.wait(60)
    assert [r.reps for r in job.results.values()] == [20, 40]
    assert job.error is None and not job.cancelled

    started = []

    def endless(report: jobs.Report) -> None:
        started.append(True)
        while True:
            report(0.5)
            time.sleep(0.01)

    job = jobs.Job([jobs.Stage("endless", endless), jobs.simulate(scenario, 20)])
    while not started:
        time.sleep(0.01)
    job.cancel()
    assert job.wait(60)
    assert job.cancelled and job.results == {}


def test_a_failing_stage_is_reported_not_raised() -> None:
    def broken(report: jobs.Report) -> None:
        raise RuntimeError("boom")

    job = jobs.Job([jobs.Stage("broken", broken)])
    assert job.wait(60)
    assert isinstance(job.error, RuntimeError)


def test_a_job_started_after_another_waits_for_it_and_reports_each_change() -> None:
    release = threading.Event()
    order: list[str] = []

    def first(report: jobs.Report) -> str:
        release.wait(60)  # hang guard only
        order.append("first")
        return "a"

    def second(report: jobs.Report) -> str:
        order.append("second")
        return "b"

    changes: list[int] = []
    a = jobs.Job([jobs.Stage("first", first)])
    b = jobs.Job(
        [jobs.Stage("second", second), jobs.Stage("third", second)], after=a, on_change=lambda: changes.append(1)
    )
    time.sleep(0.2)  # b has had time to start, if it did not wait for a
    assert order == [] and b.stage == ""
    release.set()
    assert b.wait(60)
    assert order == ["first", "second", "second"]
    assert len(changes) == 3  # each result, then the end


def _endless(pid_file: str, progress: jobs.Report) -> None:
    """Background work that never ends (by name, for a worker process): it writes its process id first."""
    Path(pid_file).write_text(str(os.getpid()))
    while True:
        progress(0.5)
        time.sleep(0.01)


def _fails(progress: jobs.Report) -> None:
    raise ValueError("no such countermeasure: 'spf'")


def _dies(progress: jobs.Report) -> None:
    os._exit(3)


def test_background_stages_give_the_same_numbers_and_are_killed_when_cancelled(tmp_path: Path) -> None:
    scenario = ss.load(LECTURE)
    job = jobs.Job([jobs.simulate(scenario, 30), jobs.simulate(scenario, 60, background=True)])
    assert job.wait(60) and job.error is None
    here, there = job.results["simulate-30"], job.results["simulate-60"]
    assert there.result.summary.equals(ss.run(scenario, reps=60, seed=jobs.SEED).summary)
    assert here.result.summary.equals(ss.run(scenario, reps=30, seed=jobs.SEED).summary)

    pid_file = tmp_path / "pid"
    job = jobs.Job([jobs.in_background("endless", _endless, str(pid_file))])
    deadline = time.monotonic() + 60  # hang guard only
    while not (pid_file.exists() and pid_file.read_text() and job.fraction == 0.5) and time.monotonic() < deadline:
        time.sleep(0.01)
    pid = int(pid_file.read_text())
    job.cancel()
    assert job.wait(60) and job.cancelled
    while time.monotonic() < deadline:  # the fork server reaps it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
    else:
        pytest.fail(f"the cancelled worker {pid} still runs")

    job = jobs.Job([jobs.in_background("fails", _fails)])
    assert job.wait(60)
    assert isinstance(job.error, ValueError) and "spf" in str(job.error)

    job = jobs.Job([jobs.in_background("dies", _dies), jobs.simulate(scenario, 60, background=True)])
    assert job.wait(60)
    assert isinstance(job.error, RuntimeError) and "exit code 3" in str(job.error)
    job = jobs.Job([jobs.simulate(scenario, 60, background=True)])  # the next work finds a live worker
    assert job.wait(60) and job.error is None and job.results["simulate-60"].reps == 60


def test_the_funnel_is_drawn_from_a_runs_summary_alone() -> None:
    from spamsim.app.server import Summarised, draw_funnel

    shown = jobs.simulated(ss.load(LECTURE), 20, jobs.SEED, progress=lambda fraction: None)
    slim = Summarised.of(shown)
    assert set(vars(slim)) == {"scenario", "summary"}  # no ledger to send to a drawing process
    drawing = draw_funnel(slim, "en")
    assert drawing.images[0][0].startswith("data:image/png;base64,") and drawing.images[0][2] == "funnel-figure"


def test_quick_runs_have_steady_counts_and_a_setting_seen_again_is_not_run_again(monkeypatch) -> None:
    from spamsim.app import server

    assert [jobs.steady_reps(n) for n in (3, 10, 19, 20, 49, 150, 200, 5000)] == [10, 10, 10, 20, 20, 100, 200, 200]
    scenario = ss.load(LECTURE)
    monkeypatch.setitem(server.FIRST_RUN, "lecture", (10, 0.1))  # 15 replications fit: 10 are run
    assert server.plan(scenario, "lecture", with_effects=False)[0].name == "simulate-10"

    monkeypatch.setattr(jobs, "QUICK_RUNS", type(jobs.QUICK_RUNS)())
    monkeypatch.setattr(jobs, "QUICK_RUNS_KEPT", 2)
    quiet = lambda fraction: None  # noqa: E731
    first = jobs.quick_run(scenario, 20, jobs.SEED, quiet)
    again = jobs.quick_run(ss.load(LECTURE), 20, jobs.SEED, quiet)
    assert not first.cached and again.cached and again.result is first.result
    other = controls.build(scenario, ["market.success_rate=1e-05"])
    assert not jobs.quick_run(other, 20, jobs.SEED, quiet).cached
    assert not jobs.quick_run(scenario, 20, 7, quiet).cached  # another seed: other numbers
    assert len(jobs.QUICK_RUNS) == 2
    assert not jobs.quick_run(scenario, 20, jobs.SEED, quiet).cached  # the oldest was dropped


def test_plan_reps_fits_the_budget() -> None:
    assert jobs.plan_reps(0.001, 0.25, 10, 200) == 200
    assert jobs.plan_reps(0.01, 0.25, 10, 200) == 25
    assert jobs.plan_reps(1.0, 0.25, 10, 200) == 10


# -- the command -----------------------------------------------------------------------------


def test_app_refuses_an_unknown_language() -> None:
    done = spamsim_cli("app", "--lang", "fr", "--no-browser")
    assert done.returncode == 2
    assert "'fr'" in done.stderr and "en, ja" in done.stderr and "Traceback" not in done.stderr


def test_app_without_the_extra_names_the_install_command() -> None:
    probe = "import sys; sys.modules['shiny'] = None; sys.argv = ['spamsim', 'app', '--no-browser']; from spamsim.cli import main; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 2
    assert "pip install 'spamsim[app]'" in done.stderr and "Traceback" not in done.stderr


def test_app_reports_a_bad_file_like_every_command(write) -> None:
    bad = write("name: x\nmarket: {success_rate: 2}\n")
    done = spamsim_cli("app", str(bad), "--no-browser")
    assert done.returncode == 2
    assert f"{bad}:2" in done.stderr and "success_rate" in done.stderr


# -- the page in a real browser --------------------------------------------------------------

CHROMIUM = chromium()
browser_only = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (make browser installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    exe = Path(sys.executable).with_name("spamsim")
    proc = subprocess.Popen(
        [str(exe), "app", "--no-browser", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120  # hang guard only
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"spamsim app did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the app extra's tests)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Shots:
    """Screenshots after each step when SPAMSIM_APP_SHOTS names a folder (for a person to look at)."""

    def __init__(self, page) -> None:
        self.page = page
        self.folder = os.environ.get("SPAMSIM_APP_SHOTS")
        self.n = 0

    def __call__(self, step: str) -> None:
        if self.folder:
            self.n += 1
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(self.folder) / f"{self.n:02d}-{step}.png"), full_page=True)


def _shown(page) -> tuple[int, str]:
    """Replications and simulated revenue as the page shows them, read in one go."""
    status, revenue = page.evaluate(
        "() => [document.getElementById('status').innerText, document.getElementById('revenue-sim').innerText]"
    )
    match = re.search(r"Simulated: ([\d,]+) replications", status)
    assert match, status
    return int(match.group(1).replace(",", "")), revenue


def _wait_for_simulation(page, reps_at_least: int = 1) -> None:
    page.wait_for_function(
        "n => { const m = (document.getElementById('status') || {innerText: ''}).innerText"
        ".match(/Simulated: ([\\d,]+) replications/); return m && parseInt(m[1].replace(/,/g, '')) >= n }",
        arg=reps_at_least,
        timeout=60_000,
    )


@browser_only
def test_the_page_in_a_browser(server: str, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    shot = Shots(page)

    # 1. The page loads with the lecture's numbers: closed form at once, simulation soon after.
    page.goto(server)
    page.wait_for_selector("#revenue-closed")
    lecture = ss.load(LECTURE)
    assert page.inner_text("#revenue-closed") == fmt.money(5_000_000, "JPY")
    _wait_for_simulation(page)
    shot("loaded")

    # 2. A click on the success-rate slider moves it; the revenue shown is the library's.
    track = page.locator("#success__lecture").locator("xpath=..").locator(".irs-line")
    box = track.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)  # where a lecturer clicks
    page.wait_for_function("() => document.getElementById('success__lecture').value !== '-2'")
    pos = float(page.eval_on_selector("#success__lecture", "e => e.value"))
    edits = controls.overrides(lecture, {"success": pos}, {})
    moved = controls.build(lecture, edits)
    expected = fmt.money(curves.expected_totals(moved)["revenue"], "JPY")
    page.wait_for_function(
        "t => document.getElementById('revenue-closed').innerText === t", arg=expected, timeout=20_000
    )
    page.wait_for_function("() => !document.getElementById('job-progress')", timeout=60_000)
    reps, revenue = _shown(page)
    run = ss.run(moved, reps=reps, seed=jobs.SEED)
    assert revenue == fmt.money(run.summary.loc["revenue", "mean"], "JPY")
    shot("slider-moved")

    # 3. The YAML export loads with the scenario loader and reproduces the numbers shown.
    page.click("a[data-value='yaml']")
    page.wait_for_selector("#yaml-text")
    text = page.inner_text("#yaml-text")
    assert f"--set {edits[0]}" in text
    exported = tmp_path / "whatif.yaml"
    exported.write_text(text, encoding="utf-8")
    assert ss.load(exported) == moved
    command = re.search(r"--reps (\d+) --seed (\d+)", text)
    assert command and int(command.group(1)) == reps
    again = ss.run(exported, reps=int(command.group(1)), seed=int(command.group(2)))
    assert fmt.money(again.summary.loc["revenue", "mean"], "JPY") == revenue
    shot("yaml")

    # 4. A countermeasure switch changes the effects chart (open-relay era: three of them).
    page.select_option("#preset", "open-relay-era")
    page.click("a[data-value='effects']")
    page.wait_for_selector("#effects-figure", timeout=60_000)
    blacklists = gettext("Blacklists", "en")
    assert blacklists in page.get_attribute("#effects-figure", "alt")
    before = page.get_attribute("#effects-figure", "src")
    shot("effects")
    page.locator("#cm_blacklists__open_relay_era").click()
    page.wait_for_function(
        "name => { const f = document.getElementById('effects-figure'); return f && !f.alt.includes(name) }",
        arg=blacklists,
        timeout=60_000,
    )
    assert page.get_attribute("#effects-figure", "src") != before
    shot("switch-off-blacklists")

    # 5. The language switch changes the labels.
    page.check("input[name='lang'][value='ja']")
    ja = gettext("Countermeasures", "ja")
    assert ja != "Countermeasures"
    page.wait_for_function("t => document.querySelector(\"a[data-value='effects']\").innerText.includes(t)", arg=ja)
    label = gettext("Success rate (sales per inbox message)", "ja")
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=label)
    shot("japanese")

    # 6. The projector theme: larger type.
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.locator("#projector").click()
    page.wait_for_function("s => parseFloat(getComputedStyle(document.body).fontSize) > s", arg=size)
    shot("projector")

    # 7. Nothing left this machine: every request went to the app's own server.
    hosts = {urlsplit(url).hostname for url in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, sorted(url for url in requests if urlsplit(url).hostname != "127.0.0.1")
    page.close()


@browser_only
def test_a_clicked_slider_moves_without_waiting_for_its_idle_redraw(server: str, browser) -> None:
    # ion.rangeSlider applies a click at its next idle redraw, every 300 ms: 150 ms of a click's
    # latency on average. The page redraws a clicked slider itself; with the idle redraws
    # stopped, the click still moves the slider and the server answers.
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.wait_for_selector("#success__lecture")
    _wait_for_simulation(page)
    before = page.inner_text("#revenue-closed")
    page.evaluate(
        "() => { const later = window.setTimeout;"
        " window.setTimeout = (f, ms, ...rest) => ms === 300 ? 0 : later(f, ms, ...rest); }"
    )
    page.wait_for_timeout(400)  # the slider's pending idle redraw has run; none follows
    box = page.locator("#success__lecture").locator("xpath=..").locator(".irs-line").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.getElementById('success__lecture').value !== '-2'", timeout=10_000)
    page.wait_for_function("t => document.getElementById('revenue-closed').innerText !== t", arg=before, timeout=20_000)
    page.close()


@browser_only
def test_the_history_plays_step_by_step_and_its_progress_bar_goes_when_done(server: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.wait_for_selector("#success__lecture")
    page.click("a[data-value='history']")
    page.click("#history_run")
    page.wait_for_selector("#history-progress", state="attached", timeout=30_000)  # the run shows its progress
    page.wait_for_selector("#history_year", state="attached", timeout=120_000)
    page.wait_for_selector("#history-share", timeout=60_000)
    first = page.inner_text("#history-share")
    assert re.match(r"1998\.00: ", first), first
    # Once the run has ended its progress bar goes (it used to stay at its last value).
    page.wait_for_selector("#history-progress", state="detached", timeout=30_000)
    page.locator("#history_year").locator("xpath=..").locator(".irs-handle").first.click()
    for _ in range(20):  # 20 quarter-year steps of the slider: about five years on
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const e = document.getElementById('history-share'); return e && parseFloat(e.innerText) >= 2002.5 }",
        timeout=60_000,
    )
    assert page.inner_text("#history-share") != first
    page.close()
