import av
import cv2
import numpy as np
import pytest

from engines.calibration import load_calibration_folder, load_calibration_video
from engines.errors import CalibrationDataError
from yolact.errors import InputNotFoundError


def write_images(folder, count, seed=0):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    return folder


def write_video(path, num_frames=30, size=(64, 48)):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(num_frames):
            image = np.full((size[1], size[0], 3), index * 8 % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_folder(tmp_path):
    folder = write_images(tmp_path / "calib", 5)
    (folder / "broken.jpg").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("ignored")
    calibration = load_calibration_folder(folder, size=32)
    assert calibration.images.shape == (5, 3, 32, 32) and calibration.images.dtype == np.float32
    assert "5 images" in calibration.description and "1 unreadable skipped" in calibration.description
    assert [batch.shape[0] for batch in calibration.batches(2)] == [2, 2]  # full batches only
    again = load_calibration_folder(folder, size=32)
    assert again.sha256 == calibration.sha256
    write_images(folder, 1, seed=9)  # frame_000 changes
    assert load_calibration_folder(folder, size=32).sha256 != calibration.sha256
    assert load_calibration_folder(folder, size=40).sha256 != again.sha256


def test_folder_errors(tmp_path):
    with pytest.raises(InputNotFoundError, match="calibration folder not found"):
        load_calibration_folder(tmp_path / "absent", size=32)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CalibrationDataError, match=r"no readable images \(0 image files"):
        load_calibration_folder(empty, size=32)
    (empty / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(CalibrationDataError, match="1 unreadable"):
        load_calibration_folder(empty, size=32)


def test_video_frames_are_sampled(tmp_path):
    video = write_video(tmp_path / "clip.mp4", num_frames=30)
    calibration = load_calibration_video(video, size=32, limit=10)
    assert calibration.images.shape == (10, 3, 32, 32)
    assert "every 3" in calibration.description
    # frames come from across the clip: brightness rises over time
    assert calibration.images[-1].mean() > calibration.images[0].mean()


def test_video_errors(tmp_path):
    with pytest.raises(InputNotFoundError):
        load_calibration_video(tmp_path / "absent.mp4", size=32)
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    with pytest.raises(CalibrationDataError, match="cannot decode calibration video"):
        load_calibration_video(fake, size=32)
