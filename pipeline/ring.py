"""Bounded rings of preallocated slots between stage threads.

A ring owns a fixed list of slots. A producer ``acquire``s a free slot, fills it and
``publish``es it; a consumer ``get``s the oldest published slot and ``release``s it
when done. Policies:

- BLOCK: ``acquire`` waits for a free slot. Nothing is lost; order is kept (files).
- DROP_OLDEST: when no slot is free, ``acquire`` takes back the oldest published,
  not yet consumed slot and counts a drop (live: newest frame wins, latency bounded).
  With ``age_budget_ms``, ``get`` also drops published slots older than the budget.

Every wait has a timeout, and ``close`` wakes all waiters: no thread can be left
blocked. ``get`` returns None once the ring is closed and drained (end of stream);
``acquire`` returns None once the ring is closed. Several rings can share one
``threading.Condition`` so a consumer can wait on any of them (the batcher).
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Policy(enum.Enum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


@dataclass(slots=True)
class RingCounters:
    published: int = 0
    consumed: int = 0
    dropped: int = 0  # taken back by DROP_OLDEST or expired by the age budget
    max_depth: int = 0


class Ring(Generic[T]):
    """Args:
    name: for metrics and messages.
    slots: the preallocated slot objects; each needs an ``index`` attribute equal
        to its position.
    policy: BLOCK or DROP_OLDEST.
    age_budget_ms: DROP_OLDEST only: published slots older than this are dropped.
    condition: share one Condition between rings read by one consumer.
    """

    def __init__(
        self,
        name: str,
        slots: Sequence[T],
        *,
        policy: Policy = Policy.BLOCK,
        age_budget_ms: float | None = None,
        condition: threading.Condition | None = None,
    ):
        if not slots:
            raise ValueError("a ring needs at least one slot")
        self.name = name
        self.policy = policy
        self.age_budget = age_budget_ms / 1e3 if age_budget_ms else None
        self._slots = list(slots)
        self._free: deque[int] = deque(range(len(slots)))
        self._ready: deque[tuple[int, float]] = deque()
        self._condition = condition or threading.Condition()
        self._closed = False
        self.counters = RingCounters()

    @property
    def capacity(self) -> int:
        return len(self._slots)

    @property
    def condition(self) -> threading.Condition:
        return self._condition

    @property
    def closed(self) -> bool:
        return self._closed

    def depth(self) -> int:
        """Published slots waiting for the consumer."""
        return len(self._ready)

    def acquire(self, timeout: float | None = None) -> T | None:
        """A free slot to fill, or None if the ring closed or ``timeout`` passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while True:
                if self._closed:
                    return None
                if self._free:
                    return self._slots[self._free.popleft()]
                if self.policy is Policy.DROP_OLDEST and self._ready:
                    index, _ = self._ready.popleft()
                    self.counters.dropped += 1
                    return self._slots[index]
                if not self._wait(deadline):
                    return None

    def publish(self, slot: T) -> None:
        with self._condition:
            self._ready.append((slot.index, time.monotonic()))
            self.counters.published += 1
            self.counters.max_depth = max(self.counters.max_depth, len(self._ready))
            self._condition.notify_all()

    def try_get(self) -> T | None:
        """The oldest published slot, or None at once if there is none (caller holds
        the shared condition or accepts a racy answer)."""
        with self._condition:
            return self._pop_ready()

    def get(self, timeout: float | None = None) -> T | None:
        """The oldest published slot; None when closed and drained, or on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while True:
                slot = self._pop_ready()
                if slot is not None:
                    return slot
                if self._closed:
                    return None
                if not self._wait(deadline):
                    return None

    def release(self, slot: T) -> None:
        """Give a consumed slot back for reuse."""
        with self._condition:
            self._free.append(slot.index)
            self._condition.notify_all()

    def close(self) -> None:
        """No more publishing: consumers drain what is left, then get None."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def drained(self) -> bool:
        with self._condition:
            return self._closed and not self._ready

    def _pop_ready(self) -> T | None:
        if self.age_budget is not None:
            now = time.monotonic()
            while len(self._ready) > 1 and now - self._ready[0][1] > self.age_budget:
                index, _ = self._ready.popleft()
                self._free.append(index)
                self.counters.dropped += 1
        if not self._ready:
            return None
        index, _ = self._ready.popleft()
        self.counters.consumed += 1
        self._condition.notify_all()
        return self._slots[index]

    def _wait(self, deadline: float | None) -> bool:
        if deadline is None:
            self._condition.wait()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._condition.wait(remaining)
        return True
