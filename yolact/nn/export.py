"""PyTorch → ONNX, self-describing and self-checked.

The file has one input ``images`` [B, 3, S, S] and the four contract outputs
(loc, conf, mask, proto). The whole YolactConfig plus the prior layout is stored as
JSON in the ONNX metadata (``model_metadata.METADATA_KEY``), so engines and the
pipeline rebuild priors and thresholds from the file alone. After writing, the file is
checked with ``onnx.checker`` and against PyTorch through ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from yolact.errors import MissingDependencyError, OutputError, VerificationError
from yolact.network_outputs import OUTPUT_NAMES
from yolact.nn.model import YolactModel
from yolact.model_metadata import METADATA_KEY, ModelMetadata
from yolact.output_path import check_output_path

DEFAULT_OPSET = 18
RTOL = 1e-3
ATOL = 1e-4
NOISE_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class OutputParity:
    """How one output of ONNX Runtime compares with PyTorch at one batch size.

    ``onnx_vs_float64`` / ``torch_vs_float64`` are filled only when the plain check
    fails: they measure both float32 results against PyTorch in float64.
    """

    batch: int
    name: str
    max_abs_diff: float
    max_abs_reference: float
    tolerance: float  # atol + rtol * max_abs_reference
    onnx_vs_float64: float | None = None
    torch_vs_float64: float | None = None

    @property
    def within_tolerance(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    @property
    def within_rounding_noise(self) -> bool:
        """ONNX Runtime is at least half as close to exact arithmetic as PyTorch fp32 is."""
        if self.onnx_vs_float64 is None or self.torch_vs_float64 is None:
            return False
        return self.onnx_vs_float64 <= NOISE_FACTOR * self.torch_vs_float64

    @property
    def ok(self) -> bool:
        return self.within_tolerance or self.within_rounding_noise


class _ContractOutputs(torch.nn.Module):
    """Plain tuple outputs in contract order (what the exporter names)."""

    def __init__(self, model: YolactModel):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor):
        return tuple(self.model(images))


def export_onnx(
    model: YolactModel,
    path: str | Path,
    *,
    batch: int | None = None,
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` as ONNX with embedded metadata.

    Args:
        batch: a fixed batch size, or None for a dynamic batch dimension named "batch".
        opset: ONNX opset (18 is the exporter's native opset; TensorRT 10 reads it).
    Returns:
        the path written. The file is complete or absent: it is written to a temporary
        name in the same folder and renamed at the end.
    """
    import onnx

    path = check_output_path(path, overwrite=overwrite)
    if batch is not None and batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    config = model.config
    model = model.eval()
    example_batch = batch or 2  # torch.export specialises sizes 0 and 1
    images = torch.zeros(example_batch, 3, config.image_size, config.image_size)
    dynamic_shapes = None if batch else {"images": {0: torch.export.Dim("batch", min=1, max=1024)}}
    exporter_log = io.StringIO()
    with torch.no_grad(), _quiet_exporter(), contextlib.redirect_stdout(exporter_log):
        program = torch.onnx.export(
            _ContractOutputs(model).eval(),
            (images,),
            input_names=["images"],
            output_names=list(OUTPUT_NAMES),
            opset_version=opset,
            dynamo=True,
            external_data=False,
            dynamic_shapes=dynamic_shapes,
        )
    onnx_model = program.model_proto
    metadata = ModelMetadata.from_config(config)
    del onnx_model.metadata_props[:]
    onnx_model.metadata_props.add(key=METADATA_KEY, value=metadata.to_json())
    onnx_model.doc_string = f"YOLACT {config.name}, exported by yolact-stream"
    onnx_model.producer_name = "yolact-stream"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent or ".")
    os.close(handle)
    try:
        onnx.save_model(onnx_model, temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600: give the file normal permissions
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def verify_onnx(
    model: YolactModel,
    path: str | Path,
    *,
    batches: tuple[int, ...] = (1, 2),
    seed: int = 0,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> list[OutputParity]:
    """``onnx.checker``, then ONNX Runtime vs PyTorch on the same seeded input.

    An output passes when max |ort - torch| <= atol + rtol * max |torch|. The relative
    part is taken against the output's largest magnitude, not element by element:
    float32 rounding in a 50-100 layer network leaves noise of about 1e-4 of a tensor's
    range on every element, also on elements that happen to be near zero.
    If that fails, both float32 results are compared with PyTorch in float64: when ONNX
    Runtime is no further from exact arithmetic than NOISE_FACTOR x PyTorch fp32 is, the
    difference is rounding noise of the network, not an export error, and it passes
    (measured on random-weight ResNet-101: PyTorch fp32 is 2.6e-3 off fp64 on mask
    coefficients, ONNX Runtime 1.8e-3).

    Raises VerificationError if the checker fails or any output fails both tests;
    returns the per-output comparison.
    """
    import onnx

    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError("onnxruntime is not installed; pip install onnxruntime") from None
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as error:
        raise VerificationError(f"{path} fails onnx.checker: {str(error).splitlines()[0]}") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    size = model.config.image_size
    generator = np.random.default_rng(seed)
    model = model.eval()
    exact_model = None
    report: list[OutputParity] = []
    for batch in batches:
        images = generator.standard_normal((batch, 3, size, size), dtype=np.float32)
        with torch.no_grad():
            expected = [t.numpy() for t in model(torch.from_numpy(images))]
        actual = session.run(list(OUTPUT_NAMES), {"images": images})
        rows = []
        for name, want, got in zip(OUTPUT_NAMES, expected, actual):
            if want.shape != got.shape:
                raise VerificationError(
                    f"{path}: output {name} has shape {got.shape} in ONNX Runtime, {want.shape} in PyTorch"
                )
            max_reference = float(np.abs(want).max())
            rows.append(
                OutputParity(
                    batch, name, _max_abs_diff(got, want), max_reference, atol + rtol * max_reference
                )
            )
        if not all(row.within_tolerance for row in rows):
            exact_model = exact_model or copy.deepcopy(model).double()
            with torch.no_grad():
                exact = [t.numpy() for t in exact_model(torch.from_numpy(images).double())]
            rows = [
                dataclasses.replace(
                    row, onnx_vs_float64=_max_abs_diff(got, ref), torch_vs_float64=_max_abs_diff(want, ref)
                )
                for row, got, want, ref in zip(rows, actual, expected, exact)
            ]
        report.extend(rows)
    failed = [item for item in report if not item.ok]
    if failed:
        worst = max(failed, key=lambda item: item.max_abs_diff / item.tolerance)
        raise VerificationError(
            f"{path}: ONNX Runtime disagrees with PyTorch on "
            f"{', '.join(f'{i.name}@batch{i.batch}' for i in failed)} "
            f"(worst: {worst.name} max |diff| {worst.max_abs_diff:.3g} > tolerance {worst.tolerance:.3g} = "
            f"atol {atol:g} + rtol {rtol:g} x max |value| {worst.max_abs_reference:.3g}, "
            f"and {worst.onnx_vs_float64:.3g} from float64 vs PyTorch's own {worst.torch_vs_float64:.3g})"
        )
    return report


def _max_abs_diff(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter prints progress and warns about torchvision ops we do not use."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def onnx_batch_dimension(path: str | Path) -> int | None:
    """The fixed batch size of an ONNX file's ``images`` input, or None if dynamic."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    (images,) = [value for value in graph.input if value.name == "images"]
    dim = images.type.tensor_type.shape.dim[0]
    return dim.dim_value if dim.HasField("dim_value") else None
