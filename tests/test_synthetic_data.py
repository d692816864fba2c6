import json

import numpy as np
from pycocotools import mask as mask_utils

from yolact.synthetic_data import make_coco_dataset
from yolact.synthetic_video import SyntheticScene, make_video_with_ground_truth


def test_coco_set_is_deterministic_and_consistent(tmp_path):
    first = make_coco_dataset(tmp_path / "a", num_images=6, seed=3, width=96, height=80)
    again = make_coco_dataset(tmp_path / "b", num_images=6, seed=3, width=96, height=80)
    assert first.read_bytes() == again.read_bytes()
    assert (tmp_path / "a/images/000004.png").read_bytes() == (tmp_path / "b/images/000004.png").read_bytes()
    data = json.loads(first.read_text())
    assert [c["name"] for c in data["categories"]] == ["circle", "square", "triangle", "star"]
    assert len(data["images"]) == 6 and data["annotations"]
    for annotation in data["annotations"]:
        rle = {
            "size": annotation["segmentation"]["size"],
            "counts": annotation["segmentation"]["counts"].encode(),
        }
        assert mask_utils.area(rle) == annotation["area"] >= 30
        np.testing.assert_allclose(mask_utils.toBbox(rle), annotation["bbox"])


def test_coco_set_of_mixed_sizes(tmp_path):
    import cv2

    sizes = ((64, 64), (96, 54))
    data = json.loads(make_coco_dataset(tmp_path, num_images=12, seed=4, sizes=sizes).read_text())
    seen = {(image["width"], image["height"]) for image in data["images"]}
    assert seen == set(sizes)  # both drawn in 12 images (seeded)
    by_id = {image["id"]: image for image in data["images"]}
    for image in data["images"]:
        height, width = cv2.imread(str(tmp_path / "images" / image["file_name"])).shape[:2]
        assert (width, height) == (image["width"], image["height"])
    for annotation in data["annotations"]:
        image = by_id[annotation["image_id"]]
        assert annotation["segmentation"]["size"] == [image["height"], image["width"]]


def test_occlusion_leaves_visible_parts_only():
    scene = SyntheticScene(120, 90, seed=2, num_shapes=6)
    image, instances = scene.frame_with_masks(0)
    masks = np.stack([mask for _, mask in instances])
    assert masks.sum(0).max() == 1  # visible parts never overlap


def test_video_with_ground_truth(tmp_path):
    video, truth = make_video_with_ground_truth(
        tmp_path / "clip.mp4", num_frames=8, seed=1, width=96, height=64
    )
    import av

    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 8
    data = json.loads(truth.read_text())
    assert sorted({a["image_id"] for a in data["annotations"]}) == list(range(8))
    boxes_first = [a["bbox"] for a in data["annotations"] if a["image_id"] == 0]
    boxes_last = [a["bbox"] for a in data["annotations"] if a["image_id"] == 7]
    assert boxes_first != boxes_last  # the objects move
