"""One live stream of ``serve --ray``, on whichever node Ray placed it: a threaded Ray actor
holding a one-stream ``Service`` (its own engine, the stream's pipeline and live view), so
the stream runs there exactly as it would in a local service. The driver's
``RemoteStream`` asks it for numbers, frames and records, and watches it with
``wait_finished``: a call that fails because the actor is gone means its node died."""

from __future__ import annotations

import time


class StreamWorker:
    """Made a Ray actor by ``pipeline.cluster.remote_stream`` (``max_concurrency`` > 1: viewers'
    calls are answered while the watcher's long poll waits)."""

    def __init__(self, options):
        from pipeline.serve.service import Service

        self.service = Service(options, max_streams=1).__enter__()
        self.stream_id: str | None = None

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def start(self, source: str, outputs: list[str]):
        info = self.service.add_stream(source, outputs)
        self.stream_id = info.id
        return info

    def _stream(self):
        return self.service.stream(self.stream_id)

    def info(self):
        return self._stream().info()

    def jpeg(self, quality: int):
        return self._stream().live.jpeg(quality)

    def records_after(self, sequence: int):
        records, skipped = self._stream().live.records_after(sequence)
        return [tuple(record) for record in records], skipped

    def change_render(self, changes: dict) -> dict:
        return self._stream().change_render(changes)

    def wait_finished(self, timeout: float) -> bool:
        """True once the stream has finished (ended, failed or stopped), else False after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        stream = self._stream()
        while not stream.finished and time.monotonic() < deadline:
            time.sleep(0.05)
        return stream.finished

    def stop(self, timeout: float):
        """The stream stopped and its outputs finalised; what it was."""
        info = self.service.remove_stream(self.stream_id, timeout)
        self.service.close()
        return info
