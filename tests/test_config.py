import dataclasses

import pytest

from yolact.coco_classes import COCO_CATEGORY_IDS, COCO_CLASS_NAMES
from yolact.config import YolactConfig, load_model_config, preset_names
from yolact.errors import ConfigError, InputNotFoundError

PUBLISHED = {
    # name: (backbone layers, image size, feature map sizes, prototype side, priors)
    "yolact_resnet50": ((3, 4, 6, 3), 550, (69, 35, 18, 9, 5), 138, 19248),
    "yolact_base": ((3, 4, 23, 3), 550, (69, 35, 18, 9, 5), 138, 19248),
    "yolact_im700": ((3, 4, 23, 3), 700, (88, 44, 22, 11, 6), 176, 30963),
}


def test_presets_are_shipped():
    assert {"yolact_base", "yolact_resnet50", "yolact_im700", "yolact_tiny"} <= set(preset_names())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_presets(name):
    layers, size, sides, proto, num_priors = PUBLISHED[name]
    config = load_model_config(name)
    assert config.name == name
    assert config.backbone.layers == layers and config.backbone.block == "bottleneck"
    assert config.image_size == size
    assert config.feature_map_sizes == sides
    assert config.proto_size == proto
    assert config.num_priors == num_priors
    assert config.num_classes == 81 and config.class_names == COCO_CLASS_NAMES
    assert (config.fpn.channels, config.protonet.num_prototypes) == (256, 32)
    assert (config.detection.conf_thresh, config.detection.top_k, config.detection.nms_thresh) == (
        0.05,
        200,
        0.5,
    )
    assert config.detection.max_detections == 100


def test_im700_scales_follow_the_original_rounding():
    assert load_model_config("yolact_im700").priors.scales == tuple(
        float(int(s / 550 * 700)) for s in (24, 48, 96, 192, 384)
    )


def test_coco_tables_are_aligned():
    assert len(COCO_CLASS_NAMES) == len(set(COCO_CLASS_NAMES)) == len(COCO_CATEGORY_IDS) == 80
    assert COCO_CATEGORY_IDS[0] == 1 and COCO_CATEGORY_IDS[-1] == 90


def test_dict_round_trip():
    config = load_model_config("yolact_tiny")
    assert YolactConfig.from_dict(config.to_dict()) == config


def test_config_is_frozen():
    config = load_model_config("yolact_tiny")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.image_size = 10


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ConfigError, match=r"unknown model preset 'yolact_r18'.*yolact_base.*yolact_resnet50"):
        load_model_config("yolact_r18")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"backbone": {"layerz": [1, 1, 1, 1]}}, r"^backbone\.layerz: unknown key"),
        ({"image_size": "big"}, r"^image_size: expected an integer, got 'big'"),
        ({"fpn": {"channels": 1.5}}, r"^fpn\.channels: expected an integer"),
        ({"priors": {"square_anchors": 1}}, r"^priors\.square_anchors: expected true or false"),
        ({"backbone": {"block": "dense"}}, r"^backbone\.block: must be one of"),
        ({"backbone": {"layers": [1, 1, 1]}}, r"^backbone\.layers: needs 4 stages"),
        ({"priors": {"scales": [24, 48]}}, r"^priors\.scales: needs one scale per FPN level: 5"),
        ({"detection": {"nms": "soft"}}, r"^detection\.nms: must be one of fast, cross_class, standard"),
        ({"detection": {"conf_thresh": 2}}, r"^detection\.conf_thresh: must be in \[0, 1\]"),
        ({"class_names": ["a", "a"]}, r"^class_names: names must be unique"),
        ({"priors": {"aspect_ratios": "wide"}}, r"^priors\.aspect_ratios: expected a list"),
    ],
)
def test_bad_values_name_the_key(change, message):
    data = load_model_config("yolact_tiny").to_dict()
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    with pytest.raises(ConfigError, match=message):
        YolactConfig.from_dict(data)


def test_missing_name_is_reported():
    with pytest.raises(ConfigError, match=r"^name: required key is missing"):
        YolactConfig.from_dict({"image_size": 320})


def test_yaml_file_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nbackbone: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml \(line \d+, column \d+\)"):
        load_model_config(broken)
    with pytest.raises(InputNotFoundError, match="config file not found"):
        load_model_config(tmp_path / "absent.yaml")
    custom = tmp_path / "custom.yaml"
    custom.write_text("name: custom\nclass_names: [cat, dog]\nimage_size: 256\n")
    config = load_model_config(custom)
    assert (config.name, config.num_classes, config.image_size) == ("custom", 3, 256)
    assert config.backbone.layers == (3, 4, 6, 3)  # defaults are the ResNet-50 preset's


def test_pipeline_render_section_is_validated_with_its_key(tmp_path):
    from pipeline.config import load_pipeline_config

    preset = tmp_path / "mine.yaml"
    preset.write_text("name: mine\nrender: {alpha: 2}\n")
    with pytest.raises(ConfigError, match=r"^render\.alpha: must be in \[0, 1\]"):
        load_pipeline_config(preset)
    preset.write_text("name: mine\nrender: {class_filter: [0, 2], box_thickness: 3}\n")
    render = load_pipeline_config(preset).render
    assert (render.class_filter, render.box_thickness) == ((0, 2), 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("video: {preset: turbo}", r"^video\.preset: must be one of ultrafast, .*veryslow, got 'turbo'"),
        ("video: {crf: 60}", r"^video\.crf: must be in \[0, 51\], got 60"),
    ],
)
def test_pipeline_video_section_is_validated_with_its_key(tmp_path, text, message):
    from pipeline.config import load_pipeline_config

    preset = tmp_path / "mine.yaml"
    preset.write_text(f"name: mine\n{text}\n")
    with pytest.raises(ConfigError, match=message):
        load_pipeline_config(preset)
