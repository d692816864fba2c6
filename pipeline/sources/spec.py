"""``--source`` specs → sources (see pipeline/sources/ for the kinds):

path/to/video.mp4 · path/to/image.png | folder/ · rtsp:// rtmp:// http(s):// tcp://
udp:// srt:// · camera:0 | /dev/video0 · synthetic[:WxH[@FPS]][?frames=N&seed=S&live=1]

Parsing comes first (``parse_source_spec``: what kind, whether live, a bad spec refused
with one line) so that a run can pick its preset from the specs, then build every
source with that preset's settings (``open_source``).
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.credentials import mask_url
from pipeline.preprocess import PixelFormat
from pipeline.sources.base import Source
from pipeline.sources.camera import CameraSource
from pipeline.sources.file import FileSource
from pipeline.sources.images import IMAGE_SUFFIXES, ImageSource
from pipeline.sources.network import NETWORK_SCHEMES, NetworkOptions, NetworkSource
from pipeline.sources.synthetic import SyntheticSource
from yolact.errors import InputError, InputNotFoundError


class SourceKind(enum.Enum):
    FILE = "file"
    IMAGES = "images"
    NETWORK = "network"
    CAMERA = "camera"
    SYNTHETIC = "synthetic"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A parsed ``--source``: its text and kind; ``is_live`` picks the run's default preset."""

    text: str
    kind: SourceKind

    @property
    def is_live(self) -> bool:
        if self.kind is SourceKind.SYNTHETIC:
            return _synthetic(self.text).is_live
        return self.kind in (SourceKind.NETWORK, SourceKind.CAMERA)


def parse_source_spec(text: str) -> SourceSpec:
    """The kind of source ``text`` names; InputError / InputNotFoundError if none."""
    if text.split("?", 1)[0].split(":", 1)[0] == "synthetic":
        _synthetic(text)  # a malformed spec fails here
        return SourceSpec(text, SourceKind.SYNTHETIC)
    scheme = urllib.parse.urlparse(text).scheme.lower()
    if scheme == "camera" or text.startswith("/dev/video"):
        return SourceSpec(text, SourceKind.CAMERA)
    if scheme in NETWORK_SCHEMES:
        return SourceSpec(text, SourceKind.NETWORK)
    if "://" in text:
        raise InputError(
            f"unsupported URL scheme {scheme!r} in {mask_url(text)}; supported: {', '.join(NETWORK_SCHEMES)}"
        )
    path = Path(text)
    if not path.exists():
        raise InputNotFoundError(f"input not found: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec(text, SourceKind.IMAGES)
    return SourceSpec(text, SourceKind.FILE)


def open_source(
    spec: str | SourceSpec,
    *,
    pixel_format: PixelFormat = PixelFormat.BGR,
    network_options: NetworkOptions | None = None,
    report: Callable[[str], None] | None = None,
) -> Source:
    """A Source for a spec (see the module docstring); not yet opened. ``network_options``
    and ``report`` (one status line per health change) apply to network streams."""
    if isinstance(spec, str):
        spec = parse_source_spec(spec)
    text = spec.text
    if spec.kind is SourceKind.SYNTHETIC:
        return _synthetic(text)
    if spec.kind is SourceKind.CAMERA:
        device = urllib.parse.urlparse(text).path if text.startswith("camera:") else text
        return CameraSource(int(device) if device.isdigit() else device)
    if spec.kind is SourceKind.NETWORK:
        return NetworkSource(text, options=network_options, pixel_format=pixel_format, report=report)
    if spec.kind is SourceKind.IMAGES:
        return ImageSource(Path(text))
    return FileSource(Path(text), pixel_format=pixel_format)


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
