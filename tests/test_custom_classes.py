"""Custom heads: the checkpoint's head decides num_classes; labels travel into every artifact's metadata."""
import json

import pytest
import torch
from cli_helpers import assert_one_line_error, run_cli

import lsnet


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    """A 7-class lsnet_t checkpoint and its labels file."""
    folder = tmp_path_factory.mktemp("seven")
    torch.save({"model": lsnet.create_model("lsnet_t", num_classes=7).state_dict()}, folder / "seven.pth")
    (folder / "labels.txt").write_text("\n".join(f"thing {i}" for i in range(7)) + "\n")
    return folder / "seven.pth", folder / "labels.txt"


def test_seven_class_checkpoint_exports_seven_outputs_with_labels(seven, tmp_path):
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "seven.onnx"
    proc = run_cli("export", "lsnet_t", "--weights", str(seven[0]), "--labels", str(seven[1]), "-o", str(out), "--no-validate")
    assert proc.returncode == 0, proc.stderr
    model = onnx.load(str(out))
    assert model.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 7
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["labels"]) == [f"thing {i}" for i in range(7)] and props["num_classes"] == "7"
    sidecar = json.loads((tmp_path / "seven.onnx.json").read_text())
    assert sidecar["num_classes"] == 7 and sidecar["labels"][6] == "thing 6"


def test_head_and_num_classes_mismatch_is_one_line_and_writes_nothing(seven, tmp_path):
    out = tmp_path / "bad.onnx"
    proc = run_cli("export", "lsnet_t", "--weights", str(seven[0]), "--num-classes", "10", "-o", str(out))
    assert_one_line_error(proc, "7-class head", "10 classes", "--random-head")
    assert list(tmp_path.iterdir()) == []


def test_labels_that_do_not_fit_the_head_are_one_line(seven, tmp_path):
    labels = tmp_path / "three.json"
    labels.write_text('["a", "b", "c"]')
    proc = run_cli("export", "lsnet_t", "--weights", str(seven[0]), "--labels", str(labels), "-o", str(tmp_path / "x.onnx"))
    assert_one_line_error(proc, "3 names", "7 classes")
    assert not (tmp_path / "x.onnx").exists()


def test_labels_files_text_and_json(tmp_path):
    from lsnet.errors import LabelsError
    from lsnet.labels import read_labels

    (tmp_path / "a.txt").write_text("cat\ndog\n\n")
    (tmp_path / "b.json").write_text('["cat", "dog"]')
    assert read_labels(tmp_path / "a.txt") == read_labels(tmp_path / "b.json") == ["cat", "dog"]
    (tmp_path / "c.txt").write_text("cat\ncat\n")
    with pytest.raises(LabelsError, match="more than once"):
        read_labels(tmp_path / "c.txt")


def test_coreml_classifier_carries_the_labels(seven, tmp_path):
    """Spec check (Linux): the Core ML classifier's class labels are the given names."""
    pytest.importorskip("coremltools")
    from lsnet.export import export
    from lsnet.export.coreml_spec import summarize

    path = export("lsnet_t", "coreml", weights=seven[0], labels=seven[1], output=tmp_path / "s.mlpackage", validate=False).path
    assert summarize(path).labels == [f"thing {i}" for i in range(7)]


def test_triton_repository_writes_the_labels(seven, tmp_path):
    pytest.importorskip("onnx")
    from lsnet.export import export

    export("lsnet_t", "triton", weights=seven[0], labels=seven[1], output=tmp_path / "repo", validate=False)
    (labels,) = (tmp_path / "repo").rglob("labels.txt")
    assert labels.read_text().splitlines() == [f"thing {i}" for i in range(7)]
    assert 'label_filename: "labels.txt"' in (labels.parent / "config.pbtxt").read_text()
