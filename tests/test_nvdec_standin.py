"""NVDEC decoding (pipeline/sources/nvdec.py) against stand-ins of PyNvVideoCodec and
CuPy: frames decoded "on the device" as NV12 go through the GPU runtime; every frame
out, source timestamps kept, overlays exactly the CPU renderer's on the same frame's
BGR conversion (so a frame read after the decoder reused its surface would show);
--decode auto falls back to PyAV with one line saying why; --decode nvdec refuses.
RTSP streams (a real GStreamer server on loopback) are demuxed by PyAV, with its
reconnects, and decoded by the stand-in."""

import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import fake_cupy, fake_nvc
from helpers.clips import ClipSpec, probe, write_clip
from helpers.fake_gpu_engine import StandInCudaEngine
from helpers.kernel_host import compiler_missing, launch
from helpers.rtsp import GSTREAMER_MISSING, RtspServer, gstreamer_available
from helpers.runtime_compare import Recorder
from pipeline.preprocess import PixelFormat
from pipeline.overlay import RenderOptions, draw_overlay
from pipeline.run_options import default_model
from pipeline.runner import Pipeline, RunOptions
from pipeline.sinks.base import Sink
from pipeline.sources.network import NetworkOptions, NetworkSource
from pipeline.sources.nvdec import NvdecRequest
from yolact.errors import MissingDependencyError

pytestmark = pytest.mark.skipif(compiler_missing() is not None, reason=str(compiler_missing()))
NV12 = 3  # kernels/common.cuh's FORMAT_NV12
FAST_RETRY = NetworkOptions(
    open_timeout=2, stall_timeout=2, max_retries=20, backoff_initial=0.1, backoff_max=0.5
)


def _standin_gpu(monkeypatch, *, nvdec: bool = True):
    fake_cupy.install(monkeypatch)
    if nvdec:
        fake_nvc.install(monkeypatch)
    else:
        monkeypatch.setitem(__import__("sys").modules, "PyNvVideoCodec", None)  # import fails
    monkeypatch.setattr(
        "pipeline.engine_setup.create_engine",
        lambda model, **_: (StandInCudaEngine(model), SimpleNamespace(reason="stand-in")),
    )


def _nv12_frames(path):
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="nv12") for frame in container.decode(video=0)]


@pytest.mark.parametrize(
    "spec",
    [
        ClipSpec(".mp4", "libx264", vfr=True, audio="aac"),  # avcC: h264_mp4toannexb
        ClipSpec(".mkv", "libx265", fps=25),  # hvcC, B-frames: hevc_mp4toannexb
        ClipSpec(".ts", "libx264", audio="aac"),  # Annex B already: dump_extra
        ClipSpec(".mkv", "libsvtav1"),  # AV1 (PyAV's decoder is libdav1d): as it is
    ],
    ids=lambda spec: spec.name,
)
def test_nvdec_frames_through_the_gpu_runtime(monkeypatch, tmp_path, spec):
    clip = write_clip(tmp_path / f"in{spec.suffix}", spec, num_frames=20, width=320, height=240)
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
    assert [source.decoder for source in summary.sources] == ["nvdec"]
    assert summary.frames_out == 20
    reference, got = probe(clip), probe(out)
    assert got.num_frames == 20 and (got.audio_packets > 0) == (spec.audio is not None)
    assert max(abs(a - b) for a, b in zip(got.times, reference.times)) <= float(got.time_base) + 1e-9
    for (index, image, detections), nv12 in zip(recorder.frames, _nv12_frames(clip), strict=True):
        base = np.zeros((240, 320, 3), np.uint8)
        launch("color", "yuv_to_bgr_host", (nv12, base, np.int32(240), np.int32(320), np.int32(NV12)))
        np.testing.assert_array_equal(
            image, draw_overlay(base, detections, RenderOptions()), err_msg=f"frame {index}"
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
    assert summary.frames_out == 6 and summary.sources[0].decoder is None
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


class _PtsRecorder(Sink):
    """Keeps (pts, overlay, detections) of the first ``limit`` frames, then ends the run."""

    def __init__(self, limit: int):
        self.frames, self.limit = [], limit

    def write(self, image, meta, detections) -> bool:
        self.frames.append((meta.pts, image.copy(), detections.to_numpy()))
        return len(self.frames) < self.limit


def _watch(url: str, running: threading.Event, stop: threading.Event) -> None:
    """Another client of the shared stream, so that the run joins it mid-GOP: sets
    ``running`` once 10 packets came, reads on until ``stop``."""
    import av

    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=5) as container:
        for count, _ in enumerate(container.demux(video=0)):
            if count == 10:
                running.set()
            if stop.is_set():
                return


needs_gstreamer = pytest.mark.skipif(not gstreamer_available(), reason=GSTREAMER_MISSING)


@needs_gstreamer
@pytest.mark.parametrize("sdp_parameter_sets", [False, True], ids=["in-band", "sdp-only"])
def test_nvdec_decodes_rtsp_through_the_gpu_runtime(monkeypatch, sdp_parameter_sets):
    """Joining a running stream mid-GOP, NVDEC must start at a keyframe; a camera that sends
    SPS/PPS only in the SDP needs them put in band (dump_extra): the stand-in decoder, like
    NVDEC's parser, cannot start without them."""
    server = RtspServer(sdp_parameter_sets=sdp_parameter_sets)
    viewer_running, viewer_stop = threading.Event(), threading.Event()
    viewer = threading.Thread(target=_watch, args=(server.url, viewer_running, viewer_stop))
    viewer.start()
    try:
        assert viewer_running.wait(15), "the first viewer got no frames"
        _standin_gpu(monkeypatch)
        nvc = sys.modules["PyNvVideoCodec"]
        recorder = _PtsRecorder(15)
        options = RunOptions(model=default_model(), progress=False, decode="nvdec")
        with Pipeline([server.url], ["null"], options, extra_sinks={0: [recorder]}) as pipeline:
            summary = pipeline.run()
    finally:
        viewer_stop.set()
        viewer.join(10)
        server.kill()
        monkeypatch.undo()
    assert summary.sources[0].decoder == "nvdec"
    [decoder] = nvc.decoders
    # a live stream without B-frames: each frame out as soon as its packet is decoded
    assert decoder.latency is fake_nvc.DisplayDecodeLatencyType.LOW
    assert set(decoder.flags) == {fake_nvc.VideoPacketFlag.ENDOFPICTURE}
    decoded = dict(decoder.decoded)
    assert len(recorder.frames) >= 15  # frames in flight when the sink said stop still arrive
    for pts, image, detections in recorder.frames:
        nv12 = decoded[pts]
        base = np.zeros((240, 320, 3), np.uint8)
        launch("color", "yuv_to_bgr_host", (nv12, base, np.int32(240), np.int32(320), np.int32(NV12)))
        np.testing.assert_array_equal(
            image, draw_overlay(base, detections, RenderOptions()), err_msg=str(pts)
        )


@needs_gstreamer
def test_nvdec_starts_a_new_decoder_at_a_keyframe_after_a_reconnect(monkeypatch):
    fake_cupy.install(monkeypatch)
    nvc = fake_nvc.install(monkeypatch)
    server = RtspServer()
    source = NetworkSource(server.url, options=FAST_RETRY, seed=0)
    source.nvdec = NvdecRequest(required=True)
    frames, stop = [], threading.Event()
    try:
        for frame in source.frames(stop):
            frames.append(frame)
            if len(frames) == 10:
                server.kill()
                server.__init__(server.port)  # restart on the same port
            if len(frames) == 20:
                break
    finally:
        server.kill()
    assert source.connects == 2 and source.decoder == "nvdec"
    # one decoder per connection, each fed from a keyframe with its SPS (the stand-in checks)
    assert len(nvc.decoders) == 2 and all(decoder.decoded for decoder in nvc.decoders)
    assert {frame.pixel_format for frame in frames} == {PixelFormat.NV12}
    assert all(frame.pts is not None for frame in frames)


def test_network_codec_nvdec_cannot_decode(monkeypatch):
    """Known only once connected: ``auto`` decodes it with PyAV and says so once, ``nvdec``
    refuses with one line naming the codec."""
    fake_nvc.install(monkeypatch)
    lines = []
    source = NetworkSource("rtsp://user:secret@127.0.0.1:1/cam", report=lines.append)
    stream = SimpleNamespace(
        codec_context=SimpleNamespace(
            codec=SimpleNamespace(canonical_name="mjpeg"), width=320, height=240, has_b_frames=0
        )
    )
    source.nvdec = NvdecRequest(required=False)
    assert source._nvdec_decoder(stream) is None and source._nvdec_decoder(stream) is None
    assert source.decoder == "pyav" and source.stats().decoder == "pyav"
    assert len(lines) == 1 and "decoding with PyAV on the CPU: mjpeg is not decoded by NVDEC" in lines[0]
    assert "secret" not in lines[0]
    source.nvdec = NvdecRequest(required=True)
    with pytest.raises(MissingDependencyError, match="--decode nvdec: .*mjpeg"):
        source._nvdec_decoder(stream)
