import numpy as np
import onnx
import onnxruntime

from engines.onnx_precision import convert_file_to_fp16


def test_fp16_conversion_keeps_io_and_softmax_in_fp32(tiny_onnx, tmp_path):
    target = convert_file_to_fp16(tiny_onnx, tmp_path / "fp16.onnx")
    model = onnx.load(str(target))
    float16 = onnx.TensorProto.FLOAT16
    assert all(
        v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        for v in [*model.graph.input, *model.graph.output]
    )
    assert (
        sum(init.data_type == float16 for init in model.graph.initializer) > 10
    )  # conv weights are fp16 now
    # Softmax's input is cast back to fp32 first
    producers = {output: node for node in model.graph.node for output in node.output}
    (softmax,) = [node for node in model.graph.node if node.op_type == "Softmax"]
    assert producers[softmax.input[0]].op_type == "Cast"
    assert target.stat().st_size < tiny_onnx.stat().st_size * 0.6


def test_fp16_model_runs_close_to_fp32(tiny_onnx, tmp_path):
    target = convert_file_to_fp16(tiny_onnx, tmp_path / "fp16.onnx")
    images = np.random.default_rng(0).standard_normal((1, 3, 320, 320), dtype=np.float32)
    fp32 = onnxruntime.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"]).run(
        None, {"images": images}
    )
    fp16 = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"]).run(
        None, {"images": images}
    )
    for want, got in zip(fp32, fp16):
        assert got.dtype == np.float32
        assert np.abs(got - want).max() <= 2e-2 * np.abs(want).max()


def test_named_nodes_can_be_kept_in_fp32(tiny_onnx, tmp_path):
    model = onnx.load(str(tiny_onnx))
    first_conv = next(node.name for node in model.graph.node if node.op_type == "Conv")
    target = convert_file_to_fp16(tiny_onnx, tmp_path / "keep.onnx", keep_fp32=("Softmax", first_conv))
    converted = onnx.load(str(target))
    (conv,) = [node for node in converted.graph.node if node.name == first_conv]
    weights = {init.name: init.data_type for init in converted.graph.initializer}
    producers = {output: node for node in converted.graph.node for output in node.output}
    # the kept conv sees fp32 weights: an fp32 initializer, or a Cast back to fp32
    weight = conv.input[1]
    if weight in weights:
        assert weights[weight] == onnx.TensorProto.FLOAT
    else:
        cast = producers[weight]
        assert cast.op_type == "Cast" and cast.attribute[0].i == onnx.TensorProto.FLOAT
    other_conv = [
        node for node in converted.graph.node if node.op_type == "Conv" and node.name != first_conv
    ][0]
    assert weights[other_conv.input[1]] == onnx.TensorProto.FLOAT16
