"""Outputs are never overwritten without --overwrite, in every command that writes files."""

import json

import pytest

from conftest import write_clip
from pipeline.cli import main
from yolact.errors import OutputError
from yolact.output_path import check_output_path


def test_check_output_path(tmp_path):
    existing = tmp_path / "a.onnx"
    existing.write_text("x")
    with pytest.raises(OutputError, match="exists; pass --overwrite"):
        check_output_path(existing)
    assert check_output_path(existing, overwrite=True) == existing
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "a.onnx")


def _refused(capsys, argv, kept, expected_code=9):
    before = {path: path.read_bytes() for path in kept}
    assert main(argv) == expected_code
    err = capsys.readouterr().err
    assert "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert all(path.read_bytes() == content for path, content in before.items())


def test_run_refuses_every_kind_of_existing_output(capsys, tmp_path, tiny_onnx):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=3, width=64, height=48)
    base = ["run", "--source", str(clip), "--model", str(tiny_onnx), "--quiet"]
    for name in ("out.mp4", "out.jsonl", "out.json"):
        target = tmp_path / name
        target.write_text("precious")
        _refused(capsys, [*base, "--output", str(target)], [target])
    # two streams write out_s0.mp4 and out_s1.mp4: the names actually written are checked
    second = tmp_path / "multi_s1.mp4"
    second.write_text("precious")
    _refused(capsys, [*base, "--source", str(clip), "--output", str(tmp_path / "multi.mp4")], [second])
    (tmp_path / "lines_s1.jsonl").write_text("precious")
    _refused(
        capsys,
        [*base, "--source", str(clip), "--output", str(tmp_path / "lines.jsonl")],
        [tmp_path / "lines_s1.jsonl"],
    )
    assert not (tmp_path / "lines_s0.jsonl").exists()  # checked before any output was created
    # a split output's later parts
    part = tmp_path / "split.part2.mp4"
    part.write_text("precious")
    _refused(
        capsys, [*base, "--output", str(tmp_path / "split.mp4"), "--on-resolution-change", "split"], [part]
    )
    # annotated images in a folder: the first image that exists stops the run, nothing replaced
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "frame_000000.png").write_text("precious")
    _refused(capsys, [*base, "--output", str(folder)], [folder / "frame_000000.png"])
    # and with --overwrite it all goes through
    assert main([*base, "--output", str(tmp_path / "out.mp4"), "--output", str(folder), "--overwrite"]) == 0
    assert (tmp_path / "out.mp4").read_bytes()[:8] != b"precious"


def test_bench_eval_and_train_refuse_existing_outputs(capsys, tmp_path, tiny_onnx):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=3, width=64, height=48)
    report = tmp_path / "report.json"
    report.write_text("{}")
    _refused(
        capsys,
        ["bench", "--source", str(clip), "--model", str(tiny_onnx), "--report", str(report), "--quiet"],
        [report],
    )
    results = tmp_path / "results.json"
    results.write_text("[]")
    annotations = tmp_path / "ann.json"
    annotations.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    _refused(
        capsys,
        ["eval", "--model", str(tiny_onnx), "--data", f"{annotations}:{tmp_path}", "--results", str(results)],
        [results],
    )
    out = tmp_path / "training"
    out.mkdir()
    checkpoint = out / "yolact_tiny_0_100.pth"
    checkpoint.write_bytes(b"weights")
    _refused(
        capsys,
        ["train", "--config", "yolact_tiny", "--train", f"{annotations}:{tmp_path}", "--out", str(out)],
        [checkpoint],
    )
