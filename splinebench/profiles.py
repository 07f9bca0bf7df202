"""Experiment profiles: TOML files validated by pydantic, with spaCy-style dotted overrides (``--set train.epochs=3``).

A bad profile is answered with the file, the dotted key and what was expected, never a traceback. The resolved
profile (after overrides) is stored with every run, so a run can be repeated — locally, on a remote board, or as one
trial of a sweep — from the store alone.
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import sys
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from splinebench.errors import BadInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ProfileError(BadInputError):
    pass


#: Integers past this break torch and C code deep inside a run (seeds, window sizes): refused up front instead.
LARGEST_INT = 2**53


def _plain_numbers(value: Any, where: str = "") -> Any:
    """Refuse NaN/infinite floats and integers beyond 2**53 anywhere in a value (lists and tables included)."""
    at = f" at {where.lstrip('.')}" if where else ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > LARGEST_INT:
        raise ValueError(f"number too large{at}: {value} (at most 2**53)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number{at}, got {value}")
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _plain_numbers(item, f"{where}.{index}")
    if isinstance(value, dict):
        for key, item in value.items():
            _plain_numbers(item, f"{where}.{key}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        return _plain_numbers(v)


class ModelSettings(_Strict):
    name: str = "convnet-small"
    options: dict[str, Any] = Field(default_factory=dict)


class DataSettings(_Strict):
    name: str = "digits"
    root: str | None = None
    batch_size: int = Field(128, ge=1)
    test_batch_size: int = Field(512, ge=1)
    num_workers: int = Field(0, ge=0)
    options: dict[str, Any] = Field(default_factory=dict)


class TrainSettings(_Strict):
    """SGD with step decay; defaults are the paper's (lr 0.1, momentum 0.9, wd 1e-4, /10 at 50% and 75%)."""

    epochs: int = Field(160, ge=1)
    lr: float = Field(0.1, gt=0)
    momentum: float = Field(0.9, ge=0)
    weight_decay: float = Field(1e-4, ge=0)
    milestones: list[float] = Field(default_factory=lambda: [0.5, 0.75])
    gamma: float = Field(0.1, gt=0)

    @field_validator("milestones")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        if any(not 0 < m < 1 for m in v):
            raise ValueError("milestones are fractions of the epochs, each between 0 and 1")
        return sorted(v)


class RetrainSettings(TrainSettings):
    epochs: int = Field(40, ge=0)
    lr: float = Field(0.01, gt=0)
    mode: Literal["finetune", "scratch"] = "finetune"


class PartitionSettings(_Strict):
    probe_size: int = Field(1000, ge=1)
    probe: Literal["train", "canvas"] = "train"
    canvas_grid: int = Field(100, ge=2)
    layers: list[str] = Field(default_factory=lambda: ["*"])
    matrix_budget_mib: float = Field(64.0, gt=0)
    enabled: bool = True


class EarlyBirdSettings(_Strict):
    enabled: bool = True
    eps: float = Field(0.15, gt=0)
    window: int = Field(2, ge=1)
    anchor: Literal["consecutive", "current"] = "consecutive"
    distance: Literal["mean-of-layers", "bit-weighted"] = "mean-of-layers"
    layers: list[str] = Field(default_factory=lambda: ["*"])
    stop_dense: bool = True  # stop dense training at EB when no pruner needs the final model


def _check_ratios(v: list[float]) -> list[float]:
    if any(not 0 < r < 1 for r in v):
        raise ValueError("ratios are fractions of units to remove, each strictly between 0 and 1")
    return v


def _did_you_mean(name: str, known: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f". Did you mean: {', '.join(prefix + c for c in close)}?" if close else ""


class PrunerEntry(_Strict):
    name: str
    ticket: Literal["eb", "final", "init"] = "final"
    label: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    ratios: list[float] | None = None  # default: prune.ratios
    retrain: dict[str, Any] = Field(default_factory=dict)  # keys of [retrain] for this pruner only (e.g. lr)

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: list[float] | None) -> list[float] | None:
        return None if v is None else _check_ratios(v)

    @field_validator("retrain")
    @classmethod
    def _retrain_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        """The keys of ``[retrain]`` only, with valid values: a typo here would otherwise surface after dense
        training, when the branch's settings are built."""
        known = list(RetrainSettings.model_fields)
        for key in v:
            if key not in known:
                raise ValueError(f"unknown key {key!r}{_did_you_mean(key, known)} (the keys of [retrain])")
        RetrainSettings.model_validate(v)
        return v

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        return f"eb-{self.name}" if self.ticket == "eb" and not self.name.startswith("eb-") else self.name


class PruneSettings(_Strict):
    ratios: list[float] = Field(default_factory=lambda: [0.3, 0.5, 0.7])
    pruners: list[PrunerEntry] = Field(default_factory=lambda: [PrunerEntry(name="spline")])

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: Any) -> Any:
        # prune.calibration_batches was validated and never read: each data-driven pruner takes its own count
        if isinstance(data, dict) and "calibration_batches" in data:
            raise ValueError("calibration_batches is not a setting (it was never used): a data-driven pruner takes "
                             "its own, e.g. options = { batches = 4 } for thinet or snip")
        return data

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: list[float]) -> list[float]:
        return _check_ratios(v)

    @model_validator(mode="after")
    def _unique_labels(self) -> PruneSettings:
        labels = [p.display for p in self.pruners]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"pruner labels must be unique; give `label` to tell apart: {', '.join(dupes)}")
        return self


class LatencySettings(_Strict):
    """Measured inference latency of every result against the dense model (measure.latency)."""

    enabled: bool = True
    batch: int = Field(32, ge=1)  # inputs per timed call
    repeats: int = Field(5, ge=1)  # alternating dense/pruned rounds: the median and IQR come from these
    warmup: int = Field(2, ge=0)  # untimed calls per model first


class Profile(_Strict):
    name: str = "unnamed"
    description: str = ""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    device: Literal["cpu", "cuda", "auto"] = "auto"
    threads: int | None = Field(None, ge=1)
    deterministic: bool = False  # torch.use_deterministic_algorithms(True): an op without one fails, named
    energy: str = "none"
    energy_min_coverage: float = Field(0.8, ge=0, le=1)  # a window covered less by samples is marked partial
    checkpoint_every: int = Field(1, ge=1)
    model: ModelSettings = Field(default_factory=ModelSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    partition: PartitionSettings = Field(default_factory=PartitionSettings)
    early_bird: EarlyBirdSettings = Field(default_factory=EarlyBirdSettings)
    prune: PruneSettings = Field(default_factory=PruneSettings)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
    latency: LatencySettings = Field(default_factory=LatencySettings)
    remote: str | None = None
    remote_cmd: str = "splinebench"
    sweep: dict[str, Any] = Field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.seeds[0]


# --- loading ---------------------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """Parse an override value as TOML would (numbers, booleans, lists, strings), falling back to a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def apply_override(data: dict[str, Any], key: str, value: Any, source: str = "--set") -> None:
    """Set ``a.b.c = value`` in nested dicts; a list index is allowed (``prune.pruners.0.ticket``)."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ProfileError(f"{source}: {key}: {'.'.join(parts[:i])} has no item {part}")
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ProfileError(f"{source}: {key}: {'.'.join(parts[: i + 1])} is a value, not a table")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ProfileError(f"{source}: {key}: no item {last}")
        node[int(last)] = value
    else:
        node[last] = value


def parse_overrides(pairs: list[str]) -> list[tuple[str, Any]]:
    out = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ProfileError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set train.epochs=3")
        out.append((key.strip(), parse_value(text.strip())))
    return out


def _format_error(source: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        parent = [str(p) for p in first["loc"][:-1]]
        known = _keys_at(Profile, first["loc"][:-1])
        prefix = "".join(f"{p}." for p in parent)
        return f"{source}: unknown key {key!r}{_did_you_mean(str(first['loc'][-1]), known, prefix)}"
    expected = first["msg"]
    got = first.get("input")
    got_text = "" if isinstance(got, dict) else f" (got {json.dumps(got, default=str)})"
    more = f" and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{source}: key {key!r}: {expected}{got_text}{more}"


def _keys_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The keys the settings table at ``path`` (a pydantic error location, list indices included) accepts."""
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        found = _model_in(field.annotation)
        if found is None:
            return []
        model = found
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings model inside an annotation (``PruneSettings``, ``list[PrunerEntry]``, ...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validate(data: dict[str, Any], source: str = "<profile>") -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_format_error(source, exc)) from None


def load_profile(path: str | Path, overrides: list[str] | None = None) -> Profile:
    """Read, override and validate a profile file."""
    path = Path(path)
    if not path.is_file():
        hint = ""
        candidate = Path("profiles") / path.name
        if candidate.is_file() and candidate != path:
            hint = f" (did you mean {candidate}?)"
        raise ProfileError(f"profile file not found: {path}{hint}")
    if path.suffix == ".json":  # a resolved profile, as sent to a remote board or a sweep worker
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ProfileError(f"{path}: not valid JSON: {exc}") from None
    else:
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    for key, value in parse_overrides(overrides or []):
        apply_override(data, key, value)
    data.setdefault("name", path.stem)
    return validate(data, str(path))


def profile_from_dict(data: dict[str, Any]) -> Profile:
    return validate(data, "<stored profile>")
