"""Profiles: shipped ones validate, overrides parse as TOML values, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from splinebench.engine.run import preflight
from splinebench.profiles import ProfileError, apply_override, load_profile, parse_overrides, parse_value

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((ROOT / "profiles").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_profile_validates(path):
    profile = load_profile(path)
    assert profile.prune.pruners
    # names and pruner options checked as `splinebench run` checks them (the device depends on this machine)
    preflight(profile.model_copy(update={"device": "cpu"}))


def test_overrides_parse_like_toml_values():
    assert parse_value("3") == 3
    assert parse_value("[0.3, 0.5]") == [0.3, 0.5]
    assert parse_value("true") is True
    assert parse_value("vgg16") == "vgg16"  # bare words are strings
    assert parse_overrides(["train.epochs=3", "model.name=vgg16"]) == [("train.epochs", 3), ("model.name", "vgg16")]


def test_dotted_overrides_reach_nested_tables_and_list_items():
    data = {"prune": {"pruners": [{"name": "spline"}]}}
    apply_override(data, "prune.pruners.0.ticket", "eb")
    apply_override(data, "train.epochs", 2)
    assert data == {"prune": {"pruners": [{"name": "spline", "ticket": "eb"}]}, "train": {"epochs": 2}}


def test_quickstart_with_overrides(tmp_path):
    profile = load_profile(ROOT / "profiles" / "quickstart.toml", ["train.epochs=2", "prune.ratios=[0.5]"])
    assert profile.train.epochs == 2 and profile.prune.ratios == [0.5]


@pytest.mark.parametrize(
    ("override", "message"),
    [("train.lr=-1", "key 'train.lr'"), ("early_bird.anchor=sideways", "key 'early_bird.anchor'"),
     ("nonsense", "expected KEY=VALUE"), ("train.epochs.x=1", "is a value, not a table")],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ProfileError, match=message):
        load_profile(ROOT / "profiles" / "quickstart.toml", [override])


def test_duplicate_pruner_labels_are_refused():
    with pytest.raises(ProfileError, match="labels must be unique"):
        load_profile(ROOT / "profiles" / "quickstart.toml", ["prune.pruners=[{name='spline'},{name='spline'}]"])


@pytest.mark.parametrize("path", sorted((ROOT / "profiles").glob("repro-v2-*.toml")), ids=lambda p: p.name)
def test_every_trial_of_a_shipped_sweep_profile_passes_preflight(path):
    """A grid's pruner lists are only checked when a sweep expands them: check them as the sweep would."""
    from splinebench.sweep.grid import expand, grid_axes

    profile = load_profile(path)
    trials = expand(profile, grid_axes(profile, [], str(path)), "test", str(path))
    assert {seed for t in trials for seed in t.profile.seeds} == {0, 1, 2}
    for trial in trials:
        preflight(trial.profile.model_copy(update={"device": "cpu"}))
