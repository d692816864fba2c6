"""The stand-in's enums, logger and errors (TensorRT 10's names and values)."""

from __future__ import annotations

import enum

import numpy as np


__version__ = "10.13.0.stand-in"
DEFAULT_FLAGS = {"TF32"}  # TensorRT's own default


class CallSequenceError(AssertionError):
    """A call out of the documented order, or with arguments TensorRT would refuse."""


class Logger:
    WARNING = 2
    ERROR = 1
    INFO = 3

    def __init__(self, severity=WARNING):
        self.severity = severity


class NetworkDefinitionCreationFlag(enum.IntEnum):
    STRONGLY_TYPED = 5


class MemoryPoolType(enum.Enum):
    WORKSPACE = 0


class BuilderFlag(enum.Enum):
    FP16 = "FP16"
    INT8 = "INT8"
    TF32 = "TF32"
    PREFER_PRECISION_CONSTRAINTS = "PREFER_PRECISION_CONSTRAINTS"


class TensorIOMode(enum.Enum):
    INPUT = 1
    OUTPUT = 2


class DataType(enum.Enum):
    FLOAT = np.float32
    HALF = np.float16


float32 = DataType.FLOAT


def nptype(data_type: DataType):
    return data_type.value


class IProgressMonitor:
    def __init__(self):
        pass
