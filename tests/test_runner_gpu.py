"""The runtime's GPU path on a real NVIDIA GPU (pinned slots, stage streams, the kernels,
CuPy detection), compared frame by frame with the CPU runtime on a clip with many
detections: the bundled model's weights (.pth) through the PyTorch engine on CUDA.
The same comparison runs in CI against the CuPy stand-in (test_gpu_runtime_standin.py)."""

import pytest

from helpers.runtime_compare import NUM_FRAMES, SOURCE, Recorder, assert_gpu_run_matches
from pipeline.run_options import default_model
from pipeline.runner import Pipeline, RunOptions

pytestmark = pytest.mark.gpu


def _run(device: str, batch: int):
    from engines.torch import TorchEngine

    if device == "cuda" and TorchEngine.availability("cuda"):
        pytest.skip(TorchEngine.availability("cuda"))
    recorder = Recorder()
    weights = default_model().with_suffix(".pth")
    options = RunOptions(
        model=weights, config="yolact_tiny", backend="torch", device=device, batch=batch, progress=False
    )
    with Pipeline([SOURCE], [], options, extra_sinks={0: [recorder]}) as pipeline:
        assert pipeline.engine.device == device
        assert pipeline.run().frames_out == NUM_FRAMES
    return recorder.frames


@pytest.mark.parametrize("batch", [1, 4])
def test_gpu_run_matches_cpu_run_frame_by_frame(batch):
    # the CUDA engine runs fp16 by default: boxes may move a few pixels more than in fp32
    assert_gpu_run_matches(_run("cpu", batch), _run("cuda", batch), box_px=3, min_matched=0.9)
