"""Profiles and ``--set`` overrides fed garbage: every input is either a valid profile or one line of bad input
(exit 2), never a traceback. Hypothesis generates the inputs; the checks go through ``load_profile`` + ``preflight``
(what ``splinebench run`` does before anything starts) and through the CLI's own ``main``."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from splinebench.engine.run import preflight
from splinebench.errors import BadInputError
from splinebench.profiles import load_profile

KNOWN_KEYS = [
    "name", "description", "seeds", "device", "threads", "energy", "checkpoint_every", "remote", "remote_cmd",
    "model.name", "model.options", "model.options.width", "data.name", "data.batch_size", "data.root",
    "data.test_batch_size", "data.num_workers", "train.epochs", "train.lr", "train.milestones", "train.gamma",
    "train.momentum", "partition.probe_size", "partition.probe", "partition.layers", "early_bird.eps",
    "early_bird.window", "early_bird.anchor", "prune.ratios", "prune.pruners", "prune.pruners.0.name",
    "prune.pruners.0.ticket", "prune.pruners.0.options", "prune.pruners.0.options.rho", "prune.pruners.1.ratios",
    "prune.pruners.9.name", "prune.calibration_batches", "retrain.epochs", "retrain.mode", "sweep", "train",
    "model", "prune",
]
NASTY_TEXT = ["[/bold]", "[red]x[/red]", "ünïcødé", "名前", "\u202e", "a\nb", "", " ", "'", '"', "\\", "1e400",
              "nan", "-0", "{", "[", "=", "..", "a..b", "0x10", "True"]

texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=12))
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.builds(lambda k, extra: f"{k}.{extra}", st.sampled_from(KNOWN_KEYS), texts),
    texts,
)
toml_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "nan", "inf", "-inf", "1e400", "0.5", "1.5", "-1", "0"]),
    texts.map(lambda t: json.dumps(t, ensure_ascii=False)),
    texts,  # raw, unquoted text
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["name", "ticket", "label", "options", "ratios", "rho", "x", "名"]), inner,
                        max_size=3).map(lambda d: "{" + ", ".join(f'"{k}" = {v}' for k, v in d.items()) + "}"),
    ),
    max_leaves=6,
)
overrides = st.lists(st.builds(lambda k, v: f"{k}={v}", keys, toml_values) | texts, min_size=1, max_size=4)


def _one_line(message: str) -> None:
    assert message.strip(), "an empty error message"
    assert "Traceback" not in message


def _check(path, sets: list[str]) -> None:
    """A valid profile, or BadInputError with a message naming the problem; anything else fails the test."""
    try:
        profile = load_profile(path, sets)
        preflight(profile)
    except BadInputError as exc:
        _one_line(str(exc))


# inputs that once got past the checks and failed only mid-run (or ran nothing and exited 0)
FOUND = [["seeds=[]"], ["threads=-5"], ["prune.pruners=[{name='spline', ratios=[2]}]"],
         ["early_bird.window=100000000000000000000000"], ["train.lr=inf"], ["seeds=[1180591620717411303424]"],
         ["model.options={widths=[1e400]}"]]


@pytest.mark.parametrize("sets", FOUND)
def test_inputs_that_used_to_fail_mid_run_are_refused_before_it(tmp_path, sets):
    profile = tmp_path / "p.toml"
    profile.write_text('name = "fuzz"\n[data]\nname = "digits"\n')
    with pytest.raises(BadInputError):
        load_profile(profile, sets)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sets=overrides)
def test_any_set_override_is_a_valid_profile_or_one_line_of_bad_input(tmp_path, sets):
    profile = tmp_path / "p.toml"
    profile.write_text('name = "fuzz"\n[data]\nname = "digits"\n')
    _check(profile, sets)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(keys, toml_values, max_size=5), raw=st.one_of(st.none(), st.text(max_size=40)))
def test_any_profile_file_is_a_valid_profile_or_one_line_of_bad_input(tmp_path, body, raw):
    profile = tmp_path / "p.toml"
    lines = [f"{json.dumps(k, ensure_ascii=False)} = {v}" for k, v in body.items()]
    profile.write_text(raw if raw is not None else "\n".join(lines) + "\n", encoding="utf-8")
    _check(profile, [])


class WouldRun(Exception):
    """Raised where a valid profile would start training: the fuzz only checks what happens before."""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sets=overrides)
@example(sets=["seeds=[]"])
@example(sets=["name='[/bold]'", "prune.pruners=[{name='[red]', label='[/x]'}]"])
def test_the_cli_answers_any_override_with_a_run_or_exit_2_and_one_line(tmp_path, sets, monkeypatch, capsys):
    from splinebench.cli import app as cli

    def would_run(*args, **kwargs):
        raise WouldRun

    monkeypatch.setattr("splinebench.engine.run.StoreWriter", would_run)
    profile = tmp_path / "p.toml"
    profile.write_text('name = "fuzz"\n[data]\nname = "digits"\n')
    argv = ["splinebench", "run", str(profile), "--store", str(tmp_path / "s.sqlite")]
    for pair in sets:
        argv += ["--set", pair]
    monkeypatch.setattr(sys, "argv", argv)
    capsys.readouterr()
    try:
        cli.main()
    except WouldRun:
        return
    except SystemExit as exc:
        err = capsys.readouterr().err
        assert exc.code == 2, err
        assert err.strip().startswith("error:") and "Traceback" not in err
        assert len(err.strip().splitlines()) <= 3  # one logical line (rich wraps long ones)
        return
    pytest.fail("splinebench run returned without running and without an error")
