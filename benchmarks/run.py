"""spamsim benchmark suite: one run, one markdown table of ratios and targets.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # full run (15-20 s on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke run (a few seconds)
    .venv/bin/python benchmarks/run.py --json results.json

What it measures (see BENCHMARKS.md for the why):

1. BASELINE — the per-message model a user would write by hand: one SimPy process per
   message of the lecture campaign, each yielding a timeout and drawing its own Bernoulli
   (``rng.random() < p``). Measured in messages/second on 100,000-message replications,
   with Python's cyclic GC on (the default) and off (faster: the reference for the ratios),
   and extrapolated to the lecture's 1,000,000 messages; its sales are checked against
   spamsim's distribution.
2. spamsim's messages/second over 1,000 replications of the lecture scenario, and the ratio
   to the baseline.
3. Cost flat in volume: wall time per replication for 1e3 … 1e15 messages per send.
4. The internet-scale scenario: 1 and 100 replications.
5. Peak resident memory (fresh subprocess, ``ru_maxrss``) with the time series materialised.

Timings use ``time.perf_counter`` after warm-up runs and report medians. Progress goes to
stderr; the table (and nothing else) goes to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy

import spamsim as ss

ROOT = Path(__file__).resolve().parent.parent
LECTURE = ROOT / "scenarios" / "lecture.yaml"
INTERNET = ROOT / "scenarios" / "internet-scale.yaml"
VOLUME_KEY = "spammers.lecturer.campaign.messages_per_send"
VOLUMES = (1e3, 1e6, 1e9, 1e12, 1e15)

# Targets (DESIGN.md "Performance", and the issue).
TARGET_SPEEDUP = 1e5  # spamsim msg/s over baseline msg/s, at least
TARGET_LECTURE_1000_S = 1.0  # 1,000 lecture replications, seconds, less than
TARGET_FLAT_RATIO = 2.0  # max/min time per replication over volumes, at most
TARGET_INTERNET_1_S = 1.0
TARGET_INTERNET_100_S = 5.0
TARGET_PEAK_MB = 500.0
TARGET_HOURLY_YEAR_S = 10.0  # japan-2011, a year at hourly steps x 1,000 reps on 2 workers (issue 10)
TARGET_STARTUP_S = 0.3  # `spamsim --help` / `spamsim validate FILE`, seconds (issue 13)
TARGET_STARTUP_MB = 80.0  # their peak RSS, MB (issue 13)
AGREEMENT_Z = 3.0  # |z| of baseline mean sales against spamsim's distribution

# Full and quick settings.
FULL = {
    "baseline_messages": 100_000,
    "baseline_reps": 4,  # per variant (gc on, gc off)
    "spamsim_repeats": 21,
    "volume_repeats": 9,
    "internet_repeats": 3,
    "hourly_year_reps": 1000,
    "startup_runs": 11,
}
QUICK = {
    "baseline_messages": 20_000,
    "baseline_reps": 1,
    "spamsim_repeats": 5,
    "volume_repeats": 3,
    "internet_repeats": 1,
    "hourly_year_reps": 64,
    "startup_runs": 3,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# -- environment ------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    import pandas

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = os.cpu_count()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (+ uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "nproc": affinity,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "pandas": pandas.__version__,
        "spamsim": ss.__version__,
        "commit": commit,
    }


# -- 1. baseline: one SimPy process per message --------------------------------------------------


def baseline_replication(n_messages: int, p: float, rng: np.random.Generator) -> int:
    """Sales from ``n_messages`` messages, each its own SimPy process with its own Bernoulli.

    This is the model as a user would write it by hand: the send puts every message on its
    way at time 0, each message takes one hour in transit (a timeout), and on arrival the
    recipient buys with probability ``p``.
    """
    env = simpy.Environment()
    sales = 0

    def message() -> Any:
        nonlocal sales
        yield env.timeout(1.0)
        if rng.random() < p:
            sales += 1

    for _ in range(n_messages):
        env.process(message())
    env.run()
    return sales


def _baseline_variant(
    n: int, reps: int, p: float, rng: np.random.Generator, gc_enabled: bool
) -> tuple[list[float], list[int]]:
    """Time ``reps`` baseline replications of ``n`` messages with the cyclic GC on or off."""
    was_enabled = gc.isenabled()
    gc.collect()
    (gc.enable if gc_enabled else gc.disable)()
    try:
        baseline_replication(10_000, p, rng)  # warm-up
        times, sales = [], []
        for _ in range(reps):
            seconds, s = timed(lambda: baseline_replication(n, p, rng))
            times.append(seconds)
            sales.append(s)
    finally:
        (gc.enable if was_enabled else gc.disable)()
        gc.collect()
    return times, sales


def bench_baseline(cfg: dict[str, Any], lecture: ss.Scenario) -> dict[str, Any]:
    p = float(lecture.market.success_rate)  # type: ignore[arg-type]
    campaign = lecture.spammers[0].campaign
    lecture_messages = float(campaign.messages_per_send)  # type: ignore[arg-type]
    n, reps = cfg["baseline_messages"], cfg["baseline_reps"]
    rng = np.random.default_rng(20110101)
    out: dict[str, Any] = {"messages_per_replication": n, "lecture_messages": lecture_messages}
    all_sales: list[int] = []
    # Python's cyclic garbage collector keeps re-scanning the ~n live generator objects of
    # the per-message processes; it roughly halves the baseline's speed. "gc_on" is what a
    # user gets by default; "gc_off" (gc.disable()) is the fastest plain version, and the
    # headline ratio is taken against it, so the ratio is not inflated by the GC.
    for variant, enabled in (("gc_on", True), ("gc_off", False)):
        log(f"[1] baseline ({variant}): warm-up, then {reps} x {n:,} messages, a process each")
        times, sales = _baseline_variant(n, reps, p, rng, enabled)
        rate = statistics.median([n / t for t in times])
        out[variant] = {
            "seconds": times,
            "msg_per_s": rate,
            "extrapolated_s_per_lecture_rep": lecture_messages / rate,
            "sales": sales,
        }
        all_sales += sales
    fastest = max(("gc_on", "gc_off"), key=lambda v: out[v]["msg_per_s"])
    out["reference"] = fastest
    out["msg_per_s"] = out[fastest]["msg_per_s"]
    out["extrapolated_s_per_lecture_rep"] = out[fastest]["extrapolated_s_per_lecture_rep"]
    # Agreement: spamsim with the same number of messages per replication. 10,000
    # replications make spamsim's mean precise, so the test's noise is the baseline's.
    ref_reps = 10_000
    log(f"[1] agreement: spamsim, {ref_reps:,} replications of {n:,} messages")
    ref = ss.run(ss.load(LECTURE, overrides=[f"{VOLUME_KEY}={n}"]), reps=ref_reps, seed=1)
    ref_sales = ref.replications["sales"].to_numpy()
    mean_b, mean_s = float(np.mean(all_sales)), float(ref_sales.mean())
    sd_s = float(ref_sales.std(ddof=1))
    sd_b = float(np.std(all_sales, ddof=1)) if len(all_sales) > 1 else math.nan
    # H0: the baseline's replications come from spamsim's distribution. Use spamsim's sd
    # for both means: a handful of baseline sales give a poor sd.
    z = (mean_b - mean_s) / (sd_s * math.sqrt(1.0 / len(all_sales) + 1.0 / len(ref_sales)))
    theory_mean, theory_sd = n * p, math.sqrt(n * p * (1 - p))
    out.update(
        {
            "replications": len(all_sales),
            "sales": all_sales,
            "mean_sales": mean_b,
            "sd_sales": sd_b,
            "spamsim_mean_sales": mean_s,
            "spamsim_sd_sales": sd_s,
            "spamsim_reps": len(ref_sales),
            "theory_mean_sales": theory_mean,
            "theory_sd_sales": theory_sd,
            "z": z,
            "z_spamsim_vs_theory": (mean_s - theory_mean) / (theory_sd / math.sqrt(len(ref_sales))),
        }
    )
    return out


# -- 2. spamsim throughput on the lecture --------------------------------------------------------


def bench_spamsim(cfg: dict[str, Any], lecture: ss.Scenario, baseline_rate: float) -> dict[str, Any]:
    reps = 1000
    messages = float(lecture.spammers[0].campaign.messages_per_send)  # type: ignore[arg-type]
    log(f"[2] spamsim: {cfg['spamsim_repeats']} x ss.run(lecture, reps={reps})")
    for i in range(3):  # warm-up: imports, caches, first DataFrame construction
        ss.run(lecture, reps=reps, seed=1000 + i).summary  # noqa: B018
    run_times, with_summary = [], []
    for i in range(cfg["spamsim_repeats"]):
        seconds, _ = timed(lambda i=i: ss.run(lecture, reps=reps, seed=i))
        run_times.append(seconds)
        seconds, _ = timed(lambda i=i: ss.run(lecture, reps=reps, seed=i).summary)
        with_summary.append(seconds)
    wall = statistics.median(run_times)
    rate = reps * messages / wall
    return {
        "reps": reps,
        "messages_per_rep": messages,
        "seconds": run_times,
        "median_s": wall,
        "median_s_with_summary": statistics.median(with_summary),
        "msg_per_s": rate,
        "speedup": rate / baseline_rate,
    }


# -- 3. cost flat in volume ---------------------------------------------------------------------


def volume_label(v: float) -> str:
    return f"1e{round(math.log10(v))}"


def bench_volumes(cfg: dict[str, Any]) -> dict[str, Any]:
    reps = 1000
    scenarios = {v: ss.load(LECTURE, overrides=[f"{VOLUME_KEY}={int(v)}"]) for v in VOLUMES}
    log(f"[3] volume: {cfg['volume_repeats']} x 1,000 replications at each of {len(VOLUMES)}")
    for sc in scenarios.values():
        ss.run(sc, reps=reps, seed=0)  # warm-up
    samples: dict[float, list[float]] = {v: [] for v in VOLUMES}
    for i in range(cfg["volume_repeats"]):  # interleaved, so drifts hit every volume alike
        for v, sc in scenarios.items():
            seconds, _ = timed(lambda sc=sc, i=i: ss.run(sc, reps=reps, seed=i))
            samples[v].append(seconds)
    per_rep = {v: statistics.median(s) / reps for v, s in samples.items()}
    fastest = min(per_rep.values())
    return {
        "reps": reps,
        "seconds": {volume_label(v): s for v, s in samples.items()},
        "per_rep_s": {volume_label(v): t for v, t in per_rep.items()},
        "max_over_min": max(per_rep.values()) / fastest,
    }


# -- 4. internet scale ----------------------------------------------------------------------------


def bench_internet(cfg: dict[str, Any], baseline_rate: float) -> dict[str, Any]:
    path = INTERNET
    log(f"[4] internet-scale ({path.relative_to(ROOT)}): 1 and 100 replications")
    ss.run(path, reps=1, seed=0)  # warm-up
    out: dict[str, Any] = {"scenario": str(path.relative_to(ROOT))}
    for reps in (1, 100):
        times = []
        for i in range(cfg["internet_repeats"]):
            # ss.run(path) includes loading and validating the YAML: what a user calls.
            seconds, result = timed(lambda reps=reps, i=i: ss.run(path, reps=reps, seed=i))
            times.append(seconds)
        out[f"reps_{reps}"] = {"seconds": times, "median_s": statistics.median(times)}
        if reps == 1:
            sc = result.scenario
            messages = float(result.replications["attempted"].iloc[0])
            out["steps"] = sc.n_steps
            out["attempted_per_rep"] = messages
            out["baseline_equivalent_s"] = messages / baseline_rate
            out["speedup"] = out["baseline_equivalent_s"] / out["reps_1"]["median_s"]
    out["reps_100_over_reps_1"] = out["reps_100"]["median_s"] / out["reps_1"]["median_s"]
    return out


# -- 4b. a year at hourly steps ----------------------------------------------------------------

JAPAN = ROOT / "scenarios" / "japan-2011.yaml"


def _year_block(scenario: ss.Scenario, block: int, size: int) -> float:
    from spamsim.model.world import simulate_block

    return float(simulate_block(scenario, 1, block, size).flows["revenue"].sum())


def bench_hourly_year(cfg: dict[str, Any]) -> dict[str, Any]:
    """japan-2011 over a year at hourly steps (8,760 steps) and at daily steps, 2 processes.

    The engine's blocks run on two worker processes and each returns its total revenue:
    the whole-run ledger of 1,000 replications x 8,760 steps would take ~10 GiB (the runner
    refuses runs over 8 GiB), so this row measures the simulation, not the stitching.
    """
    from concurrent.futures import ProcessPoolExecutor

    from spamsim.runner.replications import blocks

    reps = cfg["hourly_year_reps"]
    log(f"[4b] japan-2011, 365 days, hourly and daily steps, {reps} replications on 2 processes")
    out: dict[str, Any] = {"reps": reps}
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        pool.submit(int, 0).result()  # start the workers before timing
        for label, step in (("hourly", 1), ("daily", 24)):
            scenario = ss.load(JAPAN, ["horizon.days=365", f"horizon.step_hours={step}"])

            def work(sc: ss.Scenario = scenario) -> list[float]:
                futures = [pool.submit(_year_block, sc, b, n) for b, n in enumerate(blocks(reps))]
                return [f.result() for f in futures]

            seconds, _ = timed(work)
            out[label] = {"seconds": seconds, "steps": scenario.n_steps}
    out["hourly_over_daily"] = out["hourly"]["seconds"] / out["daily"]["seconds"]
    return out


# -- 5. peak memory -------------------------------------------------------------------------------

MEMORY_PROBE = r"""
import json, resource, sys
import spamsim as ss
import pandas  # noqa: F401  (counted in the import footprint)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = ss.run(sys.argv[1], reps=int(sys.argv[2]), seed=1)
summary = r.summary
ts = r.timeseries
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # cross-check: the peak RSS of this process's own address space (Linux)
    status = open("/proc/self/status").read()
    hwm = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError, ValueError):
    hwm = None
print(json.dumps({"import_maxrss": before, "peak_maxrss": peak, "vmhwm_kib": hwm,
                  "timeseries_rows": len(ts),
                  "timeseries_bytes": int(ts.memory_usage(deep=True).sum())}))
"""


def _maxrss_mb(value: int) -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS; report decimal MB.
    return value / 1e6 if sys.platform == "darwin" else value * 1024 / 1e6


def peak_memory(path: Path, reps: int) -> dict[str, Any]:
    # Not a direct child: on Linux, ru_maxrss survives exec(), so a Python started straight
    # from this process would report *this* process's RSS (the parent's pages it was forked
    # or vforked with) as its own peak. A shell forks the probe from its own small address
    # space instead (`; exit` keeps the shell from exec-ing the command in place).
    command = '"$0" -c "$1" "$2" "$3"; exit $?'
    proc = subprocess.run(
        ["/bin/sh", "-c", command, sys.executable, MEMORY_PROBE, str(path), str(reps)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_mb = _maxrss_mb(raw["peak_maxrss"])
    hwm_mb = raw["vmhwm_kib"] * 1024 / 1e6 if raw["vmhwm_kib"] is not None else None
    if hwm_mb is not None and peak_mb > 1.1 * hwm_mb:
        log(f"warning: ru_maxrss {peak_mb:.0f} MB > VmHWM {hwm_mb:.0f} MB: inherited peak?")
    return {
        "scenario": str(path.relative_to(ROOT)),
        "reps": reps,
        "import_mb": _maxrss_mb(raw["import_maxrss"]),
        "peak_mb": peak_mb,
        "vmhwm_mb": hwm_mb,
        "timeseries_rows": raw["timeseries_rows"],
        "timeseries_mb": raw["timeseries_bytes"] / 1e6,
    }


def bench_memory() -> dict[str, Any]:
    log("[5] peak memory: fresh subprocesses")
    return {"lecture": peak_memory(LECTURE, 1000), "internet": peak_memory(INTERNET, 100)}


STARTUP_PROBE = """
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - t0, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""
"""Runs a command as its own child and reports that child's wall time and peak RSS.

The probe is a small fresh Python: ru_maxrss survives exec(), so a command forked straight
from this (large) benchmark process would report this process's RSS as its own peak, and a
shell wrapper would fold its own inherited peak into what ``wait4`` reports.
"""


def _startup_env() -> dict[str, str]:
    """The environment a user's shell gives: Python may cache bytecode.

    Some sandboxes and CI images set PYTHONDONTWRITEBYTECODE, which makes every start compile
    spamsim's modules from source (~60 ms here with an editable install); an installed wheel
    ships compiled bytecode, and a user's own checkout writes it on the first run.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _startup(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one fresh process running ``command``."""
    proc = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_startup_env(),
    )
    seconds, maxrss, code = proc.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {code}")
    return float(seconds), _maxrss_mb(int(maxrss))


def bench_startup(cfg: dict[str, Any]) -> dict[str, Any]:
    """How quickly the command line answers: ``--help`` and ``validate`` against bare Python.

    Each command runs once unmeasured (it writes the bytecode caches a user's first run
    writes), then ``cfg["startup_runs"]`` times, interleaved so that load drifts hit all
    alike; the median time and the largest peak RSS are kept.
    """
    log("[6] start-up: spamsim --help, spamsim validate vs python -c pass")
    exe = str(Path(sys.executable).with_name("spamsim"))
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "help": [exe, "--help"],
        "validate": [exe, "validate", str(LECTURE.relative_to(ROOT))],
        "validate_dists": [exe, "validate", str(JAPAN.relative_to(ROOT))],
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for command in commands.values():
        _startup(command)
    for _ in range(cfg["startup_runs"]):
        for name, command in commands.items():
            runs[name].append(_startup(command))
    return {
        name: {
            "seconds": statistics.median(t for t, _ in samples),
            "peak_mb": max(m for _, m in samples),
        }
        for name, samples in runs.items()
    }


# -- report ----------------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} µs"


def sci(x: float) -> str:
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def below(value: float, target: float) -> str:
    """Status for a lower-is-better target ``value < target``."""
    if value < target:
        return f"PASS ({target / value:,.1f}× under)"
    return f"MISS ({value / target:,.2f}× over)"


def at_least(value: float, target: float) -> str:
    if value >= target:
        return f"PASS ({value / target:,.1f}× over)"
    return f"MISS ({target / value:,.2f}× short)"


def at_most(value: float, target: float) -> str:
    if value <= target:
        return f"PASS ({target / value:,.2f}× headroom)"
    return f"MISS ({value / target:,.2f}× over)"


def table(res: dict[str, Any]) -> str:
    b, s, v = res["baseline"], res["spamsim"], res["volume"]
    net, mem = res["internet"], res["memory"]
    ref_rep_s = b["extrapolated_s_per_lecture_rep"]
    rows: list[tuple[str, ...]] = []
    labels = {"gc_on": "default (GC on)", "gc_off": "`gc.disable()`"}
    ref = b["reference"]
    for variant in ("gc_on", "gc_off"):
        v_ = b[variant]
        is_ref = variant == ref
        rows.append(
            (
                "1",
                f"baseline, {labels[variant]}: one SimPy process + `rng.random() < p` per message "
                f"(median of {len(v_['seconds'])} × {b['messages_per_replication']:,} messages)",
                f"{sci(v_['msg_per_s'])} msg/s",
                "1× (reference)" if is_ref else f"{v_['msg_per_s'] / b['msg_per_s']:.2f}× reference",
                "—",
                "info",
            )
        )
        rows.append(
            (
                "1",
                f"baseline, {labels[variant]}: one lecture replication "
                f"({b['lecture_messages']:,.0f} messages), extrapolated",
                fmt_time(v_["extrapolated_s_per_lecture_rep"]),
                "1× (reference)" if is_ref else f"{v_['extrapolated_s_per_lecture_rep'] / ref_rep_s:.2f}× reference",
                "—",
                "info",
            )
        )
    rows.append(
        (
            "1",
            f"agreement: mean sales per {b['messages_per_replication']:,} messages, "
            f"baseline ({b['replications']} reps) vs spamsim ({b['spamsim_reps']:,} reps)",
            f"{b['mean_sales']:,.1f} vs {b['spamsim_mean_sales']:,.2f} "
            f"(sd {b['sd_sales']:,.1f} vs {b['spamsim_sd_sales']:,.1f}; binomial: "
            f"{b['theory_mean_sales']:,.0f}, sd {b['theory_sd_sales']:,.1f})",
            f"z = {b['z']:+.2f} (spamsim vs binomial: {b['z_spamsim_vs_theory']:+.2f})",
            f"\\|z\\| < {AGREEMENT_Z:g}",
            "PASS" if abs(b["z"]) < AGREEMENT_Z else f"MISS (\\|z\\| = {abs(b['z']):.1f})",
        )
    )
    rows.append(
        (
            "2",
            f"spamsim: `ss.run(lecture, reps=1000)` wall time (median of {len(s['seconds'])})",
            fmt_time(s["median_s"]),
            f"{s['median_s'] / ref_rep_s:.1e} of one reference baseline replication",
            f"< {TARGET_LECTURE_1000_S:g} s",
            below(s["median_s"], TARGET_LECTURE_1000_S),
        )
    )
    rows.append(
        (
            "2",
            "spamsim: same, plus `r.summary` (DataFrame of mean/se/CI)",
            fmt_time(s["median_s_with_summary"]),
            f"{s['median_s_with_summary'] / s['median_s']:.1f}× the run alone",
            "—",
            "info",
        )
    )
    rows.append(
        (
            "2",
            f"spamsim: messages/second ({s['reps']:,} × {s['messages_per_rep']:,.0f} messages / wall time)",
            f"{sci(s['msg_per_s'])} msg/s",
            f"**{sci(s['speedup'])}× reference baseline**",
            f"≥ {TARGET_SPEEDUP:,.0f}×",
            at_least(s["speedup"], TARGET_SPEEDUP),
        )
    )
    fastest = min(v["per_rep_s"].values())
    for key, per_rep in v["per_rep_s"].items():
        rows.append(
            (
                "3",
                f"time per replication, messages_per_send = {key} (median of {len(v['seconds'][key])} × 1,000 reps)",
                fmt_time(per_rep),
                f"{per_rep / fastest:.2f}× fastest",
                "—",
                "info",
            )
        )
    rows.append(
        (
            "3",
            "cost flat in volume: max/min time per replication, 1e3 … 1e15",
            f"{v['max_over_min']:.2f}×",
            f"1e12× more messages for {v['max_over_min']:.2f}× the time",
            f"≤ {TARGET_FLAT_RATIO:g}×",
            at_most(v["max_over_min"], TARGET_FLAT_RATIO),
        )
    )
    r1, r100 = net["reps_1"], net["reps_100"]
    rows.append(
        (
            "4",
            f"internet-scale (`{net['scenario']}`, {net['steps']} steps, "
            f"{sci(net['attempted_per_rep'])} messages): 1 replication "
            f"(median of {len(r1['seconds'])})",
            fmt_time(r1["median_s"]),
            f"{sci(net['speedup'])}× reference baseline "
            f"(which would need {net['baseline_equivalent_s'] / 86400:,.0f} days)",
            f"< {TARGET_INTERNET_1_S:g} s",
            below(r1["median_s"], TARGET_INTERNET_1_S),
        )
    )
    rows.append(
        (
            "4",
            f"internet-scale: 100 replications (median of {len(r100['seconds'])})",
            fmt_time(r100["median_s"]),
            f"{net['reps_100_over_reps_1']:.2f}× one replication",
            f"< {TARGET_INTERNET_100_S:g} s",
            below(r100["median_s"], TARGET_INTERNET_100_S),
        )
    )
    year = res["hourly_year"]
    rows.append(
        (
            "4b",
            f"japan-2011, a year at hourly steps ({year['hourly']['steps']:,} steps) x {year['reps']:,} "
            "replications, 2 workers",
            fmt_time(year["hourly"]["seconds"]),
            f"{year['hourly_over_daily']:.2f}x the same year at daily steps ({fmt_time(year['daily']['seconds'])})",
            f"< {TARGET_HOURLY_YEAR_S:g} s",
            below(year["hourly"]["seconds"], TARGET_HOURLY_YEAR_S),
        )
    )
    lec, inet = mem["lecture"], mem["internet"]
    rows.append(
        (
            "5",
            f"peak RSS, lecture × 1,000 reps, `r.summary` + `r.timeseries` ({lec['timeseries_rows']:,} rows)",
            f"{lec['peak_mb']:.0f} MB",
            f"{lec['peak_mb'] / lec['import_mb']:.2f}× after-import RSS ({lec['import_mb']:.0f} MB)",
            f"< {TARGET_PEAK_MB:g} MB",
            below(lec["peak_mb"], TARGET_PEAK_MB),
        )
    )
    rows.append(
        (
            "5",
            f"peak RSS, internet-scale × 100 reps, `r.summary` + `r.timeseries` ({inet['timeseries_rows']:,} rows)",
            f"{inet['peak_mb']:.0f} MB",
            f"{inet['peak_mb'] / inet['import_mb']:.2f}× after-import RSS ({inet['import_mb']:.0f} MB)",
            "—",
            "info",
        )
    )
    start = res["startup"]
    bare = start["python"]
    for name, shown in (
        ("help", "spamsim --help"),
        ("validate", "spamsim validate scenarios/lecture.yaml"),
        ("validate_dists", "spamsim validate scenarios/japan-2011.yaml"),
    ):
        row = start[name]
        rows.append(
            (
                "6",
                f"start-up, `{shown}` (median of {res['config']['startup_runs']} fresh processes)",
                f"{fmt_time(row['seconds'])}, {row['peak_mb']:.0f} MB",
                f"{row['seconds'] / bare['seconds']:.1f}× `python -c pass` ({fmt_time(bare['seconds'])}, "
                f"{bare['peak_mb']:.0f} MB)",
                f"< {TARGET_STARTUP_S:g} s and < {TARGET_STARTUP_MB:g} MB",
                below(row["seconds"], TARGET_STARTUP_S)
                if row["peak_mb"] < TARGET_STARTUP_MB
                else f"MISS ({row['peak_mb'] / TARGET_STARTUP_MB:.2f}× over in memory)",
            )
        )
    header = ("#", "measurement", "result", "ratio", "target", "status")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def load(avg: Any) -> str:
    return "n/a" if avg is None else "/".join(f"{x:.2f}" for x in avg)


def render(res: dict[str, Any]) -> str:
    env = res["environment"]
    mode = "quick (smoke, not for the record)" if res["quick"] else "full"
    out = [
        f"## spamsim benchmarks — {mode} mode",
        "",
        f"- machine: {env['nproc']} CPUs ({env['cpu']}), {env['platform']}",
        f"- versions: Python {env['python']}, numpy {env['numpy']}, simpy {env['simpy']}, "
        f"pandas {env['pandas']}, spamsim {env['spamsim']} (commit {env['commit']})",
        f"- command: `{res['command']}`; total benchmark time {res['total_s']:.0f} s; "
        f"load average (1/5/15 min) {load(env['loadavg_start'])} at start, "
        f"{load(res['loadavg_end'])} at end",
        "",
        table(res),
        "",
    ]
    misses = sum(line.count("| MISS") for line in out)
    out.append(f"{'All targets met.' if misses == 0 else f'{misses} target(s) missed.'}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (a few seconds)")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement to FILE")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    json_path = Path(args.json).resolve() if args.json else None  # relative to the caller's cwd
    python = Path(sys.executable)
    python_shown = os.path.relpath(python, ROOT) if python.is_relative_to(ROOT) else str(python)
    os.chdir(ROOT)
    for path in (LECTURE, INTERNET):
        if not path.exists():
            parser.error(f"{path.relative_to(ROOT)} is missing: the benchmark runs it")
    t0 = time.perf_counter()
    lecture = ss.load(LECTURE)
    res: dict[str, Any] = {
        "quick": args.quick,
        "config": cfg,
        "command": " ".join([python_shown, "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "environment": environment(),
    }
    res["baseline"] = bench_baseline(cfg, lecture)
    res["spamsim"] = bench_spamsim(cfg, lecture, res["baseline"]["msg_per_s"])
    res["volume"] = bench_volumes(cfg)
    res["internet"] = bench_internet(cfg, res["baseline"]["msg_per_s"])
    res["hourly_year"] = bench_hourly_year(cfg)
    res["memory"] = bench_memory()
    res["startup"] = bench_startup(cfg)
    res["total_s"] = time.perf_counter() - t0
    res["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(render(res))
    if json_path is not None:
        json_path.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
