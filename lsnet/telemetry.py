"""No usage data leaves the machine because of lsnet.

ONNX Runtime 1.29 and later upload telemetry (1DS, ``mobile.events.data.microsoft.com``) on Linux, macOS, Android
and iOS as soon as its environment is created: every lsnet export validates through ONNX Runtime. Its documented
opt-out is ``ORT_DISABLE_TELEMETRY=1`` in the environment before ONNX Runtime initializes; lsnet sets it when the
package is imported, unless the user set the variable (``ORT_DISABLE_TELEMETRY=0`` keeps ONNX Runtime's default).
Child processes (``lsnet serve --workers``) inherit it.
"""
import os

OPT_OUTS = {"ORT_DISABLE_TELEMETRY": "1"}


def opt_out_of_runtime_telemetry() -> None:
    """Set each runtime's telemetry opt-out variable where the user has not set it."""
    for name, value in OPT_OUTS.items():
        os.environ.setdefault(name, value)
