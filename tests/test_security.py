"""Security rules, checked on the source tree: no code from data files is ever run.

Checkpoints only through torch.load(weights_only=True); YAML only through safe_load;
model metadata and sidecars parsed as JSON; no pickle, eval or exec anywhere.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    p
    for folder in ("yolact", "engines", "pipeline", "benchmarks", "assets")
    for p in (ROOT / folder).rglob("*.py")
]


def _calls(pattern: str):
    found = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line) and not line.lstrip().startswith("#"):
                found.append((path.relative_to(ROOT), number, line.strip()))
    return found


def test_sources_were_found():
    assert len(SOURCES) > 40


def test_every_torch_load_is_weights_only():
    loads = _calls(r"torch\.load\(")
    assert loads, "torch.load is used for checkpoints; this test must see it"
    assert all("weights_only=True" in line for _, _, line in loads), loads


def test_yaml_only_through_safe_load():
    assert not _calls(r"yaml\.(load|unsafe_load|full_load)\(")
    assert _calls(r"yaml\.safe_load\(")


def test_no_pickle_eval_or_exec():
    assert not _calls(r"^\s*import pickle|^\s*from pickle|\bpickle\.loads?\(")
    assert not _calls(r"(?<![.\w])(eval|exec)\(")


def test_metadata_is_json():
    metadata = (ROOT / "yolact" / "model_metadata.py").read_text()
    assert "json.loads(" in metadata and "literal_eval" not in metadata


def test_credentials_are_masked_in_library_errors(capsys, tiny_onnx):
    import socket

    from pipeline.cli import main
    from pipeline.credentials import mask_credentials

    assert (
        mask_credentials("refused: 'rtsp://user:pw@10.0.0.1:554/x', see http://a:b@h/y; rtsp://host/z")
        == "refused: 'rtsp://***@10.0.0.1:554/x', see http://***@h/y; rtsp://host/z"
    )
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(
        [
            "run",
            "--source",
            "synthetic:64x48@30?frames=3",
            "--model",
            str(tiny_onnx),
            "--quiet",
            "--output",
            f"rtsp://admin:hunter2@127.0.0.1:{port}/push",
        ]
    )
    err = capsys.readouterr().err
    assert code == 9 and "hunter2" not in err and "***@127.0.0.1" in err and "cannot publish" in err
