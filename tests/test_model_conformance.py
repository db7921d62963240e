"""The model against the conformance contract: keys, shapes, parameter counts, logits, stage features."""
import numpy as np
import pytest
import torch

import lsnet
from lsnet.profile import profile

ALL_VARIANTS = lsnet.list_models()
FIXTURE_VARIANTS = ["lsnet_t", "lsnet_t_distill"]
SKA_IMPLS = ["reference", "unfold", "shift"]
TOL = dict(rtol=1e-4, atol=1e-4)  # conformance README: float32 reimplementation


@pytest.mark.parametrize("name", ALL_VARIANTS)
def test_state_dict_matches_manifest(name, manifest):
    model = lsnet.create_model(name)
    keys = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    expected = [(k, shape) for k, shape, _ in manifest[name]["entries"]]
    assert keys == expected
    assert lsnet.count_params(model) == manifest[name]["num_params"]


@pytest.mark.parametrize("name", ALL_VARIANTS)
def test_macs_and_fused_params(name, manifest):
    p = profile(lsnet.create_model(name))
    distill = manifest[name]["distillation"]
    # reparameterize merges the two distillation heads into one averaged Linear: one head fewer
    head_params = 0 if not distill else manifest[name]["num_params_fused"] - p.params_fused
    head_macs = 0 if not distill else manifest[name]["macs"] - p.macs
    if distill:
        width = lsnet.create_model(name).num_features
        assert head_params == width * 1000 + 1000
        assert head_macs == width * 1000
    else:
        assert p.params_fused == manifest[name]["num_params_fused"]
        assert p.macs == manifest[name]["macs"]


@pytest.mark.parametrize("name", ALL_VARIANTS)
def test_computed_buffers_match_manifest(name, manifest):
    model = lsnet.create_model(name)
    buffers = dict(model.named_buffers())
    for key, shape, dtype in manifest[name]["computed_buffers"]:
        assert list(buffers[key].shape) == shape and str(buffers[key].dtype) == f"torch.{dtype}"


def test_bias_index_equals_official_first_seen_order():
    from lsnet.attention import bias_index

    for res in (1, 2, 4, 7):
        points = [(i, j) for i in range(res) for j in range(res)]
        offsets: dict = {}
        idxs = []
        for p1 in points:
            for p2 in points:
                off = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
                offsets.setdefault(off, len(offsets))
                idxs.append(offsets[off])
        assert torch.equal(bias_index(res, res, res), torch.tensor(idxs).view(res * res, res * res))


@pytest.mark.parametrize("name", FIXTURE_VARIANTS)
@pytest.mark.parametrize("ska", SKA_IMPLS)
def test_logits_match_fixture(name, ska, make_official_checkpoint, fixture_npz):
    fx = fixture_npz(name)
    model = lsnet.create_model(name, ska=ska, checkpoint_path=make_official_checkpoint(name, int(fx["seed"])))
    x = torch.from_numpy(fx["input"])
    with torch.no_grad():
        logits = model(x).double().numpy()
        fused = lsnet.reparameterize(model)(x).double().numpy()
    np.testing.assert_allclose(logits, fx["logits"], **TOL)
    np.testing.assert_allclose(fused, fx["logits"], **TOL)


@pytest.mark.parametrize("name", FIXTURE_VARIANTS)
def test_stage_features_match_fixture(name, make_official_checkpoint, fixture_npz):
    fx = fixture_npz(name)
    ckpt = make_official_checkpoint(name, int(fx["seed"]))
    backbone = lsnet.create_model(name, checkpoint_path=ckpt, features_only=True)
    with torch.no_grad():
        features = backbone(torch.from_numpy(fx["input"]))
    assert [f["reduction"] for f in backbone.feature_info] == [8, 16, 32, 64]
    for i, feature in enumerate(features):
        assert feature.shape[1] == backbone.feature_info[i]["num_chs"]
        np.testing.assert_allclose(feature.double().numpy(), fx[f"stage{i}"], rtol=1e-4, atol=1e-5)


def test_distill_heads_average_in_eval_and_split_in_train(make_official_checkpoint, fixture_npz):
    fx = fixture_npz("lsnet_t_distill")
    model = lsnet.create_model("lsnet_t_distill", checkpoint_path=make_official_checkpoint("lsnet_t_distill", int(fx["seed"])))
    x = torch.from_numpy(fx["input"])
    with torch.no_grad():
        pooled = model.forward_head(model.forward_features(x), pre_logits=True)
        head, head_dist = model.head(pooled), model.head_dist(pooled)
        np.testing.assert_allclose(head.double().numpy(), fx["head_logits"], **TOL)
        np.testing.assert_allclose(head_dist.double().numpy(), fx["head_dist_logits"], **TOL)
        assert torch.allclose(model(x), (head + head_dist) / 2)
        outputs = model.train()(x)
    assert isinstance(outputs, tuple) and len(outputs) == 2


@pytest.mark.parametrize("name", ["lsnet_s", "lsnet_b_distill"])
def test_other_variants_reparameterize_exactly(name):
    """In float64 the folded model and every formulation equal the reference to rounding (1e-9)."""
    torch.manual_seed(0)
    model = lsnet.create_model(name).double()
    _randomize_batchnorm(model)
    x = torch.randn(3, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        ref = model(x)
        assert torch.allclose(lsnet.reparameterize(model)(x), ref, rtol=1e-9, atol=1e-9)
        for ska in SKA_IMPLS[1:]:
            assert torch.allclose(lsnet.set_ska(lsnet.reparameterize(model), ska)(x), ref, rtol=1e-9, atol=1e-9)


def _randomize_batchnorm(model: torch.nn.Module) -> None:
    """Non-trivial BN statistics so that folding is really exercised."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            dtype = m.weight.dtype
            m.weight.data = (torch.rand(n, generator=gen) + 0.5).to(dtype)
            m.bias.data = (torch.randn(n, generator=gen) * 0.1).to(dtype)
            m.running_mean = (torch.randn(n, generator=gen) * 0.1).to(dtype)
            m.running_var = (torch.rand(n, generator=gen) + 0.5).to(dtype)


def test_reparameterize_leaves_only_unfoldable_batchnorms():
    from lsnet.reparam import remaining_batchnorms

    model = lsnet.create_model("lsnet_t_distill")
    fused = lsnet.reparameterize(model)
    left = remaining_batchnorms(fused)
    assert left and all(name.endswith("mixer.bn") for name in left)  # LSConv.bn after SKA only
    assert not hasattr(fused, "head_dist") and isinstance(fused.head, torch.nn.Linear)
    assert remaining_batchnorms(model) != left  # the input model is untouched


@pytest.mark.parametrize("img_size", [256, (192, 288), 64])
def test_other_resolutions_and_batches(img_size):
    model = lsnet.create_model("lsnet_t", img_size=img_size, num_classes=10)
    size = (img_size, img_size) if isinstance(img_size, int) else img_size
    with torch.no_grad():
        out = model(torch.randn(3, 3, *size))
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    assert model.pretrained_cfg.input_size == (3, *size)


def test_smaller_input_than_built_reuses_bias_table_and_larger_is_refused():
    model = lsnet.create_model("lsnet_t", img_size=256)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
        with pytest.raises(lsnet.LsnetError, match="img_size"):
            model(torch.randn(1, 3, 320, 320))


def test_fp16_forward_close_to_fp32():
    torch.manual_seed(0)
    model = lsnet.reparameterize(lsnet.create_model("lsnet_t"))
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ref = model(x)
        half = lsnet.set_ska(model.half(), "shift")(x.half()).float()
    assert torch.nn.functional.cosine_similarity(ref.flatten(), half.flatten(), dim=0) > 0.999


def test_backward_runs_in_train_mode():
    model = lsnet.create_model("lsnet_t", num_classes=5, ska="shift").train()
    out = model(torch.randn(2, 3, 64, 64))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
