"""tegrastats lines of every Jetson format -> rails and board total; garbage is counted, never raised."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splinebench.measure.energy import TegrastatsParser, board_total, parse_tegrastats_line

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "tegrastats" / "recorded"


def recorded(name: str) -> list[str]:
    lines = (RECORDED / f"{name}.txt").read_text().splitlines()
    return [ln for ln in lines if ln.strip() and not ln.startswith("#")]


@pytest.mark.parametrize(
    ("trace", "rails", "total", "source"),
    [
        ("tx2", {"VDD_SYS_GPU": 153, "VDD_SYS_SOC": 536, "VDD_4V0_WIFI": 633, "VDD_IN": 3140, "VDD_SYS_CPU": 536,
                 "VDD_SYS_DDR": 557}, 3140, "VDD_IN"),
        ("tx2_l4t28", {"VDD_IN": 1931, "VDD_CPU": 231, "VDD_GPU": 154, "VDD_SOC": 385, "VDD_WIFI": 38,
                       "VDD_DDR": 326}, 1931, "VDD_IN"),
        ("nano", {"POM_5V_IN": 2746, "POM_5V_GPU": 159, "POM_5V_CPU": 796}, 2746, "POM_5V_IN"),
        ("xavier_nx", {"VDD_IN": 5299, "VDD_CPU_GPU_CV": 1234, "VDD_SOC": 1432}, 5299, "VDD_IN"),
        ("orin_agx", {"VDD_GPU_SOC": 2399, "VDD_CPU_CV": 400, "VIN_SYS_5V0": 4032, "VDDQ_VDD2_1V8AO": 301},
         2399 + 400 + 4032, "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"),
        ("xavier_agx_l4t32_1", {"GPU": 463, "CPU": 618, "SOC": 2936, "CV": 0, "VDDRQ": 309, "SYS5V": 3306},
         463 + 618 + 2936 + 0 + 309 + 3306, "GPU+CPU+SOC+CV+VDDRQ+SYS5V"),
    ],
)
def test_each_format_parses_to_its_rails_and_total(trace, rails, total, source):
    sample = parse_tegrastats_line(recorded(trace)[0], t=1.0)
    assert sample is not None
    assert sample.rails_mw == {k: float(v) for k, v in rails.items()}
    assert sample.total_mw == total
    assert sample.total_source == source
    assert sample.t == 1.0


def test_the_input_rail_is_the_total_and_the_other_rails_are_never_added():
    sample = parse_tegrastats_line(recorded("tx2")[1], t=0)
    assert sample.total_mw == 9875  # VDD_IN alone; the parts would sum to 18651 with it
    assert sample.total_mw < sum(sample.rails_mw.values())


def test_units_decide_what_is_a_rail():
    line = ("RAM 2020/7852MB (lfb 1164x4MB) SWAP 278/8192MB (cached 23MB) IRAM 0/252kB(lfb 252kB) "
            "CPU [9%@345,21%@345] EMC_FREQ 0%@1866 GR3D_FREQ 0%@140 APE 150 MTS fg 1% bg 8% GPU@41C "
            "NVENC 716 VDD_IN 3140/3208")
    assert parse_tegrastats_line(line, t=0).rails_mw == {"VDD_IN": 3140.0}


def test_not_connected_orin_channels_are_dropped():
    sample = parse_tegrastats_line(recorded("orin_agx")[0], t=0)
    assert "NC" not in sample.rails_mw


def test_a_rail_in_milliwatts_without_average_is_read():
    assert parse_tegrastats_line("VDD_IN 5299mW VDD_SOC 1432mW", t=0).rails_mw == {"VDD_IN": 5299, "VDD_SOC": 1432}


def test_a_leading_date_stamp_gives_the_time_and_changes_nothing_else():
    dated = recorded("xavier_nx")[1]
    undated = dated.split(" ", 2)[2]
    with_stamp = parse_tegrastats_line(dated)
    without = parse_tegrastats_line(undated, t=0)
    assert with_stamp.rails_mw == without.rails_mw == {"VDD_IN": 9876, "VDD_CPU_GPU_CV": 4321, "VDD_SOC": 2012}
    assert with_stamp.t == time.mktime((2026, 11, 26, 9, 0, 0, 0, 0, -1))


def test_every_recorded_line_gives_a_sample_with_a_total():
    parser = TegrastatsParser()
    for path in sorted(RECORDED.glob("*.txt")):
        if path.stem == "no_rails":
            continue
        for line in recorded(path.stem):
            sample = parser.parse(line, t=0)
            assert sample is not None and sample.total_mw is not None, (path.name, line[:60])
    assert parser.skipped == 0


def test_lines_without_rails_are_counted_and_skipped():
    parser = TegrastatsParser()
    assert parser.parse(recorded("no_rails")[0], t=0) is None
    assert parser.parse("tegrastats: command not found", t=0) is None
    assert parser.parse("", t=0) is None
    assert (parser.skipped, parser.skipped_no_rails, parser.parsed) == (3, 1, 0)


def test_a_set_of_rails_with_no_documented_total_has_no_total():
    assert board_total({"VDD_GPU_SOC": 1000.0, "VDD_CPU_CV": 400.0}) == (None, None)
    sample = parse_tegrastats_line("VDD_GPU_SOC 1000mW/1000mW VDD_CPU_CV 400mW/400mW", t=0)
    assert sample.total_mw is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_garbage_never_raises(garbage):
    parser = TegrastatsParser()
    result = parser.parse(garbage, t=0)
    assert result is None or result.rails_mw
    assert parser.parsed + parser.skipped == 1


rail_token = st.sampled_from(["VDD_IN", "POM_5V_IN", "VDD_SYS_GPU", "NC", "RAM", "VDD_GPU_SOC", "x"])
fragment = st.one_of(
    st.text(alphabet="0123456789/mWMBk%@[]C. -_", max_size=12),
    st.builds(lambda n, a, b: f"{n} {a}/{b}", rail_token, st.integers(-5, 10**12), st.integers(0, 10**6)),
    st.builds(lambda n, a: f"{n} {a}mW", rail_token, st.floats(allow_nan=True, allow_infinity=True)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(fragment, max_size=12))
def test_half_valid_lines_never_raise_and_keep_plausible_values(fragments):
    sample = TegrastatsParser().parse(" ".join(fragments), t=0)
    if sample is not None:
        assert all(0 <= v <= 1_000_000 for v in sample.rails_mw.values())
        assert "NC" not in sample.rails_mw
