"""Typed errors: each carries one line for the user that names the problem and the fix."""


class LsnetError(Exception):
    """Base class for errors shown to the user as one line, without a traceback."""

    exit_code: int = 2


class UnknownModelError(LsnetError, ValueError):
    """A model name that is not registered."""


class InvalidResolutionError(LsnetError, ValueError):
    """An input size the network cannot take."""


class CheckpointError(LsnetError):
    """A checkpoint file that is missing, unreadable or not a checkpoint."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint whose keys or shapes do not fit the model."""


class PretrainedUnavailableError(LsnetError):
    """Official weights that cannot be downloaded (offline, no hub access)."""


class MissingDependencyError(LsnetError, ImportError):
    """An optional dependency that is not installed."""


class UnknownOptionError(LsnetError, ValueError):
    """An option value that is not one of the known choices or is out of range."""


class ConflictingOptionsError(UnknownOptionError):
    """Two options that cannot be used together (e.g. --half with --int8)."""


class ArtifactError(LsnetError):
    """An exported artifact (ONNX, TensorRT engine, Core ML model) that is missing, unreadable or incomplete."""


class BatchSizeError(LsnetError, ValueError):
    """A batch size an artifact cannot run (fixed batch, or outside its optimisation range)."""


class DeviceUnavailableError(LsnetError):
    """A requested device (GPU, Apple Neural Engine) this machine does not have."""


class OutputPathError(LsnetError):
    """An output path that cannot be written without destroying something, or a full disk."""


class ParityError(LsnetError):
    """An exported artifact whose outputs do not match the PyTorch reference."""

    exit_code = 3


class LabelsError(LsnetError, ValueError):
    """A labels file that cannot be read or does not fit the model's classes."""
