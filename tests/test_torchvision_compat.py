"""bench/torchvision_compat.py: timm's torchvision import where torchvision's compiled ops cannot load."""
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import sys, types
    from pathlib import Path
    import torch
    from lsnet.bench import torchvision_compat as compat

    folder = Path(sys.argv[1])
    (folder / "_C.so").write_bytes(b"not a shared library")  # stands in for a CUDA-linked extension
    compat.extension_path = lambda: folder / "_C.so"
    assert compat.declare_ops_if_extension_fails()
    assert hasattr(torch.ops.torchvision, "nms") and hasattr(torch.ops.torchvision, "qnms")
    torch.library.register_fake("torchvision::nms")(lambda dets, scores, iou_threshold: dets[:, 0].long())
    assert not compat.declare_ops_if_extension_fails()  # once only
    print("ok")
    """
)


def test_schemas_are_declared_when_the_extension_does_not_load(tmp_path: Path) -> None:
    """torchvision's import registers a fake kernel for torchvision::nms: that must work after the declaration."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
    assert "compiled ops do not load" in done.stderr


def test_nothing_is_declared_without_torchvision(monkeypatch) -> None:
    from lsnet.bench import torchvision_compat as compat

    monkeypatch.setattr(compat, "extension_path", lambda: None)
    assert not compat.declare_ops_if_extension_fails()
