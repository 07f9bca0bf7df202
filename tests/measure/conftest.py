"""Fixtures of the measure tests: a loopback sshd whose PATH holds the stand-in tegrastats."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from sshd_fixture import LoopbackSSHD, sshd_or_skip  # noqa: E402

TEGRASTATS_FIXTURES = TESTS / "fixtures" / "tegrastats"
STAND_IN_BIN = TEGRASTATS_FIXTURES / "bin"
RECORDED = TEGRASTATS_FIXTURES / "recorded"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSSHD]:
    """A real OpenSSH server on 127.0.0.1 (session-wide); the stand-in tegrastats is first on its PATH."""
    workdir = tmp_path_factory.mktemp("sshd")
    state = workdir / "tegrastats-state"
    server = sshd_or_skip(workdir, bin_dirs=[STAND_IN_BIN], env={"SB_TEGRASTATS_STATE": str(state)})
    server.tegrastats_state = state  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()
