"""``lsnet export --format triton``: a model repository that Triton's own ModelConfig protobuf accepts."""
import json
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tritonclient")


@pytest.fixture(scope="module")
def repository(lsnet_t_checkpoint, tmp_path_factory):
    from lsnet.export import export

    target = tmp_path_factory.mktemp("triton") / "models"
    result = export("lsnet_t", "triton", weights=lsnet_t_checkpoint, output=target, max_batch=16, instances=2)
    result.root = target
    return result


def test_layout_and_parity(repository) -> None:
    root = repository.root
    assert repository.path == root / "lsnet_t" / "1"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "lsnet_t/1/model.onnx", "lsnet_t/1/model.onnx.json", "lsnet_t/config.pbtxt", "lsnet_t/labels.txt",
    ]
    assert repository.sidecar == root / "lsnet_t/1/model.onnx.json"
    assert repository.parity is not None and repository.parity.passed
    sidecar = json.loads((root / "lsnet_t/1/model.onnx.json").read_text())
    assert sidecar["triton"]["model_name"] == "lsnet_t" and sidecar["triton"]["version"] == "1"
    assert sidecar["ska"] == "conv_im2col"
    assert not list(root.parent.glob(".*")) and not list(root.rglob(".*"))


def test_config_parses_with_triton_protobuf_and_names_the_onnx_io(repository) -> None:
    import onnx

    from lsnet.export.triton_repository import model_config_pb2, parse_config

    config = parse_config(repository.root / "lsnet_t" / "config.pbtxt")
    pb = model_config_pb2()
    graph = onnx.load(str(repository.root / "lsnet_t/1/model.onnx")).graph
    assert config.name == "lsnet_t" and config.backend == "onnxruntime" and config.max_batch_size == 16
    assert [i.name for i in config.input] == [graph.input[0].name] == ["input"]
    assert [o.name for o in config.output] == [graph.output[0].name] == ["logits"]
    assert list(config.input[0].dims) == [3, 224, 224] and list(config.output[0].dims) == [1000]
    assert pb.DataType.Name(config.input[0].data_type) == "TYPE_FP32"
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 8, 16]
    assert config.instance_group[0].count == 2
    assert pb.ModelInstanceGroup.Kind.Name(config.instance_group[0].kind) == "KIND_CPU"
    labels = (repository.root / "lsnet_t" / config.output[0].label_filename).read_text().splitlines()
    assert len(labels) == 1000 and labels[1] == "goldfish"


def test_a_config_that_contradicts_the_model_is_refused(repository, tmp_path) -> None:
    import shutil

    from lsnet.export.triton_repository import TritonConfigError, check_config

    copy = tmp_path / "lsnet_t"
    shutil.copytree(repository.root / "lsnet_t", copy)
    config = copy / "config.pbtxt"
    config.write_text(config.read_text().replace("dims: [ 3, 224, 224 ]", "dims: [ 3, 256, 256 ]").replace('name: "logits"', 'name: "probs"'))
    with pytest.raises(TritonConfigError, match=r"input dims \[3, 256, 256\].*output name 'probs'|output name 'probs'.*input dims"):
        check_config(config, copy / "1" / "model.onnx", "lsnet_t")
    config.write_text("name: lsnet_t\nmax_batch_size: [")
    with pytest.raises(TritonConfigError, match="not a valid Triton model config"):
        check_config(config, copy / "1" / "model.onnx", "lsnet_t")


def test_fixed_batch_repository_has_full_dims_and_no_dynamic_batching(tmp_path) -> None:
    from lsnet.export import export
    from lsnet.export.triton_repository import parse_config

    result = export("lsnet_t", "triton", output=tmp_path / "repo", batch=2, img_size=160)
    config = parse_config(result.path.parent / "config.pbtxt")
    assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
    assert list(config.input[0].dims) == [2, 3, 160, 160] and list(config.output[0].dims) == [2, 1000]


def test_unknown_backend_is_one_clear_error_and_leaves_nothing(tmp_path) -> None:
    from lsnet.errors import UnknownOptionError
    from lsnet.export import export

    with pytest.raises(UnknownOptionError, match="unknown Triton backend 'tensorrtt'.*Did you mean 'tensorrt'"):
        export("lsnet_t", "triton", output=tmp_path / "repo", backend="tensorrtt")
    assert list(tmp_path.iterdir()) == []


def hand_made_model(repository: Path) -> dict[str, bytes]:
    """A model folder someone wrote by hand (no lsnet sidecar); returns its files' bytes."""
    model = repository / "resnet"
    (model / "3").mkdir(parents=True)
    (model / "config.pbtxt").write_text('name: "resnet"\nbackend: "onnxruntime"\n')
    (model / "3" / "model.onnx").write_bytes(b"hand-made model")
    return {p.relative_to(repository).as_posix(): p.read_bytes() for p in model.rglob("*") if p.is_file()}


def test_exports_add_models_and_versions_and_touch_nothing_else(tmp_path: Path) -> None:
    from cli_helpers import run_cli

    from lsnet.export import export

    repository = tmp_path / "models"
    kept = hand_made_model(repository)
    fast = dict(img_size=64, simplify=False, output=repository)
    first = export("lsnet_t", "triton", validate=False, **fast)
    second = export("lsnet_s", "triton", **fast)
    third = export("lsnet_t", "triton", validate=False, **fast)
    assert (first.path, second.path, third.path) == (repository / "lsnet_t/1", repository / "lsnet_s/1", repository / "lsnet_t/2")
    assert second.parity.passed
    files = {p.relative_to(repository).as_posix() for p in repository.rglob("*") if p.is_file()}
    for model, versions in (("lsnet_t", (1, 2)), ("lsnet_s", (1,))):
        assert {f"{model}/config.pbtxt", f"{model}/labels.txt"} <= files
        assert all({f"{model}/{v}/model.onnx", f"{model}/{v}/model.onnx.json"} <= files for v in versions)
    assert {k: (repository / k).read_bytes() for k in kept} == kept
    assert not (tmp_path / "models.json").exists() and not list(repository.rglob(".*"))
    # replacing one version keeps the other; a named model goes to its own folder
    first_bytes = (repository / "lsnet_t/1/model.onnx").read_bytes()
    export("lsnet_t", "triton", validate=False, version=2, **fast)
    export("lsnet_t", "triton", validate=False, model_name="classifier", **fast)
    assert (repository / "lsnet_t/1/model.onnx").read_bytes() == first_bytes
    assert sorted(p.name for p in (repository / "lsnet_t").iterdir()) == ["1", "2", "config.pbtxt", "labels.txt"]
    assert (repository / "classifier/1/model.onnx").is_file()
    assert 'name: "classifier"' in (repository / "classifier/config.pbtxt").read_text()
    # validate accepts the model folder (latest version) and a version folder
    for path in (repository / "lsnet_s", repository / "lsnet_s" / "1"):
        proc = run_cli("validate", str(path))
        assert proc.returncode == 0 and "parity: PASSED" in proc.stdout, proc.stderr


def test_hand_made_models_and_versions_are_refused_before_work(tmp_path: Path) -> None:
    from lsnet.errors import OutputPathError
    from lsnet.export import export

    repository = tmp_path / "models"
    kept = hand_made_model(repository)
    with pytest.raises(OutputPathError, match="lsnet did not export"):
        export("lsnet_t", "triton", img_size=64, output=repository, model_name="resnet")
    (repository / "lsnet_t" / "5").mkdir(parents=True)
    with pytest.raises(OutputPathError, match="was not exported by lsnet"):
        export("lsnet_t", "triton", img_size=64, output=repository, version=5)
    assert {k: (repository / k).read_bytes() for k in kept} == kept


def test_a_version_that_does_not_fit_the_shared_config_is_refused(tmp_path: Path) -> None:
    from lsnet.errors import OutputPathError
    from lsnet.export import export

    repository = tmp_path / "models"
    export("lsnet_t", "triton", img_size=64, validate=False, simplify=False, output=repository)
    before = (repository / "lsnet_t/config.pbtxt").read_text()
    with pytest.raises(OutputPathError, match="version 1 of .* has another input, and all versions share one config.pbtxt.*choose another --model-name"):
        export("lsnet_t", "triton", img_size=96, validate=False, simplify=False, output=repository)
    assert (repository / "lsnet_t/config.pbtxt").read_text() == before
    assert sorted(p.name for p in (repository / "lsnet_t").iterdir()) == ["1", "config.pbtxt", "labels.txt"]


def test_runners_and_bench_targets_open_model_and_version_folders(tmp_path: Path) -> None:
    from lsnet.bench.targets import parse_target
    from lsnet.errors import ArtifactError
    from lsnet.export import export
    from lsnet.runtimes.model_repository import resolve_artifact
    from lsnet.runtimes.registry import open_runner

    repository = tmp_path / "models"
    for _ in range(2):
        export("lsnet_t", "triton", img_size=64, validate=False, simplify=False, output=repository)
    assert resolve_artifact(repository / "lsnet_t") == repository / "lsnet_t/2/model.onnx"
    assert resolve_artifact(repository / "lsnet_t/1") == repository / "lsnet_t/1/model.onnx"
    assert parse_target(str(repository / "lsnet_t")).name == str(repository / "lsnet_t/2/model.onnx")
    with open_runner(repository / "lsnet_t") as runner:
        assert tuple(runner.input_spec.shape[2:]) == (64, 64)
    (repository / "empty").mkdir()
    (repository / "empty/config.pbtxt").write_text('name: "empty"\n')
    with pytest.raises(ArtifactError, match="has no version folder"):
        resolve_artifact(repository / "empty")


# ---------------------------------------------------------------- the tensorrt backend, with TensorRT faked

FAKE_GPU = {"tensorrt_version": "10.8.0.43", "gpu": "NVIDIA A10", "compute_capability": "8.6"}


@pytest.fixture
def fake_tensorrt(monkeypatch):
    """TensorRT stood in for: the "engine" is the ONNX graph's bytes; the runner runs them with ONNX Runtime but,
    like the real one, refuses any device but CUDA and checks the sidecar's ``tensorrt`` block against this GPU.
    Returns the list of ONNX exports made."""
    import types

    from lsnet.export import onnx_exporter, tensorrt_exporter
    from lsnet.runtimes import tensorrt_env, tensorrt_runner
    from lsnet.runtimes.artifact_metadata import read_sidecar
    from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    class FakeTensorRTRunner(OnnxRuntimeRunner):
        here = dict(FAKE_GPU)

        def __init__(self, path, device="cuda", **options):
            from lsnet.errors import DeviceUnavailableError

            if not str(device).startswith("cuda"):
                raise DeviceUnavailableError(f"TensorRT engines run on CUDA devices, not '{device}'.")
            tensorrt_env.check_engine_compatible(read_sidecar(Path(path)).get("tensorrt"), self.here, path)
            super().__init__(path, "cpu")

    exports = _Exports()
    real_export_onnx = onnx_exporter.export_onnx

    def counting_export_onnx(model, options, path):
        exports.append(Path(path))
        return real_export_onnx(model, options, path)

    monkeypatch.setattr(onnx_exporter, "export_onnx", counting_export_onnx)
    monkeypatch.setattr(tensorrt_env, "require_tensorrt_gpu", lambda *a, **k: types.SimpleNamespace(__version__=FAKE_GPU["tensorrt_version"]))
    monkeypatch.setattr(tensorrt_env, "engine_environment", lambda *a, **k: dict(FAKE_GPU))
    monkeypatch.setattr(tensorrt_exporter, "build_engine", lambda trt, onnx_path, options, batch_range: (Path(onnx_path).read_bytes(), {}))
    monkeypatch.setattr(tensorrt_runner, "TensorRTRunner", FakeTensorRTRunner)
    exports.runner = FakeTensorRTRunner
    return exports


class _Exports(list):
    runner: type


def test_tensorrt_backend_validates_on_cuda_exports_onnx_once_and_records_the_engine_setup(fake_tensorrt, tmp_path: Path) -> None:
    from lsnet.export import export
    from lsnet.export.validate import validate_artifact
    from lsnet.runtimes.registry import open_runner
    from lsnet.runtimes.tensorrt_env import EngineMismatchError

    repository = tmp_path / "models"
    result = export("lsnet_t", "triton", backend="tensorrt", img_size=64, simplify=False, max_batch=4, output=repository)
    assert result.parity.passed  # validated through the TensorRT runner, which refuses the CPU
    assert len(fake_tensorrt) == 1  # one ONNX export feeds the engine
    files = sorted(p.relative_to(repository).as_posix() for p in repository.rglob("*") if p.is_file())
    assert files == ["lsnet_t/1/model.plan", "lsnet_t/1/model.plan.json", "lsnet_t/config.pbtxt", "lsnet_t/labels.txt"]
    sidecar = json.loads(result.sidecar.read_text())
    assert {k: sidecar["tensorrt"][k] for k in FAKE_GPU} == FAKE_GPU and sidecar["tensorrt"]["batch_range"] == [1, 2, 4]
    assert sidecar["versions"]["tensorrt"] == FAKE_GPU["tensorrt_version"]
    assert validate_artifact(repository / "lsnet_t", device="cuda").passed
    with open_runner(repository / "lsnet_t", device="cuda"):
        pass
    fake_tensorrt.runner.here = {**FAKE_GPU, "gpu": "NVIDIA H200"}
    with pytest.raises(EngineMismatchError, match="GPU NVIDIA A10 \\(built\\) vs NVIDIA H200 \\(here\\)"):
        open_runner(repository / "lsnet_t", device="cuda")


def test_tensorrt_backend_without_tensorrt_fails_before_any_work(tmp_path: Path) -> None:
    from lsnet.deps import try_import
    from lsnet.export import export
    from lsnet.runtimes.tensorrt_env import TensorRTUnavailableError

    if try_import("tensorrt")[0] is not None:
        pytest.skip("checks the refusal on machines without TensorRT")
    with pytest.raises(TensorRTUnavailableError, match="TensorRT"):
        export("lsnet_t", "triton", backend="tensorrt", output=tmp_path / "models")
    assert list(tmp_path.iterdir()) == []
