"""Run an exported network fast behind one interface (ONNX Runtime, TensorRT, PyTorch)."""
