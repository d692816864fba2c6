"""``--source`` specs → sources (see pipeline/sources/ for the kinds):

path/to/video.mp4 · path/to/image.png | folder/ · rtsp:// rtmp:// http(s):// tcp://
udp:// srt:// · camera:0 | /dev/video0 · synthetic[:WxH[@FPS]][?frames=N&seed=S&live=1]
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from pipeline.sources.network import NetworkOptions, NetworkSource
from pipeline.preprocess import PixelFormat
from pipeline.sources.images import IMAGE_SUFFIXES, ImageSource
from pipeline.sources.network import NETWORK_SCHEMES
from pipeline.sources.camera import CameraSource
from pipeline.sources.file import FileSource
from pipeline.sources.base import Source
from pipeline.sources.synthetic import SyntheticSource
from pipeline.credentials import mask_url
from yolact.errors import InputError, InputNotFoundError


def open_source(spec: str, *, pixel_format: PixelFormat = PixelFormat.BGR, network_options=None) -> Source:
    """A Source for a spec string (see the module docstring); not yet opened."""
    if spec.split("?", 1)[0].split(":", 1)[0] == "synthetic":
        return _synthetic(spec)
    parsed = urllib.parse.urlparse(spec)
    scheme = parsed.scheme.lower()
    if scheme == "camera":
        return CameraSource(int(parsed.path) if parsed.path.isdigit() else parsed.path)
    if spec.startswith("/dev/video"):
        return CameraSource(spec)
    if scheme in NETWORK_SCHEMES:
        return NetworkSource(spec, options=network_options or NetworkOptions(), pixel_format=pixel_format)
    if "://" in spec:
        raise InputError(
            f"unsupported URL scheme {scheme!r} in {mask_url(spec)}; supported: {', '.join(NETWORK_SCHEMES)}"
        )
    path = Path(spec)
    if not path.exists():
        raise InputNotFoundError(f"input not found: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return FileSource(path, pixel_format=pixel_format)


def _synthetic(spec: str) -> SyntheticSource:
    width, height, fps = 640, 360, 30
    body, _, query_text = spec[len("synthetic") :].lstrip(":").partition("?")
    if body:
        try:
            size, _, rate = body.partition("@")
            width, height = (int(v) for v in size.lower().split("x"))
            fps = int(rate) if rate else fps
        except ValueError:
            raise InputError(
                f"bad synthetic spec {body!r}: expected WxH or WxH@FPS, e.g. synthetic:640x360@30"
            ) from None
    query = urllib.parse.parse_qs(query_text)
    frames = query.get("frames", ["300"])[0]
    return SyntheticSource(
        width=width,
        height=height,
        fps=fps,
        num_frames=None if frames in ("inf", "0") else int(frames),
        seed=int(query.get("seed", ["0"])[0]),
        live=query.get("live", ["0"])[0] in ("1", "true", "yes"),
    )
