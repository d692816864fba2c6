"""What a benchmark ran on: recorded in every report (bench command and benchmarks/)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata

from engines.cpu_affinity import usable_cores


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _gpu() -> dict | None:
    """GPU 0: name, driver, memory, and (through cuda-python) the compute capability,
    which decides which kernels and TensorRT tactics exist; nvidia-smi alone if not."""
    try:
        output = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            .stdout.strip()
            .splitlines()
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name, driver, memory = (part.strip() for part in output[0].split(","))
    info = {"name": name, "driver": driver, "memory": memory}
    capability = _compute_capability()
    if capability:
        info["compute_capability"] = capability
    return info


def _compute_capability() -> str | None:
    try:
        from cuda.bindings import runtime
    except ImportError:
        return None
    error, properties = runtime.cudaGetDeviceProperties(0)
    if error != runtime.cudaError_t.cudaSuccess:
        return None
    return f"{properties.major}.{properties.minor}"


def machine_info() -> dict:
    versions = {}
    for package in (
        "numpy",
        "opencv-python",
        "onnxruntime",
        "torch",
        "cupy-cuda12x",
        "cupy-cuda13x",
        "av",
        "tensorrt",
        "tensorrt-cu12",
        "tensorrt-cu13",
        "cuda-python",
        "PyNvVideoCodec",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores_usable": usable_cores(),
        "gpu": _gpu(),
        "versions": versions,
    }


def machine_slug(info: dict) -> str:
    """Folder name for results: the GPU if there is one, else the CPU and core count."""
    if info.get("gpu"):
        name = info["gpu"]["name"]
    else:
        name = f"cpu{info['cores_usable']}-{info['cpu']}"
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:60]
