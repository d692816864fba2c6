import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import torch

from yolact.nn.checkpoint import (
    load_state_dict_checked,
    load_weights,
    matching_presets,
    read_architecture,
    read_state_dict,
    save_checkpoint,
)
from yolact.config import load_model_config
from yolact.errors import (
    ArchitectureMismatchError,
    CheckpointCorruptError,
    InputNotFoundError,
    StateDictMismatchError,
)
from yolact.nn.model import YolactModel


@pytest.mark.parametrize("legacy_format", [False, True], ids=["zip", "legacy"])
def test_original_format_round_trips_strict(tiny_model, tiny_config, tmp_path, legacy_format):
    path = tmp_path / "yolact_tiny_1_100.pth"
    if legacy_format:  # the pre-1.6 serialisation the published checkpoints were written with
        torch.save(tiny_model.state_dict(), path, _use_new_zipfile_serialization=False)
    else:
        save_checkpoint(tiny_model, path)
    raw = torch.load(path, weights_only=True)
    assert list(raw) == list(tiny_model.state_dict())  # a plain state_dict, nothing else
    fresh = YolactModel(tiny_config)
    load_weights(fresh, path)
    for key, value in tiny_model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    images = torch.randn(1, 3, tiny_config.image_size, tiny_config.image_size)
    with torch.no_grad():
        for ours, theirs in zip(fresh.eval()(images), tiny_model(images)):
            assert torch.equal(ours, theirs)


def test_wrapped_state_dict_is_unwrapped(tiny_model, tmp_path):
    path = tmp_path / "wrapped.pth"
    torch.save({"model": tiny_model.state_dict(), "iteration": 7}, path)
    assert list(read_state_dict(path)) == list(tiny_model.state_dict())


def test_architecture_is_read_from_keys():
    architecture = read_architecture(YolactModel(load_model_config("yolact_base")).state_dict())
    assert architecture.layers == (3, 4, 23, 3) and architecture.block == "bottleneck"
    assert (architecture.num_classes, architecture.num_prototypes, architecture.fpn_channels) == (81, 32, 256)
    assert "ResNet-101" in architecture.describe()
    assert matching_presets(architecture) == ["yolact_base", "yolact_im700"]


def test_resnet101_weights_with_resnet50_config_name_the_preset():
    weights = YolactModel(load_model_config("yolact_base")).state_dict()
    model = YolactModel(load_model_config("yolact_resnet50"))
    with pytest.raises(ArchitectureMismatchError) as caught:
        load_state_dict_checked(model, weights, source="yolact_base_54_800000.pth")
    message = str(caught.value)
    assert "ResNet-101" in message and "ResNet-50" in message
    assert "--config yolact_base" in message and "yolact_im700" in message


def test_other_class_count_is_an_architecture_mismatch(tiny_config):
    other = tiny_config.replace(class_names=("a", "b"))
    model = YolactModel(tiny_config)
    with pytest.raises(ArchitectureMismatchError, match="3 classes.*expects.*5 classes"):
        load_state_dict_checked(model, YolactModel(other).state_dict(), source="x.pth")


def test_missing_and_unexpected_keys_are_named(tiny_model, tiny_config):
    weights = dict(tiny_model.state_dict())
    weights["proto_net.99.weight"] = weights.pop("proto_net.10.weight")
    with pytest.raises(StateDictMismatchError) as caught:
        load_state_dict_checked(YolactModel(tiny_config), weights, source="renamed.pth")
    message = str(caught.value)
    assert "1 missing key(s) e.g. proto_net.10.weight" in message
    assert "1 unexpected key(s) e.g. proto_net.99.weight" in message


def test_shape_mismatch_is_named(tiny_model, tiny_config):
    weights = dict(tiny_model.state_dict())
    channels = tiny_config.fpn.channels
    weights["semantic_seg_conv.weight"] = torch.zeros(4, channels, 3, 3)
    expected = rf"semantic_seg_conv\.weight \(4, {channels}, 3, 3\) vs \(4, {channels}, 1, 1\)"
    with pytest.raises(StateDictMismatchError, match=expected):
        load_state_dict_checked(YolactModel(tiny_config), weights, source="x.pth")


def test_extra_downsample_layers_are_dropped_like_the_original(tiny_model, tiny_config):
    weights = dict(tiny_model.state_dict())
    weights["fpn.downsample_layers.2.weight"] = torch.zeros(64, 64, 3, 3)
    weights["fpn.downsample_layers.2.bias"] = torch.zeros(64)
    load_state_dict_checked(YolactModel(tiny_config), weights, source="old.pth")


def test_file_errors(tmp_path, tiny_model):
    with pytest.raises(InputNotFoundError, match="checkpoint not found"):
        read_state_dict(tmp_path / "absent.pth")
    with pytest.raises(InputNotFoundError, match="not a file"):
        read_state_dict(tmp_path)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00not a checkpoint" * 50)
    with pytest.raises(CheckpointCorruptError, match="not a readable PyTorch checkpoint"):
        read_state_dict(garbage)
    whole = tmp_path / "whole.pth"
    save_checkpoint(tiny_model, whole)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CheckpointCorruptError):
        read_state_dict(truncated)
    not_weights = tmp_path / "list.pth"
    torch.save([1, 2, 3], not_weights)
    with pytest.raises(CheckpointCorruptError, match="does not hold a state_dict"):
        read_state_dict(not_weights)


def test_pickled_code_is_refused(tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    torch.save({"x": Payload()}, path)
    capsys.readouterr()
    with pytest.raises(CheckpointCorruptError):
        read_state_dict(path)
    assert "must never run" not in capsys.readouterr().out
