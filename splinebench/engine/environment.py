"""What a run's numbers depend on besides the profile and seed: the environment fingerprint, and deterministic mode.

Same profile + seed + this fingerprint's machine fields (CPU model and kernel capability, thread count, library
versions, device) gives bit-identical numbers; when a rerun disagrees, ``splinebench runs diff`` names the fields that
differ. ``deterministic = true`` in a profile turns on torch's deterministic algorithms (and the cuBLAS workspace
setting they need on CUDA), so an op without a deterministic implementation fails loudly instead of varying.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy
import torch

import splinebench
from splinebench.errors import BadInputError

CUBLAS_WORKSPACE_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE_VALUE = ":4096:8"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fingerprint(device: torch.device) -> dict[str, Any]:
    """The environment of this process as flat JSON values (RunStarted.environment)."""
    import torchvision

    env: dict[str, Any] = {
        "splinebench": splinebench.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "device": str(device),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cublas_workspace_config": os.environ.get(CUBLAS_WORKSPACE_VARIABLE),
    }
    if device.type == "cuda":
        env.update({
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "gpu": torch.cuda.get_device_name(device),
        })
    return env


def task_fingerprint(device: torch.device, threads: int, deterministic: bool) -> dict[str, Any]:
    """The fingerprint of a process on this machine after it applied a task's ``threads`` and ``deterministic``
    settings, computed without applying them here: a sweep driver records it for the trials its local workers
    train (their RunStarted is written before any worker starts)."""
    env = fingerprint(device)
    env["torch_threads"] = threads
    if deterministic:  # what set_deterministic turns on
        env.update(deterministic_algorithms=True, cudnn_deterministic=True, cudnn_benchmark=False,
                   cublas_workspace_config=os.environ.get(CUBLAS_WORKSPACE_VARIABLE, CUBLAS_WORKSPACE_VALUE))
    return env


def set_deterministic(enabled: bool) -> None:
    """Profile ``deterministic = true``: deterministic algorithms everywhere, cuDNN without autotuning.

    cuBLAS reads its workspace setting when its handle is created, so it is set before anything touches CUDA.
    """
    if not enabled:
        return
    os.environ.setdefault(CUBLAS_WORKSPACE_VARIABLE, CUBLAS_WORKSPACE_VALUE)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def nondeterministic_op_error(exc: RuntimeError) -> BadInputError | None:
    """A clear error for torch's "does not have a deterministic implementation" failure, else None."""
    text = str(exc)
    if "deterministic" not in text or "use_deterministic_algorithms" not in text:
        return None
    op = text.split(" does not have a deterministic implementation", 1)[0].strip().splitlines()[-1]
    return BadInputError(
        f"deterministic = true, but {op} has no deterministic implementation on this device; set "
        "deterministic = false in the profile (the run is then reproducible only on the same machine and "
        "thread count), or use another model or device"
    )
