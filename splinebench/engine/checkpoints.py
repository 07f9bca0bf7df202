"""Checkpoints: one rolling resume state per run, plus the tickets (model states) that branches start from.

A checkpoint is written after every epoch: model, optimiser, scheduler, hook and observer state, what is done, and
the event sequence number at that moment. Resuming truncates the store's events after that number and replays the
steps from there; since every step is seeded from (seed, phase, epoch), the replay re-creates the same events.
Files are written to a temporary name and renamed, so a kill -9 never leaves half a checkpoint.

Every file holds plain data only — tensors, numbers, strings, lists, tuples, dicts — and is loaded with
``torch.load(weights_only=True)``: a state file or ticket fetched from a remote board (or anywhere else) cannot run
code when it is read. The two non-plain things the engine keeps (numpy arrays of partition codes, the scheduler's
``Counter`` of milestones) are written as tagged dicts and rebuilt on load; anything else must be converted by its
owner (``to_dict``) before it is saved, and ``atomic_save`` refuses it.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from splinebench.engine.state import ResumeState
from splinebench.errors import BadInputError, RunAbortedError

STATE_FILE = "state.pt"
_NDARRAY = "__ndarray__"
_COUNTER = "__counter__"


class UnsafeCheckpointError(BadInputError):
    """A checkpoint that is not plain data (pickled objects): refused unread."""


def to_plain(obj: Any) -> Any:
    """``obj`` as plain data; numpy arrays and Counters become tagged dicts (``from_plain`` undoes it)."""
    if obj is None or isinstance(obj, (torch.Tensor, bool, int, float, str)):
        return obj
    if isinstance(obj, np.ndarray):
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, collections.Counter):
        return {_COUNTER: {k: to_plain(v) for k, v in obj.items()}}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_plain(v) for v in obj)
    raise TypeError(f"cannot save a {type(obj).__qualname__} in a checkpoint: convert it to plain data first")


def from_plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1 and _NDARRAY in obj:
            return obj[_NDARRAY].numpy()
        if len(obj) == 1 and _COUNTER in obj:
            return collections.Counter({k: from_plain(v) for k, v in obj[_COUNTER].items()})
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(from_plain(v) for v in obj)
    return obj


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
    torch.save(to_plain(obj), buffer)
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
    """A checkpoint's plain data; a file that holds anything else is refused without running any of it."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsafeCheckpointError(
            f"{path}: not a plain-data checkpoint, refused unread (it holds pickled objects, which could run code "
            f"when loaded: {first[:160]}). A run checkpointed by an older splinebench, which pickled objects, "
            "cannot be resumed: start it again"
        ) from None
    return from_plain(data)


def state_path(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def save_state(state: ResumeState, run_dir: Path) -> None:
    atomic_save(state.to_dict(), state_path(run_dir))


def load_state(run_dir: Path) -> ResumeState | None:
    path = state_path(run_dir)
    return ResumeState.from_dict(load(path)) if path.is_file() else None


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def pruned_model_path(run_dir: Path, phase: str) -> Path:
    """Where a run recorded before the run plan kept the retrained model of ``retrain:<label>@<ratio>`` (newer runs:
    the plan's ``model_file``, which RunStarted carries)."""
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

