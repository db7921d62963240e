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
    return export("lsnet_t", "triton", weights=lsnet_t_checkpoint, output=target, max_batch=16, instances=2)


def test_layout_and_parity(repository) -> None:
    root = repository.path
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "lsnet_t/1/model.onnx", "lsnet_t/1/model.onnx.json", "lsnet_t/config.pbtxt", "lsnet_t/labels.txt",
    ]
    assert repository.parity is not None and repository.parity.passed
    sidecar = json.loads((root / "lsnet_t/1/model.onnx.json").read_text())
    assert sidecar["triton"]["model_name"] == "lsnet_t" and sidecar["ska"] == "conv_im2col"
    assert not list(root.parent.glob(".*partial*"))


def test_config_parses_with_triton_protobuf_and_names_the_onnx_io(repository) -> None:
    import onnx

    from lsnet.export.triton_repository import model_config_pb2, parse_config

    config = parse_config(repository.path / "lsnet_t" / "config.pbtxt")
    pb = model_config_pb2()
    graph = onnx.load(str(repository.path / "lsnet_t/1/model.onnx")).graph
    assert config.name == "lsnet_t" and config.backend == "onnxruntime" and config.max_batch_size == 16
    assert [i.name for i in config.input] == [graph.input[0].name] == ["input"]
    assert [o.name for o in config.output] == [graph.output[0].name] == ["logits"]
    assert list(config.input[0].dims) == [3, 224, 224] and list(config.output[0].dims) == [1000]
    assert pb.DataType.Name(config.input[0].data_type) == "TYPE_FP32"
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 8, 16]
    assert config.instance_group[0].count == 2
    assert pb.ModelInstanceGroup.Kind.Name(config.instance_group[0].kind) == "KIND_CPU"
    labels = (repository.path / "lsnet_t" / config.output[0].label_filename).read_text().splitlines()
    assert len(labels) == 1000 and labels[1] == "goldfish"


def test_a_config_that_contradicts_the_model_is_refused(repository, tmp_path) -> None:
    import shutil

    from lsnet.export.triton_repository import TritonConfigError, check_config

    copy = tmp_path / "lsnet_t"
    shutil.copytree(repository.path / "lsnet_t", copy)
    config = copy / "config.pbtxt"
    config.write_text(config.read_text().replace("dims: [ 3, 224, 224 ]", "dims: [ 3, 256, 256 ]").replace('name: "logits"', 'name: "probs"'))
    with pytest.raises(TritonConfigError, match=r"input dims \[3, 256, 256\].*output name 'probs'|output name 'probs'.*input dims"):
        check_config(copy)
    config.write_text("name: lsnet_t\nmax_batch_size: [")
    with pytest.raises(TritonConfigError, match="not a valid Triton model config"):
        check_config(copy)


def test_fixed_batch_repository_has_full_dims_and_no_dynamic_batching(tmp_path) -> None:
    from lsnet.export import export
    from lsnet.export.triton_repository import parse_config

    result = export("lsnet_t", "triton", output=tmp_path / "repo", batch=2, img_size=160)
    config = parse_config(result.path / "lsnet_t" / "config.pbtxt")
    assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
    assert list(config.input[0].dims) == [2, 3, 160, 160] and list(config.output[0].dims) == [2, 1000]


def test_unknown_backend_is_one_clear_error_and_leaves_nothing(tmp_path) -> None:
    from lsnet.errors import UnknownOptionError
    from lsnet.export import export

    with pytest.raises(UnknownOptionError, match="unknown Triton backend 'tensorrtt'.*Did you mean 'tensorrt'"):
        export("lsnet_t", "triton", output=tmp_path / "repo", backend="tensorrtt")
    assert list(tmp_path.iterdir()) == []
