"""How many cores this process may run on: its affinity (taskset, cgroups cpusets), not
all the machine has. ONNX Runtime sizes its thread pool by it; reports record it."""

from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
