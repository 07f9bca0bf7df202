"""Running elsewhere: a run executes on an SSH host (a Jetson) while its events and power land in the local store."""

from __future__ import annotations

from splinebench.remote.intake import EventIntake
from splinebench.remote.protocol import ProtocolError, Tail
from splinebench.remote.runner import AlreadyOver, RemoteOptions, attach, run_remote, stop
from splinebench.remote.session import ConnectOptions, RemoteError, RemoteSession

__all__ = ["AlreadyOver", "ConnectOptions", "EventIntake", "ProtocolError", "RemoteError", "RemoteOptions",
           "RemoteSession", "Tail", "attach", "run_remote", "stop"]
