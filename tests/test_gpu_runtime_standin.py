"""The GPU runtime (pinned slots, per-stage streams and events, the GPU batcher with the
preprocess kernel, CuPy detection, the render kernel, asynchronous download) run on the
CPU against the strict CuPy stand-in (tests/helpers/fake_cupy.py), compared frame by
frame with the CPU runtime on a clip with many detections.

A stand-in proves argument types, host/device discipline and stream order; only a GPU
proves CuPy's real behaviour and the speed (tests/test_runner_gpu.py, `gpu` marker).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from helpers import fake_cupy
from helpers.fake_gpu_engine import StandInCudaEngine
from helpers.kernel_host import compiler_missing
from helpers.runtime_compare import SOURCE, NUM_FRAMES, Recorder, assert_gpu_run_matches
from pipeline.run_options import default_model
from pipeline.runner import Pipeline, RunOptions

pytestmark = pytest.mark.skipif(compiler_missing() is not None, reason=str(compiler_missing()))


def _run(monkeypatch, *, gpu: bool, batch: int, track: bool | None = None, trail_length: int | None = None):
    recorder = Recorder()
    if gpu:
        fake_cupy.install(monkeypatch)

        def standin_engine(model, **_):
            return StandInCudaEngine(model), SimpleNamespace(reason="stand-in")

        monkeypatch.setattr("pipeline.engine_setup.create_engine", standin_engine)
    options = RunOptions(
        model=default_model(), batch=batch, progress=False, track=track, trail_length=trail_length
    )
    with Pipeline([SOURCE], [], options, extra_sinks={0: [recorder]}) as pipeline:
        summary = pipeline.run()
        on_gpu = pipeline.engine.device == "cuda"
    monkeypatch.undo()
    assert on_gpu == gpu
    assert summary.frames_out == NUM_FRAMES
    return recorder.frames


@pytest.mark.parametrize("batch", [1, 4])
def test_gpu_runtime_on_the_standin_matches_the_cpu_runtime_frame_by_frame(monkeypatch, batch):
    cpu_frames = _run(monkeypatch, gpu=False, batch=batch)
    gpu_frames = _run(monkeypatch, gpu=True, batch=batch)
    assert_gpu_run_matches(cpu_frames, gpu_frames)


def test_gpu_tracking_on_the_standin_matches_the_cpu_tracking(monkeypatch):
    """The track stage on a GPU run waits for detection's event, tracks with device masks
    and draws with the kernel: the same ids and the same pixels as the CPU run."""
    from pipeline.overlay import RenderOptions

    cpu_frames = _run(monkeypatch, gpu=False, batch=4, track=True)
    gpu_frames = _run(monkeypatch, gpu=True, batch=4, track=True)
    assert_gpu_run_matches(cpu_frames, gpu_frames, render=RenderOptions(color_lookup="track"))
    cpu_ids = [sorted(d.track_ids.tolist()) for _, _, d in cpu_frames]
    assert cpu_ids == [sorted(d.track_ids.tolist()) for _, _, d in gpu_frames]
    assert max(max(ids, default=0) for ids in cpu_ids) >= 1


@pytest.mark.parametrize("gpu", [False, True])
def test_trails_are_drawn_after_the_overlay_on_both_runtimes(monkeypatch, gpu):
    """--trails: every frame is the overlay plus each track's recent centres, drawn by the
    same pixel writes on a NumPy frame and (stand-in) on a device frame."""
    from helpers.runtime_compare import SCENE
    from pipeline.overlay import RenderOptions, draw_overlay
    from pipeline.overlay.trails import Trails, draw_trails
    from pipeline.synthetic import SyntheticScene

    frames = _run(monkeypatch, gpu=gpu, batch=4, track=True, trail_length=6)
    scene, trails, render = SyntheticScene(**SCENE), Trails(6), RenderOptions(color_lookup="track")
    drawn = 0
    for index, image, detections in frames:
        expected = draw_overlay(scene.frame(index).copy(), detections, render)
        without = expected.copy()
        paths = trails.update(detections)
        draw_trails(expected, paths, render.box_thickness)
        drawn += int((expected != without).any())
        np.testing.assert_array_equal(image, expected, err_msg=f"frame {index}")
    assert drawn >= len(frames) // 2  # trails were there to see on most frames


def test_standin_refuses_what_a_gpu_would_refuse(monkeypatch):
    cupy = fake_cupy.install(monkeypatch)
    device = cupy.asarray(np.arange(6, dtype=np.float32))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(device)
    with pytest.raises(TypeError):
        np.arange(6)[cupy.asarray(np.array([1, 2]))]  # NumPy indexed with device candidates
    with pytest.raises(TypeError, match="host array"):
        device + np.ones(6, np.float32)
    from pipeline.kernels import raw_kernel
    from pipeline.preprocess import PixelFormat, kernel_arguments

    kernel = raw_kernel("preprocess", "preprocess")
    frames = cupy.zeros((1, 8, 8, 3), np.uint8)
    out = cupy.zeros((1, 3, 4, 4), np.float32)
    arguments = kernel_arguments(1, 8, 8, 4, PixelFormat.BGR)
    with pytest.raises(TypeError, match="expected int32"):
        kernel((1,), (256,), (frames, out, 1, *arguments[1:]))  # a Python int
    with pytest.raises(TypeError, match="host array"):
        kernel((1,), (256,), (frames.get(), out, *arguments))
    with pytest.raises(ValueError, match="contiguous"):
        kernel((1,), (256,), (frames, cupy.zeros((1, 3, 4, 8), np.float32)[..., ::2], *arguments))
    kernel((1,), (256,), (frames, out, *arguments))
    assert cupy.state.launches == ["preprocess"]


def test_standin_catches_a_read_on_another_stream_without_an_event(monkeypatch):
    cupy = fake_cupy.install(monkeypatch)
    first, second = cupy.cuda.Stream(non_blocking=True), cupy.cuda.Stream(non_blocking=True)
    with first:
        written = cupy.asarray(np.ones(4, np.float32))
    with second, pytest.raises(fake_cupy.StreamOrderError):
        written * 2
    event = cupy.cuda.Event()
    event.record(first)
    second.wait_event(event)
    with second:
        assert float((written * 2).sum()) == 8.0


def test_bench_on_a_cuda_engine_detects_on_the_device_and_times_to_the_end(monkeypatch, tmp_path):
    """Inference is timed to the end of the queued work (engine.synchronize after every
    call), detection takes device candidates with device priors, rendering is the kernel."""
    from helpers.clips import ClipSpec, write_clip
    from pipeline.measure.bench import run_bench

    clip = write_clip(
        tmp_path / "clip.mp4", ClipSpec(".mp4", "libx264"), num_frames=16, width=160, height=120
    )
    cupy = fake_cupy.install(monkeypatch)
    monkeypatch.setattr(
        "pipeline.engine_setup.create_engine",
        lambda model, **_: (StandInCudaEngine(model), SimpleNamespace(reason="stand-in")),
    )
    engine = StandInCudaEngine(default_model(), max_batch=2)
    infers, syncs = [], []
    monkeypatch.setattr(
        engine, "_infer", lambda images, original=engine._infer: infers.append(1) or original(images)
    )
    monkeypatch.setattr(
        engine, "synchronize", lambda original=engine.synchronize: syncs.append(len(infers)) or original()
    )
    with engine:
        report = run_bench(clip, engine, frames=8, batches=(1, 2), progress=False)
    assert report.inference[1].frames > 0 and report.pipelined.frames == 8
    assert report.stages["detect+render"].detections_per_frame > 0
    assert "render" in cupy.state.launches
    assert len(infers) > 10 and sorted(set(syncs)) == list(range(1, len(infers) + 1))  # one after every call


def _i420_frames(path):
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="yuv420p") for frame in container.decode(video=0)]


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "standin-gpu"])
def test_i420_frames_end_to_end(monkeypatch, tmp_path, gpu):
    """pixel_format yuv420p (what "auto" picks on GPU runs): frames travel as I420 and the
    overlay is drawn on their BGR conversion — OpenCV's on the CPU, kernels/color.cu on
    the GPU — exactly as the CPU renderer draws it on that conversion."""
    import cv2

    from helpers.clips import ClipSpec, write_clip
    from helpers.kernel_host import launch
    from pipeline.config import load_pipeline_config
    from pipeline.overlay import RenderOptions, draw_overlay

    clip = write_clip(
        tmp_path / "clip.mp4", ClipSpec(".mp4", "libx264"), num_frames=12, width=320, height=240
    )
    recorder = Recorder()
    cupy = None
    if gpu:
        cupy = fake_cupy.install(monkeypatch)
        monkeypatch.setattr(
            "pipeline.engine_setup.create_engine",
            lambda model, **_: (StandInCudaEngine(model), SimpleNamespace(reason="stand-in")),
        )
        preset = load_pipeline_config("file")  # auto
    else:
        preset = load_pipeline_config("file").replace(pixel_format="yuv420p")
    with Pipeline(
        [str(clip)],
        [],
        RunOptions(model=default_model(), preset=preset, progress=False),
        extra_sinks={0: [recorder]},
    ) as pipeline:
        assert pipeline.run().frames_out == 12
        assert pipeline.sources[0].pixel_format.value == "yuv420p"
    if gpu:
        assert "yuv_to_bgr" in cupy.state.launches
    monkeypatch.undo()
    detections = 0
    for (index, image, found), i420 in zip(recorder.frames, _i420_frames(clip), strict=True):
        if gpu:
            base = np.zeros((240, 320, 3), np.uint8)
            launch("color", "yuv_to_bgr_host", (i420, base, np.int32(240), np.int32(320), np.int32(2)))
        else:
            base = cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
        np.testing.assert_array_equal(
            image, draw_overlay(base, found, RenderOptions()), err_msg=f"frame {index}"
        )
        detections += len(found)
    assert detections >= 12
