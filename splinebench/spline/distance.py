"""Partition distance: the Hamming distance between two snapshots' codes (paper Sec. 3.2).

Per layer, the distance is the fraction of (sample, unit, position) bits that differ. The whole-network value
that drives the early-bird detector is the *unweighted mean of the per-layer fractions*: that is what the
authors' code computes and what their thresholds (0.15 in the paper, 0.16 in the code) were calibrated on. The
bit-weighted fraction (all differing bits / all bits) is kept too; it is dominated by the large early layers
(VGG-16's first two conv layers hold about half of all bits).

Everything runs on the packed bytes: XOR, then a popcount (``np.bitwise_count``, numpy >= 2, with a
lookup-table fallback for older numpy), in bounded chunks, over a uint64 view where the bytes allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from splinebench.spline.codes import PartitionCodes

_CHUNK_BYTES = 1 << 22  # XOR temporaries stay at about 4 MiB whatever the snapshot size
_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount_sum(values: np.ndarray) -> int:
    """Number of set bits in a contiguous unsigned-integer array."""
    if hasattr(np, "bitwise_count"):
        return int(np.bitwise_count(values).sum(dtype=np.int64))
    return int(_POPCOUNT_TABLE[values.view(np.uint8)].sum(dtype=np.int64))


def _xor_popcount(a: np.ndarray, b: np.ndarray) -> int:
    """Set bits of ``a ^ b`` for two equally shaped uint8 arrays, counted in chunks over a uint64 view.

    The XOR and the per-word counts go into buffers allocated once, so a large snapshot costs two passes over
    its bytes and no allocation per chunk.
    """
    flat_a = np.ascontiguousarray(a).reshape(-1)
    flat_b = np.ascontiguousarray(b).reshape(-1)
    size = flat_a.size
    xor_buffer = np.empty(min(size, _CHUNK_BYTES), dtype=np.uint8)
    count_buffer = np.empty(xor_buffer.size // 8, dtype=np.uint8)
    use_table = not hasattr(np, "bitwise_count")
    total = 0
    for start in range(0, size, _CHUNK_BYTES):
        length = min(_CHUNK_BYTES, size - start)
        chunk = xor_buffer[:length]
        np.bitwise_xor(flat_a[start : start + length], flat_b[start : start + length], out=chunk)
        aligned = length - length % 8
        if aligned and not use_table:
            counts = count_buffer[: aligned // 8]
            np.bitwise_count(chunk[:aligned].view(np.uint64), out=counts)
            total += int(counts.sum(dtype=np.int64))
        elif aligned:
            total += _popcount_sum(chunk[:aligned])
        if aligned < length:
            total += _popcount_sum(chunk[aligned:])
    return total


def differing_bits(a: np.ndarray, b: np.ndarray, n_bits: int) -> int:
    """Number of differing code bits between two packed ``[n_samples, ceil(n_bits / 8)]`` uint8 arrays.

    Padding bits of the last byte are masked out, so codes whose padding is not zero still compare correctly.
    """
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(f"packed codes must be uint8, got {a.dtype} and {b.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"packed codes differ in shape: {a.shape} vs {b.shape}")
    if a.ndim != 2:
        raise ValueError(f"packed codes must be 2-D [n_samples, n_bytes], got shape {a.shape}")
    if n_bits <= 0 or a.shape[1] != (n_bits + 7) // 8:
        raise ValueError(f"{n_bits} bits per sample need {(n_bits + 7) // 8} bytes, the codes have {a.shape[1]}")
    count = _xor_popcount(a, b)
    pad = (-n_bits) % 8
    if pad:
        padding_mask = np.uint8((1 << pad) - 1)  # np.packbits fills the low-order bits of the last byte
        last = np.bitwise_and(np.bitwise_xor(a[:, -1], b[:, -1]), padding_mask)
        count -= _popcount_sum(np.ascontiguousarray(last))
    return count


def hamming_fraction(a: np.ndarray, b: np.ndarray, n_bits: int) -> float:
    """Fraction of differing bits between two packed codes of one layer (``n_bits`` true bits per sample)."""
    differing = differing_bits(a, b, n_bits)
    return differing / (a.shape[0] * n_bits) if a.shape[0] else 0.0


@dataclass(frozen=True)
class PartitionDistance:
    """Distance between two snapshots, per layer and over the whole network.

    ``differing[name]`` and ``total[name]`` are bit counts; ``per_layer[name]`` their ratio. ``float(d)`` is
    ``mean_of_layers``, the value the EB detector uses by default.
    """

    differing: Mapping[str, int]
    total: Mapping[str, int]

    @property
    def per_layer(self) -> dict[str, float]:
        """Fraction of differing bits in each layer."""
        return {name: self.differing[name] / self.total[name] for name in self.total}

    @property
    def mean_of_layers(self) -> float:
        """Unweighted mean of the per-layer fractions (the seed code's whole-network distance)."""
        fractions = self.per_layer
        return float(sum(fractions.values()) / len(fractions))

    @property
    def bit_weighted(self) -> float:
        """All differing bits over all bits: each layer weighs by its size."""
        return float(sum(self.differing.values()) / sum(self.total.values()))

    def __float__(self) -> float:
        return self.mean_of_layers


def partition_distance(a: PartitionCodes, b: PartitionCodes) -> PartitionDistance:
    """Hamming distance between two snapshots' partition codes (paper Sec. 3.2), per layer and overall.

    Raises ValueError naming the difference when the snapshots do not cover the same layers, samples or bits.
    """
    if list(a.layers) != list(b.layers):
        only_a = [n for n in a.layers if n not in b.layers]
        only_b = [n for n in b.layers if n not in a.layers]
        detail = (
            f"only in the first: {only_a}; only in the second: {only_b}"
            if only_a or only_b
            else ("same layers in a different order")
        )
        raise ValueError(f"partition codes cover different layers ({detail})")
    if a.n_samples != b.n_samples:
        raise ValueError(f"partition codes hold different probe sets: {a.n_samples} vs {b.n_samples} samples")
    if not a.layers:
        raise ValueError("partition codes hold no layer; nothing to compare")
    if a.n_samples == 0:
        raise ValueError("partition codes hold no sample; nothing to compare")
    differing: dict[str, int] = {}
    total: dict[str, int] = {}
    for name in a.layers:
        if a.bits[name] != b.bits[name]:
            raise ValueError(
                f"layer {name!r} has {a.bits[name]} bits per sample in one snapshot "
                f"and {b.bits[name]} in the "
                "other (was the model pruned in between?)"
            )
        differing[name] = differing_bits(a.layers[name], b.layers[name], a.bits[name])
        total[name] = a.n_samples * a.bits[name]
    return PartitionDistance(differing=differing, total=total)
