"""The epoch x epoch partition-distance matrix (paper Fig. 5), kept within a fixed memory budget.

Every snapshot has to stay in memory so that each new epoch can be compared with all earlier ones. Full
snapshots do not fit: CIFAR VGG-16 (32x32 inputs, 13 ReLU layers) has 64*1024*2 + 128*256*2 + 256*64*3 +
512*16*3 + 512*4*3 = 276,480 code bits per sample, so 1,000 probes cost 276.5 Mbit = 34.6 MB per snapshot and
160 epochs 5.5 GB.

Budget maths. With ``budget_mib`` B and ``max_snapshots`` S, one snapshot may use ``B * 2**20 / S`` bytes
(64 MiB / 160 = 419,430 bytes), i.e. ``floor(that / n_samples)`` bytes per sample (419 for 1,000 probes, 3,352
bits). When the full snapshot fits, everything is kept and the matrix is exact. Otherwise a fixed set of bit
positions is kept for every sample of every snapshot, chosen once with a seeded RNG (so all epochs are
compared on the same bits), and shared between layers by water-filling: each layer gets an equal number of
bytes, layers smaller than their share are kept whole and hand the rest on. An equal share per layer suits the
*mean of layers* distance, which weighs layers equally. For VGG-16 above every layer keeps 256-264 bits per
sample, i.e. about 256,000 (sample, bit) pairs per layer, so a per-layer fraction is estimated to within about
0.001 (one standard error). The stored snapshots then take at most ``S * 419,430`` bytes = 64 MiB; the matrix
rows themselves (``S^2 / 2`` floats per layer) are extra and small (160 epochs, 13 layers: 1.3 MB as float64).

The detector should still use the exact ``partition_distance`` between consecutive full snapshots; this matrix
is for the Fig. 5 picture. Min-max normalisation (as the paper's figure shows it) is for display only.
"""

from __future__ import annotations

import numpy as np

from splinebench.spline.codes import PartitionCodes
from splinebench.spline.distance import differing_bits


def _water_fill(caps: list[int], budget: int) -> list[int]:
    """Split ``budget`` units between layers as evenly as possible without giving a layer more than its
    cap."""
    shares = [0] * len(caps)
    open_layers = [i for i, cap in enumerate(caps) if cap > 0]
    remaining = budget
    while open_layers and remaining > 0:
        share = remaining // len(open_layers)
        if share == 0:  # fewer units left than layers: one each, in layer order
            for i in open_layers[:remaining]:
                shares[i] += 1
            break
        still_open = []
        for i in open_layers:
            grant = min(share, caps[i] - shares[i])
            shares[i] += grant
            remaining -= grant
            if shares[i] < caps[i]:
                still_open.append(i)
        open_layers = still_open
    return shares


class DistanceMatrixRecorder:
    """Keeps (subsampled) snapshots and builds the epoch x epoch distance matrix row by row.

    ``add(codes)`` returns the new row: the mean-of-layers distance from this snapshot to every earlier one,
    in chronological order, over the kept bits (exactly ``partition_distance(...).mean_of_layers`` when
    nothing was subsampled). The plan (which bits to keep) is fixed by the first snapshot; later snapshots
    must cover the same layers, bit counts and samples. Adding more than ``max_snapshots`` raises
    RuntimeError, since the budget was divided by that number.
    """

    def __init__(self, budget_mib: float = 64.0, max_snapshots: int = 160, seed: int = 0) -> None:
        if budget_mib <= 0:
            raise ValueError(f"budget_mib must be positive, got {budget_mib}")
        if max_snapshots < 1:
            raise ValueError(f"max_snapshots must be at least 1, got {max_snapshots}")
        self.budget_mib = float(budget_mib)
        self.max_snapshots = int(max_snapshots)
        self.seed = int(seed)
        self._layers: list[str] = []
        self._bits: dict[str, int] = {}
        self._n_samples = 0
        self._kept_bits: dict[str, int] = {}
        self._positions: dict[str, np.ndarray | None] = {}
        self._snapshots: list[dict[str, np.ndarray]] = []
        self._rows: list[np.ndarray] = []  # row i: [n_layers, i] per-layer distances to snapshots 0..i-1

    # -- plan --
    @property
    def budget_bytes(self) -> int:
        return int(self.budget_mib * 2**20)

    @property
    def snapshot_budget_bytes(self) -> int:
        """Bytes one stored snapshot may use."""
        return self.budget_bytes // self.max_snapshots

    def _plan(self, codes: PartitionCodes) -> None:
        self._layers = list(codes.layers)
        self._bits = dict(codes.bits)
        self._n_samples = codes.n_samples
        full_bytes = [(codes.bits[name] + 7) // 8 for name in self._layers]
        per_sample_budget = self.snapshot_budget_bytes // max(codes.n_samples, 1)
        if sum(full_bytes) <= per_sample_budget:
            self._kept_bits = dict(codes.bits)
            self._positions = {name: None for name in self._layers}
            return
        if per_sample_budget < len(self._layers):
            raise ValueError(
                f"a {self.budget_mib} MiB budget over {self.max_snapshots} snapshots leaves "
                f"{per_sample_budget} bytes per sample for {codes.n_samples} samples, fewer than one "
                "per layer "
                f"({len(self._layers)} layers): use fewer probes or layers, or a larger budget"
            )
        shares = _water_fill(full_bytes, per_sample_budget)
        rng = np.random.default_rng(self.seed)
        for name, share, full in zip(self._layers, shares, full_bytes, strict=True):
            if share == full:
                self._kept_bits[name] = codes.bits[name]
                self._positions[name] = None
            else:
                positions = np.sort(rng.choice(codes.bits[name], size=8 * share, replace=False))
                self._kept_bits[name] = 8 * share
                self._positions[name] = positions.astype(np.int64)

    @property
    def subsampled(self) -> bool:
        """Whether some layer keeps only part of its bits (the matrix is then an estimate)."""
        return any(p is not None for p in self._positions.values())

    @property
    def kept_bits(self) -> dict[str, int]:
        """Bits kept per sample in each layer."""
        return dict(self._kept_bits)

    @property
    def kept_bits_per_sample(self) -> int:
        """Bits kept per sample over all layers."""
        return int(sum(self._kept_bits.values()))

    @property
    def snapshot_nbytes(self) -> int:
        """Bytes one stored snapshot takes."""
        return int(self._n_samples * sum((k + 7) // 8 for k in self._kept_bits.values()))

    @property
    def nbytes(self) -> int:
        """Bytes the stored snapshots take now."""
        return int(sum(arr.nbytes for snap in self._snapshots for arr in snap.values()))

    @property
    def n_snapshots(self) -> int:
        return len(self._snapshots)

    @property
    def layer_names(self) -> list[str]:
        return list(self._layers)

    # -- recording --
    def _check_compatible(self, codes: PartitionCodes) -> None:
        if list(codes.layers) != self._layers:
            raise ValueError(f"snapshot covers layers {list(codes.layers)}, the recorder holds {self._layers}")
        if codes.n_samples != self._n_samples:
            raise ValueError(f"snapshot holds {codes.n_samples} samples, the recorder {self._n_samples}")
        changed = [name for name in self._layers if codes.bits[name] != self._bits[name]]
        if changed:
            raise ValueError(f"layers {changed} changed their bit count since the first snapshot")

    def _reduce(self, codes: PartitionCodes) -> dict[str, np.ndarray]:
        kept: dict[str, np.ndarray] = {}
        for name in self._layers:
            positions = self._positions[name]
            packed = codes.layers[name]
            if positions is None:
                kept[name] = packed.copy()
            else:
                byte_index = positions >> 3
                shift = (7 - (positions & 7)).astype(np.uint8)
                bits = np.right_shift(packed[:, byte_index], shift) & np.uint8(1)
                kept[name] = np.packbits(bits, axis=1)
        return kept

    def add(self, codes: PartitionCodes) -> list[float]:
        """Store a snapshot and return its mean-of-layers distances to every earlier snapshot (oldest
        first)."""
        if not self._snapshots and not self._layers:
            self._plan(codes)
        else:
            self._check_compatible(codes)
        if len(self._snapshots) >= self.max_snapshots:
            raise RuntimeError(
                f"the recorder was sized for {self.max_snapshots} snapshots; build it with a larger "
                "max_snapshots (the budget is divided by it)"
            )
        kept = self._reduce(codes)
        row = np.zeros((len(self._layers), len(self._snapshots)), dtype=np.float64)
        total = np.array([self._n_samples * self._kept_bits[name] for name in self._layers], dtype=np.float64)
        for j, earlier in enumerate(self._snapshots):
            for i, name in enumerate(self._layers):
                row[i, j] = differing_bits(kept[name], earlier[name], self._kept_bits[name]) / total[i]
        self._snapshots.append(kept)
        self._rows.append(row)
        return [float(v) for v in row.mean(axis=0)] if row.shape[1] else []

    def matrix(self, layer: str | None = None) -> np.ndarray:
        """Symmetric ``[n, n]`` distance matrix: mean of layers, or one layer's fractions when ``layer`` is
        given."""
        n = len(self._snapshots)
        out = np.zeros((n, n), dtype=np.float64)
        if layer is not None and layer not in self._layers:
            raise ValueError(f"unknown layer {layer!r}; recorded layers: {self._layers}")
        for i, row in enumerate(self._rows):
            if not i:
                continue
            values = row.mean(axis=0) if layer is None else row[self._layers.index(layer)]
            out[i, :i] = values
            out[:i, i] = values
        return out

    # -- resume --
    def state_dict(self) -> dict[str, object]:
        """Everything needed to resume: settings, the bit plan, the stored snapshots and the rows (numpy
        arrays)."""
        return {
            "budget_mib": self.budget_mib,
            "max_snapshots": self.max_snapshots,
            "seed": self.seed,
            "layers": list(self._layers),
            "bits": dict(self._bits),
            "n_samples": self._n_samples,
            "kept_bits": dict(self._kept_bits),
            "positions": {k: (None if v is None else v.copy()) for k, v in self._positions.items()},
            "snapshots": [{k: v.copy() for k, v in snap.items()} for snap in self._snapshots],
            "rows": [row.copy() for row in self._rows],
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore a recorder saved by ``state_dict`` (settings included)."""
        self.budget_mib = float(state["budget_mib"])
        self.max_snapshots = int(state["max_snapshots"])
        self.seed = int(state["seed"])
        self._layers = list(state["layers"])
        self._bits = {k: int(v) for k, v in state["bits"].items()}
        self._n_samples = int(state["n_samples"])
        self._kept_bits = {k: int(v) for k, v in state["kept_bits"].items()}
        self._positions = {
            k: (None if v is None else np.asarray(v, dtype=np.int64)) for k, v in state["positions"].items()
        }
        self._snapshots = [{k: np.asarray(v, dtype=np.uint8) for k, v in s.items()} for s in state["snapshots"]]
        self._rows = [np.asarray(r, dtype=np.float64) for r in state["rows"]]
