"""What a cluster run processes and where each result goes (no cluster needed)."""

from pathlib import Path

import pytest

from pipeline.cluster.sources import expand_sources, output_paths, output_templates
from yolact.errors import ConfigError, InputNotFoundError


def test_folders_globs_and_lists_expand_once_in_a_stable_order(tmp_path):
    for name in ("b.mp4", "a.mkv", "notes.md", "c.mp4"):
        (tmp_path / name).write_bytes(b"")
    listing = tmp_path / "more.txt"
    listing.write_text(f"# two more\n{tmp_path / 'c.mp4'}\n\nrtsp://cam/1\n")
    found = expand_sources([str(tmp_path), str(tmp_path / "*.mp4"), f"@{listing}", "synthetic:64x48"])
    assert found == [str(tmp_path / n) for n in ("a.mkv", "b.mp4", "c.mp4")] + [
        "rtsp://cam/1",
        "synthetic:64x48",
    ]
    with pytest.raises(InputNotFoundError, match="no file matches"):
        expand_sources([str(tmp_path / "*.avi")])
    with pytest.raises(InputNotFoundError):
        expand_sources([str(tmp_path / "missing.mp4")])
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="no sources"):
        expand_sources([str(tmp_path / "empty.txt")])


def test_outputs_are_named_after_their_sources_and_clashes_get_a_stable_suffix(tmp_path):
    templates = output_templates([f"{tmp_path}/", f"{tmp_path}/{{stem}}.jsonl"])
    assert templates == [str(tmp_path / "{stem}.mp4"), str(tmp_path / "{stem}.jsonl")]
    sources = ["/data/day1/cam.mp4", "/data/day2/cam.mp4", "/data/day1/gate.mkv", "rtsp://host/live/door?x=1"]
    paths = output_paths(sources, templates)
    assert paths["/data/day1/gate.mkv"] == [tmp_path / "gate.mp4", tmp_path / "gate.jsonl"]
    assert paths["rtsp://host/live/door?x=1"][0] == tmp_path / "door.mp4"
    first, second = paths["/data/day1/cam.mp4"][0].name, paths["/data/day2/cam.mp4"][0].name
    assert first != second and first.startswith("cam-") and second.startswith("cam-")
    assert output_paths(list(reversed(sources)), templates)["/data/day1/cam.mp4"][0].name == first  # stable
    with pytest.raises(ConfigError, match="one output per source"):
        output_templates([str(tmp_path / "single.mp4")])
    assert Path(templates[0]).parent == tmp_path


def test_outputs_given_as_uris_stay_uris():
    """s3://bucket/x must not become s3:/bucket/x: URIs are kept as text for the workers."""
    templates = output_templates(["s3://bucket/results/", "s3://bucket/results/{stem}.jsonl"])
    assert templates == ["s3://bucket/results/{stem}.mp4", "s3://bucket/results/{stem}.jsonl"]
    paths = output_paths(["/data/cam.mp4"], templates)
    assert paths["/data/cam.mp4"] == ["s3://bucket/results/cam.mp4", "s3://bucket/results/cam.jsonl"]
    with pytest.raises(ConfigError, match="one output per source"):
        output_templates(["s3://bucket/one.mp4"])


def test_without_ray_one_line_says_what_to_install(tmp_path, monkeypatch, capsys):
    import sys

    from pipeline.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    (tmp_path / "clip.mp4").write_bytes(b"")
    code = main(["run", "--ray", "--source", str(tmp_path / "clip.mp4"), "--output", f"{tmp_path}/"])
    assert code == 11
    assert capsys.readouterr().err.strip() == (
        "yolact-stream run: error: --ray needs Ray: pip install 'yolact-stream[ray]'"
    )
