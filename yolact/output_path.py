"""Where outputs may be written: never over an existing file without --overwrite.

Every command that writes files (run, bench, export, build, eval, train) checks its
outputs here before any expensive work, so a refused run has changed nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from yolact.errors import OutputError


def check_output_path(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an output that cannot be written, before any expensive work."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"output {path} is a directory; give a file name such as {path / 'model.onnx'}")
    if path.exists() and not overwrite:
        raise OutputError(f"output {path} exists; pass --overwrite to replace it")
    if not parent.exists():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: folder {parent} is not writable")
    return path
