import json

import pytest

from yolact.coco_eval import evaluate, format_table, score_results
from yolact.synthetic_data import make_coco_dataset


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    return make_coco_dataset(
        folder, num_images=5, seed=4, width=96, height=96, objects=(1, 3), empty_fraction=0
    ), folder / "images"


def test_ground_truth_as_predictions_scores_ap_one(small_set):
    path, _ = small_set
    data = json.loads(path.read_text())
    results = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "score": 1.0,
            "segmentation": a["segmentation"],
        }
        for a in data["annotations"]
    ]
    scores = score_results(path, results)
    assert scores["box"]["AP"] == pytest.approx(1.0) and scores["mask"]["AP"] == pytest.approx(1.0)
    shifted = [
        dict(r, bbox=[r["bbox"][0] + 8, r["bbox"][1] + 8, r["bbox"][2], r["bbox"][3]]) for r in results
    ]
    assert score_results(path, shifted)["box"]["AP"] < 0.9
    assert "AP50" in format_table(scores)


def test_evaluate_runs_a_model_over_the_set(small_set, tiny_model, tiny_config, tmp_path):
    import torch

    path, images = small_set

    def infer(batch):
        with torch.no_grad():
            return [t.numpy() for t in tiny_model(torch.from_numpy(batch))]

    out = tmp_path / "results.json"
    scores = evaluate(infer, path, images, config=tiny_config, results_path=out)
    results = json.loads(out.read_text())
    assert results and {r["image_id"] for r in results} <= set(range(1, 6))
    assert {r["category_id"] for r in results} <= {1, 2, 3, 4}
    assert 0.0 <= scores["mask"]["AP"] <= 1.0  # random weights: a valid, low score
