"""What the sweep driver needs from an executor (a local process pool, or Ray), and how it picks one.

An executor runs tasks and reports two things back: *outcomes* (a task's result, or why it could not finish after
its retries) and *messages* (live progress sent by the workers: a task started, was held, an epoch ended). The
dependency dense -> branches is the executor's business: Ray expresses it with object refs, the local pool submits a
branch when its dense task returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from splinebench.sweep.plan import TaskGraph
from splinebench.sweep.tasks import TaskResult

EXECUTORS = ("local", "ray")


@dataclass
class Outcome:
    key: str
    result: TaskResult | None = None
    error: str | None = None


class Executor(Protocol):
    name: str

    def device_for(self, profile: dict[str, Any]) -> str:
        """The device a task of this profile runs on (``auto`` resolved where the tasks will run)."""

    def environment_for(self, profile: dict[str, Any]) -> dict[str, Any] | None:
        """The environment fingerprint a task of this profile trains in, when the executor knows it before the
        task runs (local workers: this machine and venv); None when tasks may land on other machines."""

    def submit(self, graph: TaskGraph, dense: list[str], branches: list[str], ready: dict[str, TaskResult]) -> None:
        """Run the dense tasks ``dense`` and the branch tasks ``branches``; ``ready`` holds finished dense tasks."""

    def poll(self, timeout: float) -> tuple[list[Outcome], list[dict[str, Any]]]:
        """Wait up to ``timeout`` seconds; return the tasks that ended and the workers' messages since last time."""

    def pending(self) -> int:
        """Tasks submitted and not yet reported as outcomes."""

    def describe(self) -> str:
        """One line for the progress view and the dry run."""

    def close(self, cancel: bool = False) -> None:
        """Release workers (and a Ray instance this executor started); ``cancel`` stops running tasks."""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_task(profile: dict[str, Any], budget: int) -> int:
    """Torch threads of one task: ``budget`` (cores / workers), lowered to the profile's ``threads`` when set."""
    wanted = profile.get("threads")
    return max(1, min(budget, wanted) if wanted else budget)
