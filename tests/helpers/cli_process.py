"""``yolact-stream run`` as a child process that signals can reach like a terminal's."""

from __future__ import annotations

import signal
import subprocess
import sys


def start_run(*args: str) -> subprocess.Popen:
    """Start ``python -m pipeline run ARGS`` with text pipes for stdout and stderr.

    A shell without job control starts background jobs with SIGINT ignored, and Python
    keeps an inherited SIG_IGN: the child gets the default disposition, as from a terminal.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
