"""fp32 ONNX → mixed-precision fp16 ONNX, for strongly typed TensorRT builds.

TensorRT 11 removed the FP16 builder flag: precision must be in the graph. Converting
the ONNX file ourselves (onnxconverter-common) gives one path for TensorRT 10 and 11.
Inputs and outputs stay float32; ops listed in ``keep_fp32`` (op types or node names)
stay float32 — by default Softmax, whose exp overflows fp16 on large logits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from engines.errors import BackendUnavailableError

DEFAULT_FP32_OPS = ("Softmax",)


def convert_to_fp16(onnx_model, *, keep_fp32: Sequence[str] = DEFAULT_FP32_OPS):
    """Return a float16 copy of an ``onnx.ModelProto`` (I/O stays float32).

    ``keep_fp32`` entries that name an op type keep every node of that type in fp32;
    other entries are node names.
    """
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise BackendUnavailableError(
            "fp16 conversion needs onnxconverter-common (pip install onnxconverter-common, or "
            "'yolact-stream[gpu-cu13]')"
        ) from None
    op_types = {node.op_type for node in onnx_model.graph.node}
    blocked_ops = [entry for entry in keep_fp32 if entry in op_types]
    blocked_nodes = [entry for entry in keep_fp32 if entry not in op_types]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns for every weight it clamps to fp16 range
        converted = float16.convert_float_to_float16(
            onnx_model,
            keep_io_types=True,
            op_block_list=list(float16.DEFAULT_OP_BLOCK_LIST) + blocked_ops,
            node_block_list=blocked_nodes,
        )
    _restore_float_outputs(converted, onnx_model)
    return converted


def _restore_float_outputs(converted, original) -> None:
    """The converter casts the output of a blocked node that feeds a graph output to
    fp16 even with keep_io_types (e.g. Softmax → conf). Turn such casts back to fp32."""
    import onnx

    float32, float16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    was_float = {o.name for o in original.graph.output if o.type.tensor_type.elem_type == float32}
    producers = {output: node for node in converted.graph.node for output in node.output}
    for output in converted.graph.output:
        if output.name in was_float and output.type.tensor_type.elem_type == float16:
            node = producers[output.name]
            if node.op_type != "Cast":
                raise ValueError(
                    f"fp16 conversion left output {output.name} in fp16 (producer {node.op_type})"
                )
            for attribute in node.attribute:
                if attribute.name == "to":
                    attribute.i = float32
            output.type.tensor_type.elem_type = float32


def convert_file_to_fp16(
    source: str | Path, target: str | Path, *, keep_fp32: Sequence[str] = DEFAULT_FP32_OPS
) -> Path:
    import onnx

    converted = convert_to_fp16(onnx.load(str(source)), keep_fp32=keep_fp32)
    onnx.save(converted, str(target))
    return Path(target)
