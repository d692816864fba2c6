"""The product's exception hierarchy.

Every expected failure is a ``YolactStreamError`` that also subclasses the matching
builtin, so library users can catch ``ValueError`` or ``FileNotFoundError`` as usual,
and the CLI can turn it into one line and a distinct exit code (``exit_code``).
It lives in ``yolact`` because that is the bottom layer: ``engines`` and ``pipeline``
import it without pulling in torch.
"""

from __future__ import annotations


class YolactStreamError(Exception):
    """Base of all expected errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(YolactStreamError, ValueError):
    """A preset, YAML file or value is wrong; the message names the key."""

    exit_code = 3


class InputNotFoundError(YolactStreamError, FileNotFoundError):
    """A path given by the user does not exist or is not a regular file."""

    exit_code = 4


class CheckpointCorruptError(YolactStreamError, ValueError):
    """The file exists but is not a readable PyTorch state_dict."""

    exit_code = 6


class ArchitectureMismatchError(YolactStreamError, ValueError):
    """The weights belong to another network than the config describes."""

    exit_code = 7


class StateDictMismatchError(YolactStreamError, KeyError):
    """Same architecture family, but keys or shapes do not line up."""

    exit_code = 8

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain line
        return str(self.args[0]) if self.args else ""


class OutputError(YolactStreamError, OSError):
    """An output path cannot be written (missing folder, not a folder, exists)."""

    exit_code = 9


class VerificationError(YolactStreamError, RuntimeError):
    """A self-check after a conversion found outputs that disagree."""

    exit_code = 10


class MissingDependencyError(YolactStreamError, ImportError):
    """An optional package needed for this command is not installed."""

    exit_code = 11


class InputError(YolactStreamError, ValueError):
    """An input exists but cannot be used: not a video, no video stream, unsupported URL."""

    exit_code = 5


class SourceFailedError(YolactStreamError, ConnectionError):
    """A live source could not be (re)connected within its retry limit."""

    exit_code = 14


class StageError(YolactStreamError, RuntimeError):
    """A pipeline stage raised; the message names the stage."""

    exit_code = 15
