"""Grid parsing and expansion: list values survive, axes merge, and a bad key or value names the key and the trial."""

from __future__ import annotations

import pytest

from splinebench.profiles import ProfileError
from splinebench.sweep.grid import expand, grid_axes, parse_grid_option, split_values


def test_values_split_at_top_level_commas_so_list_and_quoted_values_survive():
    assert split_values("[0.3,0.5],[0.7]") == ["[0.3,0.5]", "[0.7]"]
    assert split_values("'a,b', c") == ["'a,b'", "c"]
    assert parse_grid_option("prune.ratios=[0.3,0.5],[0.7]") == ("prune.ratios", [[0.3, 0.5], [0.7]])
    assert parse_grid_option("model.name=vgg11,preresnet20") == ("model.name", ["vgg11", "preresnet20"])
    assert parse_grid_option("seed=0,1,2") == ("seed", [0, 1, 2])


@pytest.mark.parametrize("text", ["seed", "=1,2", "seed="])
def test_a_grid_option_without_key_or_values_is_refused(text):
    with pytest.raises(ProfileError, match="--grid"):
        parse_grid_option(text)


def test_command_line_axes_replace_profile_axes_and_the_seed_axis_comes_last(tiny_profile):
    profile = tiny_profile(seeds=[4, 5], sweep={"grid": {"train.lr": [0.1, 0.2], "retrain.epochs": [1]}})
    axes = grid_axes(profile, ["train.lr=0.3", "prune.ratios=[0.3],[0.5]"], "p.toml")
    assert axes == {"retrain.epochs": [1], "train.lr": [0.3], "prune.ratios": [[0.3], [0.5]], "seed": [4, 5]}
    assert grid_axes(profile, ["seed=7"], "p.toml")["seed"] == [7]


def test_every_trial_is_a_validated_one_seed_profile_that_knows_its_sweep(tiny_profile):
    axes = {"prune.ratios": [[0.3], [0.5]], "seed": [0, 1]}
    trials = expand(tiny_profile(), axes, "sweep-x", "p.toml")
    assert [t.run_id for t in trials] == ["sweep-x-t00", "sweep-x-t01", "sweep-x-t02", "sweep-x-t03"]
    assert [(t.profile.prune.ratios, t.profile.seeds) for t in trials] == [
        ([0.3], [0]), ([0.3], [1]), ([0.5], [0]), ([0.5], [1])]
    assert trials[3].profile.sweep == {"id": "sweep-x", "trial": 3, "point": {"prune.ratios": [0.5], "seed": 1}}


def test_a_bad_key_names_the_key_and_the_trial(tiny_profile):
    with pytest.raises(ProfileError, match=r"sweep trial 0: train.epochz=1.*unknown key 'train.epochz'"):
        expand(tiny_profile(), {"train.epochz": [1], "seed": [0]}, "sweep-x", "p.toml")


def test_a_bad_value_names_the_key_and_the_trial_it_appears_in(tiny_profile):
    with pytest.raises(ProfileError, match=r"sweep trial 1: train.epochs=\"three\".*key 'train.epochs'"):
        expand(tiny_profile(), {"train.epochs": [2, "three"], "seed": [0]}, "sweep-x", "p.toml")


@pytest.mark.parametrize(("sweep", "message"), [
    ({"gird": {}}, "unknown key 'sweep.gird'"),
    ({"grid": {"seed": []}}, "sweep.grid.seed"),
    ({"grid": {"seed": ["a"]}}, "seeds are integers"),
])
def test_a_bad_sweep_table_is_refused_naming_the_key(tiny_profile, sweep, message):
    with pytest.raises(ProfileError, match=message):
        grid_axes(tiny_profile(sweep=sweep), [], "p.toml")
