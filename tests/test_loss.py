import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch

from yolact.config import load_model_config
from yolact.nn.dataset import CocoDataset, Targets, collate
from yolact.config import LossConfig
from yolact.nn.loss import YolactLoss, box_iou
from yolact.nn.model import YolactModel
from yolact.priors import priors_for_config
from yolact.synthetic_data import make_coco_dataset


def small_config():
    config = load_model_config("yolact_tiny").replace(image_size=160)
    return config.replace(priors=config.priors.__class__(scales=(8, 16, 32, 64, 128)))


def test_matching_by_hand():
    priors = np.array([[0.25, 0.25, 0.5, 0.5], [0.75, 0.75, 0.5, 0.5], [0.5, 0.5, 0.1, 0.1]], np.float32)
    loss = YolactLoss(priors, num_classes=3)
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5]])  # equals prior 0
    conf, truth = loss.match(boxes, torch.tensor([1]), torch.zeros(0, 4))
    assert conf.tolist() == [2, 0, 0] and truth[0] == 0
    # a box half-overlapping prior 1 (IoU 0.33): every ground truth still gets its best prior
    conf, _ = loss.match(torch.tensor([[0.5, 0.5, 1.0, 0.75]]), torch.tensor([0]), torch.zeros(0, 4))
    assert conf[1] == 1
    # crowd regions make overlapping background priors neutral
    conf, _ = loss.match(boxes, torch.tensor([0]), torch.tensor([[0.5, 0.5, 1.0, 1.0]]))
    assert conf.tolist() == [1, -1, 0]
    assert float(box_iou(boxes, boxes)) == pytest.approx(1.0)


def test_ohem_uses_three_negatives_per_positive():
    priors = np.tile(np.array([[0.5, 0.5, 0.2, 0.2]], np.float32), (10, 1))
    loss = YolactLoss(priors, num_classes=2)
    logits = torch.zeros(1, 10, 2)
    logits[0, :, 1] = torch.arange(10.0)  # higher index: more confidently wrong if background
    targets = torch.zeros(1, 10, dtype=torch.long)
    targets[0, 0] = 1
    value = loss._ohem_conf_loss(logits, targets)
    ce = torch.nn.functional.cross_entropy
    expected = ce(logits[0, [0]], targets[0, [0]], reduction="sum") + ce(
        logits[0, [7, 8, 9]], targets[0, [7, 8, 9]], reduction="sum"
    )
    assert float(value) == pytest.approx(float(expected))


def test_config_validation():
    with pytest.raises(ValueError, match="pos_thresh"):
        LossConfig(pos_thresh=0.3, neg_thresh=0.4)


def test_tiny_model_overfits_a_few_images(tmp_path):
    """Overfitting shown by the trend, not by one noisy final value: the mask term spikes
    from step to step (and differs with the thread count), so the box and class terms
    must all but vanish and the typical (median) late total must be far below the start."""
    config = small_config()
    path = make_coco_dataset(
        tmp_path, num_images=2, seed=0, width=160, height=160, objects=(2, 4), empty_fraction=0
    )
    dataset = CocoDataset(path, tmp_path / "images", image_size=160, class_names=config.class_names)
    images, targets = collate([dataset[0], dataset[1]])
    torch.manual_seed(0)
    model = YolactModel(config).train()
    loss_fn = YolactLoss(priors_for_config(config), num_classes=config.num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=5e-3, momentum=0.9, weight_decay=5e-4)
    history = []  # (total, box + conf) per step
    for _ in range(200):
        terms = loss_fn(model(images), targets)
        optimizer.zero_grad()
        terms.total.backward()
        optimizer.step()
        history.append((float(terms.total.detach()), float((terms.box + terms.conf).detach())))
    history = np.array(history)
    assert np.isfinite(history).all()
    start, late = history[:5].mean(axis=0), history[-25:]
    assert late[:, 1].mean() <= 0.1 * start[1], history[::25].round(2).tolist()
    assert np.median(late[:, 0]) <= 0.35 * start[0], history[::25].round(2).tolist()


def test_empty_targets_give_background_only_loss():
    config = small_config()
    model = YolactModel(config).train()
    loss_fn = YolactLoss(priors_for_config(config), num_classes=config.num_classes)
    empty = Targets(
        np.zeros((0, 4), np.float32),
        np.zeros(0, np.int64),
        np.zeros((0, 160, 160), np.uint8),
        np.zeros((0, 4), np.float32),
        np.zeros(0, np.float32),
        1,
        160,
        160,
    )
    terms = loss_fn(model(torch.randn(1, 3, 160, 160)), [empty])
    assert float(terms.box.detach()) == 0 and float(terms.mask.detach()) == 0
    assert float(terms.semantic.detach()) > 0 and torch.isfinite(terms.total)
