"""The spline early-bird rule (Algorithm 1) on hand-made distance sequences."""

from __future__ import annotations

import numpy as np
import pytest

from splinebench.spline import EarlyBirdDetector, PartitionCodes, partition_distance
from splinebench.spline.early_bird import SnapshotWindow


def _first_fire(detector: EarlyBirdDetector, distances: list[float]) -> list[bool]:
    return [detector.update(d) for d in distances]


def test_fires_when_the_fifo_is_full_and_all_distances_are_below_eps() -> None:
    detector = EarlyBirdDetector(eps=0.15, window=2)
    fired = _first_fire(detector, [0.4, 0.1, 0.2, 0.12, 0.05, 0.3])
    assert fired == [False, False, False, False, True, True]
    assert detector.fired_epoch == 5
    assert detector.fifo == [0.05, 0.3]


def test_a_window_not_yet_full_does_not_fire() -> None:
    detector = EarlyBirdDetector(eps=0.15, window=3)
    assert _first_fire(detector, [0.01, 0.01]) == [False, False]
    assert not detector.fired
    assert detector.update(0.01)
    assert detector.fired_epoch == 3


def test_a_distance_equal_to_eps_does_not_fire() -> None:
    detector = EarlyBirdDetector(eps=0.15, window=2)
    assert _first_fire(detector, [0.15, 0.1, 0.15, 0.1]) == [False, False, False, False]
    assert detector.update(0.1499)
    assert detector.fired_epoch == 5


def test_once_fired_it_stays_fired_at_the_first_epoch() -> None:
    detector = EarlyBirdDetector(eps=0.15, window=2)
    _first_fire(detector, [0.1, 0.1, 0.9, 0.1, 0.1])
    assert detector.fired and detector.fired_epoch == 2
    assert detector.fifo == [0.1, 0.1]


def test_current_anchor_uses_distances_to_the_previous_window_snapshots() -> None:
    detector = EarlyBirdDetector(eps=0.16, window=3, anchor="current")
    assert not detector.update_previous([0.01, 0.02])  # only two earlier snapshots
    assert not detector.update_previous([0.01, 0.02, 0.16])
    assert detector.update_previous([0.01, 0.02, 0.15, 0.9])  # the fourth is outside the window
    assert detector.fired_epoch == 3
    with pytest.raises(ValueError):
        detector.update(0.1)


def test_matrix_rows_feed_either_rule() -> None:
    consecutive = EarlyBirdDetector(eps=0.15, window=2)
    current = EarlyBirdDetector(eps=0.15, window=2, anchor="current")
    rows = [[], [0.5], [0.5, 0.1], [0.5, 0.2, 0.1], [0.5, 0.2, 0.1, 0.1]]
    fired_consecutive = [consecutive.update_from_row(r) for r in rows]
    fired_current = [current.update_from_row(r) for r in rows]
    # consecutive looks at row[-1]: 0.5, 0.1, 0.1 -> fires on the third update (row 3)
    assert fired_consecutive == [False, False, False, True, True]
    # current looks at the two most recent: [0.1, 0.5], [0.1, 0.2], [0.1, 0.1] -> fires on row 4
    assert fired_current == [False, False, False, False, True]
    assert consecutive.fired_epoch == 3 and current.fired_epoch == 4


def test_state_round_trip_resumes_the_fifo() -> None:
    detector = EarlyBirdDetector(eps=0.15, window=2)
    detector.update(0.3)
    detector.update(0.1)
    resumed = EarlyBirdDetector(eps=0.15, window=2)
    resumed.load_state_dict(detector.state_dict())
    assert resumed.update(0.1)
    assert resumed.fired_epoch == 3
    with pytest.raises(ValueError, match="eps"):
        EarlyBirdDetector(eps=0.2, window=2).load_state_dict(detector.state_dict())


def _codes(**flipped: tuple[int, int]) -> PartitionCodes:
    """One sample; layer -> (bits, how many leading bits are set)."""
    layers, bits = {}, {}
    for name, (n, ones) in flipped.items():
        row = np.zeros((1, n), dtype=np.uint8)
        row[0, :ones] = 1
        layers[name], bits[name] = np.packbits(row, axis=1), n
    return PartitionCodes(layers=layers, bits=bits, n_samples=1)


def _run_rules(snapshots: list[PartitionCodes], **window_options) -> tuple[int | None, int | None]:
    """(paper rule's EB epoch at eps .15 / window 2, seed-code rule's at eps .16 / window 3); snapshot 0 is init."""
    paper = EarlyBirdDetector(eps=0.15, window=2)
    seed_code = EarlyBirdDetector(eps=0.16, window=3, anchor="current")
    window = SnapshotWindow(3, **window_options)
    for previous, codes in zip(snapshots, snapshots[1:], strict=False):
        layers = window.layers or list(codes.layers)
        d = partition_distance(previous.subset(layers), codes.subset(layers))
        paper.update(d.mean_of_layers if window.distance == "mean-of-layers" else d.bit_weighted)
        window.update(seed_code, codes)
    return paper.fired_epoch, seed_code.fired_epoch


def test_seed_code_rule_sees_drift_that_consecutive_distances_hide() -> None:
    # every epoch flips 10 more of 100 bits: consecutive distance 0.1, but 0.2 and 0.3 to two and three epochs back
    snapshots = [_codes(a=(100, 10 * t)) for t in range(8)]
    paper, seed_code = _run_rules(snapshots)
    assert paper == 2  # 0.1, 0.1 < 0.15
    assert seed_code is None  # max(0.1, 0.2, 0.3) >= 0.16 at every epoch


def test_seed_code_rule_never_compares_with_the_initial_snapshot() -> None:
    # nothing changes after initialisation except 1 bit per epoch: with the initial snapshot it would fire after
    # epoch 3; without it the first full window of trained epochs is 1, 2, 3, compared after epoch 4
    snapshots = [_codes(a=(100, t)) for t in range(6)]
    assert _run_rules(snapshots) == (2, 4)


def test_seed_code_rule_honours_the_layers_and_the_distance_chosen() -> None:
    # layer "a" (10 bits) churns, layer "b" (1000 bits) settles: mean of layers sees "a", bit-weighted hardly does
    snapshots = [_codes(a=(10, t % 2 * 5), b=(1000, 10 * t)) for t in range(7)]
    assert _run_rules(snapshots)[1] is None  # mean of layers: (0.5 + ~0.01) / 2 > 0.16
    assert _run_rules(snapshots, distance="bit-weighted")[1] == 4  # 5-35 of 1010 bits
    assert _run_rules(snapshots, layers=["b"])[1] == 4  # only "b" watched
    assert _run_rules(snapshots, layers=["a"])[1] is None
