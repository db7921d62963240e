"""``evaluate`` streams: one batch of pixels at a time, progress per batch, exact counts (a fake runner, no model)."""
import numpy as np
import pytest

from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo

LABELS = ["cat", "dog", "fox"]
PREPROCESSING = {"mean": [0.5] * 3, "std": [0.5] * 3, "crop_pct": 1.0, "interpolation": "bilinear", "img_size": [16, 16]}


class RedIsCat(Runner):
    """Predicts 'cat' for reddish images, 'dog' otherwise; records every batch it was given."""

    def __init__(self) -> None:
        self.input_spec = InputSpec("input", (None, 3, 16, 16))
        self.info = RunnerInfo("fake", "cpu", metadata={**PREPROCESSING, "labels": LABELS, "num_classes": 3})
        self.batches: list[int] = []

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        red = batch[:, 0].mean(axis=(1, 2)) > batch[:, 1].mean(axis=(1, 2))
        return np.stack([red * 5.0, (~red) * 5.0, np.ones(len(batch))], axis=1).astype(np.float32)


@pytest.fixture
def folder(tmp_path):
    from PIL import Image

    for name, color, count in (("cat", (200, 20, 20), 5), ("dog", (20, 200, 20), 3), ("fox", (200, 20, 20), 2)):
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.new("RGB", (24, 20), color).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_batches_are_bounded_and_counts_exact(folder):
    from lsnet.runtimes.evaluate import evaluate

    runner, seen = RedIsCat(), []
    result = evaluate(runner, folder, batch=3, progress=lambda done, total: seen.append((done, total)))
    assert max(runner.batches) <= 3 and sum(runner.batches) == 10
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]
    assert result.images == 10 and result.top1 == pytest.approx(8 / 10) and result.top5 == 1.0
    per_class = {c.label: c.top1 for c in result.per_class}
    assert per_class == {"cat": 1.0, "dog": 1.0, "fox": 0.0}
    assert result.confused == [{"true": "fox", "predicted": "cat", "count": 2}]


def test_agreement_compares_the_same_images(folder):
    from lsnet.runtimes.evaluate import agreement, evaluate

    a = evaluate(RedIsCat(), folder, batch=4)
    b = evaluate(RedIsCat(), folder, batch=2)
    assert agreement(a, b) == 1.0 and a.predictions == b.predictions
