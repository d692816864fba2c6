"""``yolact-stream serve``: the service on HTTP (uvicorn), until SIGINT / SIGTERM; then
every stream is stopped and its outputs finalised before the process exits (130 / 143)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

from pipeline.cli.run import EXIT_TERMINATED
from pipeline.errors import EXIT_INTERRUPTED, MissingDependencyError
from pipeline.run_options import PRECISION_HELP, PRECISIONS, RunOptions
from pipeline.signals import forward_signals

TOKEN_VARIABLE = "YOLACT_STREAM_TOKEN"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="a long-running service: REST, live view, streams added and removed at runtime, /metrics",
        description="Serve the model over HTTP: POST /v1/infer for images, /v1/streams to add, watch "
        "and remove live streams (each finalised on removal), a live view at /, Prometheus /metrics, "
        "the API's schema at /docs. pip install 'yolact-stream[serve]'.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--model", help="ONNX / TensorRT engine / .pth (default: the bundled model)")
    parser.add_argument("--config", help="model config for a .pth checkpoint (preset or YAML)")
    parser.add_argument("--backend", default="auto", help="auto, onnxruntime, openvino, tensorrt or torch")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="restrict auto to this device")
    parser.add_argument("--precision", choices=PRECISIONS, help=PRECISION_HELP)
    parser.add_argument("--preset", help="the streams' pipeline preset (default: live for live sources)")
    parser.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every route but /healthz and /readyz "
        f"(default: ${TOKEN_VARIABLE} if set; a command line is visible to other users, the variable is not)",
    )
    parser.add_argument(
        "--allow-files",
        type=Path,
        metavar="DIR",
        help="file sources and outputs of streams must lie in DIR (default: anywhere this user may)",
    )
    parser.add_argument(
        "--max-streams", type=int, default=16, help="streams at once; more get 503 (default 16)"
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="run each stream on a node of this Ray cluster (default auto: the one this machine is in), "
        "moved to another node when its node dies; pip install 'yolact-stream[ray]'",
    )
    parser.add_argument(
        "--ray-cpus", type=float, default=1.0, metavar="C", help="CPUs per stream on the cluster (default 1)"
    )
    parser.add_argument(
        "--ray-gpus", type=float, default=0.0, metavar="G", help="GPUs per stream on the cluster (default 0)"
    )
    parser.add_argument("--max-body-mb", type=float, default=20.0, help="request body limit (default 20 MB)")
    parser.add_argument(
        "--max-viewers",
        type=int,
        default=32,
        help="event and video responses open at once; more get 503 (default 32)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from pipeline.serve.app import create_app
        from pipeline.serve.service import Service
    except ImportError as error:
        raise MissingDependencyError(
            f"serve needs {error.name}: pip install 'yolact-stream[serve]' (FastAPI, uvicorn, prometheus)"
        ) from None

    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    engine_options = {"precision": args.precision} if args.precision else {}
    options = RunOptions(
        model=args.model,
        config=args.config,
        backend=args.backend,
        device=args.device,
        preset=args.preset,
        progress=False,
        engine_options=engine_options,
    )
    received: list[int] = []
    streams = None
    if args.ray:
        from pipeline.cluster.remote_stream import RayStreams

        streams = RayStreams(
            args.ray, cpus=args.ray_cpus, gpus=args.ray_gpus, report=lambda line: print(line, file=sys.stderr)
        )
    with Service(
        options, allow_files=args.allow_files, max_streams=args.max_streams, streams=streams
    ) as service:
        app = create_app(
            service, token=token, max_body=int(args.max_body_mb * 1024 * 1024), max_viewers=args.max_viewers
        )
        server = _quiet_server(
            uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="off")
        )

        def stop(signum: int) -> None:
            received.append(signum)
            server.should_exit = True

        print(
            f"yolact-stream serve: http://{args.host}:{args.port}/ — {service.engine.describe()}"
            + (" — token required" if token else "")
            + (f" — streams on the Ray cluster at {args.ray}" if args.ray else ""),
            file=sys.stderr,
            flush=True,
        )
        with forward_signals(stop, received):
            try:
                server.run()
            finally:
                app.state.metrics.close()
        if not server.started:
            raise OSError(
                f"could not serve on {args.host}:{args.port} (in use, or not this machine's address)"
            )
        with forward_signals(lambda signum: received.append(signum), received):
            infos = service.close()  # streams stopped, outputs finalised
    print(f"yolact-stream serve: stopped; {len(infos)} stream(s) finalised", file=sys.stderr)
    if received:
        return EXIT_TERMINATED if received[0] == signal.SIGTERM else EXIT_INTERRUPTED
    return 0


def _quiet_server(config):
    """uvicorn's server with its signal handling left to us (it would re-raise the signal
    after shutdown, killing the process before the streams are finalised)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            yield

        def install_signal_handlers(self) -> None:  # older uvicorn
            pass

    return Server(config)
