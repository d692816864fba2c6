import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import json

import torch

from yolact.config import TrainingConfig, load_model_config
from yolact.synthetic_data import make_coco_dataset
from yolact.nn.train import DataSpec, learning_rate, train


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    path = make_coco_dataset(
        folder, num_images=4, seed=1, width=96, height=96, objects=(1, 3), empty_fraction=0
    )
    return DataSpec(path, folder / "images")


def tiny(max_iter, **training):
    config = load_model_config("yolact_tiny").replace(image_size=96)
    config = config.replace(priors=config.priors.__class__(scales=(8, 16, 32, 64, 96)))
    return config.replace(
        training=TrainingConfig(
            lr=5e-3,
            batch_size=2,
            max_iter=max_iter,
            warmup_iters=2,
            lr_steps=(5,),
            log_interval=1,
            checkpoint_interval=3,
            val_interval=100,
            num_workers=0,
            max_expand=1.5,
            **training,
        )
    )


def test_schedule():
    config = tiny(10)
    assert learning_rate(config, 0) == pytest.approx(5e-4)
    assert learning_rate(config, 1) == pytest.approx(5e-4 + (5e-3 - 5e-4) / 2)
    assert learning_rate(config, 4) == pytest.approx(5e-3)
    assert learning_rate(config, 5) == pytest.approx(5e-4)


def test_resume_continues_the_same_run(data, tmp_path):
    straight = train(tiny(6), train_data=data, out_dir=tmp_path / "a", progress=False, log=lambda _: None)
    train(tiny(3), train_data=data, out_dir=tmp_path / "b", progress=False, log=lambda _: None)
    messages = []
    resumed = train(
        tiny(6), train_data=data, out_dir=tmp_path / "b", resume=True, progress=False, log=messages.append
    )
    assert any("resumed from" in m and "iteration 3" in m for m in messages)
    assert straight.name == resumed.name
    a, b = torch.load(straight, weights_only=True), torch.load(resumed, weights_only=True)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    log = [json.loads(line) for line in (tmp_path / "a" / "train.log").read_text().splitlines()]
    assert [r["iteration"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert all(r["mask"] > 0 for r in log)


def test_validation_is_logged(data, tmp_path):
    messages = []
    train(tiny(2), train_data=data, val_data=data, out_dir=tmp_path, progress=False, log=messages.append)
    assert any("validation at 2" in m for m in messages)
    records = [json.loads(line) for line in (tmp_path / "train.log").read_text().splitlines()]
    assert "val_mask_AP" in records[-1]


def test_train_and_eval_commands(data, tmp_path, tiny_onnx, capsys):
    from pipeline.cli import main

    spec = f"{data.annotations}:{data.images}"
    config = tmp_path / "tiny96.yaml"
    import yaml

    plain = tiny(2).to_dict()
    config.write_text(yaml.safe_dump(plain))
    assert main(["train", "--config", str(config), "--train", spec, "--out", str(tmp_path / "run")]) == 0
    assert "final checkpoint" in capsys.readouterr().out
    results = tmp_path / "results.json"
    assert main(["eval", "--model", str(tiny_onnx), "--data", spec, "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "AP50" in out and "mask" in out and results.exists()
