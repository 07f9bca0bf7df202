"""The SSH connection policy: URLs, known_hosts (refuse unknown, accept on request, never a changed key), config."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from splinebench.errors import BadInputError
from splinebench.measure import ssh


def test_ssh_urls_parse_to_user_host_port_and_options():
    assert ssh.parse_ssh_url("ssh://nvidia@tx2:2222?sudo=1") == ssh.SSHTarget("nvidia", "tx2", 2222)
    assert ssh.parse_ssh_url("ssh://nvidia@tx2:2222?sudo=1").options == {"sudo": "1"}
    assert ssh.parse_ssh_url("ssh://tx2") == ssh.SSHTarget(None, "tx2", None)
    assert ssh.parse_ssh_url("ssh://[::1]:22").display == "[::1]:22"
    for bad in ("http://tx2", "ssh://", "ssh://tx2:99999", "ssh://tx2/path"):
        with pytest.raises(BadInputError):
            ssh.parse_ssh_url(bad)


def test_a_password_in_the_url_is_refused_and_never_kept():
    with pytest.raises(BadInputError, match="never takes passwords") as info:
        ssh.parse_ssh_url("ssh://nvidia:hunter2@tx2")
    assert "hunter2" not in str(info.value)


def connect(sshd, known_hosts, **kwargs):
    async def go():
        conn = await ssh.connect(sshd.url, known_hosts=str(known_hosts), client_keys=[str(sshd.client_key)],
                                 config=[], **kwargs)
        result = await ssh.run(conn, "echo ok")
        conn.close()
        return result.stdout.strip()

    return asyncio.run(go())


@pytest.mark.ssh
def test_an_unknown_host_is_refused_with_a_message_that_says_how_to_accept(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(ssh.HostKeyError) as info:
        connect(sshd, empty)
    message = str(info.value)
    assert f"refusing unknown host [127.0.0.1]:{sshd.port}" in message
    assert "--accept-new-host" in message
    host_fp = subprocess.run(["ssh-keygen", "-lf", f"{sshd.host_key}.pub"], capture_output=True, text=True)
    assert host_fp.stdout.split()[1] in message  # the fingerprint to check on the board
    assert empty.read_text() == ""


@pytest.mark.ssh
def test_accepting_a_new_host_remembers_its_key(sshd, tmp_path):
    known = tmp_path / "ssh" / "known_hosts"
    assert connect(sshd, known, accept_new_host=True) == "ok"
    line = known.read_text().strip()
    assert line.startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 ")
    assert line.split()[2] == (sshd.host_key.with_suffix(".pub").read_text().split()[1])
    assert connect(sshd, known) == "ok"  # remembered: no flag needed any more
    # OpenSSH itself accepts what we wrote
    check = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(known)],
                           capture_output=True, text=True)
    assert check.returncode == 0


@pytest.mark.ssh
def test_a_changed_host_key_is_refused_even_when_accepting_new_hosts(sshd, tmp_path):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    algorithm, blob = other.with_suffix(".pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{sshd.port} {algorithm} {blob}\n")
    with pytest.raises(ssh.HostKeyError, match="does NOT match known_hosts.*ssh-keygen -R"):
        connect(sshd, known, accept_new_host=True)
    assert known.read_text().count("\n") == 1


@pytest.mark.ssh
def test_an_ssh_config_alias_supplies_host_port_user_key_and_known_hosts(sshd, tmp_path):
    config = tmp_path / "ssh_config"
    config.write_text(sshd.ssh_config_text("jetson-under-test"))

    async def go():
        conn = await ssh.connect("ssh://jetson-under-test", config=[str(config)])
        result = await ssh.run(conn, "echo $SB_TEGRASTATS_STATE")
        conn.close()
        return result.stdout.strip()

    assert asyncio.run(go()) == str(sshd.tegrastats_state)


@pytest.mark.ssh
def test_wrong_keys_are_refused_with_a_hint_about_keys_not_passwords(sshd, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)

    async def go():
        await ssh.connect(sshd.url, known_hosts=str(sshd.known_hosts), client_keys=[str(stranger)], config=[])

    with pytest.raises(ssh.SSHConnectError, match="keys and ssh-agent only"):
        asyncio.run(go())


def test_an_unreachable_host_is_a_user_error():
    async def go():
        await ssh.connect("ssh://127.0.0.1:1", known_hosts=[], client_keys=[], config=[], connect_timeout_s=2)

    with pytest.raises(ssh.SSHConnectError, match="cannot connect to 127.0.0.1:1"):
        asyncio.run(go())
