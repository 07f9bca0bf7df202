"""TegrastatsOverSSH against a real OpenSSH server on loopback with the stand-in tegrastats on its PATH."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from splinebench.measure.energy import MeterUnavailableError, TegrastatsOverSSH

pytestmark = pytest.mark.ssh


def meter_for(sshd, trace: str = "tx2", interval_ms: int = 50, **kwargs) -> TegrastatsOverSSH:
    return TegrastatsOverSSH(
        sshd.url, interval_ms=interval_ms, known_hosts=str(sshd.known_hosts), client_keys=[str(sshd.client_key)],
        config=[], tegrastats=f"env SB_TEGRASTATS_TRACE={trace} tegrastats", backoff_initial_s=0.1,
        backoff_max_s=0.4, **{"connect_timeout_s": 30.0, "start_timeout_s": 30.0, **kwargs},
    )


def stopped_how(sshd, pid: int) -> str | None:
    marker = sshd.tegrastats_state / "stopped" / str(pid)
    return marker.read_text().strip() if marker.exists() else None


def test_a_replayed_constant_trace_integrates_to_power_times_time(sshd):
    with meter_for(sshd, "constant") as meter:
        t0 = meter.now()
        time.sleep(0.6)
        t1 = meter.now()
        window = meter.energy(t0, t1)
    # arrival jitter does not matter for a constant power; a stall longer than the gap threshold (a loaded CI
    # machine) would show as a gap and lower the coverage, never as extra or missing joules
    assert window.coverage > 0.5
    assert window.covered_s == pytest.approx(window.duration_s - sum(b - a for a, b in window.gaps))
    assert window.joules == pytest.approx(5.0 * window.covered_s, rel=1e-9)
    assert window.per_rail_joules["VDD_SYS_GPU"] == pytest.approx(1.0 * window.covered_s, rel=1e-9)
    assert window.n_samples >= 5
    assert window.method == "integrated-samples" and window.meter == "tegrastats-ssh"


def test_a_replayed_trace_arrives_in_order_and_matches_a_hand_trapezoid(sshd):
    with meter_for(sshd, "ramp") as meter:
        time.sleep(0.5)
        samples = meter.samples()
        t0, t1 = samples[0].t, samples[-1].t
        window = meter.energy(t0, t1, wait=False)
    totals = [s.total_mw for s in samples]
    assert totals[:4] == [1000, 2000, 3000, 4000]
    assert all(b - a in (1000, -3000) for a, b in zip(totals, totals[1:], strict=False))
    by_hand = 0.0
    for a, b in zip(samples, samples[1:], strict=False):
        if b.t - a.t <= max(2.5 * 0.05, 0.05 + 0.2):  # a longer stall (loaded machine) is a gap, not integrated
            by_hand += (a.total_mw + b.total_mw) / 2 / 1000 * (b.t - a.t)
    assert window.joules == pytest.approx(by_hand, rel=1e-9)


def test_the_remote_tegrastats_is_gone_after_the_meter_stops(sshd):
    meter = meter_for(sshd)
    meter.start()
    pid = meter.info()["remote_pids"][0]
    assert sshd.ssh(f"kill -0 {pid}").returncode == 0  # running while we measure
    meter.stop()
    meter.stop()  # idempotent
    assert sshd.ssh(f"kill -0 {pid}").returncode != 0
    assert stopped_how(sshd, pid) == "SIGTERM"  # killed by PID, not merely hung up on
    assert meter.info()["remote_left_running"] == []
    assert not meter.running


def test_a_dropped_link_reconnects_and_leaves_a_recorded_gap(sshd):
    meter = meter_for(sshd, "constant")
    meter.start()
    try:
        t0 = meter.now()
        time.sleep(0.4)
        first_pid = meter.info()["remote_pids"][0]
        sshd.kill_hard()  # the listener and the per-connection sshd die: the link is gone mid-stream
        time.sleep(0.6)
        t_restart = meter.now()  # nothing can have been sampled between the kill and now
        sshd.start()
        assert meter.wait_for_sample(meter.now() + 0.2, timeout_s=15)
        time.sleep(0.3)
        t1 = meter.now()
        window = meter.energy(t0, t1)
        info = meter.info()
    finally:
        meter.stop()
    assert info["reconnects"] >= 1
    assert info["remote_pids"][0] != first_pid
    gap_start, gap_end = max(meter.gaps(), key=lambda g: g[1] - g[0])
    assert gap_start < t_restart - 0.5 and t_restart < gap_end
    assert [s for s in meter.samples() if s.t > gap_end]  # the stream resumed
    assert window.coverage < 1.0
    assert window.joules == pytest.approx(5.0 * window.covered_s, rel=1e-9)  # the gap is not filled in
    assert stopped_how(sshd, first_pid) in ("SIGHUP", "pipe")  # the orphan died with its terminal
    assert sshd.ssh(f"kill -0 {info['remote_pids'][0]}").returncode != 0


def test_orin_rails_over_ssh_give_the_documented_sum(sshd):
    with meter_for(sshd, "orin_agx") as meter:
        sample = meter.samples()[0]
        info = meter.info()
    assert sample.total_mw == 2399 + 400 + 4032
    assert info["total_source"] == "VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"
    assert info["rails"] == ["VDDQ_VDD2_1V8AO", "VDD_CPU_CV", "VDD_GPU_SOC", "VIN_SYS_5V0"]


def test_tegrastats_without_rails_is_refused_with_the_sudo_hint(sshd):
    meter = meter_for(sshd, "no_rails")
    with pytest.raises(MeterUnavailableError, match=r"no power rails.*\?sudo=1"):
        meter.start()
    assert not meter.running
    assert meter.info()["remote_left_running"] == []


def test_a_board_without_tegrastats_is_refused_clearly(sshd):
    meter = TegrastatsOverSSH(sshd.url, known_hosts=str(sshd.known_hosts), client_keys=[str(sshd.client_key)],
                              config=[], tegrastats="no-such-tegrastats")
    with pytest.raises(MeterUnavailableError, match="`no-such-tegrastats` not found on .*Is it a Jetson"):
        meter.start()


def test_sysfs_mode_samples_the_ina3221_files_over_the_same_connection(sshd, tmp_path):
    dev = tmp_path / "sys/bus/i2c/drivers/ina3221x/0-0040/iio:device0"
    dev.mkdir(parents=True)
    for n, (name, mw) in enumerate([("VDD_IN", 6000), ("VDD_SYS_GPU", 2500)]):
        (dev / f"rail_name_{n}").write_text(name + "\n")
        (dev / f"in_power{n}_input").write_text(f"{mw}\n")
    meter = meter_for(sshd, sysfs=True, sysfs_root=str(tmp_path))
    with meter:
        t0 = meter.now()
        time.sleep(0.4)
        window = meter.energy(t0, meter.now())
        pid = meter.info()["remote_pids"][0]
        assert meter.info()["source"] == "ina3221-sysfs"
    assert window.mean_power_w == pytest.approx(6.0)
    assert window.per_rail_joules["VDD_SYS_GPU"] == pytest.approx(2.5 * window.covered_s)
    assert sshd.ssh(f"kill -0 {pid}").returncode != 0


def test_the_async_api_runs_on_the_callers_loop_and_streams_to_listeners(sshd):
    received = []

    async def measure() -> int:
        meter = meter_for(sshd)
        await meter.astart()
        meter.add_listener(received.extend)
        await asyncio.sleep(0.4)
        pid = meter.info()["remote_pids"][0]
        await meter.astop()
        return pid

    pid = asyncio.run(measure())
    assert len(received) >= 3
    assert all(s.total_mw is not None for s in received)
    assert sshd.ssh(f"kill -0 {pid}").returncode != 0


def test_info_records_the_provenance_of_the_measurement(sshd):
    with meter_for(sshd) as meter:
        info = meter.info()
    assert info["meter"] == "tegrastats-ssh"
    assert info["host"] == "127.0.0.1" and info["port"] == sshd.port
    assert info["source"] == "tegrastats" and info["total_source"] == "VDD_IN"
    assert info["host_key"].startswith("SHA256:") and info["host_key_checked"] is True
    assert info["tegrastats_path"].endswith("tegrastats")
    assert abs(info["clock_offset_s"]) < 0.5  # same machine: the measured offset is near zero
    assert info["parser_parsed"] >= 1 and info["parser_skipped"] == 0
    assert Path(info["tegrastats_path"]).name == "tegrastats"
