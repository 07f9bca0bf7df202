"""Bad input through the real entry point: exit code 2, one line naming the problem, no traceback, nothing recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "profiles" / "quickstart.toml")
SCRIPT = Path(sys.executable).with_name("splinebench")


def splinebench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no/such/profile.toml"], "profile file not found: no/such/profile.toml"),
        (["run", QUICKSTART, "--set", "train.epochz=3"], "unknown key 'train.epochz'"),
        (["run", QUICKSTART, "--set", "train.epochs='three'"], "key 'train.epochs'"),
        (["run", QUICKSTART, "--set", "model.name='vgg61'"], "unknown model 'vgg61'. Did you mean: |vgg16"),
        (["run", QUICKSTART, "--set", "data.name='mnist5k'"], "unknown dataset 'mnist5k'. Did you mean: |mnist-5k"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='splin'}]"],
         "unknown pruner 'splin'. Did you mean: |spline"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='ns', options={sparsty=1e-4}}]"],
         "prune.pruners[0].options: pruner 'ns' has no option 'sparsty'. Did you mean: sparsity?|it takes: sparsity"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline', options={scope='global', dim='smalest'}}]"],
         "prune.pruners[0].options: spline pruner dim must be 'smallest', 'none' or a positive int"),
        (["run", QUICKSTART, "--set", "prune.ratios=[1.5]"], "key 'prune.ratios'"),
        (["runs", "show", "nope", "--store", "missing.sqlite"], "no store at missing.sqlite"),
        (["run", "--resume", "nope", "--store", "missing.sqlite"], "no store at missing.sqlite"),
        # a profile (or --set) cannot choose what runs in the board's shell; nothing is contacted (port 9: discard)
        (["run", QUICKSTART, "--on", "ssh://nobody@127.0.0.1:9", "--set", "remote_cmd='rm -rf ~'"],
         "remote_cmd = 'rm -rf ~' would run as a command in the board's shell|--remote-cmd 'rm -rf ~'"),
        (["run", QUICKSTART, "--set", "remote='ssh://nobody@127.0.0.1:9'", "--set", "remote_cmd='curl x | sh'"],
         "quickstart.toml: remote_cmd = 'curl x | sh'|--remote-cmd 'curl x | sh'"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_problem(tmp_path, args, expected):
    result = splinebench(*args, "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path) if args[0] == "run" and \
        "--store" not in args else splinebench(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    for part in expected.split("|"):  # the message, then the close names it must suggest
        assert part in message
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # one logical line (rich may wrap it)
    assert not (tmp_path / "s.sqlite").exists() or "--resume" in args  # nothing half-recorded


def test_a_profile_with_a_toml_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3\n")
    result = splinebench("run", str(bad), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.toml: not valid TOML" in result.stderr


def test_a_wrong_type_in_the_profile_file_names_file_key_and_expectation(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text('[train]\nepochs = "many"\n')
    result = splinebench("run", str(bad), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "typo.toml: key 'train.epochs': Input should be a valid integer" in message
