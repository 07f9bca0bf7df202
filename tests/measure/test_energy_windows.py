"""Energy of a window from samples: trapezoid values by hand, gaps never filled in, counters, provenance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splinebench.measure.energy import EnergyMeter, NullMeter, PowerSample
from splinebench.measure.energy.integrate import complement, merge_intervals, unwrap_counter


class FedMeter(EnergyMeter):
    """A meter whose samples the test hands in (no thread, no source)."""

    name = "fed"

    def start(self) -> None:
        self._mark_running(True)

    def stop(self) -> None:
        self._mark_running(False)

    def feed(self, times: list[float], watts: list[float | None], rails: dict[str, list[float]] | None = None) -> None:
        samples = []
        for i, (t, w) in enumerate(zip(times, watts, strict=True)):
            rail_mw = {name: values[i] * 1000 for name, values in (rails or {}).items()}
            samples.append(PowerSample(t, rail_mw, None if w is None else w * 1000, "VDD_IN"))
        self._record(samples)


def fed(times, watts, interval_ms=1000, rails=None) -> FedMeter:
    meter = FedMeter(interval_ms=interval_ms)
    meter.feed(times, watts, rails)
    return meter


def test_energy_of_samples_is_the_hand_computed_trapezoid():
    meter = fed([0, 1, 2, 3], [2, 4, 4, 1])
    window = meter.energy(0, 3)
    # (2+4)/2*1 + (4+4)/2*1 + (4+1)/2*1 = 3 + 4 + 2.5
    assert window.joules == pytest.approx(9.5)
    assert window.mean_power_w == pytest.approx(9.5 / 3)
    assert window.peak_power_w == pytest.approx(4)
    assert window.coverage == pytest.approx(1.0)
    assert window.gaps == []
    assert window.n_samples == 4
    assert window.method == "integrated-samples"
    assert window.meter == "fed"


def test_window_edges_between_samples_cut_at_the_linear_power():
    meter = fed([0, 1, 2, 3], [2, 4, 4, 1])
    # P(0.5) = 3, P(2.5) = 2.5: 0.5*(3+4)/2 + 4 + 0.5*(4+2.5)/2
    assert meter.energy(0.5, 2.5).joules == pytest.approx(1.75 + 4 + 1.625)


def test_overlapping_windows_agree_with_their_parts():
    meter = fed([0, 1, 2, 3, 4], [2, 4, 4, 1, 3])
    phase = meter.energy(0, 4).joules
    epochs = [meter.energy(a, b).joules for a, b in [(0, 1.3), (1.3, 2.9), (2.9, 4)]]
    assert phase == pytest.approx(sum(epochs))


def test_per_rail_energy_is_integrated_like_the_total():
    meter = fed([0, 1, 2], [5, 5, 5], rails={"VDD_SYS_GPU": [1, 3, 1]})
    window = meter.energy(0, 2)
    assert window.per_rail_joules["VDD_SYS_GPU"] == pytest.approx(2 + 2)
    assert window.joules == pytest.approx(10)


def test_a_long_silence_is_a_gap_and_is_not_interpolated():
    # interval 1 s: 8 s without a sample is a gap; a straight line over it would add 8 * 3 W = 24 J
    meter = fed([0, 1, 2, 10, 11], [3, 3, 3, 3, 3])
    window = meter.energy(0, 11)
    assert window.joules == pytest.approx(3 * 3)  # only [0, 2] and [10, 11] are covered
    assert window.coverage == pytest.approx(3 / 11)
    assert window.gaps == [(2.0, 10.0)]
    assert meter.gaps() == [(2.0, 10.0)]


def test_a_recorded_disconnect_is_a_gap_even_when_samples_are_close():
    meter = fed([0, 1, 2], [4, 4, 4])
    meter._begin_break(2.0)
    meter._end_break(2.4)
    meter.feed([2.4, 3.4], [4, 4])
    window = meter.energy(0, 3.4)
    assert window.gaps == [(2.0, 2.4)]
    assert window.joules == pytest.approx(4 * 3.0)
    assert window.coverage == pytest.approx(3.0 / 3.4)


def test_an_open_disconnect_counts_as_a_gap_until_now():
    meter = fed([0, 1], [4, 4])
    meter._begin_break(1.0)
    assert meter.gaps()[-1][0] == 1.0
    assert meter.gaps()[-1][1] > 1.0


def test_a_window_without_samples_says_why_instead_of_zero():
    meter = fed([0, 1], [4, 4])
    window = meter.energy(5, 6)
    assert window.joules is None
    assert window.coverage == 0.0
    assert "no samples in the window" in window.why_unavailable
    empty = FedMeter().energy(0, 1)
    assert empty.joules is None and "never started" in empty.why_unavailable


def test_samples_without_a_board_total_give_no_energy_and_say_so():
    meter = fed([0, 1, 2], [None, None, None], rails={"VDD_GPU_SOC": [1, 1, 1]})
    window = meter.energy(0, 2)
    assert window.joules is None
    assert "no board-total power" in window.why_unavailable
    assert "VDD_GPU_SOC" in window.why_unavailable


def test_the_null_meter_never_reports_zero_joules():
    window = NullMeter().energy(0, 10)
    assert window.joules is None
    assert window.why_unavailable == "no meter"
    assert window.meter == "none"


def test_net_of_idle_subtracts_idle_power_over_the_covered_time():
    meter = fed([0, 1, 2, 10, 11], [5, 5, 5, 5, 5])
    idle = fed([0, 1], [2, 2]).energy(0, 1)
    window = meter.energy(0, 11)
    assert window.net_joules(idle) == pytest.approx(15 - 2 * 3)
    assert window.net_joules(NullMeter().energy(0, 1)) is None


def test_counter_windows_use_deltas_spread_evenly_over_a_cut_reading():
    meter = FedMeter(interval_ms=1000)
    meter.method = "counter-delta"
    meter._record([], [(0.0, 0.0, {"GPU": 0.0}), (1.0, 10.0, {"GPU": 10.0}), (2.0, 30.0, {"GPU": 30.0})])
    assert meter.energy(0, 2).joules == pytest.approx(30)
    assert meter.energy(0.5, 1.5).joules == pytest.approx(5 + 10)
    assert meter.energy(0.5, 1.5).method == "counter-delta"
    assert meter.energy(0, 2).per_rail_joules == {"GPU": pytest.approx(30)}


def test_a_long_counter_reading_counts_only_when_the_window_holds_it_whole():
    # readings 1 s apart, then 5 s without one (polling starved): the counter still knows those 5 s exactly
    meter = FedMeter(interval_ms=1000)
    meter.method = "counter-delta"
    meter._record([], [(0.0, 0.0, {}), (1.0, 10.0, {}), (6.0, 60.0, {}), (7.0, 70.0, {})])
    whole = meter.energy(0, 7)
    assert whole.joules == pytest.approx(70) and whole.coverage == pytest.approx(1.0) and whole.gaps == []
    cut = meter.energy(0, 3)  # spreading the 5 s delta over a part of it would be interpolation: a gap instead
    assert cut.joules == pytest.approx(10) and cut.gaps == [(1.0, 3.0)]


def test_counter_wrap_around_is_undone():
    # RAPL-style counter wrapping at 1000: 900 -> 100 is +200, not -800
    assert unwrap_counter([800, 900, 100, 300], 1000).tolist() == [800, 900, 1100, 1300]


def test_interval_helpers_merge_and_complement():
    assert merge_intervals([(3, 4), (0, 1), (0.5, 2)]) == [(0, 2), (3, 4)]
    assert complement([(0, 2), (3, 4)], -1, 5) == [(-1, 0), (2, 3), (4, 5)]


powers = st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=3, max_size=30)


@settings(max_examples=60, deadline=None)
@given(powers, st.floats(min_value=0.01, max_value=0.99))
def test_splitting_a_window_anywhere_conserves_energy(watts, where):
    times = [0.5 * i for i in range(len(watts))]
    meter = fed(times, watts, interval_ms=500)
    t_end = times[-1]
    cut = where * t_end
    whole = meter.energy(0, t_end).joules
    parts = meter.energy(0, cut).joules + meter.energy(cut, t_end).joules
    assert math.isclose(whole, parts, rel_tol=1e-9, abs_tol=1e-9)
    assert whole == pytest.approx(float(np.sum((np.array(watts[1:]) + np.array(watts[:-1])) / 2 * 0.5)))
