"""NVDEC decoding (pipeline/sources/nvdec.py) against stand-ins of PyNvVideoCodec and
CuPy: frames decoded "on the device" as NV12 go through the GPU runtime; every frame
out, source timestamps kept, overlays exactly the CPU renderer's on the same frame's
BGR conversion (so a frame read after the decoder reused its surface would show);
--decode auto falls back to PyAV with one line saying why; --decode nvdec refuses."""

from types import SimpleNamespace

import numpy as np
import pytest

from helpers import fake_cupy, fake_nvc
from helpers.clips import ClipSpec, probe, write_clip
from helpers.fake_gpu_engine import StandInCudaEngine
from helpers.kernel_host import compiler_missing, launch
from helpers.runtime_compare import Recorder
from pipeline.render import RenderOptions, render_cpu
from pipeline.runner import Pipeline, RunOptions, default_model

pytestmark = pytest.mark.skipif(compiler_missing() is not None, reason=str(compiler_missing()))
NV12 = 3  # kernels/common.cuh's FORMAT_NV12


def _standin_gpu(monkeypatch, *, nvdec: bool = True):
    fake_cupy.install(monkeypatch)
    if nvdec:
        fake_nvc.install(monkeypatch)
    else:
        monkeypatch.setitem(__import__("sys").modules, "PyNvVideoCodec", None)  # import fails
    monkeypatch.setattr(
        "pipeline.runner.create_engine",
        lambda model, **_: (StandInCudaEngine(model), SimpleNamespace(reason="stand-in")),
    )


def _nv12_frames(path):
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="nv12") for frame in container.decode(video=0)]


def test_nvdec_frames_through_the_gpu_runtime(monkeypatch, tmp_path):
    clip = write_clip(
        tmp_path / "in.mp4",
        ClipSpec(".mp4", "libx264", vfr=True, audio="aac"),
        num_frames=20,
        width=320,
        height=240,
    )
    _standin_gpu(monkeypatch)
    recorder = Recorder()
    out = tmp_path / "out.mp4"
    with Pipeline(
        [str(clip)],
        [str(out)],
        RunOptions(model=default_model(), progress=False),
        extra_sinks={0: [recorder]},
    ) as pipeline:
        summary = pipeline.run()
    monkeypatch.undo()
    assert [source["decoder"] for source in summary["sources"]] == ["nvdec"]
    assert summary["frames_out"] == 20
    reference, got = probe(clip), probe(out)
    assert got.num_frames == 20 and got.audio_packets > 0
    assert max(abs(a - b) for a, b in zip(got.times, reference.times)) <= float(got.time_base) + 1e-9
    for (index, image, detections), nv12 in zip(recorder.frames, _nv12_frames(clip), strict=True):
        base = np.zeros((240, 320, 3), np.uint8)
        launch("color", "yuv_to_bgr_host", (nv12, base, np.int32(240), np.int32(320), np.int32(NV12)))
        np.testing.assert_array_equal(
            image, render_cpu(base, detections, RenderOptions()), err_msg=f"frame {index}"
        )
    assert sum(len(d) for _, _, d in recorder.frames) >= 20


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no PyNvVideoCodec", "PyNvVideoCodec is not installed"),
        ("MJPEG", "mjpeg is not decoded by NVDEC"),
    ],
)
def test_auto_falls_back_to_pyav_with_one_line(monkeypatch, tmp_path, capsys, case, expected):
    spec = ClipSpec(".avi", "mjpeg", pix_fmt="yuvj420p") if case == "MJPEG" else ClipSpec(".mp4", "libx264")
    clip = write_clip(tmp_path / f"in{spec.suffix}", spec, num_frames=6, width=160, height=120)
    _standin_gpu(monkeypatch, nvdec=case != "no PyNvVideoCodec")
    with Pipeline([str(clip)], ["null"], RunOptions(model=default_model(), progress=False)) as pipeline:
        summary = pipeline.run()
    monkeypatch.undo()
    assert summary["frames_out"] == 6 and "decoder" not in summary["sources"][0]
    lines = [line for line in capsys.readouterr().err.splitlines() if "decoding with PyAV" in line]
    assert len(lines) == 1 and expected in lines[0], lines


def test_cpu_runs_never_mention_nvdec_and_nvdec_on_the_cpu_is_refused(tmp_path, capsys):
    from pipeline.cli import main

    clip = write_clip(tmp_path / "in.mp4", ClipSpec(".mp4", "libx264"), num_frames=4, width=160, height=120)
    assert main(["run", "--source", str(clip), "--quiet"]) == 0
    assert "NVDEC" not in capsys.readouterr().err
    code = main(["run", "--source", str(clip), "--decode", "nvdec", "--quiet"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 11 and len(err) == 1 and "--decode nvdec: the engine runs on the CPU" in err[0], err
