"""Training: SGD with warm-up and step decay, original-format checkpoints, resume.

Deterministic for a seed: the model init, the per-epoch image order and every
augmentation are seeded, so a run stopped and resumed ends with the same weights as
one that never stopped (tested). Checkpoints are plain state_dicts
(``<name>_<epoch>_<iteration>.pth``, the original's naming) with a ``.state.pt``
beside each holding what resuming needs (optimizer, iteration, epoch, scaler).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from yolact.nn.checkpoint import load_weights, save_checkpoint
from yolact.config import YolactConfig
from yolact.nn.dataset import CocoDataset, collate
from yolact.errors import InputNotFoundError
from yolact.nn.loss import YolactLoss
from yolact.nn.model import YolactModel
from yolact.priors import priors_for_config


@dataclass(frozen=True, slots=True)
class DataSpec:
    annotations: Path
    images: Path

    @classmethod
    def parse(cls, text: str) -> DataSpec:
        """``ann.json:images/`` → DataSpec."""
        annotations, separator, images = text.rpartition(":")
        if not separator:
            raise InputNotFoundError(f"data must be ANNOTATIONS.json:IMAGE_FOLDER, got {text!r}")
        return cls(Path(annotations), Path(images))


def learning_rate(config: YolactConfig, iteration: int) -> float:
    """Linear warm-up from lr * warmup_init_ratio, then x lr_gamma at each of lr_steps."""
    training = config.training
    if iteration < training.warmup_iters:
        start = training.lr * training.warmup_init_ratio
        return start + (training.lr - start) * iteration / training.warmup_iters
    steps_passed = sum(iteration >= step for step in training.lr_steps)
    return training.lr * training.lr_gamma**steps_passed


def latest_state(out_dir: Path) -> Path | None:
    states = sorted(out_dir.glob("*.state.pt"), key=lambda p: int(p.name.split("_")[-1].split(".")[0]))
    return states[-1] if states else None


def train(
    config: YolactConfig,
    *,
    train_data: DataSpec,
    out_dir: str | Path,
    val_data: DataSpec | None = None,
    resume: bool = False,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> Path:
    """Train ``config`` on ``train_data``; returns the final checkpoint (original format)."""
    training = config.training
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(training.seed)
    model = YolactModel(config).to(device)
    dataset = CocoDataset(
        train_data.annotations,
        train_data.images,
        image_size=config.image_size,
        augment=training.augment,
        class_names=config.class_names,
        seed=training.seed,
        max_expand=training.max_expand,
    )
    loss_fn = YolactLoss(
        priors_for_config(config),
        num_classes=config.num_classes,
        config=config.loss,
        variances=config.priors.variances,
        seed=training.seed,
    ).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=learning_rate(config, 0),
        momentum=training.momentum,
        weight_decay=training.weight_decay,
    )
    use_amp = device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    iteration, epoch = 0, 0
    state_path = latest_state(out_dir) if resume else None
    if state_path is not None:
        load_weights(model, state_path.with_name(state_path.name.replace(".state.pt", ".pth")))
        state = torch.load(state_path, map_location=device, weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        loss_fn.generator.set_state(state["mask_generator"])
        iteration, epoch = int(state["iteration"]), int(state["epoch"])
        log(f"resumed from {state_path.name} at iteration {iteration}")
    batches_per_epoch = max(1, len(dataset) // training.batch_size)
    log_file = open(out_dir / "train.log", "a", encoding="utf-8")
    started, last_print = time.monotonic(), 0.0
    model.train()
    try:
        while iteration < training.max_iter:
            dataset.epoch = epoch
            order = np.random.default_rng([training.seed, epoch]).permutation(len(dataset))
            batches = [
                order[i * training.batch_size : (i + 1) * training.batch_size].tolist()
                for i in range(batches_per_epoch)
            ]
            done_in_epoch = iteration - epoch * batches_per_epoch
            loader = torch.utils.data.DataLoader(
                dataset,
                batch_sampler=batches[done_in_epoch:],
                collate_fn=collate,
                num_workers=training.num_workers,
            )
            for images, targets in loader:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(config, iteration)
                with torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
                    terms = loss_fn(model(images.to(device)), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(terms.total).backward()
                scaler.step(optimizer)
                scaler.update()
                iteration += 1
                values = {
                    name: float(value.detach())
                    for name, value in zip(("box", "conf", "mask", "semantic"), terms)
                }
                if not math.isfinite(sum(values.values())):
                    raise FloatingPointError(
                        f"loss became {values} at iteration {iteration}; lower training.lr"
                    )
                if iteration % training.log_interval == 0 or iteration == training.max_iter:
                    record = {
                        "iteration": iteration,
                        "epoch": epoch,
                        "lr": learning_rate(config, iteration - 1),
                        "elapsed_s": round(time.monotonic() - started, 1),
                        **{k: round(v, 4) for k, v in values.items()},
                    }
                    log_file.write(json.dumps(record) + "\n")
                    log_file.flush()
                if progress and time.monotonic() - last_print > 0.5:
                    last_print = time.monotonic()
                    text = " ".join(f"{k} {v:.3f}" for k, v in values.items())
                    print(
                        f"\r[{iteration}/{training.max_iter}] epoch {epoch} {text}",
                        end="",
                        file=sys.stderr,
                        flush=True,
                    )
                if iteration % training.checkpoint_interval == 0:
                    _save(model, optimizer, scaler, loss_fn, out_dir, config.name, epoch, iteration)
                if val_data is not None and iteration % training.val_interval == 0:
                    _validate(model, config, val_data, log_file, iteration, log, device)
                if iteration >= training.max_iter:
                    break
            else:
                epoch += 1
                continue
            break
    finally:
        log_file.close()
        if progress:
            print(file=sys.stderr)
    final = _save(model, optimizer, scaler, loss_fn, out_dir, config.name, epoch, iteration)
    if val_data is not None and iteration % training.val_interval:
        with open(out_dir / "train.log", "a", encoding="utf-8") as log_file:
            _validate(model, config, val_data, log_file, iteration, log, device)
    return final


def _save(model, optimizer, scaler, loss_fn, out_dir: Path, name: str, epoch: int, iteration: int) -> Path:
    path = out_dir / f"{name}_{epoch}_{iteration}.pth"
    save_checkpoint(model, path)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(),
            "iteration": iteration,
            "epoch": epoch,
            "mask_generator": loss_fn.generator.get_state(),
        },
        path.with_name(path.name.replace(".pth", ".state.pt")),
    )
    return path


def _validate(model, config, val_data: DataSpec, log_file, iteration: int, log, device: str) -> dict:
    from yolact.coco_eval import evaluate

    model.eval()

    def infer(batch):
        with torch.no_grad():
            return [t.float().cpu().numpy() for t in model(torch.from_numpy(batch).to(device))]

    scores = evaluate(infer, val_data.annotations, val_data.images, config=config)
    model.train()
    record = {
        "iteration": iteration,
        "val_box_AP": scores["box"]["AP"],
        "val_mask_AP": scores["mask"]["AP"],
        "val_mask_AP50": scores["mask"]["AP50"],
    }
    log_file.write(json.dumps(record) + "\n")
    log_file.flush()
    log(
        f"\nvalidation at {iteration}: box AP {100 * scores['box']['AP']:.1f}, mask AP "
        f"{100 * scores['mask']['AP']:.1f}, "
        f"mask AP50 {100 * scores['mask']['AP50']:.1f}"
    )
    return scores
