"""The product's two-node local Ray cluster (``pipeline.cluster.local``), plus what only a
test does to it: kill the second node's raylet outright."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pipeline.cluster.local import LocalCluster


class TwoNodes(LocalCluster):
    def __init__(self):
        super().__init__(nodes=2)

    def kill_second_raylet(self) -> None:
        """The second node's raylet, killed (the node dies, its workers with it)."""
        for pid in _descendants(self.processes[1].pid):
            if "raylet" in _command(pid):
                os.kill(pid, signal.SIGKILL)
                return
        raise RuntimeError("no raylet under the second node")


def _descendants(root: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
