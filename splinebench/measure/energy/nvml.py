"""NVIDIA GPU energy through NVML (the ``nvidia-ml-py`` package, imported only when this meter is used).

Where the GPU has it (Volta and newer) the driver's total-energy counter
(``nvmlDeviceGetTotalEnergyConsumption``, mJ since the driver loaded) is read and windows are counter deltas.
Older GPUs only report power (``nvmlDeviceGetPowerUsage``), which is integrated instead; on recent GPUs that
figure is itself a ~1 s average, which the provenance says. No NVML, no driver or no such GPU: the meter says
which, never 0 J.
"""

from __future__ import annotations

import contextlib
from typing import Any

from splinebench.measure.energy.meter import MeterUnavailableError
from splinebench.measure.energy.polling import CounterReading, PollingMeter
from splinebench.measure.energy.samples import PowerSample


class NvmlMeter(PollingMeter):
    """One GPU's energy (``nvml`` or ``nvml:INDEX``). ``nvml`` injects a module-like NVML for tests."""

    name = "nvml"

    def __init__(self, index: int = 0, *, interval_ms: int = 1000, nvml: Any = None) -> None:
        super().__init__(interval_ms=interval_ms)
        self.index = index
        self._nvml = nvml
        self._handle: Any = None
        self._uses_counter = False
        self._previous: tuple[float, float] | None = None
        self._device: dict[str, Any] = {}

    def _library(self) -> Any:
        if self._nvml is None:
            try:
                import pynvml  # nvidia-ml-py
            except ImportError:
                raise MeterUnavailableError(
                    self.name, "nvidia-ml-py is not installed (pip install 'splinebench[nvml]')"
                ) from None
            self._nvml = pynvml
        return self._nvml

    def unavailable_reason(self) -> str | None:
        try:
            nvml = self._library()
        except MeterUnavailableError as exc:
            return exc.reason
        try:
            nvml.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError subclasses vary by failure
            return f"NVML cannot start on this machine ({exc}): no NVIDIA driver or GPU here"
        try:
            count = nvml.nvmlDeviceGetCount()
            if not 0 <= self.index < count:
                return f"no GPU with index {self.index} (NVML sees {count})"
        except Exception as exc:  # noqa: BLE001
            return f"NVML cannot list GPUs ({exc})"
        finally:
            with contextlib.suppress(Exception):  # already failing: the reason above is what matters
                nvml.nvmlShutdown()
        return None

    def _open(self) -> None:
        nvml = self._library()
        nvml.nvmlInit()
        self._handle = nvml.nvmlDeviceGetHandleByIndex(self.index)
        self._previous = None
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
            self._uses_counter = True
        except Exception:  # noqa: BLE001 - NVMLError_NotSupported on GPUs older than Volta
            self._uses_counter = False
            try:
                nvml.nvmlDeviceGetPowerUsage(self._handle)
            except Exception as exc:  # noqa: BLE001
                nvml.nvmlShutdown()
                raise MeterUnavailableError(
                    self.name, f"GPU {self.index} reports neither an energy counter nor power ({exc})"
                ) from None
        self.method = "counter-delta" if self._uses_counter else "integrated-samples"
        self._device = {
            "gpu_index": self.index,
            "gpu_name": _text(_try(nvml.nvmlDeviceGetName, self._handle)),
            "driver_version": _text(_try(nvml.nvmlSystemGetDriverVersion)),
        }

    def _read(self, t: float) -> tuple[PowerSample | None, CounterReading | None]:
        nvml = self._nvml
        if self._uses_counter:
            cumulative_j = nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0
            sample = None
            if self._previous is not None and t > self._previous[0]:
                power_mw = (cumulative_j - self._previous[1]) / (t - self._previous[0]) * 1000.0
                sample = PowerSample(t, {"GPU": power_mw}, power_mw, "GPU")
            self._previous = (t, cumulative_j)
            return sample, (t, cumulative_j, {"GPU": cumulative_j})
        power_mw = float(nvml.nvmlDeviceGetPowerUsage(self._handle))
        return PowerSample(t, {"GPU": power_mw}, power_mw, "GPU"), None

    def _close(self) -> None:
        with contextlib.suppress(Exception):  # shutting down anyway
            self._nvml.nvmlShutdown()

    def info(self) -> dict[str, Any]:
        base = super().info()
        base.update(self._device)
        base["source"] = (
            "nvmlDeviceGetTotalEnergyConsumption (mJ counter)"
            if self._uses_counter
            else "nvmlDeviceGetPowerUsage (on Ampere and newer a ~1 s average, not an instant value)"
        )
        return base


def _try(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - provenance extras only
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
