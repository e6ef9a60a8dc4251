"""Update latency of the lecture app: from a slider click to the closed-form and simulated numbers.

Starts ``spamsim app`` on a free port, drives it in headless Chromium (Playwright, system
browser) and, for each preset, clicks the success-rate slider a few times and measures in the
page how long until the closed-form revenue changes and until simulated numbers are shown again.
Run on purpose: ``python benchmarks/app_latency.py`` (never in the tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WATCH = """() => {
  const closed = () => document.getElementById('revenue-closed').innerText;
  const before = closed();
  window.__lat = {t0: performance.now(), closed: null, sim: null};
  const poll = () => {
    const now = performance.now(), lat = window.__lat;
    if (lat.closed === null && closed() !== before) lat.closed = now - lat.t0;
    const sim = document.getElementById('revenue-sim');
    if (lat.closed !== null && sim && sim.innerText !== '…') { lat.sim = now - lat.t0; return; }
    if (now - lat.t0 < 30000) setTimeout(poll, 5);
  };
  setTimeout(poll, 5);
}"""
"""Started just before the click: times (ms) until the closed-form revenue changes, then until
simulated numbers are shown again (the click itself is a real mouse click from Playwright)."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), to tell the app's own cost from waiting on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    exe = Path(sys.executable).with_name("spamsim")
    proc = subprocess.Popen([str(exe), "app", "--no-browser", "--port", str(port)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            for preset, key in (
                ("lecture", "lecture"),
                ("japan-2011", "japan_2011"),
                ("open-relay-era", "open_relay_era"),
            ):
                page.select_option("#preset", preset)
                page.wait_for_selector(f"#success__{key}")
                page.wait_for_timeout(1000)  # the new sliders are bound
                page.wait_for_function("() => !document.getElementById('job-progress')", timeout=120_000)
                closed, simulated, cpus = [], [], []
                for x in (0.1, 0.45, 0.65, 0.9, 0.25):  # away from every preset's own position
                    line = page.locator(f"#success__{key}").locator("xpath=..").locator(".irs-line").bounding_box()
                    cpu0 = cpu_seconds(proc.pid)
                    page.evaluate(WATCH)
                    page.mouse.click(line["x"] + line["width"] * x, line["y"] + line["height"] / 2)
                    page.wait_for_function(
                        "() => window.__lat.sim !== null || performance.now() - window.__lat.t0 > 20000", timeout=60_000
                    )
                    t_closed, t_sim = page.evaluate("() => [window.__lat.closed, window.__lat.sim]")
                    page.wait_for_timeout(300)  # the figures follow the numbers
                    cpus.append(cpu_seconds(proc.pid) - cpu0)
                    closed.append(t_closed)
                    simulated.append(t_sim)
                    page.wait_for_function("() => !document.getElementById('job-progress')", timeout=120_000)
                med, top = statistics.median, max
                print(
                    f"{preset:16s} closed form: median {med(closed):5.0f} ms, max {top(closed):5.0f} ms | "
                    f"first simulated: median {med(simulated):6.0f} ms, max {top(simulated):6.0f} ms | "
                    f"server CPU per change {med(cpus):.2f} s"
                )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
