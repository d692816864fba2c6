"""Outputs refused before any work, each with one line and exit code 9; progress on a pipe."""

import contextlib
import os
import subprocess
import sys
import tempfile

import pytest

from helpers.clips import ClipSpec, probe, write_clip
from pipeline.cli import main
from yolact.errors import OutputError

EXIT_OUTPUT = OutputError.exit_code


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(
        tmp_path_factory.mktemp("outputs") / "in.mp4", ClipSpec(".mp4", "libx264"), num_frames=12
    )


def run(capsys, *args):
    code = main(["run", "--quiet", *args])
    captured = capsys.readouterr()
    return code, [line for line in captured.err.splitlines() if line.strip()], captured


def assert_refused(code, lines, *phrases):
    assert code == EXIT_OUTPUT, lines
    assert len(lines) == 1 and ": error: " in lines[0], lines
    for phrase in phrases:
        assert phrase in lines[0], lines


def test_window_without_a_display_is_refused_up_front(capsys, clip, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, lines, _ = run(capsys, "--source", str(clip), "--output", "window")
    assert_refused(code, lines, "needs a display", "--output out.mp4")


def test_the_same_output_twice_is_refused_and_nothing_is_written(capsys, clip, tmp_path):
    out = tmp_path / "out.mp4"
    code, lines, _ = run(
        capsys, "--source", str(clip), "--output", str(out), "--output", str(tmp_path / "." / "out.mp4")
    )
    assert_refused(code, lines, "given twice")
    assert list(tmp_path.iterdir()) == []


def test_output_equal_to_the_input_is_refused_even_with_overwrite(capsys, clip, tmp_path):
    copy = tmp_path / "clip.mp4"
    copy.write_bytes(clip.read_bytes())
    code, lines, _ = run(capsys, "--source", str(copy), "--output", str(copy), "--overwrite")
    assert_refused(code, lines, "is the input")
    assert copy.read_bytes() == clip.read_bytes()


@pytest.mark.parametrize(
    "suffix, phrase",
    [(".avi", "no presentation timestamps"), (".m4v", "use .mp4"), (".webm", "VP8/VP9"), (".gif", "palette")],
)
def test_video_containers_that_cannot_hold_the_result_are_refused(capsys, clip, tmp_path, suffix, phrase):
    code, lines, _ = run(capsys, "--source", str(clip), "--output", str(tmp_path / f"out{suffix}"))
    assert_refused(code, lines, phrase, ".mp4")


@contextlib.contextmanager
def read_only_folder():
    """A folder on a read-only file system (a tmpfs mounted ro: needs root), or a folder
    without write permission (works for other users only: root may write anywhere)."""
    folder = tempfile.mkdtemp()
    if os.geteuid() == 0:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", folder], capture_output=True
        )
        if mounted.returncode != 0:
            os.rmdir(folder)
            pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
        try:
            yield folder
        finally:
            subprocess.run(["umount", folder], check=False)
            os.rmdir(folder)
    else:
        os.chmod(folder, 0o555)
        try:
            yield folder
        finally:
            os.chmod(folder, 0o755)
            os.rmdir(folder)


@pytest.mark.parametrize("name", ["frames", "frames/", "out.mp4", "out.jsonl"])
def test_outputs_on_a_read_only_file_system_are_refused_like_the_others(capsys, clip, name):
    with read_only_folder() as folder:
        code, lines, _ = run(capsys, "--source", str(clip), "--output", os.path.join(folder, name))
    assert_refused(code, lines, "not writable")


def test_progress_on_a_pipe_is_plain_lines(clip, tmp_path):
    out = tmp_path / "out.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--source", str(clip), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    progress = [line for line in result.stderr.splitlines() if "fps" in line]
    assert progress, result.stderr
    assert probe(out).num_frames == 12
