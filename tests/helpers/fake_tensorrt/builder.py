"""Building: network, ONNX parser, optimization profile, builder config, Builder."""

from __future__ import annotations

import base64
import json


from helpers.fake_tensorrt.api_types import CallSequenceError, DEFAULT_FLAGS, NetworkDefinitionCreationFlag


class _Tensor:
    def __init__(self, name):
        self.name = name


class _Network:
    def __init__(self, flags):
        self.flags = flags
        self.onnx: bytes | None = None
        self.num_layers = 0

    def get_input(self, index):
        return _Tensor(self._inputs()[index])

    def _inputs(self):
        import onnx

        model = onnx.load_from_string(self.onnx)
        initializers = {i.name for i in model.graph.initializer}
        return [value.name for value in model.graph.input if value.name not in initializers]


class OnnxParser:
    def __init__(self, network: _Network, logger):
        self.network = network
        self.num_errors = 0

    def parse(self, data: bytes) -> bool:
        self.network.onnx = bytes(data)
        return True

    def get_error(self, index):
        return ""


class _Profile:
    def __init__(self):
        self.shapes = {}

    def set_shape(self, name, low, opt, high):
        if not all(a <= b <= c for a, b, c in zip(low, opt, high)):
            raise CallSequenceError(f"profile for {name} must satisfy min <= opt <= max: {low} {opt} {high}")
        self.shapes[name] = (tuple(low), tuple(opt), tuple(high))

    def get_shape(self, name):
        return self.shapes[name]


class _TimingCache:
    def __init__(self, data):
        self.data = bytes(data)

    def serialize(self):
        return self.data or b"timing-cache"


class _Config:
    def __init__(self):
        self.flags = set(DEFAULT_FLAGS)
        self.profiles: list[_Profile] = []
        self.progress_monitor = None
        self.workspace = None
        self._timing_cache = None

    def set_flag(self, flag):
        self.flags.add(flag.value)

    def clear_flag(self, flag):
        self.flags.discard(flag.value)

    def get_flag(self, flag):
        return flag.value in self.flags

    def set_memory_pool_limit(self, pool, size):
        self.workspace = size

    def add_optimization_profile(self, profile):
        self.profiles.append(profile)
        return len(self.profiles) - 1

    def create_timing_cache(self, data):
        return _TimingCache(data)

    def set_timing_cache(self, cache, ignore_mismatch):
        self._timing_cache = cache
        return True

    def get_timing_cache(self):
        return self._timing_cache


class Builder:
    builds: list[dict] = []  # every build of the run, for the tests to inspect

    def __init__(self, logger):
        self.logger = logger

    def create_network(self, flags=0):
        return _Network(flags)

    def create_builder_config(self):
        return _Config()

    def create_optimization_profile(self):
        return _Profile()

    def build_serialized_network(self, network: _Network, config: _Config):
        if network.onnx is None:
            raise CallSequenceError("build before the network was parsed")
        if len(config.profiles) != 1:
            raise CallSequenceError(f"expected one optimization profile, got {len(config.profiles)}")
        (input_name,) = network._inputs()
        profile = config.profiles[0].shapes[input_name]
        Builder.builds.append(
            {
                "flags": sorted(config.flags),
                "profile": profile,
                "strongly_typed": bool(network.flags & (1 << NetworkDefinitionCreationFlag.STRONGLY_TYPED)),
            }
        )
        return json.dumps(
            {"onnx": base64.b64encode(network.onnx).decode(), "input": input_name, "profile": profile}
        ).encode()
