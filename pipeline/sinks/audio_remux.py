"""The input's audio next to the annotated video: copied at close, not re-encoded.

Packets of both files are interleaved by time. Matroska and WebM demux video packets
without a decode timestamp, so the presentation timestamp orders those. Where the output
container does not take the source's audio codec (Opus or PCM into MP4/MOV, for
instance), the audio is re-encoded to AAC instead of being dropped.
"""

from __future__ import annotations

import heapq
import os
from pathlib import Path

AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def has_audio(path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError:
        return False


def copy_audio_into(
    video_path: Path, audio_path, output: Path, *, options: dict[str, str] | None = None
) -> None:
    """Write ``output``: the video of ``video_path`` and the first audio stream of
    ``audio_path``; ``options`` are the muxer's (as the video was written with)."""
    import av

    partial = output.with_name(f".{output.stem}.mux{output.suffix}")
    try:
        _mux(video_path, audio_path, partial, transcode=False, options=options or {})
    except av.error.FFmpegError:  # the container refused the codec: AAC goes everywhere
        _mux(video_path, audio_path, partial, transcode=True, options=options or {})
    os.replace(partial, output)


def _timed(container, stream, order: int, *, drop_before_zero: bool = False):
    """(seconds, order, packet) of one stream, skipping the demuxer's empty flush packet.

    ``drop_before_zero``: leave out packets that end before time 0 (an AAC encoder's
    priming packet). Matroska cannot store negative times and would shift every stream,
    the video included, to make them non-negative."""
    for packet in container.demux(stream):
        when = packet.dts if packet.dts is not None else packet.pts
        if when is None or not packet.size:
            continue
        if drop_before_zero and packet.pts is not None and packet.pts + (packet.duration or 0) <= 0:
            continue
        yield float(when * packet.time_base), order, packet


def _mux(video_path: Path, audio_path, output: Path, *, transcode: bool, options: dict[str, str]) -> None:
    import av

    matroska = output.suffix.lower() in (".mkv", ".webm")
    with (
        av.open(str(video_path)) as video_in,
        av.open(str(audio_path)) as audio_in,
        av.open(str(output), "w", options=options) as out,
    ):
        video_stream = video_in.streams.video[0]
        audio_stream = audio_in.streams.audio[0]
        out_video = out.add_stream_from_template(video_stream)
        if transcode:
            rate = min(AAC_RATES, key=lambda r: abs(r - (audio_stream.codec_context.sample_rate or 48000)))
            out_audio = out.add_stream("aac", rate=rate)
            out_audio.layout = (
                audio_stream.codec_context.layout.name if audio_stream.codec_context.layout else "stereo"
            )
            audio_packets = _transcoded(audio_in, audio_stream, out_audio)
        else:
            out_audio = out.add_stream_from_template(audio_stream)
            audio_packets = _timed(audio_in, audio_stream, 1, drop_before_zero=matroska)
        merged = heapq.merge(
            _timed(video_in, video_stream, 0), audio_packets, key=lambda item: (item[0], item[1])
        )
        for _, order, packet in merged:
            packet.stream = out_video if order == 0 else out_audio
            out.mux(packet)
        if transcode:
            for packet in out_audio.encode():
                out.mux(packet)


def _transcoded(container, stream, target):
    """AAC packets of ``stream``'s audio, timed like the source's samples."""
    for frame in container.decode(stream):
        for packet in target.encode(frame):
            if packet.pts is not None:
                yield float(packet.pts * packet.time_base), 1, packet
