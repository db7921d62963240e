"""Load official-format and other common checkpoint layouts into an LSNet model."""
import logging
import os
import pickle
import textwrap
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lsnet.attention import COMPUTED_BUFFER_SUFFIX
from lsnet.errors import CheckpointError, CheckpointMismatchError
from lsnet.variant_of import matching_variants

log = logging.getLogger(__name__)

WRAPPER_KEYS = ("model", "state_dict", "model_ema", "module")
HEAD_PREFIXES = ("head.", "head_dist.")
SHOWN_KEYS = 3
REASON_WIDTH = 120
WEIGHTS_ONLY_REFUSAL = "Weights only load failed"


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a flat {key: tensor} dict (unwrapped, ``module.`` stripped)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}. Pass the path of an existing .pth or .safetensors file.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw: Any = load_file(str(path))
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if WEIGHTS_ONLY_REFUSAL not in str(exc):
            raise CheckpointError(unreadable_message(path, exc)) from exc
        blocked = next((line.strip() for line in str(exc).splitlines() if "GLOBAL" in line), "")
        raise CheckpointError(
            f"cannot read checkpoint {path}: unsafe pickle: it would run code on load; only weights_only checkpoints"
            f" are accepted{f' ({blocked})' if blocked else ''}. Re-save just the weights with"
            " torch.save(model.state_dict(), PATH) from a trusted source, or use .safetensors."
        ) from exc
    except Exception as exc:  # torch/safetensors raise many types for truncated or foreign files
        raise CheckpointError(unreadable_message(path, exc)) from exc
    return unwrap_state_dict(raw, path)


def unreadable_message(path: Path, exc: Exception) -> str:
    """One line for a file torch/safetensors cannot read, quoting the reason cut at a word boundary."""
    text = str(exc).strip()
    reason = textwrap.shorten(text.splitlines()[0], REASON_WIDTH, placeholder=" ...") if text else type(exc).__name__
    return (
        f"cannot read checkpoint {path}: the file is truncated, corrupt or not a PyTorch/safetensors checkpoint"
        f" ({reason}). Re-download it or pass another file."
    )


def unwrap_state_dict(raw: Any, path: Path) -> dict[str, torch.Tensor]:
    """Find the state dict inside ``{"model": ...}``/``{"state_dict": ...}`` wrappers; strip ``module.``."""
    while isinstance(raw, dict) and not _is_state_dict(raw):
        inner = next((raw[k] for k in WRAPPER_KEYS if isinstance(raw.get(k), dict)), None)
        if inner is None:
            break
        raw = inner
    if not isinstance(raw, dict) or not _is_state_dict(raw):
        raise CheckpointError(
            f"{path} holds no model state dict (expected tensors, or a dict with one of "
            f"{', '.join(WRAPPER_KEYS)}). Pass an LSNet checkpoint."
        )
    return {k.removeprefix("module."): v for k, v in raw.items() if isinstance(v, torch.Tensor)}


def _is_state_dict(d: dict) -> bool:
    return bool(d) and all(isinstance(k, str) for k in d) and any(isinstance(v, torch.Tensor) for v in d.values())


def resize_attention_biases(table: torch.Tensor, size: tuple[int, int], key: str) -> torch.Tensor:
    """Bicubically interpolate a (heads, r*r) bias table trained at r x r to ``size``."""
    heads, entries = table.shape
    side = round(entries**0.5)
    if side * side != entries:
        raise CheckpointMismatchError(f"{key}: {entries} entries is not a square bias table.")
    grid = table.reshape(1, heads, side, side).float()
    resized = F.interpolate(grid, size=size, mode="bicubic", align_corners=False)
    log.info("resized %s from %dx%d to %dx%d for the model's input size", key, side, side, *size)
    return resized.reshape(heads, size[0] * size[1]).to(table.dtype)


def adapt_state_dict(
    model: nn.Module, state: dict[str, torch.Tensor], random_head: bool = False
) -> dict[str, torch.Tensor]:
    """Fit a checkpoint to ``model``: drop computed buffers, resize bias tables; a head of another class count
    is replaced by the model's random one only with ``random_head`` (otherwise ``check_fit`` refuses it)."""
    expected = model.state_dict()
    state = {k: v for k, v in state.items() if not k.endswith(COMPUTED_BUFFER_SUFFIX)}
    for key, value in list(state.items()):
        target = expected.get(key)
        if key.endswith("attention_biases") and target is not None and target.shape != value.shape:
            if target.shape[0] == value.shape[0]:
                module = model.get_submodule(key.rpartition(".")[0])
                state[key] = resize_attention_biases(value, module.resolution, key)
    head_keys = [k for k in state if k.startswith(HEAD_PREFIXES)]
    model_has_head = any(k.startswith(HEAD_PREFIXES) for k in expected)
    if head_keys and not model_has_head:
        log.info("model has no classifier head: ignoring %d head keys of the checkpoint", len(head_keys))
        state = {k: v for k, v in state.items() if k not in head_keys}
    elif random_head and model_has_head and foreign_head(expected, state, head_keys):
        log.warning(
            "RANDOM CLASSIFIER HEAD: the checkpoint's head has %s classes, the model %d; the head is replaced by a "
            "randomly initialised one (--random-head), so predictions are meaningless until it is trained",
            head_classes(state), model.num_classes,
        )
        state = {k: v for k, v in state.items() if k not in head_keys}
        state.update({k: v for k, v in expected.items() if k.startswith(HEAD_PREFIXES)})
    return state


def head_classes(state: dict[str, torch.Tensor]) -> int | None:
    """Number of classes of a state dict's classifier head (``head.l.weight`` rows), or None without a head."""
    weight = state.get("head.l.weight")
    if weight is None or weight.dim() != 2:
        return None
    dist = state.get("head_dist.l.weight")
    if dist is not None and dist.shape[0] != weight.shape[0]:
        raise CheckpointMismatchError(
            f"the checkpoint's head has {weight.shape[0]} classes but head_dist {dist.shape[0]}; pass a consistent checkpoint."
        )
    return int(weight.shape[0])


def check_head(model: nn.Module, state: dict[str, torch.Tensor], path: str | os.PathLike, random_head: bool) -> None:
    """Refuse a checkpoint head whose class count differs from the model's, unless ``random_head``."""
    classes = head_classes(state)
    if random_head or classes is None or getattr(model, "num_classes", 0) in (0, classes):
        return
    raise CheckpointMismatchError(
        f"{path} has a {classes}-class head but {model.num_classes} classes were asked for: drop --num-classes "
        f"(num_classes=) to use the checkpoint's head, or pass --random-head (random_head=True) to replace it "
        f"with a random {model.num_classes}-class head."
    )


def foreign_head(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], head_keys: list[str]) -> bool:
    """Whether the checkpoint's head differs from the model's in the class count only (the features fit).

    A head whose feature width differs belongs to another backbone: that is a mismatch for ``check_fit``.
    """
    misfit = [k for k in head_keys if k in expected and expected[k].shape != state[k].shape]
    return bool(misfit) and all(
        k.endswith((".l.weight", ".l.bias")) and expected[k].shape[1:] == state[k].shape[1:] for k in misfit
    )


def check_fit(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Raise a CheckpointMismatchError naming missing, unexpected and mis-shaped keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items() if k in state and state[k].shape != v.shape
    ]
    if not (missing or unexpected or misshaped):
        return
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)):
        if keys:
            shown = ", ".join(keys[:SHOWN_KEYS]) + (", ..." if len(keys) > SHOWN_KEYS else "")
            parts.append(f"{len(keys)} {label} ({shown})")
    name = getattr(model, "name", type(model).__name__)
    fits = [v for v in matching_variants(state) if v != name]
    hint = f" The checkpoint fits {' / '.join(fits)}: use that model name." if fits else " Pass a checkpoint of this variant."
    raise CheckpointMismatchError(f"checkpoint does not fit {name}: {'; '.join(parts)}.{hint}")


def load_checkpoint(
    model: nn.Module, path: str | os.PathLike, *, random_head: bool = False, state: dict[str, torch.Tensor] | None = None
) -> nn.Module:
    """Load ``path`` into ``model`` (official ``{"model": ...}``, plain, ``state_dict``, ``module.``, safetensors).

    ``state`` is the already-read state dict of ``path`` (saves a second read)."""
    state = read_state_dict(path) if state is None else state
    check_head(model, state, path, random_head)
    state = adapt_state_dict(model, state, random_head)
    check_fit(model, state)
    model.load_state_dict(state, strict=True)
    return model
