"""Process resource sampling: CPU use, memory, threads, descriptors, and the GPU.

A background thread samples this process every ``interval`` seconds (CPU from
``time.process_time`` deltas, RSS from /proc, thread and descriptor counts); with an
NVIDIA GPU, one long-lived ``nvidia-smi --loop-ms`` child streams utilisation and
memory (no per-sample process start). Samples are tagged with the current ``phase``
so one sampler can cover several measurements (bench) or a long run (leak checks);
changing the phase closes the previous one with a sample, so short phases are covered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20


@dataclass(frozen=True, slots=True)
class PhaseUsage:
    """What one phase (a measurement) used: CPU cores busy, memory, threads, the GPU."""

    samples: int
    cpu_cores_mean: float
    cpu_cores_peak: float
    rss_mb_peak: float
    threads_peak: int
    gpu_percent_mean: float | None = None  # None without an NVIDIA GPU
    gpu_memory_mb_peak: float | None = None


@dataclass(frozen=True)
class ResourceSample:
    seconds: float  # since the sampler started
    phase: str
    cpu_cores: float  # cores kept busy by this process since the previous sample (2.0 = two full cores)
    rss_mb: float
    threads: int
    open_fds: int
    gpu_percent: float | None = None
    gpu_memory_mb: float | None = None


def rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_MB
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


class GpuMonitor:
    """Latest utilisation / memory of GPU 0 from a streaming nvidia-smi, or nothing."""

    def __init__(self, interval: float):
        self.latest: tuple[float, float] | None = None
        self._process = None
        if shutil.which("nvidia-smi") is None:
            return
        try:
            self._process = subprocess.Popen(
                [
                    "nvidia-smi",
                    "--query-gpu=utilization.gpu,memory.used",
                    "--format=csv,noheader,nounits",
                    "-i",
                    "0",
                    f"--loop-ms={max(100, int(interval * 1000))}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return
        threading.Thread(target=self._read, name="gpu-monitor", daemon=True).start()

    def _read(self) -> None:
        for line in self._process.stdout:
            try:
                utilisation, memory = (float(part) for part in line.split(","))
            except ValueError:
                continue
            self.latest = (utilisation, memory)

    def close(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process.stdout.close()


class ResourceSampler:
    """Example:
    >>> with ResourceSampler(interval=0.2) as sampler:
    ...     sampler.phase = "pipelined"
    ...     run()
    >>> sampler.summary()["pipelined"].cpu_cores_mean
    """

    def __init__(self, interval: float = 0.2, *, gpu: bool = True):
        self.interval = interval
        self._phase = "start"
        self._lock = threading.Lock()
        self._last: tuple[float, float] | None = None
        self.samples: list[ResourceSample] = []
        self._gpu_wanted = gpu
        self._gpu: GpuMonitor | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, name: str) -> None:
        if self._last is not None:
            self.sample()  # attributed to the phase that ends here
        self._phase = name

    def __enter__(self) -> ResourceSampler:
        self._gpu = GpuMonitor(self.interval) if self._gpu_wanted else None
        self._started = time.monotonic()
        self._last = (self._started, time.process_time())
        self._thread = threading.Thread(target=self._loop, name="resource-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        if self._gpu is not None:
            self._gpu.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> ResourceSample:
        with self._lock:
            now, cpu = time.monotonic(), time.process_time()
            last_wall, last_cpu = self._last
            self._last = (now, cpu)
            gpu = self._gpu.latest if self._gpu is not None else None
            sample = ResourceSample(
                seconds=now - self._started,
                phase=self._phase,
                cpu_cores=(cpu - last_cpu) / (now - last_wall) if now > last_wall else 0.0,
                rss_mb=rss_mb(),
                threads=threading.active_count(),
                open_fds=open_fds(),
                gpu_percent=gpu[0] if gpu else None,
                gpu_memory_mb=gpu[1] if gpu else None,
            )
            self.samples.append(sample)
            return sample

    def summary(self) -> dict[str, PhaseUsage]:
        """Per phase: mean/peak CPU cores busy, peak RSS, mean/peak GPU use and memory."""
        phases: dict[str, list[ResourceSample]] = {}
        for sample in self.samples:
            phases.setdefault(sample.phase, []).append(sample)
        result = {}
        for phase, samples in phases.items():
            cpu = np.array([s.cpu_cores for s in samples])
            gpu = [s.gpu_percent for s in samples if s.gpu_percent is not None]
            gpu_memory = [s.gpu_memory_mb for s in samples if s.gpu_memory_mb is not None]
            result[phase] = PhaseUsage(
                samples=len(samples),
                cpu_cores_mean=float(cpu.mean()),
                cpu_cores_peak=float(cpu.max()),
                rss_mb_peak=max(s.rss_mb for s in samples),
                threads_peak=max(s.threads for s in samples),
                gpu_percent_mean=float(np.mean(gpu)) if gpu else None,
                gpu_memory_mb_peak=max(gpu_memory) if gpu_memory else None,
            )
        return result

    def as_rows(self) -> list[dict]:
        return [asdict(sample) for sample in self.samples]
