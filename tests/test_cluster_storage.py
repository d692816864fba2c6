"""Outputs on shared storage (fsspec URIs): written whole under a temporary name, then moved;
existing ones refused; what lost attempts of a run left, removed."""

import pytest

pytest.importorskip("fsspec", reason="needs fsspec: pip install 'yolact-stream[ray]'")

from pipeline.cluster.storage import check_uri, name_of, put_whole, remove_partials, target_of  # noqa: E402
from yolact.errors import OutputError  # noqa: E402


def test_written_whole_then_moved(tmp_path):
    local = tmp_path / "made.mp4"
    local.write_bytes(b"x" * 1000)
    shared = tmp_path / "shared"
    shared.mkdir()
    uri = f"file://{shared}/clip.mp4"
    assert target_of(uri) == uri and name_of(uri) == "clip.mp4"
    check_uri(uri, overwrite=False)
    put_whole(local, uri, "run1-1")
    assert [p.name for p in shared.iterdir()] == ["clip.mp4"]  # no temporary name left
    assert (shared / "clip.mp4").read_bytes() == b"x" * 1000
    with pytest.raises(OutputError, match="exists: pass --overwrite"):
        check_uri(uri, overwrite=False)
    check_uri(uri, overwrite=True)
    with pytest.raises(OutputError, match="output folder does not exist"):
        check_uri(f"file://{tmp_path}/absent/clip.mp4", overwrite=False)


def test_partials_of_this_run_only_are_removed(tmp_path):
    for name in (".a.mp4.partial-run1-1", ".b.jsonl.partial-run1-2", ".a.mp4.partial-run2-1", "a.mp4"):
        (tmp_path / name).write_bytes(b"")
    uris = [f"file://{tmp_path}/a.mp4", f"file://{tmp_path}/b.jsonl"]
    assert remove_partials(uris, "run1") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.mp4.partial-run2-1", "a.mp4"]
