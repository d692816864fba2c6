"""The network contract: what the network returns in eval mode, whoever runs it.

One type for every producer — the PyTorch model (tensors), ONNX Runtime (NumPy),
TensorRT and the torch engine on CUDA (CuPy) — so detection code reads the same fields
everywhere. A NamedTuple, so the PyTorch model can return it through ONNX export.
"""

from __future__ import annotations

from typing import Any, NamedTuple

OUTPUT_NAMES = ("loc", "conf", "mask", "proto")


class NetworkOutputs(NamedTuple):
    """One batch's outputs: NumPy, CuPy or torch arrays.

    loc [B, P, 4] offsets to priors; conf [B, P, C+1] softmax, column 0 background;
    mask [B, P, K] coefficients (tanh); proto [B, Hp, Wp, K] prototypes (ReLU, channels
    last). Indexing by name (``outputs["conf"]``) as by position.
    """

    loc: Any
    conf: Any
    mask: Any
    proto: Any

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in OUTPUT_NAMES:
                raise KeyError(key)
            return getattr(self, key)
        return tuple.__getitem__(self, key)

    @property
    def batch_size(self) -> int:
        return int(self.loc.shape[0])

    def validated(self) -> NetworkOutputs:
        """Itself, once the four shapes agree with each other (ValueError naming the output)."""
        if len(self.loc.shape) != 3 or self.loc.shape[2] != 4:
            raise ValueError(f"loc must be [B, P, 4], got {tuple(self.loc.shape)}")
        batch, num_priors = self.loc.shape[:2]
        for name in ("conf", "mask"):
            shape = tuple(getattr(self, name).shape)
            if len(shape) != 3 or shape[:2] != (batch, num_priors):
                raise ValueError(f"{name} must be [{batch}, {num_priors}, N], got {shape}")
        proto_shape = tuple(self.proto.shape)
        if len(proto_shape) != 4 or proto_shape[0] != batch or proto_shape[3] != self.mask.shape[2]:
            raise ValueError(f"proto must be [{batch}, H, W, {self.mask.shape[2]}], got {proto_shape}")
        return self
