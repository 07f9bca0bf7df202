"""Checkpoints: one rolling resume state per run, plus the tickets (model states) that branches start from.

A checkpoint is written after every epoch: model, optimiser, scheduler, hook and observer state, what is done, and
the event sequence number at that moment. Resuming truncates the store's events after that number and replays the
steps from there; since every step is seeded from (seed, phase, epoch), the replay re-creates the same events.
Files are written to a temporary name and renamed, so a kill -9 never leaves half a checkpoint.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from splinebench.errors import RunAbortedError

STATE_FILE = "state.pt"


class CheckpointWriteError(RunAbortedError):
    """A checkpoint could not be written (disk full, folder not writable): the run stops, resumable from the last
    checkpoint that was written."""


def atomic_save(obj: Any, path: Path) -> None:
    """Write ``obj`` to ``path`` whole or not at all; a failed write leaves no ``.tmp`` and raises one clear error.

    The bytes are serialised in memory first and written with a plain ``write``, so a full disk reports ENOSPC
    (torch's own file writer turns it into "unexpected pos ...").
    """
    tmp = path.with_suffix(path.suffix + ".tmp")
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(buffer.getbuffer())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CheckpointWriteError(f"cannot write checkpoint {path}: {exc.strerror or exc}; free space or make "
                                   "the folder writable, then resume the run") from exc


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


def load_pruned_model(path: Path) -> torch.nn.Module:
    """Rebuild a pruned, retrained model saved by a run: constructor + pruning history + masks + weights."""
    from splinebench.prune import rebuild_structure
    from splinebench.zoo import create_model

    saved = load(Path(path))
    model = create_model(saved["model"], num_classes=saved["num_classes"], in_channels=saved["in_channels"],
                         **saved.get("options", {}))
    rebuild_structure(model, torch.zeros(saved["example_shape"]), saved.get("history") or [], saved.get("masks"))
    model.load_state_dict(saved["state_dict"])
    return model.eval()
