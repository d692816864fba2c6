"""GPU versions of the stages that touch pixels: batching (upload + fused preprocess
kernel) and detection + rendering (CuPy detection, render kernel, async download).

Frames arrive in pinned host slots. The batcher uploads each frame once (the device
copy stays with the frame slot for rendering), runs ``preprocess_gpu`` into the batch
slot's device array and records an event. Inference waits on it on its own stream.
Detection and rendering wait on inference's event, draw into the device frame and
copy it back into the pinned slot asynchronously; the sink waits on that event only.
"""

from __future__ import annotations

import time

from pipeline.gpu import StageStream, cupy_module
from pipeline.preprocess import PixelFormat, preprocess_gpu
from pipeline.render import render_gpu
from pipeline.stage import POLL
from pipeline.stages import BatchStage, DetectRenderStage
from yolact.detection import detect


class GpuBatchStage(BatchStage):
    def process(self) -> None:
        cupy = cupy_module()
        with StageStream() as stage_stream:
            while not self.halt.is_set():
                frames = self._collect()
                if frames is None:
                    return
                if not frames:
                    continue
                slot = self.acquire(self.batch_ring)
                if slot is None:
                    return
                started = time.perf_counter()
                stage_stream.wait(slot.consumed)  # the previous inference on this slot is done reading
                for position, (_, frame) in enumerate(frames):
                    if frame.device_image is None or frame.device_image.shape != frame.image.shape:
                        frame.device_image = cupy.empty(frame.image.shape, frame.image.dtype)
                    frame.device_image.set(frame.image, stream=stage_stream.stream)
                    preprocess_gpu(frame.device_image[None], pixel_format=frame.pixel_format, size=self.size,
                                   out=slot.images[position : position + 1])
                slot.frames = frames
                slot.ready = stage_stream.record()
                self.batch_ring.publish(slot)
                self.timed(len(frames), started)


class GpuDetectRenderStage(DetectRenderStage):
    def process(self) -> None:
        cupy = cupy_module()
        priors = cupy.asarray(self.priors)
        with StageStream() as stage_stream:
            while not self.halt.is_set():
                result = self.result_ring.get(timeout=POLL)
                if result is None:
                    if self.result_ring.drained():
                        return
                    continue
                started = time.perf_counter()
                stage_stream.wait(result.ready)
                outputs = result.outputs
                for position, (frame_ring, frame) in enumerate(result.frames):
                    detections = detect(
                        outputs.loc[position], outputs.conf[position], outputs.mask[position], outputs.proto[position],
                        priors, frame_size=frame.meta.size, params=self.params, image_size=self.image_size,
                        class_names=self.class_names,
                    )
                    if frame.pixel_format is not PixelFormat.BGR:
                        raise NotImplementedError("GPU rendering needs BGR frames; YUV frames are converted by the CPU path")
                    if self.render is not None:
                        render_gpu(frame.device_image, detections, self.render)
                    download(frame.device_image, frame.image, stage_stream.stream)
                    frame.ready = stage_stream.record()
                    out = self.acquire(self.output_ring)
                    if out is None:
                        return
                    out.frame_ring, out.frame, out.detections = frame_ring, frame, detections
                    self.output_ring.publish(out)
                result.frames, result.outputs = [], None
                self.result_ring.release(result)
                self.timed(max(1, position + 1), started)


def download(device_array, pinned_host, stream) -> None:
    """Asynchronous device → pinned host copy on ``stream`` (the sink waits on an event)."""
    try:
        device_array.get(stream=stream, out=pinned_host, blocking=False)
    except TypeError:  # CuPy without the ``blocking`` argument: copy with the runtime API
        cupy = cupy_module()
        cupy.cuda.runtime.memcpyAsync(pinned_host.ctypes.data, device_array.data.ptr, device_array.nbytes,
                                      cupy.cuda.runtime.memcpyDeviceToHost, stream.ptr)
