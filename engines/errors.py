"""Engine errors; the hierarchy's root and exit codes live in ``yolact.errors``."""

from __future__ import annotations

from yolact.errors import InputError, MissingDependencyError, YolactStreamError


class EngineInputError(YolactStreamError, ValueError):
    """``infer`` got an input of the wrong shape, dtype or batch size."""

    exit_code = 12


class EngineStateError(YolactStreamError, RuntimeError):
    """The engine was used outside its ``with`` block."""

    exit_code = 1


class ModelFormatError(YolactStreamError, ValueError):
    """The model file is not what the backend reads (not ONNX, wrong outputs, ...)."""

    exit_code = 6


class BackendUnavailableError(MissingDependencyError):
    """The requested backend cannot run here (package, driver or GPU missing)."""

    exit_code = 11


class CalibrationDataError(InputError):
    """INT8 calibration data is empty or unreadable."""


class EngineBuildError(YolactStreamError, RuntimeError):
    """TensorRT could not parse the ONNX file or build an engine from it."""

    exit_code = 13
