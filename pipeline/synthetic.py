"""The synthetic scene used by ``synthetic:`` sources (defined with its ground truth in
``yolact.synthetic_video``)."""

from yolact.synthetic_data import SHAPES
from yolact.synthetic_video import SyntheticScene

__all__ = ["SHAPES", "SyntheticScene"]
