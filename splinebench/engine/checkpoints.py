"""Checkpoints: one rolling resume state per run, plus the tickets (model states) that branches start from.

A checkpoint is written after every epoch: model, optimiser, scheduler, hook and observer state, what is done, and
the event sequence number at that moment. Resuming truncates the store's events after that number and replays the
steps from there; since every step is seeded from (seed, phase, epoch), the replay re-creates the same events.
Files are written to a temporary name and renamed, so a kill -9 never leaves half a checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "state.pt"


def atomic_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(path: Path) -> Any:
    # Our own files: they hold numpy arrays (partition codes) and plain dicts, so the full unpickler is needed.
    return torch.load(path, map_location="cpu", weights_only=False)


def state_path(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def load_state(run_dir: Path) -> dict[str, Any] | None:
    path = state_path(run_dir)
    return load(path) if path.is_file() else None


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def pruned_model_path(run_dir: Path, phase: str) -> Path:
    """Where the retrained model of branch phase ``retrain:<label>@<ratio>`` is kept."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in phase.removeprefix("retrain:"))
    return Path(run_dir) / "models" / f"{name}.pt"


def load_saved_model(path: Path) -> dict[str, Any]:
    """A saved pruned model's dict, read with ``weights_only=True``: names, lists, numbers and tensors only, so a
    file someone else exported can be loaded without running its pickled code."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def build_saved_model(saved: dict[str, Any]) -> torch.nn.Module:
    """The model of a saved dict: registry constructor, pruning history and masks replayed, weights loaded."""
    from splinebench.prune import rebuild_structure
    from splinebench.zoo import create_model

    # input_shape: a model built for one image size (a timm ViT) gets the size it was trained at, as in the run
    model = create_model(saved["model"], num_classes=saved["num_classes"], in_channels=saved["in_channels"],
                         input_shape=list(saved["example_shape"][1:]), **saved.get("options", {}))
    rebuild_structure(model, torch.zeros(saved["example_shape"]), saved.get("history") or [], saved.get("masks"))
    model.load_state_dict(saved["state_dict"])
    return model.eval()


def load_pruned_model(path: Path) -> torch.nn.Module:
    """Rebuild a pruned, retrained model saved by a run (or exported): constructor + history + masks + weights."""
    return build_saved_model(load_saved_model(Path(path)))

