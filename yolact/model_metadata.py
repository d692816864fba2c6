"""What an exported model file says about itself: config + prior layout, as JSON.

Parsed with ``json`` only (never eval), validated through the same strict config
loader as the YAML presets, so a tampered or foreign file is refused with a message
naming the bad key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from yolact.config import YolactConfig
from yolact.errors import ConfigError
from yolact.priors import priors_for_config

METADATA_KEY = "yolact_stream"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """Config of the network in a model file, plus derived facts kept for readers
    that do not use this package (feature map sizes, prior count, prototype size)."""

    config: YolactConfig
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_config(cls, config: YolactConfig) -> ModelMetadata:
        return cls(config=config)

    def to_json(self) -> str:
        config = self.config
        return json.dumps(
            {
                "format_version": self.format_version,
                "config": config.to_dict(),
                "derived": {
                    "feature_map_sizes": list(config.feature_map_sizes),
                    "num_priors": config.num_priors,
                    "proto_size": config.proto_size,
                    "num_classes": config.num_classes,
                    "input": {
                        "name": "images",
                        "layout": "NCHW",
                        "color": "RGB",
                        "mean": [123.68, 116.78, 103.94],
                        "std": [58.40, 57.12, 57.38],
                    },
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"model metadata is not valid JSON: {error}") from None
        if not isinstance(data, dict) or "config" not in data:
            raise ConfigError("model metadata: missing key 'config'")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ConfigError(
                f"model metadata: format_version {version!r} is not supported (expected {FORMAT_VERSION})"
            )
        return cls(config=YolactConfig.from_dict(data["config"]), format_version=version)

    def priors(self, xp=np):
        """Priors float32 [P, 4] (cx, cy, w, h) for this network, on ``xp``."""
        return priors_for_config(self.config, xp=xp)
