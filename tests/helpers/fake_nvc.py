"""A stand-in for PyNvVideoCodec's core decode API (CreateDecoder / PacketData / Decode),
backed by PyAV's decoders, with device frames from the CuPy stand-in.

Like NVDEC it hands out frames in a small pool of reused surfaces: a frame's data is
overwritten by a later ``Decode`` call, so a consumer that keeps the frame instead of
copying it out reads another frame's pixels — the stand-in makes that visible.
Frames come as NV12, with presentation timestamps in the stream's time base.
"""

from __future__ import annotations

import ctypes
import enum
import types

import numpy as np

from helpers import fake_cupy

SURFACES = 2
ANNEX_B_START = (b"\x00\x00\x01", b"\x00\x00\x00\x01")
PARAMETER_SETS = {"h264": {7}, "hevc": {33}}  # the SPS NAL unit types
OBU_SEQUENCE_HEADER = 1


class cudaVideoCodec(enum.IntEnum):  # noqa: N801  (PyNvVideoCodec's names)
    H264 = 4
    HEVC = 8
    AV1 = 11


class DisplayDecodeLatencyType(enum.IntEnum):
    NATIVE = 0
    LOW = 1
    ZERO = 2


class VideoPacketFlag(enum.IntEnum):
    ENDOFSTREAM = 1
    ENDOFPICTURE = 8


class PacketData:
    """Fields the product sets; NVDEC reads ``bsl`` bytes at address ``bsl_data``."""

    def __init__(self):
        self.bsl_data = 0
        self.bsl = 0
        self.pts = 0
        self.decode_flag = 0


def nal_unit_types(codec: str, data: bytes) -> list[int]:
    """The NAL unit types of an Annex B buffer (H.264: 5 bits; HEVC: 6 bits after the forbidden bit)."""
    types = []
    for chunk in data.split(b"\x00\x00\x01")[1:]:
        if chunk:
            types.append(chunk[0] & 0x1F if codec == "h264" else (chunk[0] >> 1) & 0x3F)
    return types


def obu_types(data: bytes) -> list[int]:
    """The OBU types of an AV1 temporal unit in the low-overhead format (each OBU sized)."""
    types, position = [], 0
    while position < len(data):
        header = data[position]
        types.append((header >> 3) & 0xF)
        position += 2 if header & 0x4 else 1  # the extension byte
        if not header & 0x2:  # no size field: the OBU runs to the end
            break
        size, shift = 0, 0
        while True:
            byte = data[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        position += size
    return types


class _Frame:
    def __init__(self, surface, pts: int):
        self._surface = surface
        self._pts = pts
        self.shape = surface.shape

    def getPTS(self):  # noqa: N802
        return self._pts

    @property
    def __cuda_array_interface__(self):
        return {
            "shape": self.shape,
            "typestr": "|u1",
            "version": 3,
            "data": (self._surface._data.ctypes.data, False),
        }

    def device_array(self):
        """What ``cupy.asarray(frame)`` gives (the CuPy stand-in calls this)."""
        return self._surface


class _Decoder:
    """Decodes what it is given and nothing else: a fresh PyAV decoder with no extradata, so
    H.264/HEVC must arrive as Annex B with parameter sets in band, starting at a keyframe
    (NVDEC's parser would otherwise give nothing)."""

    def __init__(self, codec: cudaVideoCodec, cudastream, latency):
        import av

        self.codec = codec
        self.name = {"H264": "h264", "HEVC": "hevc", "AV1": "av1"}[codec.name]
        decoder = {"av1": "libdav1d"}.get(self.name, self.name)
        self.cudastream = cudastream
        self.latency = latency
        self._context = av.CodecContext.create(decoder, "r")
        self._surfaces = []
        self._next = 0
        self.decode_calls = 0
        self.flags: list[int] = []
        self.decoded: list[tuple[int, np.ndarray]] = []  # (pts, NV12 copy) of every frame given out

    def Decode(self, packet: PacketData):  # noqa: N802
        import av

        self.decode_calls += 1
        self.flags.append(packet.decode_flag)
        if packet.bsl == 0:
            return self._frames(self._context.decode(None))
        data = ctypes.string_at(packet.bsl_data, packet.bsl)
        if self.name in PARAMETER_SETS:
            if not data.startswith(ANNEX_B_START):
                raise AssertionError(f"{self.name} packet is not Annex B: starts {data[:6].hex()}")
            if self.decode_calls == 1 and not PARAMETER_SETS[self.name] & set(
                nal_unit_types(self.name, data)
            ):
                raise AssertionError("the first packet carries no SPS: NVDEC could not start here")
        av_packet = av.Packet(data)
        av_packet.pts = packet.pts
        return self._frames(self._context.decode(av_packet))

    def _frames(self, decoded_frames):
        import cupy

        frames = []
        for decoded in decoded_frames:
            nv12 = decoded.to_ndarray(format="nv12")
            self.decoded.append((decoded.pts, nv12.copy()))
            if self._surfaces and self._surfaces[0].shape != nv12.shape:
                self._surfaces = []  # a new sequence: NVDEC allocates new surfaces
            if len(self._surfaces) < SURFACES:
                self._surfaces.append(cupy.asarray(np.zeros_like(nv12)))
            surface = self._surfaces[self._next % len(self._surfaces)]
            self._next += 1
            surface._data[...] = nv12
            fake_cupy._write(
                surface, fake_cupy._state.null
            )  # the decoder writes on stream 0, the default one
            frames.append(_Frame(surface, decoded.pts))
        return frames


def install(monkeypatch) -> types.ModuleType:
    import sys

    module = types.ModuleType("PyNvVideoCodec")
    decoders = []

    def create_decoder(
        gpuid=0, codec=None, cudacontext=0, cudastream=0, usedevicememory=True, latency=0, **_
    ):
        if not usedevicememory:
            raise AssertionError("the product keeps frames in device memory")
        decoder = _Decoder(cudaVideoCodec(codec), cudastream, DisplayDecodeLatencyType(latency))
        decoders.append(decoder)
        return decoder

    module.CreateDecoder = create_decoder
    module.PacketData = PacketData
    module.cudaVideoCodec = cudaVideoCodec
    module.DisplayDecodeLatencyType = DisplayDecodeLatencyType
    module.VideoPacketFlag = VideoPacketFlag
    module.decoders = decoders
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", module)
    return module
