"""What a cluster run processes and where each result goes: sources given as files,
folders, globs or a text file with one source per line; outputs named after their
source's stem (a clash of stems gets a stable suffix from the source's full path)."""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path

from pipeline.cluster.storage import Target, target_of
from yolact.errors import ConfigError, InputNotFoundError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".ts", ".m4v", ".flv", ".mpg", ".mpeg", ".gif"}


def expand_sources(specs: list[str]) -> list[str]:
    """Every source once, in a stable order: a folder gives its videos (sorted), a glob its
    matches, ``@list.txt`` or a ``.txt`` file one source per line (# comments); URLs and
    other specs pass through."""
    found: list[str] = []
    for spec in specs:
        if "://" in spec or spec.startswith(("camera:", "synthetic")):
            found.append(spec)
        elif spec.startswith("@") or spec.endswith(".txt"):
            path = Path(spec.lstrip("@"))
            if not path.is_file():
                raise InputNotFoundError(f"source list not found: {path}")
            lines = (line.strip() for line in path.read_text().splitlines())
            found += expand_sources([line for line in lines if line and not line.startswith("#")])
        elif Path(spec).is_dir():
            found += sorted(str(p) for p in Path(spec).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        elif any(char in spec for char in "*?["):
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise InputNotFoundError(f"no file matches {spec}")
            found += matches
        else:
            if not Path(spec).exists():
                raise InputNotFoundError(f"input not found: {spec}")
            found.append(spec)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise ConfigError("no sources to process")
    return unique


def output_templates(outputs: list[str]) -> list[str]:
    """``DIR/`` → ``DIR/{stem}.mp4``; templates with ``{stem}`` as given (folders and
    templates may be URIs: ``s3://bucket/results/``)."""
    templates = []
    for output in outputs:
        if "{stem}" in output:
            templates.append(output)
        elif "://" in output and output.endswith("/"):
            templates.append(output + "{stem}.mp4")
        elif "://" not in output and (output.endswith("/") or Path(output).is_dir()):
            templates.append(str(Path(output) / "{stem}.mp4"))
        else:
            raise ConfigError(
                f"--output {output}: a cluster run writes one output per source: give a folder "
                "(DIR/) or a template with {stem} (DIR/{stem}.jsonl)"
            )
    return templates


def output_paths(sources: list[str], templates: list[str]) -> dict[str, list[Target]]:
    """Each source's outputs (paths, or URIs the workers write); sources whose stems clash
    get ``-<hash of the source>``."""
    stems = {source: _stem(source) for source in sources}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    paths = {}
    for source, stem in stems.items():
        if counts[stem] > 1:
            stem = f"{stem}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"
        paths[source] = [target_of(template.format(stem=stem)) for template in templates]
    return paths


def _stem(source: str) -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return Path(name).stem or "source"
