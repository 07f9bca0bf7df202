"""Stores for the report tests: one real tiny run (digits, convnet-small, 2 epochs) and one real 2-D toy run."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_run(tmp_path_factory) -> tuple[Path, str]:
    """A real tiny run: convnet-small on digits, 2 dense epochs, spline and EB spline at 30% and 50%, 1 retrain."""
    from splinebench.engine.run import execute
    from splinebench.profiles import profile_from_dict

    store = tmp_path_factory.mktemp("real") / "store.sqlite"
    profile = profile_from_dict({
        "name": "tiny-report", "seeds": [0], "device": "cpu", "threads": 1,
        "model": {"name": "convnet-small"}, "data": {"name": "digits", "batch_size": 64},
        "train": {"epochs": 2, "lr": 0.05}, "partition": {"probe_size": 64},
        "early_bird": {"eps": 0.6, "window": 1},
        "prune": {"ratios": [0.3, 0.5], "pruners": [
            {"name": "spline", "ticket": "final", "label": "spline"},
            {"name": "spline", "ticket": "eb", "label": "eb-spline"},
        ]},
        "retrain": {"epochs": 1, "lr": 0.01},
    })
    run_id, ok = execute(profile, str(store))
    assert ok
    return store, run_id


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory) -> tuple[Path, str]:
    """A real 2-D run: fcnet-1x20 on the X-shaped toy, 3 epochs, spline at 50%."""
    from splinebench.engine.run import execute
    from splinebench.profiles import profile_from_dict

    store = tmp_path_factory.mktemp("toy") / "store.sqlite"
    profile = profile_from_dict({
        "name": "toy-test", "seeds": [0], "device": "cpu", "threads": 1,
        "model": {"name": "fcnet-1x20"}, "data": {"name": "toy-x", "batch_size": 64, "options": {"n": 400}},
        "train": {"epochs": 3, "lr": 0.05}, "partition": {"probe_size": 100},
        "prune": {"ratios": [0.5], "pruners": [{"name": "spline", "ticket": "final"}]},
        "retrain": {"epochs": 1, "lr": 0.01},
    })
    run_id, ok = execute(profile, str(store))
    assert ok
    return store, run_id
