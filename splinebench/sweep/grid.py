"""The grid of a sweep: dotted keys x values -> trials, each one fully resolved, validated profile with one seed.

A grid comes from the profile's ``[sweep]`` table (``grid = { seed = [0, 1], "model.name" = ["vgg11"] }``) and from
``--grid KEY=V1,V2`` options (which replace a profile axis of the same key). Keys are the dotted keys of ``--set``;
``seed`` is the seed axis (the profile's ``seeds`` list when the grid has none). Every trial is validated before
anything starts, and an error names the key and the trial, so a typo costs nothing.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from typing import Any

from splinebench.profiles import Profile, ProfileError, apply_override, parse_value, validate

#: what a ``[sweep]`` table may hold besides the grid: defaults of the sweep command's options
SWEEP_SETTINGS = ("grid", "executor", "workers", "address", "storage", "max_retries", "cpus_per_task",
                  "gpus_per_task")
SEED_KEY = "seed"


@dataclass(frozen=True)
class Trial:
    """One grid point with one seed: one run in the store."""

    index: int
    run_id: str
    point: dict[str, Any]  # grid key -> value (the seed included)
    profile: Profile

    @property
    def label(self) -> str:
        return point_text(self.point)


def point_text(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in point.items())


def split_values(text: str) -> list[str]:
    """Split ``V1,V2,...`` at the commas outside brackets and quotes, so list values survive: ``[0.3,0.5],[0.7]``."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_grid_option(text: str) -> tuple[str, list[Any]]:
    """``--grid KEY=V1,V2,...`` -> (key, values); each value is parsed as TOML, like ``--set``."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ProfileError(f"--grid {text!r}: expected KEY=V1,V2,..., e.g. --grid seed=0,1,2")
    parsed = [parse_value(v) for v in split_values(values)]
    if not parsed:
        raise ProfileError(f"--grid {key}: no values given")
    return key, parsed


def sweep_table(profile: Profile, source: str) -> dict[str, Any]:
    """The profile's ``[sweep]`` table, checked: known settings only, the grid a table of non-empty lists."""
    table = dict(profile.sweep)
    unknown = sorted(set(table) - set(SWEEP_SETTINGS) - {"id", "trial", "point"})
    if unknown:
        raise ProfileError(f"{source}: unknown key 'sweep.{unknown[0]}' (a [sweep] table holds: "
                           f"{', '.join(SWEEP_SETTINGS)})")
    grid = table.get("grid", {})
    if not isinstance(grid, dict):
        raise ProfileError(f"{source}: key 'sweep.grid': expected a table of KEY = [values]")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ProfileError(f"{source}: key 'sweep.grid.{key}': expected a non-empty list of values")
    return table


def grid_axes(profile: Profile, options: list[str], source: str) -> dict[str, list[Any]]:
    """The grid's axes in order: the profile's, then ``--grid`` ones (replacing equal keys), the seed axis last."""
    axes: dict[str, list[Any]] = dict(sweep_table(profile, source).get("grid", {}))
    for option in options:
        key, values = parse_grid_option(option)
        axes.pop(key, None)
        axes[key] = values
    if "seeds" in axes:  # the profile's list key, given as an axis: take it as the seed axis
        values = axes.pop("seeds")
        axes[SEED_KEY] = [v[0] if isinstance(v, list) and len(v) == 1 else v for v in values]
    seeds = axes.pop(SEED_KEY) if SEED_KEY in axes else list(profile.seeds)
    for seed in seeds:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ProfileError(f"{source}: grid key 'seed': seeds are integers (got {json.dumps(seed)})")
    axes[SEED_KEY] = seeds
    return axes


def trial_run_id(sweep_id: str, index: int, count: int) -> str:
    return f"{sweep_id}-t{index:0{max(2, len(str(count - 1)))}d}"


def expand(base: Profile, axes: dict[str, list[Any]], sweep_id: str, source: str) -> list[Trial]:
    """Every point of the grid as a validated one-seed profile; the first bad one raises, naming key and trial."""
    base_data = base.model_dump(mode="json")
    keys = list(axes)
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(axes[k] for k in keys))]
    trials = []
    for index, point in enumerate(points):
        run_id = trial_run_id(sweep_id, index, len(points))
        where = f"{source} (sweep trial {index}: {point_text(point)})"
        data = copy.deepcopy(base_data)
        for key, value in point.items():
            if key == SEED_KEY:
                data["seeds"] = [value]
            else:
                apply_override(data, key, copy.deepcopy(value), source=f"{where} grid")
        data["sweep"] = {"id": sweep_id, "trial": index, "point": point}
        extra = point_text({k: v for k, v in point.items() if k != SEED_KEY})
        data["name"] = f"{base.name} ({extra})" if extra else base.name
        trials.append(Trial(index, run_id, point, validate(data, where)))
    return trials
