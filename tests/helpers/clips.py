"""Real video files for the container × codec × frame-rate tests, written with PyAV.

Each clip is the seeded synthetic scene, so the tests need no data of their own. The
reference timestamps of a clip are what a plain (single-threaded) PyAV decode reports,
i.e. what FFmpeg itself would show a player.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

AUDIO_RATE = 16000
# SVT-AV1 switches the calling thread to real-time scheduling (SCHED_FIFO, measured here as
# root), which threads started later inherit: the rest of the test process would then run
# with other timing. Its clips are written by a child process.
CHILD_PROCESS_ENCODERS = ("libsvtav1",)


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """One input kind: container suffix, video codec, pixel format, audio codec or None."""

    suffix: str
    codec: str
    pix_fmt: str = "yuv420p"
    fps: int | Fraction = 30
    vfr: bool = False
    audio: str | None = None

    @property
    def name(self) -> str:
        rate = "vfr" if self.vfr else f"{float(self.fps):g}fps"
        return f"{self.suffix[1:]}-{self.codec}-{rate}-{self.audio or 'noaudio'}"


def vfr_times(num_frames: int, fps: int | Fraction) -> list[Fraction]:
    """Frame times in seconds with gaps of 1, 2 and 3 nominal frames (a stuttering camera)."""
    gaps = [1, 2, 1, 3, 1, 1, 2]
    times, t = [], Fraction(0)
    for index in range(num_frames):
        times.append(t)
        t += Fraction(gaps[index % len(gaps)], fps)
    return times


def write_clip(
    path: str | Path,
    spec: ClipSpec,
    *,
    num_frames: int = 60,
    width: int = 128,
    height: int = 96,
    seed: int = 0,
    isolate: bool = True,
) -> Path:
    """Write ``num_frames`` of the synthetic scene as ``spec`` describes; returns the path.
    ``isolate``: encoders that change the process (``CHILD_PROCESS_ENCODERS``) run in a child."""
    if isolate and spec.codec in CHILD_PROCESS_ENCODERS:
        return _write_in_child_process(
            path, spec, num_frames=num_frames, width=width, height=height, seed=seed
        )
    import av

    from pipeline.synthetic import SyntheticScene

    path = Path(path)
    scene = SyntheticScene(width, height, seed=seed)
    # a millisecond clock for variable rates (as Matroska, WebM and FLV count anyway)
    time_base = Fraction(1, 1000) if spec.vfr else Fraction(1, spec.fps)
    times = (
        vfr_times(num_frames, spec.fps) if spec.vfr else [Fraction(i, spec.fps) for i in range(num_frames)]
    )
    with av.open(str(path), "w") as container:
        video = container.add_stream(spec.codec, rate=spec.fps)
        video.width, video.height, video.pix_fmt = width, height, spec.pix_fmt
        video.codec_context.time_base = time_base
        if spec.codec == "libx265":
            video.options = {"x265-params": "log-level=error"}
        if spec.codec.startswith("libvpx"):
            video.options = {"deadline": "realtime", "cpu-used": "8"}
        audio = _add_audio(container, spec.audio) if spec.audio else None
        for index, when in enumerate(times):
            frame = av.VideoFrame.from_ndarray(scene.frame(index), format="bgr24")
            frame.pts, frame.time_base = int(when / time_base), time_base
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            _write_tone(container, audio, float(times[-1] + Fraction(1, spec.fps)))
    return path


def _write_in_child_process(path, spec: ClipSpec, **kwargs) -> Path:
    import dataclasses
    import subprocess
    import sys

    fields = {**dataclasses.asdict(spec), "fps": str(spec.fps)}
    code = (
        "import sys; from fractions import Fraction; sys.path[:0] = sys.argv[1:3]\n"
        "from helpers.clips import ClipSpec, write_clip\n"
        f"fields = {fields!r}; fields['fps'] = Fraction(fields['fps'])\n"
        f"write_clip({str(path)!r}, ClipSpec(**fields), isolate=False, **{kwargs!r})"
    )
    tests = str(Path(__file__).parents[1])
    subprocess.run(
        [sys.executable, "-c", code, tests, str(Path(tests).parent)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Path(path)


def _add_audio(container, codec: str):
    rate = 48000 if codec == "libopus" else AUDIO_RATE
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    return stream


def _write_tone(container, stream, seconds: float) -> None:
    import av

    rate = stream.codec_context.sample_rate
    samples = stream.codec_context.frame_size or 1024
    fmt = stream.codec_context.format.name
    total = int(rate * seconds)
    for start in range(0, total, samples):
        tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(start, start + samples) / rate)
        if fmt.startswith("s16"):
            array = (tone * 32767).astype(np.int16)[None, :]
        else:
            array = tone.astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(array, format=fmt, layout="mono")
        frame.sample_rate, frame.pts = rate, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


@dataclass(frozen=True, slots=True)
class Probe:
    """What a plain PyAV decode of a file shows: frame times, size, time base, audio."""

    times: list[float]
    size: tuple[int, int] | None
    time_base: Fraction
    audio_packets: int

    @property
    def num_frames(self) -> int:
        return len(self.times)


def probe(path: str | Path) -> Probe:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times, size = [], None
        for frame in container.decode(stream):
            times.append(float(frame.pts * frame.time_base))
            size = (frame.height, frame.width)
        time_base = stream.time_base
    audio_packets = 0
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio_packets = sum(1 for packet in container.demux(container.streams.audio[0]) if packet.size)
    return Probe(times, size, time_base, audio_packets)
