"""Wall time and peak memory of one method run.

Peak host memory is the process's resident-set high-water mark (``VmHWM``), reset
before the run by writing 5 to ``/proc/self/clear_refs`` (Linux >= 4.0). Where that
reset is not allowed, a background thread samples ``VmRSS`` every 20 ms instead.
On CUDA the peak of ``torch.cuda.max_memory_allocated`` is reported as well.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass

_KIB = 1024.0


def _status_kib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return float(m.group(1)) if m else None


def current_rss_mib() -> float | None:
    """Resident set size of this process now, MiB (None where /proc is absent)."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / _KIB


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's RSS; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Usage:
    """What one run cost: wall seconds, peak RSS (MiB, whole process) and its rise over the
    RSS at the start, and the CUDA allocator's peak (MiB) when CUDA was used."""

    wall_seconds: float = 0.0
    peak_rss_mib: float | None = None
    rss_start_mib: float | None = None
    cuda_peak_mib: float | None = None
    method: str = ""  # "vmhwm" or "sampled"

    @property
    def peak_rss_delta_mib(self) -> float | None:
        if self.peak_rss_mib is None or self.rss_start_mib is None:
            return None
        return max(0.0, self.peak_rss_mib - self.rss_start_mib)


class measure:
    """Context manager: ``with measure(cuda=False) as usage: ...`` fills ``usage`` on exit."""

    def __init__(self, cuda: bool = False):
        self.usage = Usage()
        self._cuda = cuda
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sampled_peak = 0.0

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            rss = current_rss_mib()
            if rss is not None:
                self._sampled_peak = max(self._sampled_peak, rss)

    def __enter__(self) -> Usage:
        self.usage.rss_start_mib = current_rss_mib()
        if reset_peak_rss():
            self.usage.method = "vmhwm"
        else:
            self.usage.method = "sampled"
            self._sampled_peak = self.usage.rss_start_mib or 0.0
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        if self._cuda and "torch" in sys.modules:
            import torch

            if torch.cuda.is_available():
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
        self._t0 = time.perf_counter()
        return self.usage

    def __exit__(self, *exc) -> None:
        if self._cuda and "torch" in sys.modules:
            import torch

            if torch.cuda.is_available():
                torch.cuda.synchronize()
                self.usage.cuda_peak_mib = torch.cuda.max_memory_allocated() / _KIB / _KIB
        self.usage.wall_seconds = time.perf_counter() - self._t0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            rss = current_rss_mib()
            self.usage.peak_rss_mib = max(self._sampled_peak, rss or 0.0)
        else:
            kib = _status_kib("VmHWM")
            self.usage.peak_rss_mib = None if kib is None else kib / _KIB
