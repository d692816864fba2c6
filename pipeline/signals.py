"""SIGINT / SIGTERM → ``Pipeline.interrupt``: the handler only records the signal.

Why not let Python raise KeyboardInterrupt: it lands between any two bytecodes of the
main thread — inside a lock, a print, an encoder call — and the cleanup that follows
can hang or crash. Recording it and letting the run loop act on it keeps shutdown
on one path. A third signal means "really now": the default action ends the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator

FORWARDED = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def forward_signals(interrupt: Callable[[int], None], received: list[int]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call ``interrupt(signum)``; ``received`` is the
    list the callee appends to (its length decides when the third signal kills)."""

    def handler(signum, frame) -> None:
        if len(received) >= 2:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        interrupt(signum)

    previous = {number: signal.signal(number, handler) for number in FORWARDED}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
