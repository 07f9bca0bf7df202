"""The epoch x epoch distance matrix: exact when it fits, within budget when it does not."""

from __future__ import annotations

import numpy as np
import pytest

from splinebench.spline import DistanceMatrixRecorder, PartitionCodes, partition_distance


def _random_snapshots(count: int, bits: dict[str, int], n_samples: int, seed: int = 0) -> list[PartitionCodes]:
    """A drifting sequence: each snapshot flips a shrinking share of the previous one's bits."""
    rng = np.random.default_rng(seed)
    signs = {k: rng.random((n_samples, b)) < 0.5 for k, b in bits.items()}
    snapshots = []
    for epoch in range(count):
        flip = 0.4 / (epoch + 1)
        signs = {k: v ^ (rng.random(v.shape) < flip) for k, v in signs.items()}
        snapshots.append(
            PartitionCodes(
                layers={k: np.packbits(v, axis=1) for k, v in signs.items()},
                bits=dict(bits),
                n_samples=n_samples,
            )
        )
    return snapshots


def test_rows_equal_partition_distance_when_nothing_is_subsampled() -> None:
    snapshots = _random_snapshots(5, {"a": 13, "b": 40, "c": 3}, n_samples=7)
    recorder = DistanceMatrixRecorder(budget_mib=1.0, max_snapshots=10)
    for i, snap in enumerate(snapshots):
        row = recorder.add(snap)
        expected = [partition_distance(snap, snapshots[j]).mean_of_layers for j in range(i)]
        assert row == pytest.approx(expected, abs=1e-15)
    assert not recorder.subsampled
    matrix = recorder.matrix()
    assert matrix.shape == (5, 5)
    np.testing.assert_allclose(matrix, matrix.T)
    assert matrix[4, 1] == pytest.approx(partition_distance(snapshots[4], snapshots[1]).mean_of_layers)
    assert recorder.matrix("b")[3, 0] == pytest.approx(partition_distance(snapshots[3], snapshots[0]).per_layer["b"])


def test_subsampled_recorder_stays_within_budget_and_gives_every_layer_a_share() -> None:
    bits = {"wide": 20_000, "mid": 3_000, "tiny": 12}
    n_samples, max_snapshots = 50, 20
    budget_mib = 0.05  # 52,428 bytes: 2,621 per snapshot, 52 per sample, far below the 2,891 needed
    recorder = DistanceMatrixRecorder(budget_mib=budget_mib, max_snapshots=max_snapshots, seed=1)
    snapshots = _random_snapshots(max_snapshots, bits, n_samples)
    for snap in snapshots:
        recorder.add(snap)
    assert recorder.subsampled
    assert recorder.nbytes <= budget_mib * 2**20
    assert recorder.snapshot_nbytes * max_snapshots <= budget_mib * 2**20
    kept = recorder.kept_bits
    assert kept["tiny"] == 12  # small layers are kept whole, the rest is shared evenly
    assert kept["wide"] == kept["mid"] > 0
    # the estimate tracks the exact distance
    exact = partition_distance(snapshots[-1], snapshots[0]).mean_of_layers
    assert recorder.matrix()[-1, 0] == pytest.approx(exact, abs=0.05)
    with pytest.raises(RuntimeError, match="max_snapshots"):
        recorder.add(snapshots[0])


def test_the_same_seed_keeps_the_same_bits() -> None:
    snapshots = _random_snapshots(3, {"a": 5_000}, n_samples=10)
    rows = []
    for _ in range(2):
        recorder = DistanceMatrixRecorder(budget_mib=0.01, max_snapshots=10, seed=7)
        rows.append([recorder.add(s) for s in snapshots])
    assert rows[0] == rows[1]
    assert recorder.subsampled


def test_state_round_trip_continues_the_matrix() -> None:
    snapshots = _random_snapshots(4, {"a": 300, "b": 9}, n_samples=6)
    full = DistanceMatrixRecorder(budget_mib=0.01, max_snapshots=5, seed=3)
    for snap in snapshots:
        full.add(snap)
    first_half = DistanceMatrixRecorder(budget_mib=0.01, max_snapshots=5, seed=3)
    for snap in snapshots[:2]:
        first_half.add(snap)
    resumed = DistanceMatrixRecorder()
    resumed.load_state_dict(first_half.state_dict())
    for snap in snapshots[2:]:
        resumed.add(snap)
    np.testing.assert_array_equal(resumed.matrix(), full.matrix())


def test_a_snapshot_of_other_layers_is_rejected() -> None:
    recorder = DistanceMatrixRecorder()
    recorder.add(_random_snapshots(1, {"a": 8}, 2)[0])
    with pytest.raises(ValueError, match="layers"):
        recorder.add(_random_snapshots(1, {"b": 8}, 2)[0])


def test_a_budget_below_one_byte_per_layer_is_refused() -> None:
    recorder = DistanceMatrixRecorder(budget_mib=1e-4, max_snapshots=100)
    with pytest.raises(ValueError, match="budget"):
        recorder.add(_random_snapshots(1, {"a": 64, "b": 64}, n_samples=2)[0])
