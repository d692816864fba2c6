"""Segment many sources on a Ray cluster, each exactly once, with nothing lost when a node
dies.

Ray places the workers: one actor per slot (``cpus_per_slot`` CPUs, or a GPU each), each
holding an engine for the whole run. The driver hands each idle actor the next source and
commits what comes back: every output is written under a temporary name beside its
final one and renamed only once complete, so a reader sees a whole file or none. When an
actor or its node dies mid-source, that source goes back to the queue and is processed
from the start by another actor (its partial output never left the dead worker); a
replacement actor is asked of Ray, which starts it wherever there is room. A source
that fails for a bad-input reason comes back as an error and is not retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from pipeline.cluster.sources import expand_sources, output_paths, output_templates
from pipeline.cluster.storage import Target, check_uri, is_uri, name_of, remove_partials
from pipeline.cluster.worker import SegmentWorker, SourceResult
from yolact.errors import ConfigError, MissingDependencyError, OutputError

MAX_ATTEMPTS = 3  # a source whose worker died this many times is reported, not retried again
STALL_TIMEOUT = 300.0  # seconds with work left, no worker alive and none starting
PROGRESS_INTERVAL = 1.0  # seconds between asking the workers how far they are


@dataclass
class ClusterReport:
    results: list[SourceResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    workers_lost: int = 0

    def per_node(self) -> dict[str, dict]:
        nodes: dict[str, dict] = {}
        for result in self.results:
            if result.error is None:
                node = nodes.setdefault(result.node, {"files": 0, "frames": 0, "busy_s": 0.0})
                node["files"] += 1
                node["frames"] += result.frames
                node["busy_s"] += result.seconds
        for node in nodes.values():
            node["fps"] = node["frames"] / max(node["busy_s"], 1e-9)
        return nodes

    @property
    def failed(self) -> list[SourceResult]:
        return [result for result in self.results if result.error is not None]

    def progress_line(self, total: int, in_flight: dict[str, int], elapsed: float) -> str:
        """The cluster-wide progress line: sources done of ``total``, frames and fps, and each
        node's files and fps (frames of its finished sources plus those ``in_flight`` there)."""
        elapsed = max(elapsed, 1e-9)
        finished = self.per_node()
        nodes = sorted(set(finished) | set(in_flight))
        frames = {node: finished.get(node, {}).get("frames", 0) + in_flight.get(node, 0) for node in nodes}
        total_frames, failed = sum(frames.values()), len(self.failed)
        parts = [
            f"files {len(self.results)}/{total}"
            + (f" ({failed} failed)" if failed else "")
            + f"  frames {total_frames}  {total_frames / elapsed:.1f} fps"
        ]
        parts += [
            f"node {node[:8]} {finished.get(node, {}).get('files', 0)} files {frames[node] / elapsed:.1f} fps"
            for node in nodes
        ]
        if self.workers_lost:
            parts.append(f"{self.workers_lost} workers lost")
        return "  |  ".join(parts)


def run_on_ray(
    sources: list[str],
    outputs: list[str],
    options: dict | None = None,
    *,
    address: str = "auto",
    slots: int | None = None,
    cpus_per_slot: float = 1.0,
    gpus_per_slot: float = 0.0,
    report=print,
    progress=None,
) -> ClusterReport:
    """Process every source once on the cluster at ``address``; returns what happened to
    each. ``options``: RunOptions fields for the workers (model, backend, preset, track,
    overwrite, ...); ``outputs``: folders (``DIR/`` → ``DIR/<stem>.mp4``) or templates
    with ``{stem}``. ``progress``: called about once a second with a function making the
    cluster-wide progress line (``Console.progress``), and with ``final=True`` at the end."""
    try:
        import ray
        from ray.exceptions import RayError, RayTaskError
    except ImportError:
        raise MissingDependencyError("--ray needs Ray: pip install 'yolact-stream[ray]'") from None
    from pipeline.cluster.connect import connect

    options = dict(options or {})
    overwrite = bool(options.get("overwrite", False))
    sources = expand_sources(sources)
    paths = output_paths(sources, output_templates(outputs))
    _check_outputs(paths, overwrite)
    run = uuid.uuid4().hex[:12]  # names this run's temporary outputs on shared storage
    started = time.monotonic()
    connect(address)
    if slots is None:
        key, per_slot = ("GPU", gpus_per_slot) if gpus_per_slot else ("CPU", cpus_per_slot)
        slots = max(1, int(ray.cluster_resources().get(key, 1) // per_slot))
    worker = ray.remote(num_cpus=cpus_per_slot, num_gpus=gpus_per_slot, max_restarts=0, max_concurrency=2)(
        SegmentWorker
    )
    actors, starting, idle, running, nodes = [], {}, [], {}, {}

    def start_actor() -> None:
        actor = worker.remote(options)
        actors.append(actor)
        starting[actor.node.remote()] = actor

    for _ in range(min(slots, len(sources))):
        start_actor()
    pending, attempts, cluster = deque(sources), dict.fromkeys(sources, 0), ClusterReport()
    last_progress = time.monotonic()
    last_shown = 0.0
    try:
        while pending or running:
            while idle and pending:
                actor, source = idle.pop(), pending.popleft()
                attempts[source] += 1
                targets = paths[source]
                direct = {name_of(target): target for target in targets if is_uri(target)}
                token = f"{run}-{attempts[source]}"
                names = [name_of(target) for target in targets]
                running[actor.process.remote(source, names, direct, token)] = (actor, source)
                report(f"{source}: started on node {nodes[actor][:8]}")
            if not running and not starting and pending:
                raise ConfigError(
                    "no Ray worker could be started: does the cluster have the CPUs/GPUs asked for?"
                )
            done, _ = ray.wait([*running, *starting], num_returns=1, timeout=1.0)
            if not done and time.monotonic() - last_progress > STALL_TIMEOUT and not running:
                raise ConfigError(
                    f"no Ray worker alive for {STALL_TIMEOUT:.0f} s with {len(pending)} sources left"
                )
            if progress is not None and time.monotonic() - last_shown >= PROGRESS_INTERVAL:
                last_shown = time.monotonic()
                in_flight = _in_flight(ray, running, nodes)
                progress(
                    lambda flight=in_flight: cluster.progress_line(
                        len(sources), flight, time.monotonic() - started
                    )
                )
            for future in done:
                if future in starting:
                    actor = starting.pop(future)
                    try:
                        nodes[actor] = ray.get(future)
                        idle.append(actor)
                    except RayError:
                        cluster.workers_lost += 1
                    continue
                actor, source = running.pop(future)
                last_progress = time.monotonic()
                try:
                    result = ray.get(future)
                except RayTaskError as error:  # a bug in the worker, not a lost one: not retried
                    result = SourceResult(source, "", error=f"worker failed: {error.cause!r}")
                except RayError:  # the worker, its node or its result was lost: redo it elsewhere
                    cluster.workers_lost += 1
                    report(f"{source}: its worker was lost (attempt {attempts[source]}); it will be redone")
                    if attempts[source] >= MAX_ATTEMPTS:
                        cluster.results.append(
                            SourceResult(source, "", error="its workers died", attempts=attempts[source])
                        )
                    else:
                        pending.appendleft(source)
                    start_actor()
                    continue
                idle.append(actor)
                if result.error is None:
                    _commit(result, paths[source])
                cluster.results.append(dataclasses.replace(result, outputs={}, attempts=attempts[source]))
                done_count = len(cluster.results)
                line = (
                    f"error: {result.error}"
                    if result.error
                    else f"{result.frames} frames in {result.seconds:.1f} s on node {result.node[:8]}"
                )
                report(f"[{done_count}/{len(sources)}] {source}: {line}")
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):  # already gone with its node
                ray.kill(actor)
        uris = [target for targets in paths.values() for target in targets if is_uri(target)]
        if uris and (removed := remove_partials(uris, run)):
            report(f"removed {removed} partial output(s) left by lost workers")
    cluster.elapsed_s = time.monotonic() - started
    if progress is not None:
        progress(lambda: cluster.progress_line(len(sources), {}, cluster.elapsed_s), final=True)
    return cluster


def _in_flight(ray, running: dict, nodes: dict) -> dict[str, int]:
    """Frames so far of every source being processed, by node (workers that do not answer
    within 0.5 s — busy, or lost — count 0 this time)."""
    asked = {actor.progress.remote(): nodes.get(actor, "") for actor, _ in running.values()}
    ready, _ = ray.wait(list(asked), num_returns=len(asked), timeout=0.5)
    frames: dict[str, int] = {}
    for future in ready:
        try:
            count = ray.get(future)
        except Exception:  # noqa: BLE001 — a lost worker: the main loop handles it
            continue
        frames[asked[future]] = frames.get(asked[future], 0) + count
    return frames


def _check_outputs(paths: dict[str, list[Target]], overwrite: bool) -> None:
    for outputs in paths.values():
        for path in outputs:
            if is_uri(path):
                check_uri(path, overwrite)
                continue
            if not path.parent.is_dir():
                raise OutputError(f"output folder does not exist: {path.parent}")
            if path.exists() and not overwrite:
                raise OutputError(f"{path} exists: pass --overwrite to replace it")


def _commit(result: SourceResult, paths: list[Target]) -> None:
    """Every output of one source the driver writes (not those on shared storage, which the
    worker wrote), each whole under a temporary name, then renamed."""
    for path in paths:
        if is_uri(path):
            continue
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_bytes(result.outputs[path.name])
            os.replace(partial, path)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from None
        finally:  # written and renamed, or gone (a Ctrl-C mid-write leaves no partial file)
            partial.unlink(missing_ok=True)


__all__ = ["ClusterReport", "SourceResult", "run_on_ray"]
