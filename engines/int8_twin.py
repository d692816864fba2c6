"""The CPU's default precision for a float ONNX model: its INT8 twin, built once.

ResNet-50-550 runs 3-4x faster in INT8 than in fp32 on a CPU with VNNI, and the bundled
model loses no mask AP (69.9 in both, assets/MODEL_CARD.md), so a CPU run without ``--precision``
quantizes the model once — calibrated on frames of the run's video when it has one, on
synthetic scenes otherwise — checks the result against the float model on frames the
calibration did not see (``engines.int8_check``) and caches the file and the verdict under
``$YOLACT_STREAM_CACHE/int8/``, keyed by the model's hash and ONNX Runtime's version (its
quantizer made the file). A refused twin is remembered, so later runs go straight to the
float model; ``--precision fp32`` skips all of this.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from engines.errors import ModelFormatError
from engines.int8_check import Int8Verdict
from engines.sidecar import engine_cache_dir, file_sha256

CALIBRATION_FRAMES = 64
RECIPE = "q2"  # bump when quantize_int8 changes what it writes: old twins are rebuilt
INSTALL_HINT = "pip install onnx sympy: core dependencies, missing from this environment"


@dataclass(frozen=True, slots=True)
class Int8Twin:
    """What a CPU run without --precision runs: ``path`` (None: the float model) and why."""

    path: Path | None
    reason: str
    status: str  # "accepted", "quantized" (the file is int8), "refused", "unavailable"


def twin_folder(onnx_path: Path) -> Path:
    import onnxruntime

    name = f"{onnx_path.stem}-{file_sha256(onnx_path)[:12]}-{RECIPE}-ort{onnxruntime.__version__}"
    return engine_cache_dir().parent / "int8" / name


def int8_twin(
    onnx_path: str | Path,
    engine_type,
    *,
    calibration_video: Path | None = None,
    report: Callable[[str], None] = print,
) -> Int8Twin:
    """The INT8 twin of ``onnx_path`` for ``engine_type`` (ONNX Runtime or OpenVINO on the
    CPU), built and checked on first use; the float model when it cannot be or fails."""
    onnx_path = Path(onnx_path)
    folder = twin_folder(onnx_path)
    verdict_file = folder / "verdict.json"
    if verdict_file.is_file():
        return _from_verdict(onnx_path, folder, json.loads(verdict_file.read_text()))
    try:
        import onnx
        import sympy  # noqa: F401  (the quantizer's shape inference)
    except ImportError:
        return Int8Twin(
            None, f"fp32: INT8, the CPU default, needs onnx and sympy ({INSTALL_HINT})", "unavailable"
        )
    if _is_quantized(onnx, onnx_path):
        return Int8Twin(onnx_path, "int8 (the model file is quantized)", "quantized")
    return _build(onnx_path, engine_type, folder, calibration_video, report)


def _from_verdict(onnx_path: Path, folder: Path, saved: dict) -> Int8Twin:
    verdict = Int8Verdict(**saved["verdict"])
    if verdict.accepted and (folder / "model.onnx").is_file():
        return Int8Twin(
            folder / "model.onnx",
            f"int8, the CPU default (the twin of {onnx_path.name} in {folder})",
            "accepted",
        )
    return Int8Twin(
        None,
        f"fp32: the INT8 twin of {onnx_path.name} was refused ({verdict.summary()}); make one with "
        "yolact-stream build --precision int8 --calib-video YOURS",
        "refused",
    )


def _is_quantized(onnx, path: Path) -> bool:
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ModelFormatError(f"{path} is not a loadable ONNX model: {error}") from None
    return any(node.op_type in ("QuantizeLinear", "DynamicQuantizeLinear") for node in model.graph.node)


def _build(onnx_path, engine_type, folder, calibration_video, report) -> Int8Twin:
    from engines.calibration import load_calibration_video, synthetic_calibration
    from engines.int8_check import check_int8, split_calibration
    from engines.quantize import quantize_int8

    size = _input_size(onnx_path)
    frames = (
        load_calibration_video(calibration_video, size=size, limit=CALIBRATION_FRAMES)
        if calibration_video is not None
        else synthetic_calibration(size=size, limit=CALIBRATION_FRAMES)
    )
    report(
        f"building the INT8 twin of {onnx_path.name} once (the CPU default; --precision fp32 skips it): "
        f"quantizing on {frames.description}, then checking it against the float model"
    )
    started = time.perf_counter()
    calibration, check = split_calibration(frames)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        record = quantize_int8(onnx_path, staging / "model.onnx", calibration)
        _, verdict = check_int8(engine_type, onnx_path, staging / "model.onnx", check.images)
        saved = {"verdict": asdict(verdict), "record": json.loads(record.to_json())}
        (staging / "verdict.json").write_text(json.dumps(saved, indent=1))
        if not verdict.accepted:
            (staging / "model.onnx").unlink()  # only the verdict is kept
        try:
            os.rename(staging, folder)
        except OSError:  # another run cached it first: use theirs
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    twin = _from_verdict(onnx_path, folder, json.loads((folder / "verdict.json").read_text()))
    report(f"INT8 twin {twin.status} after {time.perf_counter() - started:.0f} s: {verdict.summary()}")
    return twin


def _input_size(onnx_path: Path) -> int:
    from engines.onnxruntime import OnnxRuntimeEngine

    with OnnxRuntimeEngine(onnx_path) as engine:
        return engine.input_spec.size
