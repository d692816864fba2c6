"""The YOLACT method: array math (priors, box coding; NumPy or CuPy, no torch) and the
network in PyTorch (optional extra). Torch-dependent modules are imported explicitly
(``yolact.nn.model``, ``yolact.nn.export``, ...) so ``import yolact`` never loads torch."""

from yolact.config import YolactConfig, load_model_config, preset_names

__all__ = ["YolactConfig", "load_model_config", "preset_names"]
