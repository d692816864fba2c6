"""Video files decoded on the GPU by NVDEC (NVIDIA's PyNvVideoCodec): frames stay in
device memory as NV12 and go straight to the preprocess kernel, which converts, resizes
and normalises them in one pass; the overlay is drawn on their BGR conversion there too.

Written to PyNvVideoCodec's documented core API (``CreateDemuxer``, ``CreateDecoder``,
``Decode``; decoded frames expose ``__cuda_array_interface__`` and ``getPTS()``).
Timestamps, the frame rate and the size come from PyAV's probe of the same file (the
``FileSource`` this replaces), so outputs keep the source's timing exactly as with
PyAV decoding. A decoded frame lives in the decoder's own surface, reused by later
``Decode`` calls: the decode stage copies it into its slot before asking for the next.

``choose_decoder`` decides between NVDEC and PyAV for ``--decode auto|cpu|nvdec``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pipeline.preprocess import PixelFormat
from pipeline.source import DecodedFrame, FileSource, Source
from yolact.errors import ConfigError, MissingDependencyError

DECODE_MODES = ("auto", "cpu", "nvdec")
NVDEC_CODECS = ("h264", "hevc", "av1")


class NvdecSource(Source):
    """A video file decoded by NVDEC; yields NV12 device arrays [H*3/2, W] (CuPy)."""

    def __init__(self, path: str | Path, *, size: tuple[int, int], time_base: Fraction, frame_rate: Fraction | None,
                 gpu: int = 0):
        self.path = Path(path)
        self.name = f"{path} (NVDEC)"
        self.size = size
        self.time_base = time_base
        self.frame_rate = frame_rate
        self.gpu = gpu
        self.frames_decoded = 0
        self.has_audio = False
        self._demuxer = None
        self._decoder = None

    def open(self) -> None:
        import PyNvVideoCodec as nvc

        self._demuxer = nvc.CreateDemuxer(filename=str(self.path))
        # stream 0 (the legacy default stream): the decode stage copies each frame out on
        # the same stream, so the copy is ordered before the decoder reuses the surface
        self._decoder = nvc.CreateDecoder(gpuid=self.gpu, codec=self._demuxer.GetNvCodecId(), cudacontext=0,
                                          cudastream=0, usedevicememory=True)
        self.health = "live"

    def close(self) -> None:
        self._decoder = None
        self._demuxer = None

    def stats(self) -> dict:
        return {**super().stats(), "frames": self.frames_decoded, "decoder": "nvdec"}

    def frames(self, stop) -> Iterator[DecodedFrame]:
        import cupy

        height, width = self.size
        for packet in self._demuxer:
            if stop.is_set():
                return
            for frame in self._decoder.Decode(packet):
                picture = cupy.asarray(frame).reshape(height * 3 // 2, width)
                self.frames_decoded += 1
                yield DecodedFrame(picture, PixelFormat.NV12, int(frame.getPTS()), self.time_base)
        self.health = "finished"


@dataclass(frozen=True, slots=True)
class DecoderChoice:
    source: Source
    reason: str | None  # why NVDEC was not used (None: it was, or was never in question)


def choose_decoder(source: Source, mode: str, *, engine_device: str) -> DecoderChoice:
    """NVDEC for a file source where ``mode`` and this machine allow it, else the source as is.

    ``nvdec`` makes any reason a ConfigError / MissingDependencyError; ``auto`` keeps PyAV
    and returns the reason (for one status line); ``cpu`` keeps PyAV silently.
    """
    if mode not in DECODE_MODES:
        raise ConfigError(f"--decode must be one of {', '.join(DECODE_MODES)}, got {mode!r}")
    if mode == "cpu" or not isinstance(source, FileSource):
        if mode == "nvdec" and not isinstance(source, FileSource):
            raise ConfigError(f"--decode nvdec decodes video files; {source.name} is not one (use --decode auto or cpu)")
        return DecoderChoice(source, None)
    reason = _nvdec_unusable(source, engine_device)
    if reason is None:
        stream = source.video_stream
        nvdec = NvdecSource(source.path, size=(stream.height, stream.width), time_base=stream.time_base,
                            frame_rate=source.frame_rate)
        nvdec.has_audio = source.has_audio
        nvdec.open()
        source.close()
        return DecoderChoice(nvdec, None)
    if mode == "nvdec":
        raise MissingDependencyError(f"--decode nvdec: {reason}")
    return DecoderChoice(source, reason)


def _nvdec_unusable(source: FileSource, engine_device: str) -> str | None:
    if engine_device != "cuda":
        return "the engine runs on the CPU"
    try:
        import PyNvVideoCodec  # noqa: F401
    except ImportError:
        return "PyNvVideoCodec is not installed (pip install PyNvVideoCodec)"
    stream = source.video_stream
    codec = stream.codec_context.name
    if codec not in NVDEC_CODECS:
        return f"{codec} is not decoded by NVDEC here (it decodes {', '.join(NVDEC_CODECS)})"
    if stream.width % 2 or stream.height % 2:
        return f"odd frame size {stream.width}x{stream.height} (NV12 needs even sizes)"
    if _first_frame_rotation(source.path):
        return "the video carries a rotation, which PyAV applies"
    return None


def _first_frame_rotation(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return int(frame.rotation or 0)
    return 0
