"""The stage graph of a run: its rings and one thread per stage, wired in data-flow order
(decode per source → batch → infer → detect+render → sink; with tracking, detect → track
(tracking and drawing) → sink), the GPU variants on CUDA."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from pipeline.config import RunMode
from pipeline.frame import allocate_rings
from pipeline.ring import Ring
from pipeline.stages.base import Stage
from pipeline.stages.batch import BatchStage
from pipeline.stages.decode import DecodeStage
from pipeline.stages.detect_render import DetectRenderStage
from pipeline.stages.infer import InferStage
from pipeline.stages.sink import SinkStage
from pipeline.stages.track import TrackStage


class StageGraph(NamedTuple):
    rings: list[Ring]
    stages: list[Stage]
    sink: SinkStage


def build_stages(
    *,
    sources,
    engine,
    sinks,
    config,
    max_batch: int,
    params,
    class_names,
    metrics,
    halt,
    source_stop,
    on_error,
    request_stop,
) -> StageGraph:
    on_gpu = engine.device == "cuda"
    spec = engine.input_spec
    tracking = config.tracking.enabled
    frame_rings, batch_ring, result_ring, output_ring, detected_ring = allocate_rings(
        num_streams=len(sources),
        live=config.mode is RunMode.LIVE,
        frame_ring_capacity=config.frame_ring_capacity,
        age_budget_ms=config.age_budget_ms,
        max_batch=max_batch,
        input_shape=(3, spec.size, spec.size),
        dtype=spec.dtype,
        on_gpu=on_gpu,
        tracking=tracking,
    )
    rings = [*frame_rings, batch_ring, result_ring, *([detected_ring] if tracking else []), output_ring]
    for ring in rings:
        metrics.add_ring(ring)
    common = dict(halt=halt, on_error=on_error)
    # no output reads pixels (null, JSON lines, COCO results): nothing is drawn
    pixels = any(sink.uses_pixels for outputs in sinks.values() for sink in outputs)
    render = dataclasses.replace(config.render, score_threshold=config.score_threshold) if pixels else None
    stages = [
        DecodeStage(
            source,
            i,
            frame_rings[i],
            source_stop=source_stop,
            metrics=metrics.stage(f"decode[{i}]"),
            **common,
        )
        for i, source in enumerate(sources)
    ]
    batch_stage, detect_stage, track_stage = BatchStage, DetectRenderStage, TrackStage
    if on_gpu:
        from pipeline.stages.gpu import GpuBatchStage, GpuDetectRenderStage, GpuTrackStage

        batch_stage, detect_stage, track_stage = GpuBatchStage, GpuDetectRenderStage, GpuTrackStage
    stages += [
        batch_stage(
            frame_rings,
            batch_ring,
            size=spec.size,
            max_batch=max_batch,
            timeout_ms=config.batch_timeout_ms,
            dtype=spec.dtype,
            metrics=metrics.stage("preprocess"),
            **common,
        ),
        InferStage(engine, batch_ring, result_ring, metrics=metrics.stage("infer"), **common),
        detect_stage(
            result_ring,
            detected_ring if tracking else output_ring,
            priors=engine.metadata.priors(),
            params=params,
            image_size=spec.size,
            class_names=class_names,
            render=render,
            draws=not tracking,  # with tracking, the track stage draws (colours and labels by id)
            name="detect" if tracking else "detect+render",
            metrics=metrics.stage("detect" if tracking else "detect+render"),
            **common,
        ),
    ]
    if tracking:
        stages.append(
            track_stage(
                detected_ring,
                output_ring,
                options=config.tracking,
                live=config.mode is RunMode.LIVE,
                render=render,
                metrics=metrics.stage("track"),
                **common,
            )
        )
    sink = SinkStage(
        output_ring,
        sinks,
        metrics_all=metrics,
        request_stop=request_stop,
        metrics=metrics.stage("sink"),
        **common,
    )
    stages.append(sink)
    return StageGraph(rings, stages, sink)
