"""LiteRT INT8 with random weights: the integer .tflite runs from float images, its sidecar says how it computes,
the FP32-agreement gate refuses a broken conversion with nothing written, and bad options fail before any work."""
import numpy as np
import pytest
import torch

litert_torch = pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert.interpreter")
pytest.importorskip("torchao.quantization.pt2e")

from lsnet.errors import LsnetError, ParityError  # noqa: E402
from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

SIZE = 96  # small images keep calibration and conversion fast; the graph is the same


@pytest.fixture(scope="module")
def int8_tflite(tmp_path_factory):
    """An INT8 export of the seeded random lsnet_t on synthetic calibration; any agreement accepted (random
    weights give near-flat logits) so the artifact and its record can be inspected."""
    out = tmp_path_factory.mktemp("litert_int8") / "lsnet_t_int8.tflite"
    return export("lsnet_t", "litert", img_size=SIZE, int8=True, calib="8", int8_threshold=0.0, output=out)


def test_integer_model_runs_from_float_images(int8_tflite) -> None:
    meta = read_sidecar(int8_tflite.path)
    assert meta["precision"] == "int8" and meta["format"] == "litert" and meta["batch"] == 1
    int8 = meta["int8"]
    assert int8["input"]["dtype"] == "int8" and int8["output"]["dtype"] == "int8" and int8["input"]["scale"] > 0
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} <= set(int8["ops_on_int8"])
    assert "CONV_2D" not in int8["ops_on_float"]
    assert int8["calibration"]["synthetic"] and int8["threshold"] == 0.0
    [gate] = int8["agreement_with_fp32"]["cases"]
    assert gate["case"] == "held-out image-like (32)" and 0.0 <= gate["top1_agreement"] <= 1.0
    x = np.random.default_rng(0).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)
    with open_runner(int8_tflite.path) as runner:
        assert runner.info.precision == "int8" and runner.input_spec.dtype == "float32"
        logits = runner.infer(x)
    assert logits.dtype == np.float32 and logits.shape == (1, 1000) and np.isfinite(logits).all()
    assert len(np.unique(logits)) > 10  # dequantized logits, not a constant


def test_quantized_tensors_round_trip_through_the_runner_helpers() -> None:
    from lsnet.runtimes.litert_runner import from_tensor, to_tensor

    detail = {"dtype": np.int8, "quantization": (0.5, -3)}
    x = np.array([[-100.0, -1.0, 0.0, 0.74, 100.0]], np.float32)
    q = to_tensor(x, detail)
    assert q.dtype == np.int8 and q.tolist() == [[-128, -5, -3, -2, 127]]
    np.testing.assert_allclose(from_tensor(q, detail), [[-62.5, -1.0, 0.0, 0.5, 65.0]])
    assert to_tensor(x, {"dtype": np.float32, "quantization": (0.0, 0)}).dtype == np.float32


def test_gate_refuses_a_broken_integer_model_and_writes_nothing(monkeypatch, tmp_path) -> None:
    real = litert_torch.convert

    def corrupting(program, args, **kwargs):
        # a sign-flipped classifier: a valid, quantized flatbuffer with wrong logits. New tensors, not in place:
        # the exported program shares its weights with the FP32 model the gate compares against
        for name, tensor in [*program.named_parameters(), *program.named_buffers()]:
            if name.startswith("head"):
                owner, _, leaf = name.rpartition(".")
                flipped = -tensor.detach().clone()
                setattr(program.get_submodule(owner), leaf, torch.nn.Parameter(flipped, False) if isinstance(tensor, torch.nn.Parameter) else flipped)
        return real(program, args, **kwargs)

    monkeypatch.setattr(litert_torch, "convert", corrupting)
    (tmp_path / "keep.txt").write_text("user file")
    with pytest.raises(ParityError, match=r"INT8 model disagrees with FP32: .*top-1 agreement .*Nothing was written"):
        export("lsnet_t", "litert", img_size=SIZE, int8=True, calib="8", int8_threshold=0.5, output=tmp_path / "bad.tflite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("options, message", [
    ({"int8_threshold": 1.5, "calib": "8"}, "between 0 and 1"),
    ({"half": True, "calib": "8"}, "cannot be combined"),
])
def test_bad_int8_options_fail_before_any_work(tmp_path, options, message) -> None:
    with pytest.raises(LsnetError, match=message):
        export("lsnet_t", "litert", int8=True, output=tmp_path / "m.tflite", **options)
    assert list(tmp_path.iterdir()) == []
