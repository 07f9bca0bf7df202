"""Partition distance on packed bits against plain unpacked references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splinebench.spline import PartitionCodes, differing_bits, hamming_fraction, partition_distance
from splinebench.spline import distance as distance_module


def _codes(signs: dict[str, np.ndarray]) -> PartitionCodes:
    """Pack boolean ``[n_samples, bits]`` arrays per layer."""
    n_samples = next(iter(signs.values())).shape[0]
    return PartitionCodes(
        layers={k: np.packbits(v, axis=1) for k, v in signs.items()},
        bits={k: v.shape[1] for k, v in signs.items()},
        n_samples=n_samples,
    )


@settings(max_examples=60, deadline=None)
@given(
    n_samples=st.integers(1, 9),
    n_bits=st.integers(1, 700),
    flip_probability=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_hamming_fraction_equals_an_unpacked_reference(
    n_samples: int, n_bits: int, flip_probability: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((n_samples, n_bits)) < 0.5
    b = a ^ (rng.random((n_samples, n_bits)) < flip_probability)
    expected = np.count_nonzero(a != b) / a.size
    assert hamming_fraction(np.packbits(a, axis=1), np.packbits(b, axis=1), n_bits) == pytest.approx(
        expected, abs=1e-15
    )


def test_padding_bits_are_ignored() -> None:
    a = np.packbits(np.array([[1, 0, 1]], dtype=bool), axis=1)
    b = a.copy()
    b[0, 0] |= 0b00011111  # garbage in the five padding bits only
    assert differing_bits(a, b, 3) == 0
    b[0, 0] ^= 0b10000000  # a real bit
    assert differing_bits(a, b, 3) == 1


def test_mean_of_layers_and_bit_weighted_differ_as_defined() -> None:
    # layer "big": 2 samples x 8 bits, 4 differ (0.25); layer "small": 2 samples x 2 bits, 2 differ (0.5)
    big_a = np.zeros((2, 8), dtype=bool)
    big_b = big_a.copy()
    big_b[0, :4] = True
    small_a = np.zeros((2, 2), dtype=bool)
    small_b = small_a.copy()
    small_b[:, 0] = True
    d = partition_distance(_codes({"big": big_a, "small": small_a}), _codes({"big": big_b, "small": small_b}))
    assert d.per_layer == {"big": 0.25, "small": 0.5}
    assert d.mean_of_layers == pytest.approx(0.375)
    assert d.bit_weighted == pytest.approx(6 / 20)
    assert float(d) == d.mean_of_layers


@pytest.mark.parametrize("chunk_bytes", [1001, 4096])
def test_codes_larger_than_a_chunk_are_counted_exactly(monkeypatch, chunk_bytes: int) -> None:
    monkeypatch.setattr(distance_module, "_CHUNK_BYTES", chunk_bytes)  # odd sizes leave unaligned tails
    rng = np.random.default_rng(3)
    a = rng.random((3, 30_001)) < 0.5
    b = a.copy()
    b[1, ::7] ^= True
    d = partition_distance(_codes({"x": a}), _codes({"x": b}))
    assert d.differing["x"] == np.count_nonzero(a != b)


def test_snapshots_of_different_layers_are_rejected_with_the_difference() -> None:
    a = _codes({"l1": np.zeros((2, 4), bool), "l2": np.zeros((2, 4), bool)})
    b = _codes({"l1": np.zeros((2, 4), bool), "l3": np.zeros((2, 4), bool)})
    with pytest.raises(ValueError, match="l2"):
        partition_distance(a, b)


def test_snapshots_with_different_bit_counts_are_rejected() -> None:
    a = _codes({"l1": np.zeros((2, 4), bool)})
    b = _codes({"l1": np.zeros((2, 3), bool)})
    with pytest.raises(ValueError, match="bits per sample"):
        partition_distance(a, b)


def test_raw_arrays_of_different_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        hamming_fraction(np.zeros((2, 1), np.uint8), np.zeros((3, 1), np.uint8), 8)
    with pytest.raises(ValueError, match="bytes"):
        hamming_fraction(np.zeros((2, 1), np.uint8), np.zeros((2, 1), np.uint8), 9)


def test_the_lookup_table_fallback_for_older_numpy_counts_the_same(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, size=(4, 13), dtype=np.uint8)
    b = rng.integers(0, 256, size=(4, 13), dtype=np.uint8)
    expected = differing_bits(a, b, 100)
    monkeypatch.delattr(np, "bitwise_count")
    assert differing_bits(a, b, 100) == expected
    assert expected == np.count_nonzero(np.unpackbits(a, axis=1, count=100) != np.unpackbits(b, axis=1, count=100))
