"""How each source's frames are decoded and in which pixel format they travel.

Decoder (``--decode``): ``auto`` uses NVDEC for video files when the engine runs on CUDA
and NVDEC can decode them, else PyAV, reporting why in one line on GPU runs; ``cpu`` is
PyAV always; ``nvdec`` is NVDEC or an error. Pixel format (the preset's
``pixel_format``): ``auto`` sends PyAV-decoded frames as I420 on GPU runs (half the bytes
to upload, converted on the device) and as BGR on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.sources.network import NetworkSource
from pipeline.sources.nvdec import NVDEC_CODECS, NvdecSource
from pipeline.preprocess import PixelFormat
from pipeline.sources.file import FileSource
from pipeline.sources.base import Source
from yolact.errors import ConfigError, MissingDependencyError

DECODE_MODES = ("auto", "cpu", "nvdec")


def prepare_decoding(
    sources: list[Source], *, engine_device: str, pixel_format: str, mode: str, report: Callable[[str], None]
) -> list[Source]:
    """The sources to run: pixel formats set, files NVDEC decodes replaced by NVDEC sources."""
    if pixel_format == "auto":
        pixel_format = "yuv420p" if engine_device == "cuda" else "bgr24"
    prepared = []
    for source in sources:
        if isinstance(source, (FileSource, NetworkSource)):
            source.pixel_format = PixelFormat(pixel_format)
        choice = choose_decoder(source, mode, engine_device=engine_device)
        if choice.reason and engine_device == "cuda":
            report(f"{source.name}: decoding with PyAV on the CPU: {choice.reason}")
        prepared.append(choice.source)
    return prepared


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
            raise ConfigError(
                f"--decode nvdec decodes video files; {source.name} is not one (use --decode auto or cpu)"
            )
        return DecoderChoice(source, None)
    reason = _nvdec_unusable(source, engine_device)
    if reason is None:
        stream = source.video_stream
        nvdec = NvdecSource(
            source.path,
            size=(stream.height, stream.width),
            time_base=stream.time_base,
            frame_rate=source.frame_rate,
        )
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
