"""CUDA engine settings checked on the CPU: what each backend asks of CUDA, and what it
does when CUDA is not really there. (The runs themselves need a GPU: `gpu` tests.)"""

import numpy as np
import pytest

from engines.errors import BackendUnavailableError
from engines.onnxruntime import OnnxRuntimeEngine, cuda_provider_options
from helpers import fake_cupy
from pipeline.run_options import default_model


def test_onnxruntime_cuda_provider_that_does_not_load_is_an_error_not_a_silent_cpu_run(monkeypatch):
    """A CPU-only onnxruntime given the CUDA provider logs a warning and runs on the CPU;
    the engine must say so instead of failing later in the CUDA I/O binding."""
    import onnxruntime

    fake_cupy.install(monkeypatch)  # a "GPU" for the availability check
    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    requested = []
    real_session = onnxruntime.InferenceSession

    def session(path, options, providers):
        requested.append(providers)
        return real_session(path, options, providers=providers)

    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    engine = OnnxRuntimeEngine(default_model(), device="cuda")
    with pytest.raises(BackendUnavailableError, match="did not load.*CPUExecutionProvider.*--device cpu"):
        engine.__enter__()
    assert requested[0][0] == ("CUDAExecutionProvider", cuda_provider_options())


def test_fp32_means_ieee_fp32_on_every_cuda_engine():
    assert cuda_provider_options()["use_tf32"] == 0


def test_torch_tf32_switch_is_scoped_and_follows_the_precision():
    torch = pytest.importorskip("torch", reason="needs PyTorch")

    from engines.torch import tf32_mode

    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    for precision, allowed in (("fp32", False), ("tf32", True), ("fp16", False)):
        with tf32_mode(precision):
            assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (
                allowed,
                allowed,
            )
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


@pytest.mark.parametrize(
    "max_batch, expected", [(1, (1,)), (4, (1, 2, 4)), (6, (1, 2, 4, 6)), (64, (1, 2, 4, 8, 16, 32, 64))]
)
def test_cuda_graph_sizes_cover_every_batch_the_pipeline_can_form(max_batch, expected):
    from engines.torch_graphs import graph_batch_sizes, padded_batch

    sizes = graph_batch_sizes(max_batch)
    assert sizes == expected
    assert all(padded_batch(n, sizes) >= n for n in range(1, max_batch + 1))
    assert [padded_batch(n, sizes) for n in (1, max_batch)] == [1, max_batch]


def test_cuda_graphs_are_all_captured_when_opened_and_never_while_running():
    """The graph set, with CPU tensors standing in for the captured buffers: every size is
    captured up front; a batch runs padded to the next captured size and gives the same
    outputs as the model on exactly that batch."""
    torch = pytest.importorskip("torch", reason="needs PyTorch")

    from engines.torch_graphs import CudaGraphSet

    torch.manual_seed(0)
    weight = torch.randn(3, 5)
    model = lambda images: (images.flatten(1) @ torch.ones(images[0].numel(), 3) @ weight,)  # noqa: E731
    captured = []

    def capture(batch):
        static_input = torch.zeros(batch, 2, 2)
        captured.append(batch)
        outputs = model(static_input)

        def replay():
            outputs[0].copy_(model(static_input)[0])

        return static_input, outputs, replay

    graphs = CudaGraphSet(max_batch=6, capture=capture)
    assert sorted(captured) == [1, 2, 4, 6] and captured[0] == 6  # largest first: it sizes the shared pool
    for batch in range(1, 7):
        images = torch.randn(batch, 2, 2)
        (got,) = graphs.run(images)
        np.testing.assert_allclose(got.numpy(), model(images)[0].numpy(), rtol=1e-6)
    assert sorted(captured) == [1, 2, 4, 6]


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (
            {"onnxruntime"},
            "CPU build: pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu",
        ),
        ({"onnxruntime", "onnxruntime-gpu"}, "both installed and share one module"),
        ({"onnxruntime-gpu"}, "check its CUDA/cuDNN versions"),
    ],
)
def test_onnxruntime_without_cuda_provider_says_how_to_install_the_gpu_build(
    monkeypatch, installed, expected
):
    """onnxruntime and onnxruntime-gpu are one module: the reason names the fix that works."""
    from importlib import metadata

    import onnxruntime

    def distribution(name):
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return name

    monkeypatch.setattr(metadata, "distribution", distribution)
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert expected in OnnxRuntimeEngine.availability("cuda")
