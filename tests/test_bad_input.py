"""Bad input that used to escape as an internal error or a wrong result: one clear line each."""
import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import lsnet
from cli_helpers import REPO, assert_one_line_error, run_cli
from lsnet.errors import CheckpointError, CheckpointMismatchError, InvalidResolutionError


@pytest.mark.parametrize("random_head", [False, True])
def test_a_checkpoint_of_another_variant_is_a_mismatch_naming_it_not_a_head_warning(make_official_checkpoint, caplog, random_head):
    with caplog.at_level(logging.WARNING, logger="lsnet.checkpoint"), pytest.raises(CheckpointMismatchError) as err:
        lsnet.create_model("lsnet_t", checkpoint_path=make_official_checkpoint("lsnet_s"), random_head=random_head)
    assert "fits lsnet_s" in str(err.value)
    assert not [r for r in caplog.records if "head" in r.message.lower()]


class _RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_a_pickle_that_runs_code_is_called_unsafe(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": _RunsCode()}, path)
    with pytest.raises(CheckpointError) as err:
        lsnet.create_model("lsnet_t", checkpoint_path=path)
    message = str(err.value)
    assert "unsafe pickle: it would run code on load; only weights_only checkpoints are accepted" in message
    assert "truncated" not in message and "posix.getcwd" in message and "\n" not in message


def test_the_reason_of_an_unreadable_file_is_cut_at_a_word(tmp_path: Path) -> None:
    from lsnet.checkpoint import REASON_WIDTH, unreadable_message

    words = " ".join(f"word{i}" for i in range(100))
    message = unreadable_message(tmp_path / "x.pth", RuntimeError(words))
    reason = message[message.index("(") + 1:message.index(")")]
    assert len(reason) <= REASON_WIDTH and reason.endswith(" ...")
    assert all(w.startswith("word") and w[4:].isdigit() for w in reason.removesuffix(" ...").split())


@pytest.mark.parametrize("size", [99992, (224, 8192)])
def test_huge_img_size_is_refused_by_the_api(size) -> None:
    with pytest.raises(InvalidResolutionError, match="too large: at most 4096 per side"):
        lsnet.create_model("lsnet_t", img_size=size)


def test_huge_img_size_is_one_line_from_the_cli_before_work(tmp_path: Path) -> None:
    started = time.perf_counter()
    proc = run_cli("export", "lsnet_t", "--img-size", "99992", "-o", str(tmp_path / "m.onnx"))
    assert_one_line_error(proc, "99992", "at most 4096")
    assert time.perf_counter() - started < 60 and list(tmp_path.iterdir()) == []


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_16_bit_grey_png_decodes_to_the_same_grey() -> None:
    from lsnet.preprocess import load_image

    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    decoded = np.asarray(load_image(_png(ramp)))
    assert decoded.shape == (64, 64, 3)
    np.testing.assert_allclose(decoded[..., 0], ramp / 257.0, atol=0.51)
    half = np.asarray(load_image(_png(np.full((8, 8), 32768, np.uint16))))
    assert np.all(np.abs(half.astype(int) - 128) <= 1)


def test_a_decompression_bomb_is_one_clear_error(monkeypatch) -> None:
    from PIL import Image

    from lsnet.preprocess import ImageReadError, load_image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL refuses above twice this
    with pytest.raises(ImageReadError, match="too large to decode safely.*downscale it"):
        load_image(_png(np.zeros((100, 100), np.uint8)))


def test_ctrl_c_during_an_export_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsnet.cli", "export", "lsnet_t", "--img-size", "64", "--no-validate", "-o", str(tmp_path)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".lsnet-tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
