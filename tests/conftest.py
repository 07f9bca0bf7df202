"""Shared test helpers: tiny profiles that run the real pipeline in seconds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

# Two cores: keep torch from oversubscribing when a test starts subprocesses.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # shared helpers: tiny_profiles, sshd_fixture

from tiny_profiles import tiny_profile_dict  # noqa: E402


@pytest.fixture
def tiny_profile():
    from splinebench.profiles import profile_from_dict

    return lambda **changes: profile_from_dict(tiny_profile_dict(**changes))
