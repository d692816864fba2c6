"""The service's numbers in Prometheus' text format (prometheus-client): read from the
streams when scraped, plus an end-to-end latency histogram fed frame by frame, the
process's CPU and memory, and on CUDA GPU 0's utilisation and memory. Labels are stream
ids, never sources (a source URL may carry credentials)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from pipeline.measure.resources import GpuMonitor

LATENCY_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
PREFIX = "yolact_stream"


class ServiceMetrics:
    def __init__(self, service, *, gpu: bool | None = None, viewers=None):
        """``gpu``: sample GPU 0's utilisation and memory (nvidia-smi); by default when the
        engine runs on CUDA."""
        self.service = service
        if gpu is None:
            gpu = service.engine is not None and service.engine.device == "cuda"
        self.gpu = GpuMonitor(1.0) if gpu else None
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # CPU seconds, memory, open files
        self.latency = Histogram(
            f"{PREFIX}_latency_seconds",
            "capture (or decode) to output, per frame",
            ["stream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            f"{PREFIX}_image_requests",
            "single-image requests by HTTP status",
            ["code"],
            registry=self.registry,
        )
        self.registry.register(_StreamCollector(service, self.gpu, viewers or (lambda: 0)))

    def frame(self, stream_id: str, seconds: float) -> None:
        self.latency.labels(stream_id).observe(seconds)

    def forget(self, stream_id: str) -> None:
        try:
            self.latency.remove(stream_id)
        except KeyError:
            pass

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def close(self) -> None:
        if self.gpu is not None:
            self.gpu.close()


class _StreamCollector:
    def __init__(self, service, gpu, viewers):
        self.service, self.gpu, self.viewers = service, gpu, viewers

    def collect(self):
        infos = self.service.streams()
        frames = CounterMetricFamily(f"{PREFIX}_frames", "frames out, per stream", labels=["stream"])
        fps = GaugeMetricFamily(
            f"{PREFIX}_fps", "frames per second since the stream started", labels=["stream"]
        )
        drops = CounterMetricFamily(
            f"{PREFIX}_drops", "frames dropped (live streams keep up)", labels=["stream"]
        )
        reconnects = CounterMetricFamily(f"{PREFIX}_reconnects", "source reconnections", labels=["stream"])
        up = GaugeMetricFamily(f"{PREFIX}_stream_up", "1 while the stream runs", labels=["stream", "state"])
        stage_fps = GaugeMetricFamily(f"{PREFIX}_stage_fps", "frames per second", labels=["stream", "stage"])
        stage_p99 = GaugeMetricFamily(
            f"{PREFIX}_stage_latency_p99_seconds",
            "per-frame time, 99th percentile",
            labels=["stream", "stage"],
        )
        depth = GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "frames waiting in a ring", labels=["stream", "ring"]
        )
        latency = GaugeMetricFamily(
            f"{PREFIX}_stream_latency_seconds",
            "end-to-end latency percentiles of the recent frames (also for streams on other nodes)",
            labels=["stream", "quantile"],
        )
        placed = GaugeMetricFamily(
            f"{PREFIX}_stream_node",
            "serve --ray: 1 for the node running the stream",
            labels=["stream", "node"],
        )
        moves = CounterMetricFamily(
            f"{PREFIX}_relocations", "serve --ray: moves to another node after a node loss", labels=["stream"]
        )
        for info in infos:
            frames.add_metric([info.id], info.frames)
            fps.add_metric([info.id], info.fps)
            drops.add_metric([info.id], info.drops)
            reconnects.add_metric([info.id], info.reconnects)
            up.add_metric([info.id, info.state], 1.0 if info.state == "running" else 0.0)
            for stage, numbers in info.stages.items():
                stage_fps.add_metric([info.id, stage], numbers["fps"])
                if numbers["p99_ms"] is not None:
                    stage_p99.add_metric([info.id, stage], numbers["p99_ms"] / 1e3)
            for ring, value in info.queues.items():
                depth.add_metric([info.id, ring], value)
            for quantile in ("p50", "p95", "p99"):
                value = getattr(info.latency_ms, quantile)
                if value is not None:
                    latency.add_metric([info.id, f"0.{quantile[1:]}"], value / 1e3)
            if info.node is not None:
                placed.add_metric([info.id, info.node], 1.0)
                moves.add_metric([info.id], info.relocations)
        batches = CounterMetricFamily(
            f"{PREFIX}_engine_batches", "engine calls by batch size", labels=["size"]
        )
        engine = self.service.engine
        for size, calls in sorted(dict(engine.batch_sizes if engine is not None else {}).items()):
            batches.add_metric([str(size)], calls)
        ready = GaugeMetricFamily(f"{PREFIX}_ready", "1 once the engine is loaded")
        ready.add_metric([], 1.0 if self.service.ready else 0.0)
        viewers = GaugeMetricFamily(
            f"{PREFIX}_viewers", "event and video responses open", value=self.viewers()
        )
        yield from (frames, fps, drops, reconnects, up, stage_fps, stage_p99, depth, latency, placed, moves)
        yield from (batches, ready, viewers)
        if self.gpu is not None and self.gpu.latest is not None:
            utilisation, memory = self.gpu.latest
            yield GaugeMetricFamily(
                f"{PREFIX}_gpu_utilisation_percent", "GPU 0, from nvidia-smi", value=utilisation
            )
            yield GaugeMetricFamily(f"{PREFIX}_gpu_memory_used_mib", "GPU 0, from nvidia-smi", value=memory)
