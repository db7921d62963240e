"""Checkpoint loading: every accepted layout, resizing, head changes, and one clear error for bad files."""
import logging

import pytest
import torch
from safetensors.torch import save_file

import lsnet
from lsnet.checkpoint import read_state_dict
from lsnet.errors import CheckpointError, CheckpointMismatchError, InvalidResolutionError, UnknownModelError


@pytest.fixture(scope="module")
def t_state(lsnet_t_checkpoint):
    return read_state_dict(lsnet_t_checkpoint)


def _logits(model, x):
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("layout", ["plain", "state_dict", "module_prefix", "safetensors", "with_idx_buffers"])
def test_accepted_layouts_give_identical_models(layout, t_state, tmp_path, lsnet_t_checkpoint):
    reference = lsnet.create_model("lsnet_t", checkpoint_path=lsnet_t_checkpoint)
    path = tmp_path / ("ckpt.safetensors" if layout == "safetensors" else "ckpt.pth")
    if layout == "plain":
        torch.save(t_state, path)
    elif layout == "state_dict":
        torch.save({"state_dict": t_state, "epoch": 3}, path)
    elif layout == "module_prefix":
        torch.save({"model": {f"module.{k}": v for k, v in t_state.items()}}, path)
    elif layout == "safetensors":
        save_file({k: v.contiguous() for k, v in t_state.items()}, str(path))
    else:  # official checkpoints also carry the computed index buffers
        extra = {k: v for k, v in reference.named_buffers() if k.endswith("attention_bias_idxs")}
        torch.save({"model": {**t_state, **extra}}, path)
    loaded = lsnet.create_model("lsnet_t", checkpoint_path=path)
    x = torch.randn(1, 3, 224, 224)
    assert torch.equal(_logits(loaded, x), _logits(reference, x))


def test_wrong_variant_names_the_variant_it_fits(make_official_checkpoint):
    with pytest.raises(CheckpointMismatchError) as err:
        lsnet.create_model("lsnet_s", checkpoint_path=make_official_checkpoint("lsnet_t"))
    message = str(err.value)
    assert "lsnet_t" in message and "missing" in message and "mis-shaped" in message


def test_distill_checkpoint_into_plain_model_suggests_distill(make_official_checkpoint):
    with pytest.raises(CheckpointMismatchError, match="lsnet_t_distill"):
        lsnet.create_model("lsnet_t", checkpoint_path=make_official_checkpoint("lsnet_t_distill"))


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", None])
def test_truncated_or_foreign_files(content, tmp_path, lsnet_t_checkpoint):
    path = tmp_path / "bad.pth"
    if content is None:  # truncated real checkpoint
        data = lsnet_t_checkpoint.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        lsnet.create_model("lsnet_t", checkpoint_path=path)


def test_pickle_without_tensors_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "dict.pth"
    torch.save({"epoch": 3, "lr": 0.1}, path)
    with pytest.raises(CheckpointError, match="no model state dict"):
        lsnet.create_model("lsnet_t", checkpoint_path=path)


def test_missing_path(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        lsnet.create_model("lsnet_t", checkpoint_path=tmp_path / "nope.pth")


def test_unknown_model_suggests_close_match():
    with pytest.raises(UnknownModelError, match="Did you mean 'lsnet_s'"):
        lsnet.create_model("lsnet_ss")


@pytest.mark.parametrize("size", [0, -8, 100, 56, 7, (224, 100), "224"])
def test_bad_img_size(size):
    with pytest.raises(InvalidResolutionError):
        lsnet.create_model("lsnet_t", img_size=size)


def test_other_resolution_interpolates_attention_biases(lsnet_t_checkpoint, t_state, caplog):
    with caplog.at_level(logging.INFO, logger="lsnet.checkpoint"):
        model = lsnet.create_model("lsnet_t", img_size=384, checkpoint_path=lsnet_t_checkpoint)
    assert any("resized" in r.message for r in caplog.records)
    table = model.blocks4[3].mixer.m.attention_biases
    assert table.shape == (4, 36)  # 384/64 = 6 -> 6x6 offsets
    # bicubic resize of a 4x4 grid to 6x6 keeps the corner values' neighbourhood: same mean sign and scale
    original = t_state["blocks4.3.mixer.m.attention_biases"]
    assert abs(table.mean().item() - original.mean().item()) < 0.5
    with torch.no_grad():
        assert torch.isfinite(model(torch.randn(1, 3, 384, 384))).all()


def test_num_classes_comes_from_the_checkpoint_head(tmp_path):
    path = tmp_path / "seven.pth"
    torch.save({"model": lsnet.create_model("lsnet_t", num_classes=7).state_dict()}, path)
    assert lsnet.create_model("lsnet_t", checkpoint_path=path).num_classes == 7
    assert lsnet.create_model("lsnet_t", num_classes=7, checkpoint_path=path).head.l.weight.shape[0] == 7


def test_head_that_does_not_fit_num_classes_is_refused(lsnet_t_checkpoint):
    with pytest.raises(CheckpointMismatchError, match="1000-class head but 10 classes.*--random-head"):
        lsnet.create_model("lsnet_t", num_classes=10, checkpoint_path=lsnet_t_checkpoint)


def test_random_head_only_when_asked_and_loudly(lsnet_t_checkpoint, t_state, caplog):
    with caplog.at_level(logging.WARNING, logger="lsnet.checkpoint"):
        model = lsnet.create_model("lsnet_t", num_classes=10, checkpoint_path=lsnet_t_checkpoint, random_head=True)
    assert any("RANDOM CLASSIFIER HEAD" in r.message for r in caplog.records)
    assert torch.equal(model.blocks3[2].ffn.m.pw1.c.weight, t_state["blocks3.2.ffn.m.pw1.c.weight"])
    assert model.head.l.weight.shape[0] == 10


def test_features_only_ignores_head(lsnet_t_checkpoint):
    backbone = lsnet.create_model("lsnet_t", features_only=True, checkpoint_path=lsnet_t_checkpoint)
    assert not any(k.startswith("head") for k in backbone.state_dict())


def test_pretrained_offline_is_one_clear_error(monkeypatch):
    import huggingface_hub

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "list_repo_files", offline)
    with pytest.raises(lsnet.LsnetError, match="--weights PATH"):
        lsnet.create_model("lsnet_t", pretrained=True)


def test_hub_weights_file_choice():
    from lsnet.hub import pick_weights_file

    assert pick_weights_file(["README.md", "lsnet_t.pth", "other.bin"], "lsnet_t") == "lsnet_t.pth"
    assert pick_weights_file(["README.md", "pytorch_model.bin", "model.safetensors"], "lsnet_t") == "model.safetensors"
    assert pick_weights_file(["README.md"], "lsnet_t") is None


def test_checkpoint_sha_matches_manifest(manifest, make_official_checkpoint):
    """A seed-0 checkpoint is the contract's: sha256 of the weights in entry order (through save/load)."""
    import hashlib

    state = read_state_dict(make_official_checkpoint("lsnet_t", 0))
    entries = manifest["lsnet_t"]["entries"]
    digest = hashlib.sha256(b"".join(state[k].numpy().tobytes() for k, _, _ in entries)).hexdigest()
    assert digest == manifest["lsnet_t"]["weights_sha256_seed0"]


def test_bias_resize_to_same_size_is_identity(t_state):
    from lsnet.checkpoint import resize_attention_biases

    table = t_state["blocks4.3.mixer.m.attention_biases"]
    assert torch.allclose(resize_attention_biases(table, (4, 4), "t"), table, atol=1e-6)
