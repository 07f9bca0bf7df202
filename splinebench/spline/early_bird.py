"""Spline early-bird detection (paper Sec. 3.2 and Appendix A, Algorithm 1).

Paper rule (``anchor="consecutive"``, the default): after each epoch, push the partition distance between the
current and the previous snapshot into a FIFO of length ``window`` (two distances = three epochs); the ticket
is drawn when the FIFO is full and ``max(FIFO) < eps`` (strict), eps = 0.15.

Seed-code rule (``anchor="current"``, with ``window=3, eps=0.16``): after each epoch, take the distances from
the current snapshot to each of the previous ``window`` snapshots; fire when all ``window`` exist and their
max is below eps.

Epoch convention. The detector only counts updates: ``fired_epoch`` is the 1-based number of the update that
fired. When the caller captures a snapshot at initialisation (epoch 0) and one after every training epoch,
update ``t`` compares epoch ``t - 1`` with epoch ``t``, so ``fired_epoch`` is the number of training epochs
done when the ticket was drawn. (The seed code takes no snapshot at initialisation; a caller following it adds
one to map the update count back to its epochs.) Once fired, the detector stays fired: later updates still
fill the FIFO, for logging, but neither re-fire nor move ``fired_epoch``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from splinebench.spline.codes import PartitionCodes
from splinebench.spline.distance import partition_distance

ANCHORS = ("consecutive", "current")
DISTANCES = ("mean-of-layers", "bit-weighted")


class EarlyBirdDetector:
    """Algorithm 1's FIFO test on partition distances (mean of layers by default, see ``distance.py``).

    ``eps`` and ``window`` have no defaults here: the profile model (``EarlyBirdSettings``) is their one home.
    """

    def __init__(self, eps: float, window: int, anchor: str = "consecutive") -> None:
        if anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}, got {anchor!r}")
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = float(eps)
        self.window = int(window)
        self.anchor = anchor
        self._fifo: deque[float] = deque(maxlen=self.window)
        self.n_updates = 0
        self.fired_epoch: int | None = None

    @property
    def fifo(self) -> list[float]:
        """The distances the last decision looked at, oldest first (consecutive) or newest-previous first
        (current)."""
        return list(self._fifo)

    @property
    def fired(self) -> bool:
        return self.fired_epoch is not None

    def _decide(self) -> bool:
        if self.fired_epoch is None and len(self._fifo) == self.window and max(self._fifo) < self.eps:
            self.fired_epoch = self.n_updates
        return self.fired

    def update(self, distance: float) -> bool:
        """Paper rule: push the distance between the previous and the current snapshot; True once fired."""
        if self.anchor != "consecutive":
            raise ValueError('update() takes one consecutive distance; with anchor="current" use update_previous()')
        self.n_updates += 1
        self._fifo.append(float(distance))
        return self._decide()

    def update_previous(self, distances_to_previous: Sequence[float]) -> bool:
        """Seed-code rule: distances from the current snapshot to the previous ones, most recent first.

        Only the first ``window`` are used; with fewer than ``window`` earlier snapshots nothing can fire yet.
        """
        if self.anchor != "current":
            raise ValueError('update_previous() is the anchor="current" rule; with "consecutive" use update()')
        self.n_updates += 1
        self._fifo = deque((float(d) for d in list(distances_to_previous)[: self.window]), maxlen=self.window)
        return self._decide()

    def update_from_row(self, row: Sequence[float]) -> bool:
        """Feed a distance-matrix row (distances to all earlier snapshots, oldest first, as
        ``DistanceMatrixRecorder.add`` returns it) to whichever rule this detector uses.

        The first snapshot's row is empty; it counts as no update at all.
        """
        row = list(row)
        if not row:
            return self.fired
        if self.anchor == "consecutive":
            return self.update(row[-1])
        return self.update_previous(row[::-1])

    def state_dict(self) -> dict[str, object]:
        return {
            "eps": self.eps,
            "window": self.window,
            "anchor": self.anchor,
            "fifo": list(self._fifo),
            "n_updates": self.n_updates,
            "fired_epoch": self.fired_epoch,
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore progress; the saved settings must match this detector's (resuming under another rule is a
        bug)."""
        saved = (float(state["eps"]), int(state["window"]), state["anchor"])
        if saved != (self.eps, self.window, self.anchor):
            raise ValueError(
                f"saved detector used eps={saved[0]}, window={saved[1]}, anchor={saved[2]!r}; this one uses "
                f"eps={self.eps}, window={self.window}, anchor={self.anchor!r}"
            )
        self._fifo = deque((float(d) for d in state["fifo"]), maxlen=self.window)
        self.n_updates = int(state["n_updates"])
        fired = state["fired_epoch"]
        self.fired_epoch = None if fired is None else int(fired)


class SnapshotWindow:
    """The seed-code rule's memory: the last ``window`` snapshots after *training* epochs, exact and whole.

    ``distances_to(codes)`` gives the exact ``partition_distance`` from a new snapshot to each kept one, most recent
    first, over the chosen ``layers`` and in the chosen ``distance`` (``mean-of-layers`` or ``bit-weighted``), as
    the paper rule uses them. It never reads the subsampled distance-matrix rows (whose bits are a sample), and it
    never holds the snapshot at initialisation: the seed code takes none, so with ``window = 3`` the first decision
    is after epoch 4 (distances to epochs 3, 2 and 1), not after epoch 3 against the initial weights.
    """

    def __init__(self, window: int, distance: str = "mean-of-layers", layers: Sequence[str] | None = None) -> None:
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
        self.window = int(window)
        self.distance = distance
        self.layers = list(layers) if layers is not None else None
        self.snapshots: deque[PartitionCodes] = deque(maxlen=self.window)

    def _chosen(self, codes: PartitionCodes) -> PartitionCodes:
        return codes if self.layers is None else codes.subset(self.layers)

    def _value(self, a: PartitionCodes, b: PartitionCodes) -> float:
        d = partition_distance(a, b)
        return float(d.mean_of_layers if self.distance == "mean-of-layers" else d.bit_weighted)

    def distances_to(self, codes: PartitionCodes) -> list[float]:
        current = self._chosen(codes)
        return [self._value(old, current) for old in reversed(self.snapshots)]

    def push(self, codes: PartitionCodes) -> None:
        self.snapshots.append(self._chosen(codes))

    def update(self, detector: EarlyBirdDetector, codes: PartitionCodes) -> bool:
        """One trained epoch: the detector decides on the distances to the kept snapshots, then this one is kept."""
        fired = detector.update_previous(self.distances_to(codes))
        self.push(codes)
        return fired

    def state_dict(self) -> dict[str, object]:
        return {"snapshots": list(self.snapshots)}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.snapshots = deque(state["snapshots"], maxlen=self.window)  # type: ignore[arg-type]
