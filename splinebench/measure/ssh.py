"""SSH connections to boards and remote machines: one policy for the energy meter and for remote runs.

The policy (asyncssh underneath, so the dashboard can share the event loop):

* ``~/.ssh/config`` (Host aliases, HostName, User, Port, IdentityFile, UserKnownHostsFile), ssh-agent and the
  default keys are honoured exactly as asyncssh does it;
* the server's host key is checked against known_hosts. An unknown host is **refused** unless the caller asks
  to accept it (``accept_new_host``, the CLI's ``--accept-new-host``), which then adds the key to known_hosts
  -- the equivalent of OpenSSH's ``StrictHostKeyChecking=accept-new``. A *changed* key is always refused;
* keys and the agent only: password and keyboard-interactive authentication are switched off, so no password
  is ever asked for, held or stored.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncssh

from splinebench.errors import BadInputError

DEFAULT_PORT = 22


class SSHConnectError(BadInputError):
    """The host could not be reached or would not let us in; the message says what to check."""

    def __str__(self) -> str:
        return self.args[0]


class HostKeyError(SSHConnectError):
    """The server's host key is unknown (and not accepted) or differs from known_hosts."""


@dataclass(frozen=True)
class SSHTarget:
    """Where to connect: ``ssh://user@host:port?option=value``. ``user``/``port`` None = from ssh config."""

    user: str | None
    host: str
    port: int | None
    options: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def display(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"{user}{host}{port}"

    @property
    def url(self) -> str:
        return f"ssh://{self.display}"


def parse_ssh_url(url: str) -> SSHTarget:
    """``ssh://[user@]host[:port][?opt=val&...]`` -> :class:`SSHTarget`; refuses passwords in the URL."""
    parts = urlsplit(url.strip())
    if parts.scheme != "ssh":
        raise BadInputError(f"not an ssh URL: {url!r} (expected ssh://user@host[:port])")
    if parts.password is not None:
        redacted = url.replace(f":{parts.password}@", ":***@", 1)
        raise BadInputError(
            f"{redacted!r} holds a password; splinebench never takes passwords -- use a key or ssh-agent "
            "(ssh-copy-id user@host installs your key on the board)"
        )
    if not parts.hostname:
        raise BadInputError(f"no host in {url!r} (expected ssh://user@host[:port])")
    try:
        port = parts.port
    except ValueError:
        raise BadInputError(f"bad port in {url!r}") from None
    if parts.path not in ("", "/"):
        raise BadInputError(f"unexpected path {parts.path!r} in {url!r} (expected ssh://user@host[:port])")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    return SSHTarget(user=parts.username or None, host=parts.hostname, port=port, options=options)


def known_hosts_host(host: str, port: int | None) -> str:
    """How known_hosts names a host: ``host`` on port 22, ``[host]:port`` elsewhere."""
    return host if port in (None, DEFAULT_PORT) else f"[{host}]:{port}"


def _resolved_options(
    target: SSHTarget, config: Sequence[str] | None, known_hosts: str | Sequence[str] | None
) -> asyncssh.SSHClientConnectionOptions:
    return asyncssh.SSHClientConnectionOptions(
        host=target.host,
        port=target.port or (),
        username=target.user or (),
        config=() if config is None else list(config),
        known_hosts=() if known_hosts is None else known_hosts,
    )


def known_hosts_files(
    target: SSHTarget, known_hosts: str | Sequence[str] | None = None, config: Sequence[str] | None = None
) -> list[Path] | None:
    """The known_hosts files that apply: given ones, else ssh config's UserKnownHostsFile, else the default.

    None means the ssh config switches host-key checking off (``UserKnownHostsFile none``); we respect that,
    as OpenSSH does, and record it in the meter's provenance.
    """
    if known_hosts is not None:
        paths = [known_hosts] if isinstance(known_hosts, (str, os.PathLike)) else list(known_hosts)
        return [Path(p).expanduser() for p in paths]
    resolved = _resolved_options(target, config, None).known_hosts
    if resolved is None:
        return None
    if isinstance(resolved, (list, tuple)) and resolved:
        return [Path(str(p)).expanduser() for p in resolved]
    return [Path("~", ".ssh", "known_hosts").expanduser()]


def _read_known_hosts(files: list[Path]) -> bytes:
    data = b"".join(p.read_bytes() + b"\n" for p in files if p.is_file())
    # asyncssh treats empty bytes as "use the default file"; a comment keeps the given (empty) list explicit.
    return data or b"# no known hosts\n"


def append_known_host(path: Path, host: str, port: int | None, key: asyncssh.SSHKey) -> None:
    """Remember ``key`` for ``host`` in ``path`` (created 0600 in a 0700 folder if missing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
    line = f"{known_hosts_host(host, port)} {algorithm} {blob}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(line)


class _HostKeyPolicy:
    """Decides on a host key asyncssh did not find among the trusted ones; remembers why for the message."""

    def __init__(self, known: bytes, accept_new: bool) -> None:
        self.known = known
        self.accept_new = accept_new
        self.accepted: tuple[str, int | None, asyncssh.SSHKey] | None = None
        self.refusal: str | None = None
        self.seen: tuple[str, int | None, asyncssh.SSHKey] | None = None

    def decide(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        port_or_none = None if port == DEFAULT_PORT else port
        self.seen = (host, port_or_none, key)
        trusted_keys, trusted_ca, *_ = asyncssh.match_known_hosts(self.known, host, addr, port_or_none)
        if trusted_keys or trusted_ca:
            self.refusal = "changed"
            return False
        if self.accept_new:
            self.accepted = (host, port_or_none, key)
            return True
        self.refusal = "unknown"
        return False


def _client_factory(policy: _HostKeyPolicy) -> type[asyncssh.SSHClient]:
    class _Client(asyncssh.SSHClient):
        def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
            return policy.decide(host, addr, port, key)

    return _Client


def _host_key_message(policy: _HostKeyPolicy, target: SSHTarget, files: list[Path]) -> str:
    where = ", ".join(str(f) for f in files)
    if policy.seen is None:
        return f"the host key of {target.display} could not be verified against {where}"
    host, port, key = policy.seen
    name = known_hosts_host(host, port)
    fingerprint = key.get_fingerprint()
    if policy.refusal == "changed":
        return (
            f"host key of {name} does NOT match known_hosts ({where}): it changed (board reflashed?) or "
            f"someone is in the middle. If you trust the change, remove the old entry with "
            f"`ssh-keygen -R {shlex.quote(name)} -f {files[0]}` and connect again (new key {fingerprint})"
        )
    return (
        f"refusing unknown host {name}: its host key ({key.get_algorithm()} {fingerprint}) is not in "
        f"known_hosts ({where}). Check the fingerprint on the board "
        f"(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), then accept it once with --accept-new-host "
        f"(accept_new_host=True), which adds it to {files[0]}"
    )


async def connect(
    url: str | SSHTarget,
    accept_new_host: bool = False,
    known_hosts: str | Sequence[str] | None = None,
    client_keys: Sequence[str] | None = None,
    config: Sequence[str] | None = None,
    *,
    connect_timeout_s: float = 10.0,
    **options: Any,
) -> asyncssh.SSHClientConnection:
    """Open an SSH connection under the policy above.

    ``known_hosts``: known_hosts file(s) (default: ssh config, else ``~/.ssh/known_hosts``); ``client_keys``:
    private key files (default: agent + ``~/.ssh/id_*`` + config IdentityFile); ``config``: ssh config files
    (default ``~/.ssh/config``; ``[]`` reads none). Extra ``options`` go to :func:`asyncssh.connect`.
    Raises :class:`HostKeyError` or :class:`SSHConnectError` with a message meant for the user.
    """
    target = parse_ssh_url(url) if isinstance(url, str) else url
    files = known_hosts_files(target, known_hosts, config)
    policy = _HostKeyPolicy(_read_known_hosts(files) if files is not None else b"", accept_new_host)
    kwargs: dict[str, Any] = {
        "port": target.port or (),
        "username": target.user or (),
        "config": () if config is None else list(config),
        "known_hosts": policy.known if files is not None else None,
        "client_keys": () if client_keys is None else [str(Path(k).expanduser()) for k in client_keys],
        "password_auth": False,
        "kbdint_auth": False,
        "connect_timeout": connect_timeout_s,
        "client_factory": _client_factory(policy),
    }
    kwargs.update(options)
    try:
        conn = await asyncssh.connect(target.host, **kwargs)
    except asyncssh.HostKeyNotVerifiable:
        raise HostKeyError(_host_key_message(policy, target, files or [])) from None
    except asyncssh.PermissionDenied as exc:
        raise SSHConnectError(
            f"{target.display} refused our keys ({exc.reason}). splinebench authenticates with keys and "
            "ssh-agent only: install your public key on the board (`ssh-copy-id user@host`) or name one in "
            "~/.ssh/config (IdentityFile)"
        ) from None
    except (OSError, asyncio.TimeoutError, asyncssh.Error) as exc:
        reason = str(exc) or type(exc).__name__
        raise SSHConnectError(f"cannot connect to {target.display}: {reason}") from None
    if policy.accepted is not None and files:
        host, port, key = policy.accepted
        append_known_host(files[0], host, port, key)
    return conn


async def run(
    conn: asyncssh.SSHClientConnection, command: str, timeout_s: float = 10.0
) -> asyncssh.SSHCompletedProcess:
    """Run ``command`` on a fresh exec channel and collect its output (no check of the exit status).

    The timeout is a hard bound: unlike ``asyncio.wait_for``, it does not wait for the cancelled channel to
    finish closing, which on a stalled link could take as long as the link stays stalled.
    """
    task = asyncio.ensure_future(conn.run(command, check=False))
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise asyncio.TimeoutError(f"remote command did not finish within {timeout_s:g} s")
    return task.result()


def host_key_fingerprint(conn: asyncssh.SSHClientConnection) -> str | None:
    key = conn.get_server_host_key()
    return key.get_fingerprint() if key is not None else None
