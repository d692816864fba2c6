"""Opening the engine a run (or a service) uses: the model resolved (the bundled one when
none is given, its INT8 twin on the CPU by default), the backend chosen, the engine
opened for a pipeline that shares the CPU."""

from __future__ import annotations

import contextlib
from pathlib import Path

from engines.registry import EngineChoice, create_engine
from pipeline.run_options import RunOptions, default_model, resolve_model
from yolact.errors import ConfigError


def open_engine(
    options: RunOptions,
    stack: contextlib.ExitStack,
    *,
    live: bool,
    calibration_video: str | Path | None = None,
    report=print,
) -> tuple[object, EngineChoice]:
    """The opened engine (closed with ``stack``) and why its backend was chosen."""
    if options.model is None and not default_model().exists():
        raise ConfigError(
            "no --model given and the bundled model is not installed yet; pass --model M.onnx "
            "(yolact-stream export makes one)"
        )
    model, precision = resolve_model(
        options.model,
        backend=options.backend,
        device=options.device,
        precision=options.engine_options.get("precision"),
        calibration_video=calibration_video,
        report=report,
    )
    engine_options = {**({"config": options.config} if options.config else {}), **options.engine_options}
    engine_options.pop("precision", None)
    if precision is not None:
        engine_options["precision"] = precision
    engine, choice = create_engine(model, backend=options.backend, device=options.device, **engine_options)
    engine.exclusive_cpu = False
    engine.live = live
    return stack.enter_context(engine), choice
