"""Where frames come from, one module per kind: file (PyAV), network (RTSP/RTMP/HTTP/...
with reconnects), nvdec (files decoded on the GPU), camera, images, synthetic; ``spec``
turns a ``--source`` string into one, ``decoding`` picks the decoder and pixel format."""

from pipeline.sources.spec import open_source

__all__ = ["open_source"]
