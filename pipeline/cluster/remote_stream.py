"""``serve --ray``: each stream of the service runs on a node of a Ray cluster, placed by
Ray where there is room (``cpus``/``gpus`` per stream), and moves when its node dies.

The service keeps its API, page and metrics; ``RayStreams`` makes its streams
``RemoteStream`` objects, which answer as local ones do by asking their actor
(``pipeline.cluster.stream_worker``). A watcher thread per stream long-polls the actor;
when that call fails because the actor is gone (its node died), the stream is started
again on a new actor — Ray places it on a node that is alive — and reconnects to its
source from there. The gap (loss noticed → running again) is reported in the stream's
``relocations`` and ``gap_s``. Frame sequences keep increasing across moves, so event
viewers go on where they were.

Outputs are written on the node that runs the stream: give paths every node can reach
(a shared filesystem) or push to ``rtsp://``. What a lost node wrote stays as it was (a
JSON lines file up to its last line; a video under its hidden temporary name, never as a
complete-looking file) and the moved stream goes on in ``NAME-moved<N>.EXT`` beside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time

from pipeline.serve.live_view import FrameRecord
from pipeline.serve.stream import StreamInfo, StreamState
from pipeline.sinks.output_checks import suffixed

POLL = 1.0  # seconds each watcher call waits on the actor
MAX_PLACEMENT_WAIT = 120.0  # seconds a (re)placement may take before the stream is failed


class RayStreams:
    """The stream factory of a service on Ray (``Service(streams=RayStreams(...))``)."""

    def __init__(self, address: str = "auto", *, cpus: float = 1.0, gpus: float = 0.0, report=print):
        from pipeline.cluster.connect import connect

        connect(address, needs="serve --ray")
        import ray

        from pipeline.cluster.stream_worker import StreamWorker

        self.worker = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=0, max_concurrency=8)(
            StreamWorker
        )
        self.report = report

    def __call__(self, stream_id: str, source: str, outputs: list[str], options, on_frame=None):
        return RemoteStream(stream_id, source, outputs, options, self.worker, self.report)


class RemoteLive:
    """The stream's live view as the app reads it (JPEG frames, JSON records), fetched from
    the actor; sequences offset by what earlier placements showed."""

    def __init__(self, stream: RemoteStream):
        self.stream = stream

    def jpeg(self, quality: int = 80) -> tuple[int, bytes] | None:
        latest = self.stream.call("jpeg", quality)
        if latest is None:
            return None
        return self.stream.seen(latest[0]), latest[1]

    def records_after(self, sequence: int) -> tuple[list[FrameRecord], int]:
        base = self.stream.base
        fetched = self.stream.call("records_after", max(sequence - base, 0))
        if fetched is None:
            return [], 0
        records, skipped = fetched
        shown = [FrameRecord(self.stream.seen(number), text) for number, text in records]
        return [record for record in shown if record.sequence > sequence], skipped


class RemoteStream:
    """A stream of the service running in a Ray actor (see the module docstring)."""

    def __init__(self, stream_id: str, source: str, outputs: list[str], options, worker, report):
        self.id, self.source, self.outputs, self.options = stream_id, source, list(outputs), options
        self.worker, self.report = worker, report
        self.live = RemoteLive(self)
        self.state = StreamState.STARTING
        self.node: str | None = None
        self.relocations = 0
        self.gap_s: float | None = None
        self.base = 0  # frame sequences of earlier placements
        self._last_sequence = 0
        self._frames_before = 0
        self._last_info: StreamInfo | None = None
        self._actor = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._render: dict = {}
        self._lock = threading.Lock()
        self._created = time.monotonic()
        self._watcher = threading.Thread(target=self._watch, name=f"ray-stream-{stream_id}", daemon=True)

    # ------------------------------------------------------------ the service's stream interface
    def start(self) -> None:
        self._watcher.start()

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def info(self) -> StreamInfo:
        latest = self.call("info") if not self._done.is_set() else None
        with self._lock:
            if latest is not None:
                self._last_info = latest
                self._last_sequence = max(self._last_sequence, latest.frames)
            info = self._last_info
            written = [continued(o, n) for n in range(self.relocations + 1) for o in self.outputs]
            base = StreamInfo(self.id, self.source, tuple(dict.fromkeys(written)), self.state.value)
            if info is not None:
                base = dataclasses.replace(
                    info,
                    id=self.id,
                    source=base.source,
                    outputs=base.outputs,
                    frames=self._frames_before + info.frames,
                    state=self.state.value if self.state is not StreamState.RUNNING else info.state,
                )
            return dataclasses.replace(
                base,
                uptime_s=time.monotonic() - self._created,
                node=self.node,
                relocations=self.relocations,
                gap_s=self.gap_s,
            )

    def change_render(self, changes: dict) -> dict:
        from pipeline.serve.stream import RENDER_CHANGES, checked

        changes = checked(changes, RENDER_CHANGES, "render")
        with self._lock:
            self._render.update(changes)
        drawn = self.call("change_render", changes)
        return drawn if drawn is not None else dict(self._render)

    def stop(self, timeout: float) -> bool:
        """Stop the stream on its node (outputs finalised there); True once done. Its node
        is always given time to finalise, whatever ``timeout`` (a service asks all its
        streams with 0 first)."""
        if self._done.is_set():
            return True
        timeout = max(timeout, 30.0)
        self._stop.set()
        if self.state in (StreamState.STARTING, StreamState.RUNNING, StreamState.MOVING):
            self.state = StreamState.STOPPING
        final = self.call("stop", timeout, timeout=timeout + 10)
        if final is not None:
            with self._lock:
                self._last_info = final
        self._watcher.join(timeout)
        self.state = StreamState.STOPPED if final is not None else StreamState.FAILED
        self._kill()
        self._done.set()
        return True

    # ------------------------------------------------------------ placement and watching
    def call(self, method: str, *args, timeout: float = 30.0):
        """The actor's answer, or None while the stream has no actor (moving, or done)."""
        import ray
        from ray.exceptions import RayError

        actor = self._actor
        if actor is None:
            return None
        try:
            return ray.get(getattr(actor, method).remote(*args), timeout=timeout)
        except (RayError, TimeoutError):
            return None  # the watcher notices a lost actor and moves the stream

    def seen(self, sequence: int) -> int:
        """A sequence number of the current placement, as viewers see it."""
        shown = self.base + sequence
        with self._lock:
            self._last_sequence = max(self._last_sequence, sequence)
        return shown

    def _place(self) -> None:
        import ray

        actor = self.worker.remote(self.options)
        node = ray.get(actor.node.remote(), timeout=MAX_PLACEMENT_WAIT)
        outputs = [continued(output, self.relocations) for output in self.outputs]
        ray.get(actor.start.remote(self.source, outputs), timeout=MAX_PLACEMENT_WAIT)
        if self._render:
            ray.get(actor.change_render.remote(dict(self._render)), timeout=MAX_PLACEMENT_WAIT)
        self._actor, self.node = actor, node

    def _watch(self) -> None:
        import ray
        from ray.exceptions import RayError

        lost_at = None
        while not self._stop.is_set():
            try:
                if self._actor is None:
                    self._place()
                    if lost_at is not None:
                        self.gap_s = time.monotonic() - lost_at
                        self.report(
                            f"stream {self.id}: running again on node {self.node[:8]} "
                            f"after {self.gap_s:.1f} s"
                        )
                        lost_at = None
                    self.state = StreamState.RUNNING
                if ray.get(self._actor.wait_finished.remote(POLL), timeout=POLL + 30):
                    final = self.call("info")
                    with self._lock:
                        self._last_info = final or self._last_info
                    self.state = StreamState(final.state) if final is not None else StreamState.FAILED
                    self._done.set()
                    return
            except (RayError, TimeoutError) as error:
                if self._stop.is_set():
                    return
                if self.node is None:  # never placed: no room, or the stream cannot start there
                    self._fail(f"could not be placed on the cluster: {_reason(error)}")
                    return
                if lost_at is not None and time.monotonic() - lost_at > MAX_PLACEMENT_WAIT:
                    self._fail(f"could not be placed again on the cluster: {_reason(error)}")
                    return
                if lost_at is None:
                    lost_at = time.monotonic()
                    self.state = StreamState.MOVING  # before the count: no reader sees one without the other
                    self.relocations += 1
                    self.report(f"stream {self.id}: its node was lost; moving it ({type(error).__name__})")
                self._move()
                time.sleep(0.5)

    def _fail(self, reason: str) -> None:
        self._kill()
        self.state = StreamState.FAILED
        with self._lock:
            self._last_info = dataclasses.replace(
                self._last_info or StreamInfo(self.id, self.source, tuple(self.outputs), "failed"),
                state="failed",
                error=reason,
            )
        self._done.set()

    def _move(self) -> None:
        """Forget the lost actor; later sequences and frames count on from where it was."""
        with self._lock:
            self.base += self._last_sequence
            self._frames_before += self._last_info.frames if self._last_info is not None else 0
            self._last_info = None
            self._last_sequence = 0
        self._kill()
        self.state = StreamState.MOVING

    def _kill(self) -> None:
        import ray

        actor, self._actor = self._actor, None
        if actor is not None:
            with contextlib.suppress(Exception):  # already gone with its node
                ray.kill(actor)


def continued(output: str, relocation: int) -> str:
    """Where a moved stream goes on writing ``output``: ``NAME-moved<N>.EXT`` beside it for
    files (what the lost node wrote stays as it is), the same for pushes and null."""
    return output if relocation == 0 else suffixed(output, f"-moved{relocation}")


def _reason(error: BaseException) -> str:
    """One line: a timeout says there was no room; a failed actor the exception that failed
    it (the last line of Ray's message, module path dropped)."""
    from pipeline.credentials import mask_credentials

    if isinstance(error, TimeoutError):
        return f"no node had room for it within {MAX_PLACEMENT_WAIT:.0f} s"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    last = lines[-1] if lines else type(error).__name__
    name, colon, message = last.partition(": ")
    if colon and " " not in name:  # "package.module.SomeError: message"
        last = f"{name.rsplit('.', 1)[-1]}: {message}"
    return mask_credentials(last)
