"""Streams and events of the stand-in: every array remembers the stream that last wrote
it, and a read on another stream needs an event recorded after that write."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from helpers.fake_cupy.arrays import ndarray


# id of the owning host buffer -> (stream, its clock at the write, the buffer: kept alive
# so that its id is not reused by another array while the entry exists)
_writers: dict[int, tuple[Any, int, np.ndarray]] = {}


class StreamOrderError(AssertionError):
    """A stream read data another stream wrote, with no event in between."""


class _Stream:
    _count = 0

    def __init__(self, non_blocking: bool = False, *, null: bool = False):
        _Stream._count += 1
        self.name = "null" if null else f"stream{_Stream._count}"
        self.non_blocking = non_blocking
        self.ptr = 0 if null else _Stream._count
        self.clock = 0  # operations queued so far
        self.seen: dict[str, int] = {}  # other stream -> its clock at the last event waited on
        self._previous: list[_Stream] = []

    def __enter__(self):
        self._previous.append(_state.current)
        _state.current = self
        return self

    def __exit__(self, *exc_info):
        _state.current = self._previous.pop()

    def wait_event(self, event: _Event) -> None:
        if event.stream is not None:
            self.seen[event.stream.name] = max(self.seen.get(event.stream.name, 0), event.clock)
            for name, clock in event.seen.items():
                self.seen[name] = max(self.seen.get(name, 0), clock)

    def synchronize(self) -> None:
        _state.synced(self.name, self.clock, self.seen)

    def tick(self) -> int:
        self.clock += 1
        return self.clock


class _Event:
    def __init__(self, disable_timing: bool = False, **_):
        self.stream: _Stream | None = None
        self.clock = 0
        self.seen: dict[str, int] = {}

    def record(self, stream: _Stream | None = None) -> None:
        self.stream = stream or _state.current
        self.clock = self.stream.clock
        self.seen = dict(self.stream.seen)

    def synchronize(self) -> None:
        if self.stream is not None:
            _state.synced(self.stream.name, self.clock, self.seen)


class _State:
    """Per-run state; the current stream is per thread, as in CuPy."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """A fresh run: in place, so every module holding ``_state`` sees it."""
        self.null = _Stream(null=True)
        self._local = threading.local()
        self.host_synced: dict[str, int] = {}
        self.launches: list[str] = []
        _writers.clear()

    def synced(self, name: str, clock: int, seen: dict[str, int]) -> None:
        """The host waited for ``name`` up to ``clock``, and so for everything that stream
        had waited on by then (an event orders what its stream waited for: transitive)."""
        for stream, until in {**seen, name: clock}.items():
            self.host_synced[stream] = max(self.host_synced.get(stream, 0), until)

    @property
    def current(self) -> _Stream:
        return getattr(self._local, "stream", self.null)

    @current.setter
    def current(self, stream: _Stream) -> None:
        self._local.stream = stream


_state = _State()


def _base(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _read(array: ndarray, stream: _Stream | None = None) -> None:
    stream = stream or _state.current
    writer = _writers.get(id(_base(array._data)))
    if writer is None or writer[0] is stream:
        return
    other, clock, _ = writer
    if stream.seen.get(other.name, 0) < clock and _state.host_synced.get(other.name, 0) < clock:
        raise StreamOrderError(
            f"{stream.name} reads an array {list(array.shape)} {other.name} wrote (operation {clock}) "
            "without waiting on an event recorded after it"
        )


def _write(array: ndarray, stream: _Stream | None = None) -> None:
    stream = stream or _state.current
    base = _base(array._data)
    _writers[id(base)] = (stream, stream.tick(), base)
