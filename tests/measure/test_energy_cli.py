"""``splinebench energy probe`` and ``energy meters list`` through Typer's test runner."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from splinebench.cli.energy import energy_app

runner = CliRunner()


def ssh_options(sshd, tmp_path) -> list[str]:
    empty_config = tmp_path / "empty_ssh_config"
    empty_config.write_text("")
    return ["--identity", str(sshd.client_key), "--known-hosts", str(sshd.known_hosts),
            "--ssh-config", str(empty_config)]


@pytest.mark.ssh
def test_probe_prints_live_rails_and_the_integrated_energy(sshd, tmp_path):
    result = runner.invoke(energy_app, ["probe", sshd.url, "--seconds", "0.5", "--interval", "100",
                                        *ssh_options(sshd, tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "meter=tegrastats-ssh" in out and "total_source=VDD_IN" in out
    live = [line for line in out.splitlines() if "| VDD_SYS_GPU" in line]
    assert len(live) >= 3 and "VDD_IN 3140 mW" in out
    summary = next(line for line in out.splitlines() if line.startswith("energy:"))
    joules = float(summary.split()[1])
    assert joules > 0 and " J over " in summary
    assert re.search(r"coverage \d+\.\d%, gaps: ", out)


@pytest.mark.ssh
def test_probe_json_holds_window_provenance_and_samples(sshd, tmp_path):
    result = runner.invoke(energy_app, ["probe", sshd.url, "--seconds", "0.3", "--interval", "50", "--json",
                                        *ssh_options(sshd, tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    window = payload["window"]
    assert window["joules"] > 0 and window["method"] == "integrated-samples"
    assert 0 < window["coverage"] <= 1
    assert payload["info"]["host"] == "127.0.0.1" and payload["info"]["remote_left_running"] == []
    assert payload["samples"][0]["rails_mw"]["VDD_IN"] == 3140
    assert "total" in result.stderr  # the live lines went to stderr


@pytest.mark.ssh
def test_probe_refuses_an_unknown_host_until_asked_to_accept_it(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    args = ["probe", sshd.url, "--seconds", "0.2", "--identity", str(sshd.client_key), "--known-hosts", str(known)]
    refused = runner.invoke(energy_app, args)
    assert refused.exit_code == 2
    assert "refusing unknown host" in refused.stderr and "--accept-new-host" in refused.stderr
    accepted = runner.invoke(energy_app, [*args, "--accept-new-host"])
    assert accepted.exit_code == 0, accepted.output
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in known.read_text()


@pytest.mark.ssh
def test_probe_honours_the_users_ssh_config(sshd, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(sshd.ssh_config_text("tx2"))
    result = runner.invoke(energy_app, ["probe", "ssh://tx2", "--seconds", "0.2", "--interval", "100"],
                           env={"HOME": str(home), "SSH_AUTH_SOCK": ""})
    assert result.exit_code == 0, result.output
    assert f"host=tx2  peer=127.0.0.1:{sshd.port}" in result.stdout and "energy:" in result.stdout


def test_probe_of_no_meter_says_why_instead_of_zero():
    result = runner.invoke(energy_app, ["probe", "none", "--seconds", "0.1"])
    assert result.exit_code == 0
    assert "energy: n/a (no meter)" in result.stdout


def test_probe_of_an_unknown_meter_is_exit_2_with_close_names():
    result = runner.invoke(energy_app, ["probe", "nvm", "--seconds", "0.1"])
    assert result.exit_code == 2
    assert "unknown energy meter 'nvm'" in result.stderr and "nvml" in result.stderr


def test_meters_list_names_every_scheme():
    result = runner.invoke(energy_app, ["meters", "list"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["jetson", "none", "nvml", "rapl", "ssh"]
