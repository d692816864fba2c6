"""The cluster-wide progress line of ``run --ray``: files done of all, frames, and each
node's share and throughput (frames of finished sources plus those in flight there)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClusterProgress:
    total: int  # sources
    started: float  # monotonic time the run started
    done: int = 0
    failed: int = 0
    workers_lost: int = 0
    finished_frames: dict[str, int] = field(default_factory=dict)  # node -> frames of finished sources
    finished_files: dict[str, int] = field(default_factory=dict)  # node -> finished sources
    in_flight: dict[str, int] = field(default_factory=dict)  # node -> frames so far of running sources

    def finished(self, node: str, frames: int) -> None:
        self.done += 1
        self.finished_frames[node] = self.finished_frames.get(node, 0) + frames
        self.finished_files[node] = self.finished_files.get(node, 0) + 1

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        nodes = sorted(set(self.finished_frames) | set(self.in_flight))
        frames = {node: self.finished_frames.get(node, 0) + self.in_flight.get(node, 0) for node in nodes}
        total_frames = sum(frames.values())
        parts = [
            f"files {self.done}/{self.total}"
            + (f" ({self.failed} failed)" if self.failed else "")
            + f"  frames {total_frames}  {total_frames / elapsed:.1f} fps"
        ]
        parts += [
            f"node {node[:8]} {self.finished_files.get(node, 0)} files {frames[node] / elapsed:.1f} fps"
            for node in nodes
        ]
        if self.workers_lost:
            parts.append(f"{self.workers_lost} workers lost")
        return "  |  ".join(parts)
