import threading

import numpy as np
import pytest

from conftest import write_clip
from pipeline.sources.network import NetworkSource
from pipeline.sources.camera import CameraSource
from pipeline.sources.file import FileSource
from pipeline.sources.images import ImageSource
from pipeline.sources.synthetic import SyntheticSource
from pipeline.credentials import mask_url
from pipeline.sources.spec import open_source
from yolact.errors import InputError, InputNotFoundError


def test_specs_pick_the_source(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", num_frames=3)
    assert isinstance(open_source(str(clip)), FileSource)
    assert isinstance(open_source("rtsp://cam/stream"), NetworkSource)
    assert isinstance(open_source("camera:0"), CameraSource)
    assert isinstance(open_source("/dev/video3"), CameraSource)
    synthetic = open_source("synthetic:320x240@15?frames=7&seed=3&live=1")
    assert isinstance(synthetic, SyntheticSource)
    assert (
        synthetic.scene.width,
        synthetic.scene.height,
        synthetic.fps,
        synthetic.num_frames,
        synthetic.is_live,
    ) == (320, 240, 15, 7, True)
    assert open_source("synthetic").num_frames == 300


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("missing.mp4", InputNotFoundError, "input not found"),
        ("gopher://x/y", InputError, "unsupported URL scheme 'gopher'"),
        ("synthetic:big", InputError, "bad synthetic spec"),
    ],
)
def test_bad_specs(spec, error, message):
    with pytest.raises(error, match=message):
        open_source(spec)


def test_file_source_frames_and_timestamps(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", num_frames=10, width=64, height=48, fps=25)
    with open_source(str(clip)) as source:
        frames = list(source.frames(threading.Event()))
    assert len(frames) == 10 and frames[0].picture.shape == (48, 64, 3)
    seconds = [float(f.pts * f.time_base) for f in frames]
    np.testing.assert_allclose(np.diff(seconds), 1 / 25, atol=1e-6)
    assert source.frame_rate == 25


def test_file_source_yuv_planes(tmp_path):
    from pipeline.preprocess import PixelFormat

    clip = write_clip(tmp_path / "a.mp4", num_frames=2, width=64, height=48)
    with FileSource(clip, pixel_format=PixelFormat.YUV420) as source:
        frame = next(source.frames(threading.Event()))
    assert frame.picture.shape == (72, 64) and frame.pixel_format is PixelFormat.YUV420


def test_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("just text")
    with pytest.raises(InputError, match="is not a readable video"):
        with open_source(str(fake)):
            pass


def test_synthetic_is_deterministic_and_moves():
    first = list(SyntheticSource(width=64, height=48, num_frames=3, seed=5).frames(threading.Event()))
    again = list(SyntheticSource(width=64, height=48, num_frames=3, seed=5).frames(threading.Event()))
    assert all(np.array_equal(a.picture, b.picture) for a, b in zip(first, again))
    assert not np.array_equal(first[0].picture, first[2].picture)


def test_image_folder_skips_unreadable(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "b.png").write_bytes(b"broken")
    source = ImageSource(tmp_path)
    frames = list(source.frames(threading.Event()))
    assert [f.label for f in frames] == ["a.png"] and source.unreadable == 1


def test_credentials_are_masked():
    assert mask_url("rtsp://admin:hunter2@10.0.0.5:554/live") == "rtsp://***@10.0.0.5:554/live"
    assert mask_url("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live"
    with pytest.raises(InputError) as caught:
        open_source("gopher://admin:hunter2@host/x")
    assert "hunter2" not in str(caught.value)


def test_camera_errors_and_reading(tmp_path):
    with pytest.raises(InputNotFoundError, match="camera 99 cannot be opened"):
        with open_source("camera:99"):
            pass
    # OpenCV's capture also opens files: it exercises the camera read loop here
    clip = write_clip(tmp_path / "cam.mp4", num_frames=5, width=64, height=48)
    camera = CameraSource(str(clip))
    with camera:
        frames = []
        with pytest.raises(InputError, match="stopped delivering frames"):
            for frame in camera.frames(threading.Event()):
                frames.append(frame)
    assert len(frames) == 5 and frames[0].picture.shape == (48, 64, 3)
