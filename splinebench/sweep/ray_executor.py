"""The Ray executor: Ray core tasks, dense -> branches as object refs, for a cluster when one machine is not enough.

Each dense task is a remote call; each branch task takes its dense task's object ref as an argument, so Ray starts it
where and when the tickets are ready. Every task asks for ``num_cpus`` (its torch threads) and, when the profile's
device is cuda (or auto on a cluster with GPUs), ``num_gpus``, so a cluster with GPUs places training there. A worker
process that dies is retried by Ray (``max_retries``) and the task resumes from its checkpoint on the shared storage.
Workers send progress to a small actor the driver drains; only the driver writes the store.

``address``: ``auto`` or ``HOST:PORT`` joins a running cluster (``ray start --head``), ``ray://HOST:10001`` goes
through Ray Client; no address starts a private one-machine instance bound to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from splinebench.errors import BadInputError
from splinebench.sweep.executor import Outcome, cores, threads_per_task
from splinebench.sweep.plan import BranchTask, DenseTask, TaskGraph
from splinebench.sweep.storage import Storage
from splinebench.sweep.tasks import TaskResult, run_branch_task, run_dense_task

INSTALL_HINT = "the Ray executor needs Ray: pip install splinebench[ray]"
#: node resources that say nothing about which node it is
_GENERIC = ("CPU", "GPU", "memory", "object_store_memory", "accelerator_type")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BadInputError(INSTALL_HINT) from None
    return ray


class _InboxProgress:
    """A worker's progress function: fire-and-forget calls to the driver's inbox actor."""

    def __init__(self, inbox: Any) -> None:
        self.inbox = inbox

    def __call__(self, message: dict[str, Any]) -> None:
        self.inbox.put.remote(message)


class _Inbox:
    """Collects worker messages until the driver drains them."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, item: dict[str, Any]) -> None:
        self.items.append(item)

    def drain(self) -> list[dict[str, Any]]:
        items, self.items = self.items, []
        return items


def _dense(task: DenseTask, storage: Storage, threads: int, device: str, inbox: Any) -> TaskResult:
    return run_dense_task(task, storage, threads, device, _InboxProgress(inbox))


def _branch(task: BranchTask, dense: TaskResult, storage: Storage, threads: int, device: str,
            inbox: Any) -> TaskResult:
    return run_branch_task(task, dense, storage, threads, device, _InboxProgress(inbox))


class RayExecutor:
    name = "ray"

    def __init__(self, storage: Storage, address: str | None = None, workers: int | None = None,
                 cpus_per_task: int | None = None, gpus_per_task: float | None = None, max_retries: int = 2) -> None:
        self.storage = storage
        self.address = address
        self.max_retries = max_retries
        self.gpus_per_task = gpus_per_task
        self.started_ray = False
        if address is None:  # a private instance: loopback only, no usage report, no dashboard
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self.ray = ray = import_ray()
        self.workers = max(1, workers or cores())
        self.budget = cpus_per_task or (max(1, cores() // self.workers) if address is None else 1)
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "logging_level": "warning"}
            if address is None:
                options |= {"num_cpus": self.workers * self.budget, "include_dashboard": False,
                            "_node_ip_address": "127.0.0.1"}
            try:  # "local": a new instance even where `ray start` or a test cluster left an address behind
                ray.init(address=address or "local", **options)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise BadInputError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
            self.started_ray = True
        self.gpus = ray.cluster_resources().get("GPU", 0)
        self.inbox = ray.remote(num_cpus=0)(_Inbox).remote()
        self.dense_fn = ray.remote(_dense)
        self.branch_fn = ray.remote(_branch)
        self.refs: dict[Any, str] = {}
        self.dense_refs: dict[str, Any] = {}

    def describe(self) -> str:
        total = self.ray.cluster_resources()
        where = self.address or "a private instance on 127.0.0.1"
        return (f"ray ({where}): {len(self.node_labels())} node(s), {total.get('CPU', 0):g} CPU, "
                f"{total.get('GPU', 0):g} GPU; {self.budget} CPU per task")

    def node_labels(self) -> dict[str, str]:
        """Node id -> its address and the custom resources that tell nodes apart."""
        labels = {}
        for node in self.ray.nodes():
            if not node.get("Alive"):
                continue
            custom = sorted(k for k in node.get("Resources", {}) if not k.startswith(("node:", *_GENERIC)))
            labels[node["NodeID"]] = " ".join([node.get("NodeManagerAddress", "?"), *custom])
        return labels

    def environment_for(self, profile: dict[str, Any]) -> dict[str, Any] | None:
        return None  # a task may run on any node of the cluster; its attempts record where

    def device_for(self, profile: dict[str, Any]) -> str:
        device = profile.get("device", "auto")
        if device == "auto":
            return "cuda" if self.gpus > 0 else "cpu"
        return device

    def _options(self, profile: dict[str, Any], name: str) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": threads_per_task(profile, self.budget), "max_retries": self.max_retries,
                                   "name": name}
        if self.device_for(profile) == "cuda":
            options["num_gpus"] = self.gpus_per_task or 1
        return options

    def submit(self, graph: TaskGraph, dense: list[str], branches: list[str], ready: dict[str, TaskResult]) -> None:
        for key in dense:
            task = graph.dense[key]
            ref = self.dense_fn.options(**self._options(task.profile, key)).remote(
                task, self.storage, threads_per_task(task.profile, self.budget), self.device_for(task.profile),
                self.inbox)
            self.dense_refs[key] = ref
            self.refs[ref] = key
        for key in branches:
            task = graph.branches[key]
            source = ready.get(task.dense_key) or self.dense_refs[task.dense_key]
            ref = self.branch_fn.options(**self._options(task.profile, key)).remote(
                task, source, self.storage, threads_per_task(task.profile, self.budget),
                self.device_for(task.profile), self.inbox)
            self.refs[ref] = key

    def pending(self) -> int:
        return len(self.refs)

    def poll(self, timeout: float) -> tuple[list[Outcome], list[dict[str, Any]]]:
        ray = self.ray
        outcomes = []
        if self.refs:
            ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=timeout)
            if ready:
                ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=0)
            for ref in ready:
                key = self.refs.pop(ref)
                try:
                    outcomes.append(Outcome(key, result=ray.get(ref)))
                except ray.exceptions.RayError as exc:
                    outcomes.append(Outcome(key, error=_reason(exc)))
        return outcomes, ray.get(self.inbox.drain.remote())

    def close(self, cancel: bool = False) -> None:
        ray = self.ray
        if cancel:
            for ref in self.refs:
                ray.cancel(ref, force=True)
        with contextlib.suppress(Exception):  # gone with its cluster already
            ray.kill(self.inbox)
        if self.started_ray:
            ray.shutdown()


def _reason(exc: Exception) -> str:
    cause = getattr(exc, "cause", None)
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
