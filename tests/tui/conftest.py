"""Fixtures for the dashboard tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tui_helpers import FIXTURE_STORE


@pytest.fixture
def fixture_store(tmp_path: Path) -> Path:
    """A private copy of the recorded store (readers create -wal/-shm files beside it)."""
    target = tmp_path / "store.sqlite"
    shutil.copy(FIXTURE_STORE, target)
    return target
