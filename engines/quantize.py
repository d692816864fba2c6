"""INT8 for the CPU: post-training static quantization of an exported ONNX file.

ONNX Runtime's quantizer writes a QDQ model (int8 weights per output channel, uint8
activations with min/max ranges calibrated on the frames given), which ONNX Runtime and
OpenVINO both run with int8 kernels. Measured on the bundled model (the model card's 200
held-out images, ONNX Runtime, batch 4): quantizing every layer cost 0.3 mask AP and 0.2
box AP and ran 1.75x faster than fp32; keeping the mask-coefficient and prototype heads
in float bought nothing (mask AP the same) and gave back a third of the speed, so every
convolution is quantized unless ``keep_float`` names outputs whose heads stay float.
What follows the last convolutions (reshapes, concatenations, the softmax, the tanh) stays
float: quantized, every output came out in 256 levels (scores in steps of 1/255, which
reorders close candidates; ResNet-50 with random weights kept 4 % of the float model's
detections, 56 % with float tails; the bundled model's mask AP went from 69.6 to 69.9,
the fp32 figure), for no measurable speed. The
reproducible accuracy and speed figures: ``benchmarks/cpu_precision.py``.

The quantized file keeps the model's metadata and records how it was made
(``yolact_stream_int8``): the calibration set, its hash, the heads kept in float.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engines.errors import CalibrationDataError, ModelFormatError
from yolact.errors import ConfigError, MissingDependencyError
from yolact.network_outputs import OUTPUT_NAMES

if TYPE_CHECKING:  # the engines read Int8Record from here; calibration (OpenCV) loads only to quantize
    from engines.calibration import CalibrationSet

INT8_METADATA_KEY = "yolact_stream_int8"
# ops between a head's last convolution and the network output (reshapes, activations)
_PASS_THROUGH = {"Transpose", "Reshape", "Concat", "Tanh", "Softmax", "Relu", "Sigmoid", "Identity"}


@dataclass(frozen=True, slots=True)
class Int8Record:
    """How a quantized file was made; stored in its metadata."""

    calibration: str
    calibration_sha256: str
    calibration_frames: int
    keep_float: tuple[str, ...]  # outputs whose head convolutions stay float
    method: str = "minmax, per-channel weights, QDQ"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Int8Record:
        fields = json.loads(text)
        return cls(**{**fields, "keep_float": tuple(fields.get("keep_float", ()))})


def read_int8_record(custom_metadata: dict[str, str]) -> Int8Record | None:
    """The record of a quantized model, from its metadata (None for a float model)."""
    text = custom_metadata.get(INT8_METADATA_KEY)
    return Int8Record.from_json(text) if text else None


def head_convolutions(graph, outputs: Iterable[str]) -> list[str]:
    """Names of the last convolutions before ``outputs`` (through reshapes and activations)."""
    producer = {name: node for node in graph.node for name in node.output}
    found, pending, seen = set(), list(outputs), set()
    while pending:
        node = producer.get(pending.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type == "Conv":
            found.add(node.name)
        elif node.op_type in _PASS_THROUGH:
            pending.extend(node.input if node.op_type == "Concat" else node.input[:1])
    return sorted(found)


def output_tails(graph) -> list[str]:
    """Names of the nodes between the last convolutions and the network outputs."""
    producer = {name: node for node in graph.node for name in node.output}
    found, pending = set(), [port.name for port in graph.output]
    while pending:
        node = producer.get(pending.pop())
        if node is None or node.op_type not in _PASS_THROUGH or node.name in found:
            continue
        found.add(node.name)
        pending.extend(node.input if node.op_type == "Concat" else node.input[:1])
    return sorted(found)


def fixed_batches(images, batch: int):
    """``images`` in batches of exactly ``batch`` (a fixed-batch model's), the last one
    filled up with the first images again."""
    import numpy as np

    needed = -(-len(images) // batch) * batch
    padded = np.concatenate([images] * -(-needed // len(images)))[:needed]
    return [np.ascontiguousarray(padded[start : start + batch]) for start in range(0, len(padded), batch)]


def quantize_int8(
    onnx_path: str | Path,
    out_path: str | Path,
    calibration: CalibrationSet,
    *,
    keep_float: Sequence[str] = (),
) -> Int8Record:
    """Write the int8 QDQ model of ``onnx_path`` to ``out_path`` (atomically)."""
    try:
        import onnx
        import sympy  # noqa: F401  (ONNX Runtime's shape inference for quantization needs it)
        from onnxruntime.quantization import (
            CalibrationDataReader,
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        hint = "pip install onnx sympy (core dependencies, missing from this environment)"
        raise MissingDependencyError(f"INT8 quantization needs onnx and sympy: {hint}") from None
    unknown = sorted(set(keep_float) - set(OUTPUT_NAMES))
    if unknown:
        raise ConfigError(f"--keep-float: {', '.join(unknown)} is not an output; choose from {OUTPUT_NAMES}")
    if len(calibration.images) == 0:
        raise CalibrationDataError("no calibration frames")
    onnx_path, out_path = Path(onnx_path), Path(out_path)
    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ModelFormatError(f"{onnx_path} is not a loadable ONNX model: {error}") from None
    if any(node.domain == "" and node.op_type == "QuantizeLinear" for node in model.graph.node):
        raise ModelFormatError(f"{onnx_path} is already quantized")
    weights = {tensor.name for tensor in model.graph.initializer}
    (image_port,) = [port for port in model.graph.input if port.name not in weights]
    batch = image_port.type.tensor_type.shape.dim[0].dim_value or 1  # 0: a dynamic batch
    batches = iter(fixed_batches(calibration.images, batch))

    class Frames(CalibrationDataReader):
        def get_next(self):
            images = next(batches, None)
            return None if images is None else {image_port.name: images}

    record = Int8Record(
        calibration=calibration.description,
        calibration_sha256=calibration.sha256,
        calibration_frames=len(calibration.images),
        keep_float=tuple(keep_float),
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # written in a folder beside the output, then moved: the file gets the usual permissions
    # (mkstemp's would be 0600) and a reader never sees half a model
    workspace = Path(tempfile.mkdtemp(prefix=f".{out_path.name}-", dir=out_path.parent))
    prepared, staging = workspace / "prepared.onnx", workspace / "quantized.onnx"
    try:
        # shape inference and graph cleanup first, as ONNX Runtime's quantizer expects
        quant_pre_process(str(onnx_path), str(prepared))
        graph = onnx.load(str(prepared)).graph
        quantize_static(
            str(prepared),
            str(staging),
            Frames(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=head_convolutions(graph, keep_float) + output_tails(graph),
        )
        quantized = onnx.load(str(staging))
        props = {prop.key: prop.value for prop in quantized.metadata_props if not prop.key.startswith("onnx")}
        onnx.helper.set_model_props(quantized, {**props, INT8_METADATA_KEY: record.to_json()})
        onnx.save(quantized, str(staging))
        os.replace(staging, out_path)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return record
