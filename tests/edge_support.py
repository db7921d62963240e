"""Checks shared by the edge formats' tests: fixture parity at batch 1 and an odd batch, and a parity gate that must
refuse a wrong model while leaving the user's folder as it was."""
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lsnet.errors import ParityError
from lsnet.export import export


def assert_matches_fixture(runner: Any, fixture: Any, tol: float) -> None:
    """The runner's logits equal the conformance fixture's at batch 1 and at an odd batch (the inputs plus one)."""
    x, logits = fixture["input"], fixture["logits"]
    np.testing.assert_allclose(runner.infer(x[:1]), logits[:1], rtol=tol, atol=tol)
    odd = np.concatenate([x, x[:1]])
    np.testing.assert_allclose(runner.infer(odd), np.concatenate([logits, logits[:1]]), rtol=tol, atol=tol)


def corrupt_head_before(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Make ``owner.name`` (a converter that takes the model first) see one class's head weights flipped: a valid
    artifact with wrong logits, which the parity gate must refuse. Modules without a head (a converter's own
    pattern graphs) pass through unchanged."""
    real = getattr(owner, name)

    def corrupting(model: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            for head in [p for n, p in model.named_parameters() if n.startswith("head") and p.ndim == 2][:1]:
                head[0].mul_(-3.0)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(owner, name, corrupting)


def assert_refused_with_nothing_written(folder: Path, fmt: str, filename: str, **options: Any) -> None:
    """Exporting lsnet_t to ``fmt`` fails parity and leaves only the user's own file in ``folder``."""
    (folder / "keep.txt").write_text("user file")
    with pytest.raises(ParityError, match="nothing was written"):
        export("lsnet_t", fmt, output=folder / filename, **options)
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
