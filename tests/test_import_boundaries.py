"""At run time, not just on paper: importing every module a torch-free CPU install loads
(all but the method's PyTorch half) leaves torch, CuPy, TensorRT and the other GPU
packages unloaded. The static rules are in test_import_rules.py."""

import subprocess
import sys

from test_import_rules import HEAVY, MODULES, TORCH_MODULES


def test_torch_free_modules_load_no_heavy_package():
    modules = sorted(name for name in MODULES if name not in TORCH_MODULES and not name.endswith("__main__"))
    code = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    assert len(modules) > 50
