"""The runtime's GPU path (pinned slots, stage streams, CuPy kernels): needs an NVIDIA GPU."""

import json

import numpy as np
import pytest

from conftest import probe_video, write_clip
from pipeline.runner import Pipeline, RunOptions

pytestmark = pytest.mark.gpu


def test_gpu_run_matches_cpu_run(tiny_checkpoint, tiny_config, tmp_path):
    from engines.torch import TorchEngine

    if TorchEngine.availability("cuda"):
        pytest.skip(TorchEngine.availability("cuda"))
    clip = write_clip(tmp_path / "in.mp4", num_frames=12, width=320, height=240)
    results = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.jsonl"
        video = tmp_path / f"{device}.mp4"
        options = RunOptions(model=tiny_checkpoint, config="yolact_tiny", backend="torch", device=device,
                             score_threshold=0.9, progress=False, batch=4)
        with Pipeline([str(clip)], [str(out), str(video)], options) as pipeline:
            assert pipeline.engine.device == device
            pipeline.run()
        results[device] = [json.loads(line) for line in out.read_text().splitlines()]
        assert probe_video(video)[0] == 12
    for cpu_frame, gpu_frame in zip(results["cpu"], results["cuda"]):
        assert [d["class_id"] for d in cpu_frame["detections"]] == [d["class_id"] for d in gpu_frame["detections"]]
        np.testing.assert_allclose([d["score"] for d in cpu_frame["detections"]], [d["score"] for d in gpu_frame["detections"]], atol=2e-2)
