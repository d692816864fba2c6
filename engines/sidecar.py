"""The JSON file beside every TensorRT engine, and the engine cache folder.

A serialized engine only runs on the TensorRT version and GPU it was built for. The
sidecar records what it was built from and for; at load time it is compared with the
machine, and a mismatch triggers a rebuild into the cache instead of a crash.
Parsed with ``json`` only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from yolact.errors import ConfigError

SIDECAR_SUFFIX = ".json"
CACHE_ENV = "YOLACT_STREAM_CACHE"


@dataclass(frozen=True, slots=True)
class EngineSidecar:
    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    precision: str
    profile: tuple[int, int, int]  # min, opt, max batch
    onnx_sha256: str
    onnx_path: str
    calibration_sha256: str | None
    fp32_layers: tuple[str, ...]
    model_metadata: str  # the ONNX file's yolact_stream metadata (JSON text), or ""
    input_name: str
    input_size: int

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "sidecar") -> EngineSidecar:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{source}: not valid JSON ({error})") from None
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != fields:
            missing = sorted(fields - set(data)) if isinstance(data, dict) else sorted(fields)
            raise ConfigError(
                f"{source}: not an engine sidecar (missing {', '.join(missing) or 'nothing'}; unexpected "
                f"{sorted(set(data) - fields) if isinstance(data, dict) else data!r})"
            )
        data["profile"] = tuple(data["profile"])
        data["fp32_layers"] = tuple(data["fp32_layers"])
        return cls(**data)

    def incompatibilities(
        self, *, tensorrt_version: str, gpu_name: str, compute_capability: str
    ) -> list[str]:
        """Why this engine cannot run on the current machine (empty: it can)."""
        reasons = []
        if self.tensorrt_version != tensorrt_version:
            reasons.append(f"built with TensorRT {self.tensorrt_version}, this is {tensorrt_version}")
        if self.compute_capability != compute_capability or self.gpu_name != gpu_name:
            reasons.append(
                f"built for {self.gpu_name} (sm {self.compute_capability}), this is {gpu_name} (sm "
                f"{compute_capability})"
            )
        return reasons


def sidecar_path(engine_path: str | Path) -> Path:
    return Path(str(engine_path) + SIDECAR_SUFFIX)


def read_sidecar(engine_path: str | Path) -> EngineSidecar | None:
    path = sidecar_path(engine_path)
    if not path.is_file():
        return None
    return EngineSidecar.from_json(path.read_text(encoding="utf-8"), source=str(path))


def write_sidecar(engine_path: str | Path, sidecar: EngineSidecar) -> Path:
    path = sidecar_path(engine_path)
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(sidecar.to_json(), encoding="utf-8")
    os.replace(temporary, path)
    return path


def engine_cache_dir() -> Path:
    """``$YOLACT_STREAM_CACHE``, else ``$XDG_CACHE_HOME/yolact-stream``, else
    ``~/.cache/yolact-stream``; engines live in its ``engines/`` folder."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yolact-stream"
    return Path(root) / "engines"


def cached_engine_path(
    *,
    onnx_sha256: str,
    onnx_stem: str,
    precision: str,
    profile: tuple[int, int, int],
    gpu_name: str,
    tensorrt_version: str,
    extra: str = "",
) -> Path:
    """A cache file name that changes whenever anything the engine depends on changes."""
    gpu_slug = "".join(c if c.isalnum() else "-" for c in gpu_name.lower()).strip("-")
    detail = hashlib.sha256(extra.encode()).hexdigest()[:8] if extra else "plain"
    batches = "_".join(map(str, profile))
    name = f"{onnx_stem}-{onnx_sha256[:12]}-{precision}-b{batches}-{gpu_slug}-trt{tensorrt_version}-{detail}"
    name += ".engine"
    return engine_cache_dir() / name


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
