"""Installing splinebench beside a torch it did not bring (a Jetson's NVIDIA build) keeps that torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_board_requirements_list_every_dependency_but_torch_and_torchvision():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split(";")[0].strip() for d in declared}
    board = {
        line.split(">")[0].split("=")[0].split(";")[0].strip()
        for line in (ROOT / "requirements-board.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert board == names - {"torch", "torchvision"}


@pytest.mark.slow
def test_installing_into_a_venv_with_another_torch_keeps_that_torch(tmp_path):
    venv = tmp_path / "board-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True, timeout=900)  # this machine's CPU wheel, from local disk
    subprocess.run([*pip, "--no-deps", str(ROOT)], check=True, timeout=600)
    subprocess.run([*pip, "-r", str(ROOT / "requirements-board.txt")], check=True, timeout=900)
    out = subprocess.run(
        [py, "-c", "import torch, splinebench.spline, splinebench.store; print(torch.__version__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.strip()
    assert out.startswith("2.13.0")
