"""Outputs every worker can reach: ``--output`` given as a URI (``file:///shared/results/``,
``s3://bucket/results/``, ``gs://...``; any fsspec protocol whose package is installed)
is written by the worker that processed the source, straight to the storage, instead of
travelling back through the driver.

The same write-then-rename discipline as the driver's commit: the whole file is uploaded
under a hidden temporary name unique to the run and the attempt, then moved to its final
name (a rename on a filesystem; a whole-object copy on an object store, where an object
appears complete or not at all). A worker lost mid-upload leaves only a temporary name,
which the driver deletes at the end of the run.
"""

from __future__ import annotations

from pathlib import Path

from yolact.errors import MissingDependencyError, OutputError

Target = Path | str  # a local path (committed by the driver) or a URI (written by the worker)


def is_uri(target: Target) -> bool:
    return isinstance(target, str)


def target_of(text: str) -> Target:
    return text if "://" in text else Path(text)


def name_of(target: Target) -> str:
    return target.rsplit("/", 1)[-1] if is_uri(target) else target.name


def _filesystem(uri: str):
    try:
        import fsspec
    except ImportError:
        raise MissingDependencyError(
            "outputs given as URIs need fsspec: pip install 'yolact-stream[ray]'"
        ) from None
    try:
        return fsspec.core.url_to_fs(uri)
    except (ImportError, ValueError) as error:  # an unknown protocol, or its package missing
        raise MissingDependencyError(f"--output {uri}: {error}") from None


def check_uri(uri: str, overwrite: bool) -> None:
    """Refuse an existing output (without ``overwrite``) and, on a filesystem, a missing folder."""
    fs, path = _filesystem(uri)
    parent = path.rsplit("/", 1)[0]
    if "file" in _protocols(fs) and not fs.isdir(parent):
        raise OutputError(f"output folder does not exist: {parent}")
    if fs.exists(path) and not overwrite:
        raise OutputError(f"{uri} exists: pass --overwrite to replace it")


def put_whole(local: Path, uri: str, token: str) -> None:
    """``local`` uploaded to ``uri`` under a temporary name, then moved into place."""
    fs, path = _filesystem(uri)
    parent, name = path.rsplit("/", 1)
    partial = f"{parent}/.{name}.partial-{token}"
    try:
        fs.put_file(str(local), partial)
        fs.mv(partial, path)
    except OSError as error:
        raise OutputError(f"cannot write {uri}: {error}") from None


def remove_partials(uris: list[str], run: str) -> int:
    """Delete what attempts of run ``run`` left under temporary names (lost workers); how many."""
    removed = 0
    for folder in sorted({uri.rsplit("/", 1)[0] for uri in uris}):
        fs, path = _filesystem(folder + "/x")
        parent = path.rsplit("/", 1)[0]
        for leftover in fs.glob(f"{parent}/.*.partial-{run}-*"):
            fs.rm(leftover)
            removed += 1
    return removed


def _protocols(fs) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
