"""The stages of a run, in data-flow order, one module each:

decode (one per source) → batch (preprocess, across streams) → infer → detect_render
→ sink; ``base`` is what every stage is (a thread with a stop, errors handed to the
runner), ``gpu`` the GPU variants of the two that touch pixels. Frame slots are held from
decode until the sink stage has written them, so the frame rings bound everything in
flight.
"""

from pipeline.stages.base import POLL, Stage
from pipeline.stages.batch import BatchStage
from pipeline.stages.decode import DecodeStage
from pipeline.stages.detect_render import DetectRenderStage
from pipeline.stages.infer import InferStage
from pipeline.stages.sink import SinkStage

__all__ = ["POLL", "BatchStage", "DecodeStage", "DetectRenderStage", "InferStage", "SinkStage", "Stage"]
