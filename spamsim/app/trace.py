"""Where a click's time goes: timestamped marks from the server, written only when asked.

``SPAMSIM_APP_TRACE=FILE`` makes the app append one line per mark to ``FILE`` (seconds on
:func:`time.perf_counter`, the thread, the mark and its details, tab-separated);
``benchmarks/app_latency.py`` reads them to split a click's latency into its parts. Without
the variable a mark costs one comparison.
"""

from __future__ import annotations

import os
import threading
import time

PATH = os.environ.get("SPAMSIM_APP_TRACE") or None
"""The file marks are appended to (``None``: marks are not recorded)."""

_LOCK = threading.Lock()


def mark(event: str, **details: object) -> None:
    """Record that ``event`` happened now (with ``details``), if tracing is on."""
    if PATH is None:
        return
    line = f"{time.perf_counter():.6f}\t{threading.current_thread().name}\t{event}\t" + " ".join(
        f"{k}={v}" for k, v in details.items()
    )
    with _LOCK, open(PATH, "a", encoding="utf-8") as out:
        out.write(line + "\n")
