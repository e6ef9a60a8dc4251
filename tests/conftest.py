"""Shared fixtures: paths, a helper to write scenario files, the CLI through its entry point."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def write(tmp_path: Path):
    """Write a (dedented) scenario file and return its path."""

    def _write(text: str, name: str = "s.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def spamsim_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real ``spamsim`` console script (as a user would) and capture its output."""
    exe = Path(sys.executable).with_name("spamsim")
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("SPAMSIM_DEBUG", None)
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=ROOT, env=env, check=check, timeout=300
    )


def chromium() -> str | None:
    """The system's Chromium (Debian's package; `make browser` installs it), if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium tries to reach Google's update and sync hosts, which a closed
    # network refuses (and a test that asserts "no external request" must not see).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Flags for a headless Chromium that talks to nothing but the page under test."""


def at_a_terminal() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT as Ctrl-C would: default
    SIGINT handling, unblocked. A process inherits an ignored or blocked SIGINT, and a test
    runner's worker process may hold either (Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


LECTURE_MINIMAL = """
name: t
market: {success_rate: 0.01, profit_per_sale: 500}
spammers:
  - name: s
    campaign: {messages_per_send: 1000000}
"""
