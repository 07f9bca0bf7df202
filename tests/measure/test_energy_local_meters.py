"""Local meters against fake sysfs trees and a fake NVML: the maths, and saying clearly when unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest

from splinebench.errors import BadInputError, UnknownNameError
from splinebench.measure.energy import (
    JetsonSysfsMeter,
    MeterUnavailableError,
    NvmlMeter,
    RaplMeter,
    TegrastatsOverSSH,
    open_meter,
)
from splinebench.measure.energy.ina3221 import discover, remote_loop_script


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def rapl_tree(root: Path, max_range: int = 1_000_000) -> Path:
    for key, name in [("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"), ("intel-rapl:0:1", "dram"),
                      ("intel-rapl:1", "package-1")]:
        write(root / key / "name", name + "\n")
        write(root / key / "max_energy_range_uj", f"{max_range}\n")
        write(root / key / "energy_uj", "0\n")
    return root


def set_energy(root: Path, **uj: int) -> None:
    keys = {"pkg0": "intel-rapl:0", "core": "intel-rapl:0:0", "dram": "intel-rapl:0:1", "pkg1": "intel-rapl:1"}
    for short, value in uj.items():
        (root / keys[short] / "energy_uj").write_text(f"{value}\n")


# --------------------------------------------------------------------------- RAPL
def test_rapl_energy_is_package_plus_dram_counter_deltas_across_a_wrap(tmp_path):
    root = rapl_tree(tmp_path / "powercap")
    meter = RaplMeter(root=root)
    assert meter.unavailable_reason() is None
    meter._open()
    set_energy(root, pkg0=900_000, core=500_000, dram=100_000, pkg1=0)
    meter.poll_once(t=0.0)
    set_energy(root, pkg0=950_000, core=520_000, dram=150_000, pkg1=200_000)
    meter.poll_once(t=1.0)
    set_energy(root, pkg0=50_000, core=540_000, dram=200_000, pkg1=400_000)  # package-0 wrapped at 1 J
    meter.poll_once(t=2.0)
    window = meter.energy(0.0, 2.0)
    # package-0: 0.05 + 0.10 J (wrap), package-1: 0.4 J, dram: 0.1 J; core is inside package-0, not added
    assert window.joules == pytest.approx(0.15 + 0.4 + 0.1)
    assert window.method == "counter-delta"
    assert window.per_rail_joules["package-0"] == pytest.approx(0.15)
    assert window.per_rail_joules["package-0/core"] == pytest.approx(0.04)
    assert meter.info()["total_source"] == "package-0+package-0/dram+package-1"
    second = meter.samples()[-1]
    assert second.total_mw == pytest.approx((0.10 + 0.2 + 0.05) * 1000)


def test_rapl_psys_alone_is_the_total_when_present(tmp_path):
    root = rapl_tree(tmp_path / "powercap")
    write(root / "intel-rapl:2" / "name", "psys\n")
    write(root / "intel-rapl:2" / "max_energy_range_uj", "1000000\n")
    write(root / "intel-rapl:2" / "energy_uj", "0\n")
    meter = RaplMeter(root=root)
    meter._open()
    assert meter.total_source == "psys"


def test_rapl_says_exactly_what_to_change_when_only_root_may_read(tmp_path, monkeypatch):
    root = rapl_tree(tmp_path / "powercap")
    real_read = Path.read_text

    def deny(self: Path, *args, **kwargs):
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", deny)
    meter = RaplMeter(root=root)
    reason = meter.unavailable_reason()
    assert f"sudo chmod o+r {root}/intel-rapl:*/energy_uj" in reason
    with pytest.raises(MeterUnavailableError, match="root only"):
        meter.start()


def test_rapl_without_powercap_is_unavailable_not_zero(tmp_path):
    meter = RaplMeter(root=tmp_path / "missing")
    with pytest.raises(MeterUnavailableError, match="no RAPL powercap interface"):
        meter.start()
    assert not meter.running


# --------------------------------------------------------------------------- NVML
class FakeNvml:
    """The slice of pynvml the meter uses, with a settable energy counter (mJ) and power (mW)."""

    class NVMLError(Exception):
        pass

    def __init__(self, counter: bool = True, driver: bool = True, gpus: int = 1) -> None:
        self.counter, self.driver, self.gpus = counter, driver, gpus
        self.energy_mj = 0
        self.power_mw = 0
        self.inits = 0

    def nvmlInit(self):
        if not self.driver:
            raise self.NVMLError("NVML Shared Library Not Found")
        self.inits += 1

    def nvmlShutdown(self):
        self.inits -= 1

    def nvmlDeviceGetCount(self):
        return self.gpus

    def nvmlDeviceGetHandleByIndex(self, index):
        return ("gpu", index)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.counter:
            raise self.NVMLError("Not Supported")
        return self.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle):
        return self.power_mw

    def nvmlDeviceGetName(self, handle):
        return b"Fake GPU"

    def nvmlSystemGetDriverVersion(self):
        return "999.1"


def test_nvml_uses_the_energy_counter_where_the_gpu_has_one():
    nvml = FakeNvml(counter=True)
    meter = NvmlMeter(nvml=nvml)
    meter._open()
    for t, mj in [(0.0, 1_000_000), (1.0, 1_250_000), (2.0, 1_400_000)]:
        nvml.energy_mj = mj
        meter.poll_once(t=t)
    window = meter.energy(0.0, 2.0)
    assert window.method == "counter-delta"
    assert window.joules == pytest.approx(400.0)
    assert meter.samples()[0].total_mw == pytest.approx(250_000)
    assert meter.info()["gpu_name"] == "Fake GPU"


def test_nvml_integrates_power_on_gpus_without_a_counter():
    nvml = FakeNvml(counter=False)
    meter = NvmlMeter(nvml=nvml)
    meter._open()
    for t, mw in [(0.0, 100_000), (1.0, 300_000)]:
        nvml.power_mw = mw
        meter.poll_once(t=t)
    window = meter.energy(0.0, 1.0)
    assert window.method == "integrated-samples"
    assert window.joules == pytest.approx(200.0)
    assert "average" in meter.info()["source"]


def test_nvml_without_a_driver_says_so():
    meter = NvmlMeter(nvml=FakeNvml(driver=False))
    assert "no NVIDIA driver" in meter.unavailable_reason()
    with pytest.raises(MeterUnavailableError, match="nvml"):
        meter.start()
    assert "index 3" in NvmlMeter(3, nvml=FakeNvml(gpus=1)).unavailable_reason()


def test_meters_on_this_machine_are_either_usable_or_say_why():
    for meter in (NvmlMeter(), RaplMeter(), JetsonSysfsMeter()):
        reason = meter.unavailable_reason()
        if reason is None:  # a machine that has it: it must then actually measure
            meter.start()
            meter.stop()
            continue
        assert len(reason) > 20
        with pytest.raises(MeterUnavailableError) as info:
            meter.start()
        assert reason in str(info.value)
        assert not meter.running


# --------------------------------------------------------------------------- Jetson sysfs
def tx2_tree(root: Path) -> Path:
    dev = root / "sys/bus/i2c/drivers/ina3221x/0-0040/iio:device0"
    for n, (name, mw) in enumerate([("VDD_IN", 4000), ("VDD_SYS_GPU", 1500), ("VDD_SYS_CPU", 800)]):
        write(dev / f"rail_name_{n}", name + "\n")
        write(dev / f"in_power{n}_input", f"{mw}\n")
    return root


def orin_tree(root: Path) -> Path:
    dev = root / "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    for n, (label, mv, ma) in enumerate([("VDD_GPU_SOC", 5000, 400), ("VDD_CPU_CV", 5000, 100),
                                         ("VIN_SYS_5V0", 5000, 800), ("sum of shunt voltages", 1, 1)], start=1):
        write(dev / f"in{n}_label", label + "\n")
        write(dev / f"in{n}_input", f"{mv}\n")
        write(dev / f"curr{n}_input", f"{ma}\n")
    write(dev / "in4_label", "NC\n")
    return root


def test_local_jetson_meter_reads_tx2_rails_and_takes_vdd_in_as_total(tmp_path):
    meter = JetsonSysfsMeter(root=tx2_tree(tmp_path))
    assert meter.unavailable_reason() is None
    meter._open()
    meter.poll_once(t=0.0)
    meter.poll_once(t=1.0)
    sample = meter.samples()[-1]
    assert sample.rails_mw == {"VDD_IN": 4000, "VDD_SYS_CPU": 800, "VDD_SYS_GPU": 1500}
    assert sample.total_mw == 4000
    assert meter.energy(0.0, 1.0).joules == pytest.approx(4.0)


def test_local_jetson_meter_multiplies_orin_volts_and_amps_and_skips_non_rails(tmp_path):
    channels = discover(orin_tree(tmp_path))
    assert [c.name for c in channels] == ["VDD_CPU_CV", "VDD_GPU_SOC", "VIN_SYS_5V0"]
    meter = JetsonSysfsMeter(root=tmp_path)
    meter._open()
    meter.poll_once(t=0.0)
    sample = meter.samples()[-1]
    assert sample.rails_mw["VDD_GPU_SOC"] == pytest.approx(2000)
    assert sample.total_mw == pytest.approx(2000 + 500 + 4000)


def test_local_jetson_meter_is_unavailable_off_a_jetson(tmp_path):
    assert "no INA3221 power monitor" in JetsonSysfsMeter(root=tmp_path).unavailable_reason()


def test_remote_sysfs_loop_is_plain_sh_with_one_rail_per_channel(tmp_path):
    script = remote_loop_script(discover(tx2_tree(tmp_path)), 0.05)
    assert script.count("read -r v") == 3
    assert "sleep 0.050" in script and "splinebench-ina3221" in script


# --------------------------------------------------------------------------- registry
def test_open_meter_picks_the_meter_by_scheme():
    assert isinstance(open_meter("ssh://nvidia@tx2:2222"), TegrastatsOverSSH)
    assert isinstance(open_meter("rapl"), RaplMeter)
    assert isinstance(open_meter("jetson"), JetsonSysfsMeter)
    assert open_meter("nvml:1").index == 1
    assert open_meter("none").energy(0, 1).why_unavailable == "no meter"


def test_unknown_meter_names_the_close_ones():
    with pytest.raises(UnknownNameError, match="Did you mean: rapl"):
        open_meter("rappl")


def test_bad_meter_urls_are_user_errors():
    with pytest.raises(BadInputError, match="never takes passwords"):
        open_meter("ssh://nvidia:secret@tx2")
    with pytest.raises(BadInputError, match="GPU index"):
        open_meter("nvml:first")
    with pytest.raises(BadInputError, match="only applies to ssh"):
        open_meter("rapl", accept_new_host=True)
    with pytest.raises(BadInputError, match="unknown option"):
        open_meter("ssh://tx2?sudoo=1")
