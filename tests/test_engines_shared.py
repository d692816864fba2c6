"""One engine shared by many callers: concurrent calls gathered into one batch, each
caller given exactly its own rows, errors handed to every caller of a batch."""

import threading

import numpy as np
import pytest

from engines.onnxruntime import OnnxRuntimeEngine
from engines.shared import SharedEngine
from pipeline.run_options import default_model


@pytest.fixture(scope="module")
def engine():
    with OnnxRuntimeEngine(default_model(), max_batch=8) as opened:
        yield opened


def images(seed: int, count: int, size: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, 3, size, size), dtype=np.float32)


def test_concurrent_callers_share_batches_and_get_their_own_rows(engine):
    shared = SharedEngine(engine, max_wait_ms=5000)  # ends once all four are in
    size = engine.input_spec.size
    inputs = {caller: images(caller, 1 + caller % 2, size) for caller in range(4)}
    expected = {caller: engine.infer(batch) for caller, batch in inputs.items()}
    results, start = {}, threading.Barrier(4)

    def call(caller):
        start.wait()
        results[caller] = shared.infer(inputs[caller])

    for _ in range(4):
        shared.attach()
    threads = [threading.Thread(target=call, args=(caller,)) for caller in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    shared.close()
    for caller, outputs in results.items():
        assert outputs.batch_size == len(inputs[caller])
        for name in ("loc", "conf", "mask", "proto"):
            np.testing.assert_allclose(outputs[name], expected[caller][name], rtol=1e-4, atol=1e-4)
    assert sum(size * calls for size, calls in shared.batch_sizes.items()) == 6  # every row, once
    assert max(shared.batch_sizes) > 2  # at least one call took more than one caller's rows


def test_a_lone_caller_is_not_kept_waiting_and_errors_reach_the_caller(engine):
    shared = SharedEngine(engine, max_wait_ms=10_000)
    shared.attach()
    outputs = shared.infer(images(0, 1, engine.input_spec.size))  # no second caller to wait for
    assert outputs.batch_size == 1 and shared.batch_sizes == {1: 1}
    with pytest.raises(Exception, match="input images must be"):
        shared.infer(np.zeros((1, 3, 7, 7), np.float32))
    assert shared.device == engine.device and shared.input_spec is engine.input_spec
    shared.close()
    with pytest.raises(RuntimeError, match="closed"):
        shared.infer(images(0, 1, engine.input_spec.size))
