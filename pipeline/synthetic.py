"""The synthetic scene used by ``synthetic:`` sources (defined with its ground truth in
``yolact.synthetic_data``)."""

from yolact.synthetic_data import SHAPES, SyntheticScene

__all__ = ["SHAPES", "SyntheticScene"]
