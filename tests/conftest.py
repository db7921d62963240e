"""Shared fixtures: the conformance contract (tests/fixtures/conformance, a copy of the shared one) and official-format checkpoints."""
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
BUNDLED_CONFORMANCE = REPO / "tests" / "fixtures" / "conformance"
CONFORMANCE = Path(os.environ.get("LSNET_CONFORMANCE") or BUNDLED_CONFORMANCE)


def _weights_module():
    spec = importlib.util.spec_from_file_location("conformance_weights", CONFORMANCE / "weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    if not (CONFORMANCE / "manifest.json").is_file():
        pytest.skip(f"conformance fixtures not found at {CONFORMANCE} (LSNET_CONFORMANCE points elsewhere; unset it to use the copy in tests/fixtures)")
    return CONFORMANCE


@pytest.fixture(scope="session")
def manifest(conformance_dir: Path) -> dict:
    return json.loads((conformance_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def make_official_checkpoint(manifest: dict, tmp_path_factory: pytest.TempPathFactory):
    """``make(name, seed=0) -> Path`` of a ``{"model": state_dict}`` .pth made with weights.py."""
    weights = _weights_module()
    folder = tmp_path_factory.mktemp("checkpoints")
    made: dict[tuple[str, int], Path] = {}

    def make(name: str, seed: int = 0) -> Path:
        if (name, seed) not in made:
            state = weights.make_state_dict(manifest[name]["entries"], seed)
            path = folder / f"{name}_seed{seed}.pth"
            torch.save({"model": {k: torch.from_numpy(v) for k, v in state.items()}}, path)
            made[(name, seed)] = path
        return made[(name, seed)]

    return make


@pytest.fixture(scope="session")
def fixture_npz(conformance_dir: Path):
    """``load(name) -> dict`` of the model fixture arrays (input, logits, stage0..3, seed)."""

    def load(name: str) -> dict:
        with np.load(conformance_dir / f"{name}.npz") as data:
            return {k: data[k] for k in data.files}

    return load


@pytest.fixture(scope="session")
def lsnet_t_checkpoint(make_official_checkpoint, fixture_npz) -> Path:
    """The conformance checkpoint of lsnet_t (seed from its fixture)."""
    return make_official_checkpoint("lsnet_t", int(fixture_npz("lsnet_t")["seed"]))


TRAINED = Path(os.environ.get("LSNET_TRAINED", REPO.parent / "shared" / "trained"))


@pytest.fixture(scope="session")
def trained_dir() -> Path:
    """The trained 10-class LSNet-T fixture (checkpoint, labels.txt, calib/, heldout/)."""
    if not (TRAINED / "lsnet_t_photos10.pth").is_file():
        pytest.skip(f"trained fixture not found at {TRAINED} (set LSNET_TRAINED)")
    return TRAINED


@pytest.fixture(scope="module")
def lsnet_t_runner(lsnet_t_checkpoint):
    """The conformance lsnet_t checkpoint opened in its PyTorch runner (one per test module)."""
    from lsnet.runtimes.registry import open_runner

    with open_runner(lsnet_t_checkpoint) as runner:
        yield runner
