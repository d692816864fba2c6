"""Video files decoded on the GPU by NVDEC (NVIDIA's PyNvVideoCodec): frames stay in
device memory as NV12 and go straight to the preprocess kernel, which converts, resizes
and normalises them in one pass; the overlay is drawn on their BGR conversion there too.

Written to PyNvVideoCodec's documented core API (``CreateDemuxer``, ``CreateDecoder``,
``Decode``; decoded frames expose ``__cuda_array_interface__`` and ``getPTS()``).
Timestamps, the frame rate and the size come from PyAV's probe of the same file (the
``FileSource`` this replaces), so outputs keep the source's timing exactly as with
PyAV decoding. A decoded frame lives in the decoder's own surface, reused by later
``Decode`` calls: the decode stage copies it into its slot before asking for the next.

``pipeline.sources.decoding`` decides between NVDEC and PyAV (``--decode auto|cpu|nvdec``).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import DecodedFrame, Source
from yolact.errors import InputError

NVDEC_CODECS = ("h264", "hevc", "av1")


class NvdecSource(Source):
    """A video file decoded by NVDEC; yields NV12 device arrays [H*3/2, W] (CuPy)."""

    def __init__(
        self,
        path: str | Path,
        *,
        size: tuple[int, int],
        time_base: Fraction,
        frame_rate: Fraction | None,
        gpu: int = 0,
    ):
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
        self._decoder = nvc.CreateDecoder(
            gpuid=self.gpu,
            codec=self._demuxer.GetNvCodecId(),
            cudacontext=0,
            cudastream=0,
            usedevicememory=True,
        )
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
                picture = cupy.asarray(frame)  # a view of the decoder's surface, possibly pitched
                if picture.ndim == 3 and picture.shape[2] == 1:
                    picture = picture[:, :, 0]
                if picture.shape != (height * 3 // 2, width):
                    raise InputError(
                        f"{self.path}: NVDEC gave a frame of shape {picture.shape}, expected NV12 "
                        f"{(height * 3 // 2, width)}; use --decode cpu"
                    )
                self.frames_decoded += 1
                yield DecodedFrame(picture, PixelFormat.NV12, int(frame.getPTS()), self.time_base)
        self.health = "finished"
