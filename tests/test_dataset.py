"""CocoDataset on hand-written COCO files: polygons, RLE, crowds, empty images."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import json

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from yolact.nn.dataset import CocoDataset, collate
from yolact.errors import ConfigError, InputNotFoundError


@pytest.fixture
def coco_files(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(images / name), np.full((40, 60, 3), 120, np.uint8))
    rle_mask = np.zeros((40, 60), np.uint8)
    rle_mask[20:30, 30:50] = 1
    compressed = mask_utils.encode(np.asfortranarray(rle_mask))
    uncompressed_counts = [20 * 40 + 20, 10, 30, 10]  # column-major runs: a small block
    data = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": 60, "height": 40},
            {"id": 2, "file_name": "b.png", "width": 60, "height": 40},
        ],
        "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 3,
                "iscrowd": 0,
                "bbox": [10, 5, 20, 10],
                "area": 200,
                "segmentation": [[10, 5, 30, 5, 30, 15, 10, 15]],
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 7,
                "iscrowd": 0,
                "bbox": [30, 20, 20, 10],
                "area": 200,
                "segmentation": {"size": [40, 60], "counts": compressed["counts"].decode()},
            },
            {
                "id": 3,
                "image_id": 1,
                "category_id": 7,
                "iscrowd": 1,
                "bbox": [0, 30, 20, 10],
                "area": 100,
                "segmentation": {"size": [40, 60], "counts": uncompressed_counts},
            },
        ],
    }
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    return path, images


def test_polygons_rle_crowd_and_empty(coco_files):
    path, images = coco_files
    dataset = CocoDataset(path, images, image_size=30)
    assert dataset.class_names == ("cat", "dog")  # category id order: 3, 7
    image, targets = dataset[0]
    assert image.shape == (3, 30, 30) and image.dtype.is_floating_point
    assert targets.labels.tolist() == [0, 1]
    np.testing.assert_allclose(targets.boxes_xyxy[0], [10 / 60, 5 / 40, 30 / 60, 15 / 40], atol=1e-6)
    assert targets.masks.shape == (2, 30, 30) and targets.masks[1].sum() > 0
    np.testing.assert_allclose(targets.crowd_boxes, [[0, 30 / 40, 20 / 60, 1.0]], atol=1e-6)
    _, empty = dataset[1]
    assert len(empty.labels) == 0 and empty.masks.shape == (0, 30, 30)
    images_batch, targets_batch = collate([dataset[0], dataset[1]])
    assert images_batch.shape == (2, 3, 30, 30) and len(targets_batch) == 2


def test_classes_by_name_and_errors(coco_files, tmp_path):
    path, images = coco_files
    dataset = CocoDataset(path, images, image_size=30, class_names=("dog", "cat"))
    assert dataset[0][1].labels.tolist() == [1, 0]
    with pytest.raises(ConfigError, match=r"classes \['horse'\] are not among"):
        CocoDataset(path, images, image_size=30, class_names=("horse",))
    with pytest.raises(InputNotFoundError):
        CocoDataset(tmp_path / "none.json", images, image_size=30)
    (images / "a.png").unlink()
    with pytest.raises(InputNotFoundError, match="missing or unreadable"):
        CocoDataset(path, images, image_size=30)[0]


def test_augmentation_is_seeded_and_keeps_masks_with_boxes(tmp_path):
    from yolact.synthetic_data import make_coco_dataset

    path = make_coco_dataset(
        tmp_path, num_images=4, seed=0, width=96, height=96, objects=(2, 4), empty_fraction=0
    )
    dataset = CocoDataset(path, tmp_path / "images", image_size=64, augment=True, seed=5)
    for index in range(4):
        image_a, first = dataset[index]
        image_b, again = dataset[index]
        assert np.array_equal(image_a.numpy(), image_b.numpy())
        for box, mask in zip(first.boxes_xyxy, first.masks):
            rows, cols = np.nonzero(mask)
            if len(rows):  # the mask lies inside its (normalised) box, up to resampling
                assert cols.min() >= box[0] * 64 - 2 and cols.max() <= box[2] * 64 + 2
                assert rows.min() >= box[1] * 64 - 2 and rows.max() <= box[3] * 64 + 2
    before = [dataset[index][0].numpy() for index in range(4)]
    dataset.epoch = 1  # a new epoch draws new augmentations
    after = [dataset[index][0].numpy() for index in range(4)]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
