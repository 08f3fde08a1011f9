"""Peak memory of the running process, for the benchmarks: reset the high-water mark, read it."""

from __future__ import annotations

import contextlib
import resource
import sys
from pathlib import Path


def reset_peak_rss() -> None:
    """Forget the peak resident memory so far (Linux: a forked child starts with its parent's
    high-water mark); elsewhere nothing happens and the peak counts from the process's start."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """The process's peak resident memory in MiB since it started or since the last reset.

    On Linux the high-water mark of this program's own memory (``VmHWM``): ``ru_maxrss``
    would also count the parent's memory copied at fork, before ``exec`` replaced it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
