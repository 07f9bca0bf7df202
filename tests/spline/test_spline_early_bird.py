"""The spline early-bird rule (Algorithm 1) on hand-made distance sequences."""

from __future__ import annotations

import pytest

from splinebench.spline import EarlyBirdDetector


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
