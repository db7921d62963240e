"""lsnet: LSNet ("See Large, Focus Small", CVPR 2025) from PyTorch to validated deployment artifacts."""
from lsnet.telemetry import opt_out_of_runtime_telemetry

opt_out_of_runtime_telemetry()  # before any runtime is imported (lsnet/telemetry.py)

from lsnet.checkpoint import load_checkpoint
from lsnet.config import PretrainedCfg
from lsnet.errors import LsnetError
from lsnet.factory import count_params, create_model, list_models, set_ska, ska_of
from lsnet.model import LSNet
from lsnet.reparam import reparameterize
from lsnet.ska import list_ska

__version__ = "0.1.0"

__all__ = [
    "LSNet",
    "LsnetError",
    "PretrainedCfg",
    "count_params",
    "create_model",
    "list_models",
    "list_ska",
    "load_checkpoint",
    "reparameterize",
    "set_ska",
    "ska_of",
    "__version__",
]
