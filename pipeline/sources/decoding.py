"""How each source's frames are decoded and in which pixel format they travel.

Decoder (``--decode``): ``auto`` uses NVDEC for video files and network streams when the
engine runs on CUDA and NVDEC can decode them, else PyAV, reporting why in one line on
GPU runs; ``cpu`` is PyAV always; ``nvdec`` is NVDEC or an error. A network stream's
codec is known only once connected, so there the choice is made per connection (see
``pipeline.sources.network``). Pixel format (the preset's ``pixel_format``): ``auto``
sends PyAV-decoded frames as I420 on GPU runs (half the bytes to upload, converted on
the device) and as BGR on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import Source
from pipeline.sources.file import FileSource
from pipeline.sources.network import NetworkSource
from pipeline.sources.nvdec import NvdecRequest, NvdecSource, nvdec_unsupported
from yolact.config_schema import ConfigEnum
from yolact.errors import ConfigError, MissingDependencyError


class DecodeMode(ConfigEnum):
    AUTO = "auto"  # NVDEC where this machine and the stream allow it, else PyAV (said once)
    CPU = "cpu"  # PyAV always
    NVDEC = "nvdec"  # NVDEC or an error


def prepare_decoding(
    sources: list[Source],
    *,
    engine_device: str,
    pixel_format: str,
    mode: DecodeMode | str,
    report: Callable[[str], None],
) -> list[Source]:
    """The sources to run: pixel formats set, files NVDEC decodes replaced by NVDEC sources,
    network streams told to try NVDEC."""
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


def choose_decoder(source: Source, mode: DecodeMode | str, *, engine_device: str) -> DecoderChoice:
    """NVDEC for a file or network source where ``mode`` and this machine allow it, else the
    source as is.

    ``nvdec`` makes any reason a MissingDependencyError (ConfigError for a source that
    is neither a file nor a network stream); ``auto`` keeps PyAV and returns the reason
    (for one status line); ``cpu`` keeps PyAV silently.
    """
    mode = DecodeMode.parse(mode, "--decode")
    decodable = isinstance(source, (FileSource, NetworkSource))
    if mode is DecodeMode.CPU or not decodable:
        if mode is DecodeMode.NVDEC and not decodable:
            raise ConfigError(
                f"--decode nvdec decodes video files and network streams; {source.name} is neither "
                f"(use --decode auto or cpu)"
            )
        return DecoderChoice(source, None)
    reason = _machine_cannot_nvdec(engine_device)
    if reason is None and isinstance(source, NetworkSource):
        source.nvdec = NvdecRequest(required=mode is DecodeMode.NVDEC)
        return DecoderChoice(source, None)
    if reason is None:
        reason = _file_cannot_nvdec(source)
    if reason is None:
        stream = source.video_stream
        nvdec = NvdecSource(source.path, time_base=stream.time_base, frame_rate=source.frame_rate)
        nvdec.has_audio = source.has_audio
        nvdec.open()
        source.close()
        return DecoderChoice(nvdec, None)
    if mode is DecodeMode.NVDEC:
        raise MissingDependencyError(f"--decode nvdec: {reason}")
    return DecoderChoice(source, reason)


def _machine_cannot_nvdec(engine_device: str) -> str | None:
    if engine_device != "cuda":
        return "the engine runs on the CPU"
    try:
        import PyNvVideoCodec  # noqa: F401
    except ImportError:
        return "PyNvVideoCodec is not installed (pip install PyNvVideoCodec)"
    return None


def _file_cannot_nvdec(source: FileSource) -> str | None:
    reason = nvdec_unsupported(source.video_stream.codec_context)
    if reason is None and _first_frame_rotation(source.path):
        reason = "the video carries a rotation, which PyAV applies"
    return reason


def _first_frame_rotation(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return int(frame.rotation or 0)
    return 0
