"""Decoding on the GPU with NVDEC (NVIDIA's PyNvVideoCodec), for files and network streams.

PyAV demuxes (files, and RTSP/RTMP/... with the network source's timeouts and
reconnects); NVDEC decodes. Frames stay in device memory as NV12 and go straight to the
preprocess kernel, which converts, resizes and normalises them in one pass; the overlay
is drawn on their BGR conversion there too. Demuxing with PyAV keeps timestamps, frame
rate and size exactly as on PyAV-decoded runs.

Written to PyNvVideoCodec's documented core API: ``CreateDecoder``, ``PacketData``
(``bsl_data`` = address of the bitstream, ``bsl`` = its size, ``pts``; an empty packet
flushes), ``Decode``; decoded frames expose ``__cuda_array_interface__`` and
``getPTS()``. NVDEC's parser reads Annex B H.264/HEVC with parameter sets in band, so
packets pass through FFmpeg's bitstream filters first: ``*_mp4toannexb`` for MP4/MKV
(avcC/hvcC), ``dump_extra`` for streams that are Annex B already (RTSP, MPEG-TS; it
repeats the SDP's parameter sets at keyframes). AV1 packets go as they are. A decoder
starts at a keyframe: packets before the first one (joining a live stream) are skipped.

A decoded frame lives in the decoder's own surface, reused by later ``Decode`` calls:
the decode stage copies it into its slot before asking for the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.preprocess import PixelFormat
from pipeline.run_report import SourceReport
from pipeline.sources.base import DecodedFrame, Source, SourceHealth
from yolact.errors import InputError

NVDEC_CODECS = {"h264": "H264", "hevc": "HEVC", "av1": "AV1"}  # FFmpeg name → cudaVideoCodec


@dataclass(frozen=True, slots=True)
class NvdecRequest:
    """NVDEC asked for on a source whose codec is known only once it is open (network).

    required: ``--decode nvdec`` (a stream NVDEC cannot decode is an error) rather than
    ``auto`` (it is decoded with PyAV, said once in a status line).
    """

    required: bool = False
    gpu: int = 0


def codec_name(codec_context) -> str:
    """The format's codec name ("av1"), not the decoder's PyAV picked ("libdav1d")."""
    return codec_context.codec.canonical_name


def nvdec_unsupported(codec_context) -> str | None:
    """Why NVDEC cannot decode a stream with this PyAV codec context (None: it can)."""
    codec = codec_name(codec_context)
    if codec not in NVDEC_CODECS:
        return f"{codec} is not decoded by NVDEC here (it decodes {', '.join(NVDEC_CODECS)})"
    if codec_context.width % 2 or codec_context.height % 2:
        return f"odd frame size {codec_context.width}x{codec_context.height} (NV12 needs even sizes)"
    return None


def annexb_filter(codec: str, extradata: bytes | None) -> str:
    """The FFmpeg bitstream filter that turns a stream's packets into what NVDEC parses."""
    if codec not in ("h264", "hevc"):
        return "null"
    if extradata and extradata[0] == 1:  # avcC / hvcC: length-prefixed NAL units (MP4, MKV)
        return f"{codec}_mp4toannexb"
    return "dump_extra"


class NvdecDecoder:
    """One PyAV video stream's packets in, NV12 device frames [H*3/2, W] (CuPy) out.

    One per connection: a reconnect may bring another size or codec. ``low_latency``
    (live streams without B-frames) asks NVDEC to give each frame as soon as its packet
    is decoded instead of keeping a few in its display queue.
    """

    def __init__(self, stream, *, gpu: int = 0, low_latency: bool = False):
        import av.bitstream
        import PyNvVideoCodec as nvc

        self._nvc = nvc
        codec = codec_name(stream.codec_context)
        self._filter = av.bitstream.BitStreamFilterContext(
            annexb_filter(codec, stream.codec_context.extradata), in_stream=stream
        )
        latency = {"latency": nvc.DisplayDecodeLatencyType.LOW} if low_latency else {}
        # stream 0 (the legacy default stream): the decode stage copies each frame out on
        # the same stream, so the copy is ordered before the decoder reuses the surface
        self._decoder = nvc.CreateDecoder(
            gpuid=gpu,
            codec=getattr(nvc.cudaVideoCodec, NVDEC_CODECS[codec]),
            cudacontext=0,
            cudastream=0,
            usedevicememory=True,
            **latency,
        )
        self._end_of_picture = nvc.VideoPacketFlag.ENDOFPICTURE if low_latency else None
        self._started = False
        self._has_pts = True
        self.skipped = 0  # packets before the first keyframe
        self.frames_decoded = 0

    def decode(self, packet) -> Iterator[tuple[object, int | None]]:
        """(NV12 view of the decoder's surface, pts) for each frame this packet completes."""
        if not self._started:
            if not packet.is_keyframe:
                self.skipped += 1
                return
            self._started = True
            self._has_pts = packet.pts is not None
        for filtered in self._filter.filter(packet):
            yield from self._submit(bytes(filtered), filtered.pts)

    def flush(self) -> Iterator[tuple[object, int | None]]:
        """The frames NVDEC still holds, at the end of the stream."""
        if not self._started:
            return
        for filtered in self._filter.filter(None):
            yield from self._submit(bytes(filtered), filtered.pts)
        yield from self._submit(b"", None)

    def _submit(self, data: bytes, pts: int | None) -> Iterator[tuple[object, int | None]]:
        import cupy

        bitstream = np.frombuffer(data, np.uint8)  # alive until Decode returns: NVDEC reads it there
        packet = self._nvc.PacketData()
        packet.bsl_data = bitstream.ctypes.data if bitstream.size else 0
        packet.bsl = bitstream.size
        packet.pts = pts if pts is not None else 0
        if self._end_of_picture is not None and bitstream.size:
            packet.decode_flag = self._end_of_picture
        for frame in self._decoder.Decode(packet):
            picture = cupy.asarray(frame)  # a view of the decoder's surface, possibly pitched
            if picture.ndim == 3 and picture.shape[2] == 1:
                picture = picture[:, :, 0]
            if not _is_nv12(picture):
                raise InputError(
                    f"NVDEC gave a frame of shape {picture.shape} and type {picture.dtype}, not NV12 "
                    f"[H*3/2, W] uint8; use --decode cpu"
                )
            self.frames_decoded += 1
            yield picture, int(frame.getPTS()) if self._has_pts else None


def _is_nv12(picture) -> bool:
    """[H*3/2, W] uint8 with H and W even: the size may change mid-stream (a new sequence)."""
    if picture.ndim != 2 or picture.dtype != np.uint8:
        return False
    rows, width = picture.shape
    return rows > 0 and rows % 3 == 0 and (rows * 2 // 3) % 2 == 0 and width % 2 == 0


class NvdecSource(Source):
    """A video file demuxed by PyAV and decoded by NVDEC; yields NV12 device frames."""

    def __init__(self, path: str | Path, *, time_base: Fraction, frame_rate: Fraction | None, gpu: int = 0):
        self.path = Path(path)
        self.name = f"{path} (NVDEC)"
        self.time_base = time_base
        self.frame_rate = frame_rate
        self.gpu = gpu
        self.has_audio = False
        self._container = None
        self._decoder: NvdecDecoder | None = None

    def open(self) -> None:
        import av

        self._container = av.open(str(self.path))
        self._decoder = NvdecDecoder(self._container.streams.video[0], gpu=self.gpu)
        self.health = SourceHealth.LIVE

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._decoder = None

    def stats(self) -> SourceReport:
        frames = self._decoder.frames_decoded if self._decoder else 0
        return replace(super().stats(), frames=frames, decoder="nvdec")

    def frames(self, stop) -> Iterator[DecodedFrame]:
        stream = self._container.streams.video[0]
        for packet in self._container.demux(stream):
            if stop.is_set():
                return
            if packet.size == 0:  # the demuxer's end marker
                continue
            for picture, pts in self._decoder.decode(packet):
                yield DecodedFrame(picture, PixelFormat.NV12, pts, self.time_base)
        for picture, pts in self._decoder.flush():
            yield DecodedFrame(picture, PixelFormat.NV12, pts, self.time_base)
        self.health = SourceHealth.FINISHED
