"""The layering rules of DESIGN.md: the array math and the pipeline never load torch."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "modules",
    [
        "yolact, yolact.priors, yolact.box_coder, yolact.config, yolact.model_metadata",
        "pipeline.cli, pipeline.errors, engines",
    ],
)
def test_no_torch_cupy_or_tensorrt_at_import(modules):
    code = f"import sys, {modules}; print(sorted(m for m in ('torch', 'cupy', 'tensorrt') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
