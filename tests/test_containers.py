"""Container × codec × frame rate × audio: every input kind users meet, written by the
test with PyAV, through the whole pipeline into every supported output container at
once. Each output must hold every frame, at the source's size, in order, each at the
source's timestamp to within one tick of the output's time base, with the audio.
"""

from fractions import Fraction

import pytest

from helpers.clips import ClipSpec, probe, write_clip
from pipeline.runner import Pipeline, RunOptions
from pipeline.sinks.video_file import VIDEO_SUFFIXES

pytestmark = pytest.mark.timeout(180)

INPUTS = [
    ClipSpec(".mp4", "libx264"),
    ClipSpec(".mp4", "libx264", vfr=True, audio="aac"),
    ClipSpec(".mp4", "libx265", fps=25),
    ClipSpec(".mkv", "libx264"),  # a webcam recording
    ClipSpec(".mkv", "libx264", audio="aac"),
    ClipSpec(".mkv", "libx264", vfr=True, audio="libopus"),
    ClipSpec(".webm", "libvpx-vp9"),
    ClipSpec(".webm", "libvpx-vp9", audio="libopus"),
    ClipSpec(".avi", "mjpeg", pix_fmt="yuvj420p"),
    ClipSpec(".avi", "mjpeg", pix_fmt="yuvj420p", audio="pcm_s16le"),
    ClipSpec(".mov", "libx264", audio="aac"),
    ClipSpec(".mov", "libx265", fps=24),
    ClipSpec(".ts", "libx264", audio="aac"),  # starts at 1/15 s, 90 kHz clock
    ClipSpec(".flv", "flv", fps=Fraction(25, 2)),
    ClipSpec(".flv", "libx264", audio="aac"),
    ClipSpec(".gif", "gif", pix_fmt="rgb8", fps=10),
]
NUM_FRAMES = 60  # past the encoder's look-ahead (~40 frames), where the muxer writes its header


@pytest.mark.parametrize("spec", INPUTS, ids=lambda spec: spec.name)
def test_every_output_keeps_every_frame_and_timestamp(spec, tmp_path):
    source = write_clip(tmp_path / f"in{spec.suffix}", spec, num_frames=NUM_FRAMES)
    reference = probe(source)
    assert reference.num_frames == NUM_FRAMES
    outputs = [tmp_path / f"out{suffix}" for suffix in VIDEO_SUFFIXES]
    with Pipeline([str(source)], [str(path) for path in outputs], RunOptions(progress=False)) as pipeline:
        summary = pipeline.run()
    assert summary.frames_out == NUM_FRAMES
    for path in outputs:
        got = probe(path)
        tick = float(got.time_base)
        assert got.num_frames == NUM_FRAMES, path.name
        assert got.size == reference.size, path.name
        assert all(later > earlier for earlier, later in zip(got.times, got.times[1:])), path.name
        worst = max(abs(out - src) for out, src in zip(got.times, reference.times))
        assert worst <= tick + 1e-9, (path.name, worst, tick)
        if spec.audio:
            assert got.audio_packets >= 0.9 * reference.audio_packets, (path.name, got.audio_packets)
        else:
            assert got.audio_packets == 0
    assert not list(tmp_path.glob(".*")), list(tmp_path.iterdir())  # no partial file left
