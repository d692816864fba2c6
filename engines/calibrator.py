"""TensorRT's INT8 entropy calibrator over a ``CalibrationSet`` (TensorRT 10 only)."""

from __future__ import annotations

from pathlib import Path

from engines.calibration import CalibrationSet


def make_entropy_calibrator(trt, calibration: CalibrationSet, *, batch_size: int, cache_path: Path | None):
    """Build an ``IInt8EntropyCalibrator2`` feeding device copies of the calibration batches."""
    import cupy

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)
            self._batches = calibration.batches(batch_size)
            self._device = cupy.empty((batch_size, *calibration.images.shape[1:]), dtype=cupy.float32)

        def get_batch_size(self):
            return batch_size

        def get_batch(self, names):
            batch = next(self._batches, None)
            if batch is None:
                return None
            self._device.set(batch)
            cupy.cuda.get_current_stream().synchronize()
            return [int(self._device.data.ptr)]

        def read_calibration_cache(self):
            if cache_path is not None and cache_path.is_file():
                return cache_path.read_bytes()
            return None

        def write_calibration_cache(self, cache):
            if cache_path is not None:
                cache_path.write_bytes(bytes(cache))

    if len(calibration.images) < batch_size:
        from engines.errors import CalibrationDataError

        raise CalibrationDataError(
            f"calibration has {len(calibration.images)} frames, fewer than one batch of {batch_size}"
        )
    return EntropyCalibrator()
