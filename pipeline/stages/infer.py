"""The inference stage: one engine call per batch."""

from __future__ import annotations

import time

from yolact.network_outputs import OUTPUT_NAMES, NetworkOutputs
from pipeline.frame import BatchSlot
from pipeline.ring import Ring
from pipeline.stages.base import Stage


class InferStage(Stage):
    def __init__(self, engine, batch_ring: Ring, result_ring: Ring, **kwargs):
        super().__init__("infer", **kwargs)
        self.engine, self.batch_ring, self.result_ring = engine, batch_ring, result_ring

    def process(self) -> None:
        while (batch := self.receive(self.batch_ring)) is not None:
            started = time.perf_counter()
            ready = None
            if self.engine.device == "cuda":
                from pipeline.gpu import StageStream

                self._stream = getattr(self, "_stream", None) or StageStream()
                self._stream.wait(batch.ready)
                with self._stream:
                    outputs = self._infer(batch)
                    ready = self._stream.record()
                batch.consumed = ready  # the batcher must not overwrite the input before this
            else:
                outputs = self._infer(batch)
            result = self.acquire(self.result_ring)
            if result is None:
                return
            result.outputs, result.frames, result.ready = outputs, batch.frames, ready
            batch.frames = []
            self.batch_ring.release(batch)
            self.result_ring.publish(result)
            self.timed(len(result.frames), started)

    def _infer(self, batch: BatchSlot) -> NetworkOutputs:
        # an engine with a fixed batch (TensorRT built for 4, an ONNX exported with --batch 4)
        # gets a short last batch padded with the slot's other rows; their outputs are ignored
        rows = max(batch.count, self.engine.input_spec.min_batch)
        outputs = self.engine.infer(batch.images[:rows])
        if self.engine.reuses_outputs:  # the next call overwrites them: keep a copy (same stream)
            outputs = NetworkOutputs(*(outputs[name].copy() for name in OUTPUT_NAMES))
        return outputs

    def finish(self) -> None:
        self.result_ring.close()
