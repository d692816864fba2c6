"""``python -m pipeline.cli``: the same as the ``yolact-stream`` command."""

from pipeline.cli import entry_point

entry_point()
