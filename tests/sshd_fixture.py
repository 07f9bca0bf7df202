"""A real OpenSSH server on 127.0.0.1 for tests: own host key, own authorized_keys, own config, stopped by PID.

Used by the energy meter tests (tests/measure/conftest.py) and meant for the remote-run tests too::

    from sshd_fixture import LoopbackSSHD, sshd_or_skip
    server = sshd_or_skip(tmp_dir, bin_dirs=[...], env={...})   # started; pytest.skip if no sshd can be had
    server.url            # ssh://user@127.0.0.1:PORT
    server.client_key     # private key whose public half is authorized
    server.known_hosts    # known_hosts file that already trusts the server's host key
    server.ssh("kill -0 123")   # run a command with the OpenSSH client (independent of our asyncssh code)
    server.kill_hard()    # SIGKILL the listener and every per-connection sshd: the link drops mid-stream
    server.start()        # again, same port and host key
    server.stop()

sshd runs as the current user (root here; any user works: it can then only log in as itself). ``UsePAM no`` and
``StrictModes no`` keep it independent of the machine's PAM setup and of temp-dir permissions.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENSURE_SSHD = REPO / "scripts" / "ensure-sshd"


def find_sshd() -> str | None:
    for candidate in ("/usr/sbin/sshd", "/usr/local/sbin/sshd", shutil.which("sshd")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """All processes below ``pid`` (depth first)."""
    tree = _children_map()
    out: list[int] = []
    stack = list(tree.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(tree.get(p, []))
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _kill(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class LoopbackSSHD:
    """One sshd on a free loopback port, configured entirely inside ``workdir``."""

    def __init__(self, workdir: Path, *, bin_dirs: Iterable[Path] = (), env: dict[str, str] | None = None,
                 sshd: str | None = None, sftp: bool = True) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sshd = sshd or find_sshd()
        self.port = free_port()
        self.host = "127.0.0.1"
        self.user = getpass.getuser()
        self.bin_dirs = [Path(b) for b in bin_dirs]
        self.env = dict(env or {})
        self.sftp = sftp  # False: no `Subsystem sftp` line, as on boards whose sshd was built or set up without it
        self.host_key = self.workdir / "ssh_host_ed25519_key"
        self.client_key = self.workdir / "id_ed25519"
        self.authorized_keys = self.workdir / "authorized_keys"
        self.known_hosts = self.workdir / "known_hosts"
        self.config = self.workdir / "sshd_config"
        self.pid_file = self.workdir / "sshd.pid"
        self.log = self.workdir / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._prepare()

    # ----------------------------------------------------------------- setup
    def _keygen(self, path: Path) -> None:
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "splinebench-test", "-f", str(path)],
                           check=True)

    def _prepare(self) -> None:
        self._keygen(self.host_key)
        self._keygen(self.client_key)
        self.authorized_keys.write_text(Path(f"{self.client_key}.pub").read_text())
        host_pub = Path(f"{self.host_key}.pub").read_text().split()
        self.known_hosts.write_text(f"[{self.host}]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        path = ":".join([*(str(b) for b in self.bin_dirs), "/usr/local/bin", "/usr/bin", "/bin"])
        setenv = " ".join(f"{k}={v}" for k, v in {"PATH": path, **self.env}.items())
        self.config.write_text("\n".join([
            f"ListenAddress {self.host}",
            f"HostKey {self.host_key}",
            f"PidFile {self.pid_file}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "MaxStartups 100",
            "MaxSessions 100",
            "LogLevel ERROR",
            f"SetEnv {setenv}",
            *(["Subsystem sftp internal-sftp"] if self.sftp else []),
            "",
        ]))
        os.chmod(self.host_key, 0o600)
        os.chmod(self.client_key, 0o600)

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@{self.host}:{self.port}"

    def ssh_config_text(self, alias: str) -> str:
        """A ~/.ssh/config block reaching this server as ``alias`` (for tests of config handling)."""
        return (f"Host {alias}\n  HostName {self.host}\n  Port {self.port}\n  User {self.user}\n"
                f"  IdentityFile {self.client_key}\n  UserKnownHostsFile {self.known_hosts}\n")

    # ----------------------------------------------------------------- lifecycle
    def start(self, timeout_s: float = 10.0) -> None:
        if self.sshd is None:
            raise RuntimeError("no sshd binary")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir when root
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.sshd, "-D", "-e", "-f", str(self.config), "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not accept connections on {self.port} within {timeout_s} s")

    def _sshd_pids(self) -> list[int]:
        if self.process is None:
            return []
        below = [p for p in descendants(self.process.pid) if _comm(p).startswith("sshd")]
        return [self.process.pid, *below]

    def kill_hard(self) -> None:
        """SIGKILL the listener and every per-connection sshd: open connections drop as if the link died."""
        pids = self._sshd_pids()
        _kill(pids, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=5)
            self.process = None

    def stop(self) -> None:
        """Stop sshd and everything it started (sessions too), by PID."""
        if self.process is None:
            return
        everything = [self.process.pid, *descendants(self.process.pid)]
        _kill(everything, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill(everything, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    # ----------------------------------------------------------------- client side (OpenSSH, independent check)
    def ssh(self, command: str, timeout_s: float = 20.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-F", "/dev/null", "-p", str(self.port), "-i", str(self.client_key),
             "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
             "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f"{self.user}@{self.host}", command],
            capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
        )


def ensure_sshd() -> tuple[str | None, str]:
    """The sshd binary, installing it with scripts/ensure-sshd if missing; (None, why) if that fails."""
    found = find_sshd()
    if found:
        return found, ""
    if not ENSURE_SSHD.exists():
        return None, "sshd is not installed and scripts/ensure-sshd is missing"
    try:
        result = subprocess.run(["bash", str(ENSURE_SSHD)], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"installing openssh-server failed: {exc}"
    found = find_sshd()
    if found:
        return found, ""
    return None, f"sshd missing and scripts/ensure-sshd could not install it: {result.stderr.strip()[-300:]}"


def sshd_or_skip(workdir: Path, **kwargs: object) -> LoopbackSSHD:
    """A started :class:`LoopbackSSHD`, or ``pytest.skip`` with the reason no sshd can be had here."""
    import pytest

    sshd, why = ensure_sshd()
    if sshd is None:
        pytest.skip(f"no OpenSSH server for the loopback SSH tests: {why}")
    if os.geteuid() == 0:
        try:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        except OSError as exc:
            pytest.skip(f"sshd needs /run/sshd when run as root and it cannot be created: {exc}")
    server = LoopbackSSHD(workdir, sshd=sshd, **kwargs)  # type: ignore[arg-type]
    server.start()
    return server
