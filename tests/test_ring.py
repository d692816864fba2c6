import threading
import time
from dataclasses import dataclass

import pytest

from pipeline.ring import Policy, Ring


@dataclass(eq=False)
class Slot:
    index: int
    value: int = -1


def make_ring(capacity, **kwargs):
    return Ring("test", [Slot(i) for i in range(capacity)], **kwargs)


def test_block_keeps_order_and_everything():
    ring = make_ring(3)
    received = []

    def consume():
        while (slot := ring.get(timeout=5)) is not None:
            received.append(slot.value)
            ring.release(slot)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for value in range(500):
        slot = ring.acquire(timeout=5)
        slot.value = value
        ring.publish(slot)
    ring.close()
    consumer.join(5)
    assert received == list(range(500))
    assert (ring.counters.published, ring.counters.consumed, ring.counters.dropped) == (500, 500, 0)
    assert ring.counters.max_depth <= 3


@pytest.mark.parametrize("policy", [Policy.BLOCK, Policy.DROP_OLDEST])
def test_stress_many_threads_no_slot_lost_or_duplicated(policy):
    ring = make_ring(4, policy=policy)
    producers, per_producer = 6, 400
    received, lock = [], threading.Lock()
    in_use = set()

    def produce(offset):
        for value in range(per_producer):
            slot = ring.acquire(timeout=5)
            assert slot is not None
            with lock:
                assert slot.index not in in_use  # never handed to two holders at once
                in_use.add(slot.index)
            slot.value = offset * per_producer + value
            with lock:
                in_use.discard(slot.index)
            ring.publish(slot)

    def consume():
        while (slot := ring.get(timeout=5)) is not None:
            with lock:
                assert slot.index not in in_use
                in_use.add(slot.index)
                received.append(slot.value)
                in_use.discard(slot.index)
            ring.release(slot)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    threads = [threading.Thread(target=produce, args=(i,)) for i in range(producers)]
    for thread in consumers + threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    ring.close()
    for thread in consumers:
        thread.join(10)
    assert not any(t.is_alive() for t in threads + consumers)
    counters = ring.counters
    total = producers * per_producer
    assert counters.published == total
    assert counters.consumed + counters.dropped == total  # every publish is consumed or dropped
    assert len(received) == counters.consumed and len(set(received)) == len(received)  # no duplicates
    if policy is Policy.BLOCK:
        assert sorted(received) == list(range(total))
    # all slots are back: the ring can hand out its full capacity again
    reopened = [ring._slots[i] for i in ring._free]
    assert len(reopened) == ring.capacity


def test_drop_oldest_keeps_the_newest():
    ring = make_ring(2, policy=Policy.DROP_OLDEST)
    for value in range(10):  # nobody consumes: the producer never blocks
        slot = ring.acquire(timeout=0.1)
        slot.value = value
        ring.publish(slot)
    first, second = ring.get(timeout=0.1), ring.get(timeout=0.1)
    assert (first.value, second.value) == (8, 9)
    assert ring.counters.dropped == 8


def test_age_budget_drops_stale_frames():
    ring = make_ring(4, policy=Policy.DROP_OLDEST, age_budget_ms=20)
    for value in range(3):
        slot = ring.acquire(timeout=0.1)
        slot.value = value
        ring.publish(slot)
    time.sleep(0.05)
    slot = ring.get(timeout=0.1)
    assert slot.value == 2 and ring.counters.dropped == 2  # the newest is kept even if old


def test_close_wakes_blocked_threads():
    ring = make_ring(1)
    held = ring.acquire(timeout=0.1)
    results = {}

    def blocked_producer():
        results["acquire"] = ring.acquire(timeout=30)

    def blocked_consumer():
        results["get"] = ring.get(timeout=30)

    threads = [threading.Thread(target=blocked_producer), threading.Thread(target=blocked_consumer)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    ring.close()
    for thread in threads:
        thread.join(2)
    assert time.monotonic() - started < 1 and results == {"acquire": None, "get": None}
    assert held is not None


def test_timeouts():
    ring = make_ring(1)
    assert ring.get(timeout=0.01) is None
    ring.acquire(timeout=0.01)
    started = time.monotonic()
    assert ring.acquire(timeout=0.05) is None
    assert 0.04 < time.monotonic() - started < 1
