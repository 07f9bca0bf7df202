"""Named random streams: every random draw of a run comes from a generator seeded by (run seed, stream, parts).

Why: with one global RNG, the numbers a part draws depend on how many draws every part before it made, so adding a
pruner, a ratio or a retrain setting to a profile could shift the dense phase. Here each consumer gets its own
stream, named after what it is for, and derived only from the run seed and that name (plus the phase and epoch where
it changes per epoch):

=================  ==========================================================================
stream             used for
=================  ==========================================================================
``model-init``     the weights of a freshly built model (every dense phase and every rebuild)
``data-order``     the shuffle of one epoch: parts (phase, epoch)
``train-step``     dropout and other draws made inside one epoch of training: parts (phase, epoch)
``probe``          the partition probe set
``calibration``    the batches a pruner calibrates on and the post-prune forward/backward check
``prune``          one pruner's own randomness: parts (label, ratio)
``scratch-init``   the fresh initialisation of a pruned model retrained from scratch: parts (label, ratio)
=================  ==========================================================================

Code that can only draw from torch's global RNG (model constructors, ``reset_parameters``, dropout, plug-ins) runs
inside :func:`global_stream`, which seeds the global RNG from the stream and restores the previous state afterwards,
so whatever it draws cannot shift anyone else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch

#: The stream names the engine uses (a typo in a name would silently give an independent stream, so they live here).
MODEL_INIT = "model-init"
DATA_ORDER = "data-order"
TRAIN_STEP = "train-step"
PROBE = "probe"
CALIBRATION = "calibration"
PRUNE = "prune"
SCRATCH_INIT = "scratch-init"


def stream_seed(seed: int, stream: str, *parts: object) -> int:
    """A 63-bit seed that depends only on (seed, stream, parts); sha256 because ``hash()`` is salted per process."""
    text = "\x1f".join([str(int(seed)), stream, *(repr(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def generator(seed: int, stream: str, *parts: object, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded for this stream."""
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream, *parts))


@contextmanager
def global_stream(seed: int, stream: str, *parts: object, device: torch.device | None = None) -> Iterator[None]:
    """Run a block that draws from torch's global RNG on its own stream, leaving the global state as it was."""
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        value = stream_seed(seed, stream, *parts)
        torch.manual_seed(value)  # seeds the CPU generator and every CUDA one
        yield
