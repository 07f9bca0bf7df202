"""Running elsewhere: a run executes on an SSH host (a Jetson) while its events and power land in the local store."""

from __future__ import annotations

from splinebench.remote.runner import RemoteOptions, Tail, attach, run_remote, stop
from splinebench.remote.session import ConnectOptions, RemoteError, RemoteSession

__all__ = ["ConnectOptions", "RemoteError", "RemoteOptions", "RemoteSession", "Tail", "attach", "run_remote", "stop"]
