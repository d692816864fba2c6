#!/usr/bin/env bash
# The one-shot device proof: on a machine with an NVIDIA GPU, from the repository root,
#   bash benchmarks/gpu/prove.sh [OUT]
# runs every `gpu` test (the GPU-vs-CPU runner comparison included) and the kernel tests,
# then the GPU benchmark (benchmarks/gpu/gpu_bench.py), writing logs and
# benchmarks/results/<gpu>/gpu_*.json + .png; OUT (default benchmarks/results/gpu-proof)
# gets the logs and a copy of the results. Budget: ~8 min on an H200.
#
# Made for the lent H200 (Python 3.12, PyTorch 2.11 CUDA 13, CuPy 14, no PyAV, no TensorRT,
# no internet). Wheels it lacks travel in .whl/ (ignored by git), fetched here with:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl av==19.0.0 pycocotools==2.0.10
# (PyAV 19 is ~35 MB: with the ~9 MB tree it fits the 64 MiB a run may carry; NVDEC's
# PyNvVideoCodec would not fit beside it.) The project itself runs from the tree.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${1:-${OUT:-benchmarks/results/gpu-proof}}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site" || { echo "wheel install failed" >&2; exit 2; }
fi
status=0
{ nvidia-smi; python3 -c "import torch, cupy; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0)); print('cupy', cupy.__version__)"; } \
    > "$out/environment.txt" 2>&1 || status=1
# every gpu-marked test, the kernels, and the stand-in suites (they must agree with the real thing)
timeout 300 python3 -m pytest -q -p no:cacheprovider -rs -o addopts="" \
    -m "gpu" tests/ 2>&1 | tee "$out/gpu_tests.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
timeout 120 python3 -m pytest -q -p no:cacheprovider -o addopts="" \
    tests/test_kernels.py tests/test_gpu_runtime_standin.py tests/test_tensorrt_standin.py tests/test_engines_cuda_settings.py \
    2>&1 | tee "$out/cpu_checks.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
timeout 300 python3 benchmarks/gpu/gpu_bench.py --out benchmarks/results 2>&1 | tee "$out/gpu_bench.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
for file in benchmarks/results/*/gpu_*; do
    case "$file" in *cpu2-*) ;; *) cp "$file" "$out/" 2>/dev/null ;; esac
done
echo "prove.sh: exit $status" | tee -a "$out/gpu_bench.log"
exit $status
