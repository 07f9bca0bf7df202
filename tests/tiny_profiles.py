"""A profile that runs the real pipeline end to end in seconds (shared by every test area)."""

from __future__ import annotations

from typing import Any


def tiny_profile_dict(**changes: Any) -> dict[str, Any]:
    """A profile that trains convnet-small on digits for a couple of epochs: the pipeline end to end, fast."""
    data: dict[str, Any] = {
        "name": "tiny",
        "seeds": [0],
        "device": "cpu",
        "threads": 1,
        "model": {"name": "convnet-small"},
        "data": {"name": "digits", "batch_size": 64},
        "train": {"epochs": 3, "lr": 0.05},
        "partition": {"probe_size": 64},
        "early_bird": {"eps": 0.5, "window": 2},
        "prune": {
            "ratios": [0.5],
            "pruners": [
                {"name": "spline", "ticket": "final", "label": "spline"},
                {"name": "spline", "ticket": "eb", "label": "eb-spline"},
            ],
        },
        "retrain": {"epochs": 1, "lr": 0.01},
    }
    for key, value in changes.items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return data
