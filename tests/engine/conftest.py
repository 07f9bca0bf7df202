"""Engine fixtures: one uninterrupted tiny run, the reference that interrupted and resumed runs must match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_cli import cli, numbers, run, run_args


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> dict[str, list[tuple]]:
    """The figures of the tiny profile run once without interruption."""
    where = tmp_path_factory.mktemp("reference")
    store = Path(where) / "store.sqlite"
    done = run(cli(*run_args(store)), cwd=where)
    assert done.returncode == 0, done.stderr[-2000:]
    return numbers(store, json.loads(done.stdout.splitlines()[0])["run_id"])
