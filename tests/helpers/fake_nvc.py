"""A stand-in for PyNvVideoCodec's core decode API (CreateDemuxer / CreateDecoder /
Decode), backed by PyAV, with device frames from the CuPy stand-in.

Like NVDEC it hands out frames in a small pool of reused surfaces: a frame's data is
overwritten by a later ``Decode`` call, so a consumer that keeps the frame instead of
copying it out reads another frame's pixels — the stand-in makes that visible.
Frames come as NV12, with presentation timestamps in the stream's time base.
"""

from __future__ import annotations

import types

import numpy as np

from helpers import fake_cupy

SURFACES = 2
CODEC_IDS = {"h264": 4, "hevc": 8, "av1": 11}


class PyNvVCExceptionUnsupported(Exception):
    pass


class _Packet:
    def __init__(self, packet):
        self.packet = packet


class _Demuxer:
    def __init__(self, filename: str):
        import av

        self._container = av.open(filename)
        self._stream = self._container.streams.video[0]
        self.codec = self._stream.codec_context.name

    def GetNvCodecId(self):  # noqa: N802  (PyNvVideoCodec's names)
        if self.codec not in CODEC_IDS:
            raise PyNvVCExceptionUnsupported(self.codec)
        return CODEC_IDS[self.codec]

    def FrameRate(self):  # noqa: N802
        return float(self._stream.average_rate or 0)

    def __iter__(self):
        for packet in self._container.demux(self._stream):
            yield _Packet(packet)  # the last one is the empty packet that flushes the decoder


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
    def __init__(self, codec, cudastream):
        self.codec = codec
        self.cudastream = cudastream
        self._surfaces = []
        self._next = 0
        self.decode_calls = 0

    def Decode(self, packet: _Packet):  # noqa: N802
        import cupy

        self.decode_calls += 1
        frames = []
        for decoded in packet.packet.decode():
            nv12 = decoded.to_ndarray(format="nv12")
            if len(self._surfaces) < SURFACES:
                self._surfaces.append(cupy.asarray(np.zeros_like(nv12)))
            surface = self._surfaces[self._next % SURFACES]
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
    module.CreateDemuxer = lambda filename: _Demuxer(filename)
    decoders = []

    def create_decoder(gpuid=0, codec=None, cudacontext=0, cudastream=0, usedevicememory=True, **_):
        if not usedevicememory:
            raise AssertionError("the product keeps frames in device memory")
        decoder = _Decoder(codec, cudastream)
        decoders.append(decoder)
        return decoder

    module.CreateDecoder = create_decoder
    module.PyNvVCExceptionUnsupported = PyNvVCExceptionUnsupported
    module.decoders = decoders
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", module)
    return module
