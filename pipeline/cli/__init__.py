"""``yolact-stream``: the command line. Parses, dispatches, and turns errors into
one line on stderr plus a distinct exit code (table in ``pipeline.errors``)."""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence

from pipeline.cli import bench as cli_bench
from pipeline.cli import build as cli_build
from pipeline.cli import eval_tracks as cli_eval_tracks
from pipeline.cli import export as cli_export
from pipeline.cli import run as cli_run
from pipeline.cli import serve as cli_serve
from pipeline.cli import train as cli_train
from pipeline.cli.run import EXIT_TERMINATED
from pipeline.errors import EXIT_CODES, EXIT_INTERNAL, EXIT_INTERRUPTED, YolactStreamError
from pipeline.credentials import mask_credentials

COMMANDS = {
    "run": cli_run,
    "bench": cli_bench,
    "export": cli_export,
    "build": cli_build,
    "eval-tracks": cli_eval_tracks,
    "serve": cli_serve,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yolact-stream",
        description="Real-time YOLACT instance segmentation on video.",
        epilog="exit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in sorted(EXIT_CODES.items())),
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    cli_train.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = args.handler if hasattr(args, "handler") else COMMANDS[args.command].run
        return handler(args) or 0
    except YolactStreamError as error:
        print(f"yolact-stream {args.command}: error: {mask_credentials(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"yolact-stream {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # an unexpected failure is a bug: say so in one line
        if args.debug:
            traceback.print_exc()
        print(
            f"yolact-stream {args.command}: internal error: {type(error).__name__}: "
            f"{mask_credentials(str(error))} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def entry_point() -> None:
    code = main()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        # outputs are closed and the status decided: a signal sent while the interpreter shuts
        # down (its handlers back to the defaults by then) must not turn 130/143 into a kill
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
