"""What the benchmark's steps measure with: percentiles, and a process tree's peak memory."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import psutil


def percentiles(values: list[float], scale: float = 1.0) -> dict[str, float] | None:
    """p50, p95 and max of the values times `scale` (1000: seconds to ms), and n."""
    if not values:
        return None
    array = np.array(values) * scale
    return {
        "p50": float(np.median(array)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
        "n": int(array.size),
    }


class RssSampler(threading.Thread):
    """The summed RSS of a process and its children every 50 ms; `stop()` gives the
    peak in MB."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            with contextlib.suppress(psutil.Error):
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            time.sleep(0.05)

    def stop(self) -> float:
        self.done.set()
        self.join(timeout=1)
        return self.peak / 2**20
