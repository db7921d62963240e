"""lsnet opts out of ONNX Runtime's telemetry unless the user chose otherwise."""
import os
import subprocess
import sys

CHILD = "import os, lsnet; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"


def run_child(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_importing_lsnet_opts_out_of_onnxruntime_telemetry() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    assert run_child(env) == "1"


def test_a_users_own_setting_is_kept() -> None:
    assert run_child({**os.environ, "ORT_DISABLE_TELEMETRY": "0"}) == "0"
