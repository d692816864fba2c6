"""The product's two-node local Ray cluster (``pipeline.cluster.local``), plus what only a
test does to it: kill the second node outright."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pipeline.cluster.local import LocalCluster


class TwoNodes(LocalCluster):
    def __init__(self):
        super().__init__(nodes=2)

    def kill_second_node(self) -> None:
        """The second node's raylet and its workers, killed at once, as when the machine
        dies: work in progress there is lost, however fast it would have finished (with the
        raylet alone killed, its workers live on for a moment and may still deliver)."""
        processes = _descendants(self.processes[1].pid)
        if not any("raylet" in _command(pid) for pid in processes):
            raise RuntimeError("no raylet under the second node")
        for pid in processes:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


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
