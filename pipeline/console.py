"""Where a run's human-readable lines go: status lines (a stream's health, a decoder
fallback, an interrupt) and the progress line. Library code never prints; it is given a
Console — the CLI's writes to stderr, a quiet one writes nothing.

On a terminal the progress line is redrawn in place (every 0.5 s) and status lines are
written over it; on a pipe or a file it is a plain line every 10 s, never a ``\\r``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

TERMINAL_INTERVAL = 0.5
LOG_INTERVAL = 10.0


class Console:
    def __init__(self, stream: TextIO | None = None, *, progress: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.show_progress = progress
        self._last_progress = time.monotonic()

    @classmethod
    def quiet(cls) -> Console:
        return _QuietConsole()

    @property
    def is_terminal(self) -> bool:
        return self.stream.isatty()

    def status(self, line: str) -> None:
        """One line on its own (the progress line is redrawn after it)."""
        text = f"\r{line:<78}" if self.is_terminal else line
        print(text, file=self.stream, flush=True)

    def progress(self, line: Callable[[], str], *, final: bool = False) -> None:
        """The progress line (made only when shown), at most once per interval unless ``final``."""
        if not self.show_progress:
            return
        interval = TERMINAL_INTERVAL if self.is_terminal else LOG_INTERVAL
        if not final and time.monotonic() - self._last_progress <= interval:
            return
        self._last_progress = time.monotonic()
        if self.is_terminal:
            print("\r" + line(), end="\n" if final else "", file=self.stream, flush=True)
        else:
            print(line(), file=self.stream, flush=True)


class _QuietConsole(Console):
    def __init__(self):
        super().__init__(progress=False)

    def status(self, line: str) -> None:
        pass
