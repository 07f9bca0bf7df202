"""What a run has done so far, typed: the resume state written with every checkpoint.

``ResumeState`` says which phases are finished (a dense phase with the ``DenseResult`` its branches need) and, while
a phase is under way, ``PhaseProgress``: the phase, the last epoch saved, and everything needed to go on from there.
All of it converts to plain data (tensors, numbers, strings, lists, dicts) with ``to_dict`` and back with
``from_dict``, so ``engine.checkpoints`` can load it with ``torch.load(weights_only=True)``: a state file fetched
from a board cannot run code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DenseResult:
    """What a dense phase leaves for its branches."""

    phase: str
    tickets: dict[str, str]  # "init" | "final" | "eb:<detector>" -> file
    ticket_epochs: dict[str, int]
    cum_flops: list[float]  # cumulative training MACs after epoch e (index 0: the initial probe pass)
    epoch_energy: list[float | None] = field(default_factory=list)  # joules of epoch e (index 0 unused)
    accuracy: float = 0.0
    loss: float = 0.0
    hook_states: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenseResult:
        return cls(**data)


@dataclass
class PhaseProgress:
    """A phase saved after ``epoch``: the training state and each observer's own state, by observer name."""

    phase: str
    epoch: int
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    flops_total: float
    observers: dict[str, Any] = field(default_factory=dict)
    branch: dict[str, Any] | None = None  # retraining: the pruned structure and what the plan step measured

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseProgress:
        return cls(**data)


@dataclass
class ResumeState:
    """The run's progress: events written (``seq``), phases finished, the phase under way."""

    seq: int = 0
    started: bool = False  # RunStarted was emitted
    dense: dict[str, DenseResult] = field(default_factory=dict)  # finished dense phases
    branches: list[str] = field(default_factory=list)  # finished branch phases
    current: PhaseProgress | None = None

    def finished(self, phase: str) -> bool:
        return phase in self.dense or phase in self.branches

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "started": self.started,
            "dense": {phase: result.to_dict() for phase, result in self.dense.items()},
            "branches": list(self.branches),
            "current": None if self.current is None else self.current.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResumeState:
        current = data.get("current")
        return cls(
            seq=int(data["seq"]), started=bool(data["started"]),
            dense={phase: DenseResult.from_dict(d) for phase, d in data["dense"].items()},
            branches=list(data["branches"]),
            current=None if current is None else PhaseProgress.from_dict(current),
        )
