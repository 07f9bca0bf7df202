"""Fixtures of the remote-run tests: "the board" is a loopback sshd whose PATH holds this checkout's splinebench."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from sshd_fixture import LoopbackSSHD, sshd_or_skip  # noqa: E402

VENV_BIN = Path(sys.executable).parent
STAND_IN_BIN = TESTS / "fixtures" / "tegrastats" / "bin"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSSHD]:
    """A real sshd on 127.0.0.1 with splinebench and the stand-in tegrastats on its PATH."""
    workdir = tmp_path_factory.mktemp("board")
    server = sshd_or_skip(
        workdir, bin_dirs=[VENV_BIN, STAND_IN_BIN],
        env={"SB_TEGRASTATS_STATE": str(workdir / "tegrastats-state"), "OMP_NUM_THREADS": "1",
             "SB_TEGRASTATS_TRACE": "constant"},
    )
    server.workdir = workdir  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def board_without_sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSSHD]:
    """The same board with no `Subsystem sftp` line in its sshd_config: only exec channels work."""
    workdir = tmp_path_factory.mktemp("board-no-sftp")
    server = sshd_or_skip(workdir, bin_dirs=[VENV_BIN, STAND_IN_BIN], sftp=False,
                          env={"SB_TEGRASTATS_STATE": str(workdir / "tegrastats-state"), "OMP_NUM_THREADS": "1",
                               "SB_TEGRASTATS_TRACE": "constant"})
    server.workdir = workdir  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()
