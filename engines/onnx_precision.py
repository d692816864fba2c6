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
        raise BackendUnavailableError("fp16 conversion needs onnxconverter-common (pip install 'yolact-stream[gpu]')") from None
    op_types = {node.op_type for node in onnx_model.graph.node}
    blocked_ops = [entry for entry in keep_fp32 if entry in op_types]
    blocked_nodes = [entry for entry in keep_fp32 if entry not in op_types]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns for every weight it clamps to fp16 range
        return float16.convert_float_to_float16(
            onnx_model,
            keep_io_types=True,
            op_block_list=list(float16.DEFAULT_OP_BLOCK_LIST) + blocked_ops,
            node_block_list=blocked_nodes,
        )


def convert_file_to_fp16(source: str | Path, target: str | Path, *, keep_fp32: Sequence[str] = DEFAULT_FP32_OPS) -> Path:
    import onnx

    converted = convert_to_fp16(onnx.load(str(source)), keep_fp32=keep_fp32)
    onnx.save(converted, str(target))
    return Path(target)
