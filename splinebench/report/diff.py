"""Where two runs first diverge: the question a user has when a rerun disagrees (``splinebench runs diff``).

Two runs are compared through their event streams, which hold every number a run produces (epochs, per-layer
distances, distance-matrix rows, EB events, plans, results). Events are matched by what they are about (type, phase,
epoch, pruner, ratio, detector), so a run that lists fewer pruners still compares its shared dense phase with the
other's. Measurements that are never reproducible (wall-clock times, energy, paths, pids) are left out; the
environment fingerprint and the resolved profile are compared field by field beside the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from splinebench.store import StoreReader

#: Event types that carry no reproducible number (bookkeeping or measured energy).
SKIPPED_TYPES = frozenset({"run_started", "run_resumed", "run_finished", "run_failed", "energy_measured"})
#: Fields that differ between identical reruns: clocks, paths, processes, measured energy and measured latency.
VOLATILE_FIELDS = frozenset({
    "run_id", "seq", "ts", "seconds", "path", "pid", "host", "results_dir", "traceback", "t0", "t1", "joules",
    "mean_power_w", "idle_power_w", "net_joules", "provenance", "dense_energy_j", "retrain_energy_j",
    "total_energy_j", "type", "latency_ms", "latency_iqr_ms", "latency_method", "dense_latency_ms", "speedup",
    "speedup_iqr", "energy_partial", "energy_coverage", "coverage", "partial",
})
#: The fields that say what an event is about; two runs' events with equal keys are compared.
KEY_FIELDS = ("phase", "epoch", "pruner", "ratio", "detector", "tag", "window")


@dataclass
class Divergence:
    """The first event (in run A's order) whose numbers differ, and the first field that differs in it."""

    event: str
    where: dict[str, Any]
    field: str
    a: Any
    b: Any


@dataclass
class RunDiff:
    run_a: str
    run_b: str
    compared: int = 0  # events present in both runs and compared
    differences: list[Divergence] = field(default_factory=list)  # one per differing event, in run A's order
    only_in_a: int = 0
    only_in_b: int = 0
    environment: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    profile: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def first(self) -> Divergence | None:
        return self.differences[0] if self.differences else None

    @property
    def differing_events(self) -> int:
        return len(self.differences)

    @property
    def identical(self) -> bool:
        """Same numbers in every event both runs have (environment and profile may still differ)."""
        return self.first is None and self.compared > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a, "run_b": self.run_b, "identical": self.identical, "compared_events": self.compared,
            "differing_events": self.differing_events, "only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
            "first_divergence": None if self.first is None else {
                "event": self.first.event, **self.first.where, "field": self.first.field, "a": self.first.a,
                "b": self.first.b,
            },
            "environment": {k: {"a": a, "b": b} for k, (a, b) in self.environment.items()},
            "profile": {k: {"a": a, "b": b} for k, (a, b) in self.profile.items()},
        }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as ``{"per_layer.conv1": 0.1, "distances[3]": 0.2}``: a difference names its leaf."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out if value else {prefix: []}
    return {prefix: value}


def _differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    fa, fb = flatten(a), flatten(b)
    return {k: (fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb), key=_order(fa, fb)) if fa.get(k) != fb.get(k)}


def _order(fa: dict[str, Any], fb: dict[str, Any]) -> Any:
    keys = list(fa) + [k for k in fb if k not in fa]
    rank = {k: i for i, k in enumerate(keys)}
    return lambda k: rank[k]


def _key(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event.get("type"), *(event.get(k) for k in KEY_FIELDS))


def _numbers(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in VOLATILE_FIELDS}


def _start(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next((e for e in events if e.get("type") == "run_started"), {})


def diff_events(run_a: str, events_a: list[dict[str, Any]], run_b: str, events_b: list[dict[str, Any]]) -> RunDiff:
    """Compare two runs' event streams (as the store keeps them)."""
    result = RunDiff(run_a, run_b)
    start_a, start_b = _start(events_a), _start(events_b)
    result.environment = _differences(start_a.get("environment") or {}, start_b.get("environment") or {})
    result.profile = _differences(start_a.get("profile") or {}, start_b.get("profile") or {})
    keyed_b: dict[tuple[Any, ...], dict[str, Any]] = {}
    for event in events_b:
        if event.get("type") not in SKIPPED_TYPES:
            keyed_b.setdefault(_key(event), event)
    seen: set[tuple[Any, ...]] = set()
    for event in events_a:
        if event.get("type") in SKIPPED_TYPES:
            continue
        key = _key(event)
        if key in seen:
            continue
        seen.add(key)
        other = keyed_b.get(key)
        if other is None:
            result.only_in_a += 1
            continue
        result.compared += 1
        changed = _differences(_numbers(event), _numbers(other))
        if not changed:
            continue
        name, (a, b) = next(iter(changed.items()))
        where = {k: event[k] for k in KEY_FIELDS if event.get(k) is not None}
        result.differences.append(Divergence(str(event.get("type")), where, name, a, b))
    result.only_in_b = sum(1 for key in keyed_b if key not in seen)
    return result


def diff_runs(reader_a: StoreReader, run_a: str, reader_b: StoreReader, run_b: str) -> RunDiff:
    """Compare two stored runs (ids may be unique prefixes; the stores may be the same)."""
    id_a, id_b = reader_a.run(run_a).id, reader_b.run(run_b).id
    return diff_events(id_a, reader_a.events(id_a), id_b, reader_b.events(id_b))
