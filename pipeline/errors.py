"""Errors the command line turns into one line and an exit code.

The hierarchy itself lives in ``yolact.errors`` (the bottom layer); this module
re-exports it for pipeline code and lists the exit codes in one place.
"""

from __future__ import annotations

from yolact.errors import (
    ArchitectureMismatchError,
    CheckpointCorruptError,
    ConfigError,
    InputError,
    InputNotFoundError,
    SourceFailedError,
    StageError,
    MissingDependencyError,
    OutputError,
    StateDictMismatchError,
    VerificationError,
    YolactStreamError,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_INTERRUPTED = 130

from engines.errors import CalibrationDataError, EngineBuildError, EngineInputError  # noqa: E402

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "internal error (a bug: rerun with --debug and report the traceback)",
    EXIT_USAGE: "bad command line",
    ConfigError.exit_code: "bad config: unknown preset, bad YAML, bad value",
    InputNotFoundError.exit_code: "input not found: missing file, or a folder where a file is needed",
    CheckpointCorruptError.exit_code: "model file unreadable: not a checkpoint, truncated, corrupt",
    ArchitectureMismatchError.exit_code: "model of another architecture than the config",
    StateDictMismatchError.exit_code: "model keys or shapes do not match the config",
    OutputError.exit_code: "output cannot be written (missing folder, exists without --overwrite)",
    VerificationError.exit_code: "self-check after conversion failed",
    MissingDependencyError.exit_code: "an optional package or the GPU it needs is missing",
    InputError.exit_code: "input unusable: not a video, no video stream, unsupported URL, bad calibration "
    "data",
    SourceFailedError.exit_code: "a live source could not be reconnected within its retry limit",
    StageError.exit_code: "a pipeline stage failed at run time (the message names it)",
    EngineInputError.exit_code: "engine input of the wrong shape, dtype or batch size",
    EngineBuildError.exit_code: "TensorRT could not parse or build the model",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); outputs were closed",
}

__all__ = [
    "CalibrationDataError",
    "EngineBuildError",
    "EngineInputError",
    "EXIT_CODES",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ArchitectureMismatchError",
    "CheckpointCorruptError",
    "ConfigError",
    "InputError",
    "InputNotFoundError",
    "SourceFailedError",
    "StageError",
    "MissingDependencyError",
    "OutputError",
    "StateDictMismatchError",
    "VerificationError",
    "YolactStreamError",
]
