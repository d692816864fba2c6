"""GPU versions of the stages that touch pixels: batching (upload + fused preprocess
kernel) and detection + rendering (CuPy detection, render kernel, async download).

Frames arrive in pinned host slots. The batcher uploads each frame once (the device
copy stays with the frame slot for rendering), runs ``preprocess_gpu`` into the batch
slot's device array and records an event. Inference waits on it on its own stream.
Detection and rendering wait on inference's event, draw into the device frame and
copy it back into the pinned slot asynchronously; the sink waits on that event only.
"""

from __future__ import annotations

from pipeline.frame import BatchSlot, FrameSlot, HeldFrame, ResultSlot
from pipeline.gpu import StageStream, cupy_module
from pipeline.preprocess import PixelFormat, preprocess_gpu, yuv_to_bgr_gpu
from pipeline.stages.batch import BatchStage
from pipeline.stages.detect_render import DetectRenderStage
from pipeline.stages.track import TrackStage
from yolact.detections import Detections


class GpuBatchStage(BatchStage):
    def stream_context(self):
        self._stream = StageStream()
        return self._stream

    def fill(self, slot: BatchSlot, frames: list[HeldFrame]) -> None:
        cupy = cupy_module()
        stream = self._stream
        stream.wait(slot.consumed)  # the previous inference on this slot is done reading
        for position, (_, frame) in enumerate(frames):
            if frame.on_device:  # decoded on the GPU: already there
                stream.wait(frame.uploaded)
            else:
                if frame.device_image is None or frame.device_image.shape != frame.image.shape:
                    frame.device_image = cupy.empty(frame.image.shape, frame.image.dtype)
                frame.device_image.set(frame.image, stream=stream.stream)
            preprocess_gpu(
                frame.device_image[None],
                pixel_format=frame.pixel_format,
                size=self.size,
                out=slot.images[position : position + 1],
            )
        slot.ready = stream.record()


class GpuDetectRenderStage(DetectRenderStage):
    def stream_context(self):
        self._stream = StageStream()
        with self._stream:  # uploaded on the stream that reads them: no event needed
            self.priors = cupy_module().asarray(self.priors)
        return self._stream

    def wait_for(self, result: ResultSlot) -> None:
        self._stream.wait(result.ready)

    def detected(self):
        return self._stream.record()  # tracking reads these detections on its own stream

    def bgr(self, frame: FrameSlot):
        """The device frame as BGR (a YUV frame converted into a BGR device frame), and
        ``frame.rendered`` the pinned host buffer the rendered frame is copied back into."""
        if frame.pixel_format is PixelFormat.BGR:
            frame.rendered = frame.image
            return frame.device_image
        height, width = frame.meta.size
        if frame.device_bgr is None or frame.device_bgr.shape != (height, width, 3):
            frame.device_bgr = cupy_module().empty((height, width, 3), cupy_module().uint8)
        yuv_to_bgr_gpu(frame.device_image, frame.pixel_format, frame.device_bgr)
        frame.rendered = frame.bgr_buffer()
        return frame.device_bgr

    def annotate(self, frame: FrameSlot, device_bgr, detections: Detections) -> None:
        """Render on the device (one kernel launch on this stage's stream) and copy the
        result into the pinned ``frame.rendered`` asynchronously."""
        if self.overlay is not None:
            self.overlay.annotate(device_bgr, detections)
            self.draw_more(frame, device_bgr, detections)
        download(device_bgr, frame.rendered, self._stream.stream)
        frame.ready = self._stream.record()


def download(device_array, pinned_host, stream) -> None:
    """Asynchronous device → pinned host copy on ``stream`` (the sink waits on an event)."""
    try:
        device_array.get(stream=stream, out=pinned_host, blocking=False)
    except TypeError:  # CuPy without the ``blocking`` argument: copy with the runtime API
        cupy = cupy_module()
        cupy.cuda.runtime.memcpyAsync(
            pinned_host.ctypes.data,
            device_array.data.ptr,
            device_array.nbytes,
            cupy.cuda.runtime.memcpyDeviceToHost,
            stream.ptr,
        )


class GpuTrackStage(TrackStage, GpuDetectRenderStage):
    """Tracking on a GPU run: waits for detection's event on its own stream, tracks (box
    math on the host, mask IoU on the device), draws with the render kernel."""

    def stream_context(self):
        self._stream = StageStream()
        return self._stream

    def wait_for(self, slot) -> None:
        if slot.ready is not None:
            self._stream.wait(slot.ready)
