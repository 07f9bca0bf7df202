"""The embedded executor: a pool of ``--workers`` processes on this machine, one task per process at a time.

Workers are spawned (not forked: a forked torch can hang in its thread pool) and each sets its torch threads so
that workers x threads <= cores. They send progress through a multiprocessing queue and never open the store. A
worker that dies (killed, out of memory) breaks the pool: the pool is rebuilt and the unfinished tasks resubmitted,
each resuming from its last checkpoint, up to ``max_retries`` times. On Linux each worker dies with the driver
(``PR_SET_PDEATHSIG``), so a killed driver leaves no orphans behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import queue
import signal
import sys
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from splinebench.sweep.executor import Outcome, cores, threads_per_task
from splinebench.sweep.plan import BranchTask, DenseTask, TaskGraph
from splinebench.sweep.storage import Storage
from splinebench.sweep.tasks import TaskResult, run_branch_task, run_dense_task

_progress_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # no glibc: the worker outlives a killed driver until its next task
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _send(message: dict[str, Any]) -> None:
    if _progress_queue is not None:
        _progress_queue.put(message)


def _dense(task: DenseTask, storage: Storage, threads: int) -> TaskResult:
    return run_dense_task(task, storage, threads, None, _send)


def _branch(task: BranchTask, dense: TaskResult, storage: Storage, threads: int) -> TaskResult:
    return run_branch_task(task, dense, storage, threads, None, _send)


class LocalExecutor:
    name = "local"

    def __init__(self, storage: Storage, workers: int | None = None, max_retries: int = 2) -> None:
        self.storage = storage
        self.workers = max(1, workers or cores())
        self.budget = max(1, cores() // self.workers)
        self.max_retries = max_retries
        self.context = mp.get_context("spawn")
        self.queue = self.context.Queue()
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[Future[TaskResult], str] = {}
        self.graph: TaskGraph | None = None
        self.ready: dict[str, TaskResult] = {}
        self.waiting: dict[str, list[str]] = {}  # dense key -> branch keys submitted when it returns
        self.retries: dict[str, int] = {}

    def describe(self) -> str:
        return f"local: {self.workers} worker process(es) x {self.budget} torch thread(s)"

    def device_for(self, profile: dict[str, Any]) -> str:
        from splinebench.engine.pipeline import resolve_device

        return str(resolve_device(profile.get("device", "auto")))

    def environment_for(self, profile: dict[str, Any]) -> dict[str, Any] | None:
        import torch

        from splinebench.engine.environment import task_fingerprint

        return task_fingerprint(torch.device(self.device_for(profile)), threads_per_task(profile, self.budget),
                                bool(profile.get("deterministic", False)))

    # -- submitting ---------------------------------------------------------------------------------------------
    def submit(self, graph: TaskGraph, dense: list[str], branches: list[str], ready: dict[str, TaskResult]) -> None:
        self.graph = graph
        self.ready.update(ready)
        tasks = len(dense) + len(branches)
        if tasks and self.pool is None:
            self.workers = min(self.workers, tasks)  # no idle processes to spawn for a small sweep
            self._new_pool()
        for key in dense:
            self._submit(key)
        for key in branches:
            dense_key = graph.branches[key].dense_key
            if dense_key in self.ready:
                self._submit(key)
            else:
                self.waiting.setdefault(dense_key, []).append(key)

    def _new_pool(self) -> None:
        self.pool = ProcessPoolExecutor(self.workers, mp_context=self.context, initializer=_init_worker,
                                        initargs=(self.queue,))

    def _submit(self, key: str) -> None:
        assert self.pool is not None and self.graph is not None
        if key in self.graph.dense:
            task = self.graph.dense[key]
            future = self.pool.submit(_dense, task, self.storage, threads_per_task(task.profile, self.budget))
        else:
            branch = self.graph.branches[key]
            future = self.pool.submit(_branch, branch, self.ready[branch.dense_key], self.storage,
                                      threads_per_task(branch.profile, self.budget))
        self.futures[future] = key

    # -- collecting ---------------------------------------------------------------------------------------------
    def pending(self) -> int:
        return len(self.futures) + sum(len(v) for v in self.waiting.values())

    def poll(self, timeout: float) -> tuple[list[Outcome], list[dict[str, Any]]]:
        outcomes: list[Outcome] = []
        if self.futures:
            done, _ = wait(list(self.futures), timeout=timeout, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                key = self.futures.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    self.futures[future] = key  # handled below with the rest of the pool's tasks
                    continue
                except Exception as exc:  # noqa: BLE001 - the task's error, reported per trial
                    outcomes += self._failed(key, f"{type(exc).__name__}: {exc}")
                    continue
                outcomes += self._finished(key, result)
            if broken:
                outcomes += self._restart()
        return outcomes, self._drain()

    def _finished(self, key: str, result: TaskResult) -> list[Outcome]:
        if key in self.graph.dense:  # type: ignore[union-attr]
            self.ready[key] = result
            for branch in self.waiting.pop(key, []):
                self._submit(branch)
        return [Outcome(key, result=result)]

    def _failed(self, key: str, error: str) -> list[Outcome]:
        out = [Outcome(key, error=error)]
        for branch in self.waiting.pop(key, []):
            out.append(Outcome(branch, error=f"its dense task {key} failed"))
        return out

    def _restart(self) -> list[Outcome]:
        """A worker died: every task of the pool resumes in a new pool, unless it has used its retries."""
        keys = list(self.futures.values())
        self.futures.clear()
        assert self.pool is not None
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._new_pool()
        outcomes = []
        for key in keys:
            self.retries[key] = self.retries.get(key, 0) + 1
            if self.retries[key] > self.max_retries:
                outcomes += self._failed(key, f"its worker process died {self.retries[key]} times (max_retries "
                                              f"= {self.max_retries})")
            else:
                self._submit(key)
        return outcomes

    def _drain(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                messages.append(self.queue.get_nowait())
            except queue.Empty:
                return messages

    def close(self, cancel: bool = False) -> None:  # noqa: ARG002 - idle workers are stopped the same way
        if self.pool is None:
            return
        # The pool's processes (CPython keeps them in ``_processes``). Idle or cancelled, they are killed rather than
        # waited for: every result they produced was returned (and saved) already, and an interpreter with torch
        # takes seconds to tear down.
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        for process in processes:
            process.join(timeout=10)
        self.pool = None
