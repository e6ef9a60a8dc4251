"""Update latency of the lecture app: from a slider click to the closed-form and simulated numbers.

Starts ``spamsim app`` on a free port, drives it in headless Chromium (Playwright, system
browser) and, for each preset, clicks the success-rate slider a few times and measures in the
page how long until the closed-form revenue changes and until simulated numbers are shown again.
Run on purpose: ``python benchmarks/app_latency.py`` (never in the tests).
"""

from __future__ import annotations

import argparse
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
  window.__lat = {t0: performance.now(), closed: null, sim: null, down: null, sent: null};
  document.addEventListener('mousedown', () => { window.__lat.down = performance.now() - window.__lat.t0; },
                            {capture: true, once: true});
  // Looked at when the page changes, not polled: a poll every few ms keeps the browser busy and
  // takes a core's share from the server on a 2-core machine.
  const look = () => {
    const now = performance.now(), lat = window.__lat;
    if (lat.closed === null && closed() !== before) lat.closed = now - lat.t0;
    const sim = document.getElementById('revenue-sim');
    if (lat.closed !== null && sim && sim.innerText !== '…') { lat.sim = now - lat.t0; observer.disconnect(); }
  };
  const observer = new MutationObserver(look);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
"""Started just before the click: times (ms) until the closed-form revenue changes, then until
simulated numbers are shown again (the click itself is a real mouse click from Playwright)."""


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, s) of a process and its descendants so far (Linux).

    The app's background work runs in worker processes (children of its fork server); ended
    workers count through their parent's children's times. Tells the app's own cost from
    waiting on a busy machine.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = " ".join(p.read_text() for p in Path(f"/proc/{pid}/task").glob("*/children")).split()
    except OSError:  # ended meanwhile
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime
    return own + sum(cpu_seconds(int(child)) for child in children)


def cpu_model() -> str:
    """The processor's name and the cores this process may use (Linux)."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{names[0] if names else 'unknown CPU'}, {len(os.sched_getaffinity(0))} cores"


def trace_since(path: Path, t0: float) -> list[str]:
    """The server's trace marks (see :mod:`spamsim.app.trace`) after ``t0``, as ms since ``t0``."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        at, thread, event, details = (line.split("\t") + [""])[:4]
        if float(at) >= t0 - 0.5:
            out.append(f"{(float(at) - t0) * 1000:7.1f} ms  {thread[:16]:16s} {event} {details}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--presets",
        default="lecture,open-relay-era,relay-prevention,spambot-era,smtp-auth,japan-2011",
        help="comma-separated preset keys (default: every shipped preset)",
    )
    parser.add_argument(
        "--clicks",
        type=int,
        default=5,
        help="clicks per preset (5 positions, then repeated: a repeated one finds its quick run kept)",
    )
    parser.add_argument("--trace", action="store_true", help="print the server's marks after each click")
    parser.add_argument(
        "--rest",
        type=float,
        default=0.0,
        help="seconds to wait after a job has ended before the next click (default 0: at once, while the last "
        "figures are still being drawn)",
    )
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cpu_model()}; load average {os.getloadavg()}")
    trace = Path(os.environ.get("TMPDIR", "/tmp")) / f"spamsim-app-trace-{os.getpid()}.tsv"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.trace:
        env["SPAMSIM_APP_TRACE"] = str(trace)
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
            # When the page sends a slider's value to the server (after the slider's rate policy).
            page.add_init_script(
                "const send = WebSocket.prototype.send; WebSocket.prototype.send = function (data) {"
                " if (window.__lat && window.__lat.sent === null && String(data).includes('success__'))"
                " window.__lat.sent = performance.now() - window.__lat.t0; return send.call(this, data); };"
            )
            page.goto(url)
            # The page starts on the lecture; a preset chosen before the server's first answer is reset to it.
            page.wait_for_selector("#success__lecture")
            page.wait_for_function("() => !document.getElementById('job-progress')", timeout=120_000)
            for preset in args.presets.split(","):
                key = preset.replace("-", "_")
                page.select_option("#preset", preset)
                page.wait_for_selector(f"#success__{key}")
                assert page.input_value("#preset") == preset, page.input_value("#preset")
                page.wait_for_timeout(1000)  # the new sliders are bound
                page.wait_for_function("() => !document.getElementById('job-progress')", timeout=120_000)
                closed, simulated, cpus = [], [], []
                positions = (0.1, 0.45, 0.65, 0.9, 0.25)  # away from every preset's own position
                for i in range(args.clicks):
                    x = positions[i % len(positions)]
                    line = page.locator(f"#success__{key}").locator("xpath=..").locator(".irs-line").bounding_box()
                    cpu0 = cpu_seconds(proc.pid)
                    page.evaluate(WATCH)
                    t0 = time.perf_counter()  # the same clock as the server's marks (CLOCK_MONOTONIC)
                    page.mouse.click(line["x"] + line["width"] * x, line["y"] + line["height"] / 2)
                    page.wait_for_function(
                        "() => window.__lat.sim !== null || performance.now() - window.__lat.t0 > 20000", timeout=60_000
                    )
                    t_closed, t_sim, t_down, t_sent = page.evaluate(
                        "() => [window.__lat.closed, window.__lat.sim, window.__lat.down, window.__lat.sent]"
                    )
                    if args.trace:
                        print(
                            f"-- {preset}, click at {x}: mouse down {t_down:.0f} ms, value sent {t_sent:.0f} ms, "
                            f"closed form {t_closed:.0f} ms, simulated {t_sim:.0f} ms"
                        )
                        print("\n".join(trace_since(trace, t0)))
                    page.wait_for_timeout(300)  # the figures follow the numbers
                    cpus.append(cpu_seconds(proc.pid) - cpu0)
                    closed.append(t_closed)
                    simulated.append(t_sim)
                    page.wait_for_function("() => !document.getElementById('job-progress')", timeout=120_000)
                    page.wait_for_timeout(args.rest * 1000)
                med = statistics.median
                print(
                    f"{preset:16s} min/median/max: closed form "
                    f"{min(closed):4.0f} / {med(closed):4.0f} / {max(closed):4.0f} ms"
                    f" | first simulated {min(simulated):4.0f} / {med(simulated):4.0f} / {max(simulated):4.0f} ms"
                    f" | server CPU per change {med(cpus):.2f} s",
                    flush=True,
                )
            browser.close()
        print(f"load average at the end {os.getloadavg()}")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
