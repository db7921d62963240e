"""lsnet: LSNet ("See Large, Focus Small", CVPR 2025) from PyTorch to validated deployment artifacts."""
from pathlib import Path

from lsnet._layout import source_root

_root = source_root(Path(__file__).parent)
if _root is not None:  # running from a checkout: export/, runtimes/, bench/, cli.py are lsnet.* too
    __path__.append(str(_root))

from lsnet.checkpoint import load_checkpoint  # noqa: E402
from lsnet.config import PretrainedCfg  # noqa: E402
from lsnet.errors import LsnetError  # noqa: E402
from lsnet.factory import count_params, create_model, list_models, set_ska, ska_of  # noqa: E402
from lsnet.model import LSNet  # noqa: E402
from lsnet.reparam import reparameterize  # noqa: E402
from lsnet.ska import list_ska  # noqa: E402

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
