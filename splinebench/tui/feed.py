"""Incremental views of the store for the dashboard: what changed since the last poll, fetched by row id.

The dashboard must not slow training, so a poll is built to cost almost nothing when nothing happened and only
the new rows when something did:

* first it asks SQLite's ``PRAGMA data_version``, which changes only when another connection commits; an idle
  poll is that one pragma (plus, for a run still marked running, a once-a-second look at whether its process
  lives);
* then it fetches rows with ``id > last id seen`` per table. The queries put ``+`` before ``run_id`` so SQLite
  walks the rowid range instead of the ``run_id`` index, which would otherwise visit *every* row of the run on
  each poll and sort them (``EXPLAIN QUERY PLAN`` shows the difference);
* new rows are merged into dicts keyed by what they describe (phase, epoch, layer), so rows rebuilt by a
  resume (``StoreWriter.truncate_after`` re-inserts them with new ids) overwrite instead of doubling.

``poll`` returns the set of topics that changed, and each panel redraws only when one of its topics is in it.
Nothing here imports Textual or torch.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from splinebench.store import RunRow, StoreError, StoreReader

#: Everything ``RunFeed.poll`` can report as changed.
TOPICS = frozenset(
    {
        "run",
        "phases",
        "epochs",
        "layers",
        "net",
        "matrix",
        "early_birds",
        "models",
        "results",
        "energy",
        "power",
    }
)

#: How often a ``running`` run is re-read to notice a dead process (its death changes nothing in the store).
LIVENESS_SECONDS = 1.0

#: Power samples kept for the energy panel's sparkline.
POWER_SAMPLES_KEPT = 600


def data_version(reader: StoreReader) -> int:
    """SQLite's per-connection change counter: differs between two calls iff another connection committed."""
    return reader.data_version()


def _read(reader: StoreReader, fetch: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A reader query, with a damaged or vanished store answered as a StoreError (the dashboard shows it)."""
    try:
        return fetch()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{reader.path} could not be read: {exc}") from None


def _since(
    reader: StoreReader, table: str, run_id: str, since_id: int, columns: str = "*"
) -> list[dict[str, Any]]:
    """Rows of ``table`` for ``run_id`` with ``id > since_id``, in id order, walking the rowid range only."""
    return _read(reader, lambda: reader.rows_since(table, run_id, since_id, columns))


@dataclass
class PartitionSeries:
    """One dense phase's partition record: per-layer and whole-net distances per epoch, and the Fig. 5
    matrix."""

    layer_names: list[str] = field(default_factory=list)
    per_epoch: dict[int, list[float]] = field(default_factory=dict)  # epoch -> distance per layer_index
    net: dict[int, tuple[float, float]] = field(
        default_factory=dict
    )  # epoch -> (mean_of_layers, bit_weighted)
    matrix: dict[tuple[int, int], float] = field(default_factory=dict)  # (i, j) snapshot indices -> distance
    matrix_subsampled: bool = False

    @property
    def epochs(self) -> list[int]:
        return sorted(self.per_epoch)

    def set_layer(self, epoch: int, index: int, name: str, distance: float) -> None:
        while len(self.layer_names) <= index:
            self.layer_names.append("")
        self.layer_names[index] = name
        values = self.per_epoch.setdefault(epoch, [])
        while len(values) <= index:
            values.append(float("nan"))
        values[index] = distance

    def matrix_size(self) -> int:
        return max((max(i, j) for i, j in self.matrix), default=-1) + 1


@dataclass
class EarlyBirdView:
    """What the EB detector is looking at now, rebuilt from stored distances (Algorithm 1's FIFO test).

    Before it fires, the FIFO is not stored, so it is recomputed the way the detector fills it: with the
    paper's ``consecutive`` anchor, the last ``window`` whole-net distances (mean of layers or bit-weighted,
    as the profile says); with the seed code's ``current`` anchor, the newest matrix row's distances to the
    ``window`` previous snapshots. Once it fires, the FIFO stored with the ``early_birds`` row is the one
    shown.
    """

    enabled: bool
    eps: float
    window: int
    anchor: str
    distance: str
    fifo: list[float]
    fired_epoch: int | None
    fired_fifo: list[float] | None
    approximate: bool  # the detector watches a subset of layers; the stored distances cover all of them

    @property
    def below(self) -> list[bool]:
        return [v < self.eps for v in self.fifo]


class RunFeed:
    """Everything the run screen shows for one run, kept up to date by :meth:`poll`."""

    def __init__(self, run_id: str, power_kept: int = POWER_SAMPLES_KEPT) -> None:
        self.run_id = run_id
        self.run: RunRow | None = None
        self.profile: dict[str, Any] = {}
        self.phases: dict[str, dict[str, Any]] = {}
        self.epochs: dict[str, dict[int, dict[str, Any]]] = {}
        self.partition: dict[str, PartitionSeries] = {}
        self.early_birds: dict[tuple[str, str], dict[str, Any]] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.results: dict[tuple[str, float], dict[str, Any]] = {}
        self.energy: dict[int, dict[str, Any]] = {}
        self.power: deque[dict[str, Any]] = deque(maxlen=power_kept)
        self.loaded = False
        self._last: dict[str, int] = {}
        self._version: tuple[int, int] | None = None
        self._status_checked = 0.0
        self._pid: int | None = None

    # -- polling ---------------------------------------------------------------------------------------------
    def poll(self, reader: StoreReader, force: bool = False, now: float | None = None) -> set[str]:
        """Fetch what landed since the last poll; returns the topics that changed (empty when nothing did)."""
        now = time.monotonic() if now is None else now
        try:
            version = (id(reader), data_version(reader))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{reader.path} could not be read: {exc}") from None
        if not force and self.loaded and version == self._version:
            return self._liveness(reader, now)
        self._version = version
        self._status_checked = now
        changed: set[str] = set()
        run = reader.run(self.run_id)
        if self.run is None or run != self.run:
            changed.add("run")
        if self._pid is not None and run.pid != self._pid:
            self._reset()  # resumed: the store rebuilt this run's projections, so start again from id 0
            changed |= TOPICS
        self._pid = run.pid
        self.run = run
        if not self.profile:
            self.profile = reader.profile(run.id)
        changed |= self._poll_phases(reader)
        changed |= self._poll_epochs(reader)
        changed |= self._poll_layers(reader)
        changed |= self._poll_net(reader)
        changed |= self._poll_matrix(reader)
        changed |= self._poll_keyed(
            reader, "early_birds", "early_birds", lambda r: (r["detector"], r["phase"])
        )
        changed |= self._poll_keyed(reader, "models", "models", lambda r: r["tag"])
        changed |= self._poll_keyed(reader, "results", "results", lambda r: (r["pruner"], r["ratio"]))
        changed |= self._poll_keyed(reader, "energy", "energy", lambda r: r["id"])
        changed |= self._poll_power(reader)
        self.loaded = True
        return changed

    def _reset(self) -> None:
        self.phases, self.epochs, self.partition = {}, {}, {}
        self.early_birds, self.models, self.results, self.energy = {}, {}, {}, {}
        self.power.clear()
        self._last = {}

    def _liveness(self, reader: StoreReader, now: float) -> set[str]:
        """A run's process can die without writing anything; re-read its row now and then to notice."""
        if self.run is None or self.run.status != "running" or now - self._status_checked < LIVENESS_SECONDS:
            return set()
        self._status_checked = now
        run = reader.run(self.run_id)
        if run != self.run:
            self.run = run
            return {"run"}
        return set()

    def _poll_phases(self, reader: StoreReader) -> set[str]:
        # A handful of rows per run without an id column; read whole, but only when the store changed.
        rows = _read(reader, lambda: reader.phases(self.run_id))
        phases = {r["phase"]: r for r in rows}
        if phases == self.phases:
            return set()
        self.phases = phases
        return {"phases"}

    def _poll_epochs(self, reader: StoreReader) -> set[str]:
        rows = _since(reader, "epochs", self.run_id, self._last.get("epochs", 0))
        for r in rows:
            self.epochs.setdefault(r["phase"], {})[r["epoch"]] = r
        return self._advance("epochs", rows, "epochs")

    def _poll_layers(self, reader: StoreReader) -> set[str]:
        rows = _since(
            reader,
            "layer_distances",
            self.run_id,
            self._last.get("layers", 0),
            "id, phase, epoch, layer_index, layer, distance",
        )
        for r in rows:
            series = self.partition.setdefault(r["phase"], PartitionSeries())
            series.set_layer(r["epoch"], r["layer_index"], r["layer"], r["distance"])
        return self._advance("layers", rows, "layers")

    def _poll_net(self, reader: StoreReader) -> set[str]:
        rows = _since(reader, "net_distances", self.run_id, self._last.get("net", 0))
        for r in rows:
            series = self.partition.setdefault(r["phase"], PartitionSeries())
            series.net[r["epoch"]] = (r["mean_of_layers"], r["bit_weighted"])
        return self._advance("net", rows, "net")

    def _poll_matrix(self, reader: StoreReader) -> set[str]:
        # No id column: the implicit rowid grows with every insert (INSERT OR REPLACE too) and serves as one.
        rows = _read(reader, lambda: reader.matrix_since(self.run_id, self._last.get("matrix", 0)))
        for r in rows:
            series = self.partition.setdefault(r["phase"], PartitionSeries())
            series.matrix[(r["i"], r["j"])] = r["distance"]
            series.matrix_subsampled = series.matrix_subsampled or bool(r["subsampled"])
        return self._advance("matrix", rows, "matrix")

    def _poll_keyed(self, reader: StoreReader, table: str, topic: str, key: Any) -> set[str]:
        rows = _since(reader, table, self.run_id, self._last.get(topic, 0))
        target: dict[Any, dict[str, Any]] = getattr(self, topic)
        for r in rows:
            target[key(r)] = r
        return self._advance(topic, rows, topic)

    def _poll_power(self, reader: StoreReader) -> set[str]:
        rows = _since(reader, "power_samples", self.run_id, self._last.get("power", 0))
        for r in rows:
            r["rails"] = json.loads(r["rails"]) if r.get("rails") else {}
            self.power.append(r)
        return self._advance("power", rows, "power")

    def _advance(self, key: str, rows: list[dict[str, Any]], topic: str) -> set[str]:
        if not rows:
            return set()
        self._last[key] = max(self._last.get(key, 0), rows[-1]["id"])
        return {topic}

    # -- derived views ---------------------------------------------------------------------------------------
    def dense_phases(self) -> list[str]:
        """Phases with partition data (dense training), in the order they started."""
        ordered = [p for p in self.phases if p in self.partition]
        return ordered + sorted(p for p in self.partition if p not in ordered)

    def phase_label(self, phase: str) -> str:
        """A short name for a plot legend: ``rt <pruner>@<ratio>`` for a retraining (from what its PhaseStarted
        recorded, never by parsing the phase name), the phase itself otherwise."""
        row = self.phases.get(phase)
        if row and row.get("kind") == "retrain" and row.get("pruner") is not None and row.get("ratio") is not None:
            return f"rt {row['pruner']}@{row['ratio']:g}"
        return phase

    def eb_epoch(self, phase: str, detector: str = "spline") -> int | None:
        row = self.early_birds.get((detector, phase))
        return row["epoch"] if row else None

    def early_bird_view(self, phase: str) -> EarlyBirdView:
        settings = _early_bird_settings(self.profile.get("early_bird", {}))
        eps, window, anchor, distance = settings.eps, settings.window, settings.anchor, settings.distance
        series = self.partition.get(phase, PartitionSeries())
        fifo: list[float] = []
        if anchor == "current":
            n = series.matrix_size()
            if n > 1:
                row = [series.matrix.get((n - 1, j), float("nan")) for j in range(n - 1)]
                fifo = row[::-1][:window]
        else:
            pick = 0 if distance == "mean-of-layers" else 1
            fifo = [series.net[e][pick] for e in sorted(series.net)[-window:]]
        fired = self.early_birds.get(("spline", phase))
        return EarlyBirdView(
            enabled=settings.enabled,
            eps=eps,
            window=window,
            anchor=anchor,
            distance=distance,
            fifo=fifo,
            fired_epoch=fired["epoch"] if fired else None,
            fired_fifo=json.loads(fired["fifo"]) if fired and fired.get("fifo") else None,
            approximate=list(settings.layers) != ["*"],
        )

    def training_macs_so_far(self, phase: str) -> float:
        """A finished phase's training MACs as recorded; a running one's, summed over its epochs so far."""
        row = self.phases.get(phase)
        if row and row.get("training_flops") is not None:
            return float(row["training_flops"])
        return float(sum(e.get("training_flops") or 0.0 for e in self.epochs.get(phase, {}).values()))


# --- the runs list ------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """One line of the runs screen."""

    run: RunRow
    dense_epochs: int = 0
    retrain_done: int = 0
    retrain_planned: int = 0
    current_phase: str | None = None

    @property
    def progress(self) -> str:
        planned = self.run.planned_epochs or 0
        text = f"{self.dense_epochs}/{planned}"
        if self.retrain_planned:
            text += f" rt {self.retrain_done}/{self.retrain_planned}"
        return text


@dataclass(frozen=True)
class RunNews:
    """Something worth a notification: an EB ticket drawn, a run finished, failed or found interrupted."""

    kind: str  # "early_bird" | "finished" | "failed" | "interrupted"
    run_id: str
    name: str
    epoch: int | None = None


class RunsFeed:
    """Every run in the store with its progress, re-read only when the store changed (or a run may have
    died)."""

    def __init__(self) -> None:
        self.summaries: dict[str, RunSummary] = {}
        self.loaded = False
        self._phase_max_epoch: dict[tuple[str, str], int] = {}
        self._last_epoch_id = 0
        self._planned: dict[str, int] = {}  # run id -> (pruner, ratio) branches of its run plan
        self._version: tuple[int, int] | None = None
        self._status_checked = 0.0

    def poll(
        self, reader: StoreReader, force: bool = False, now: float | None = None
    ) -> tuple[bool, list[RunNews]]:
        """Returns (whether anything changed, news since the previous poll; none on the first)."""
        now = time.monotonic() if now is None else now
        try:
            version = (id(reader), data_version(reader))
            if not force and self.loaded and version == self._version:
                running = any(s.run.status == "running" for s in self.summaries.values())
                if not running or now - self._status_checked < LIVENESS_SECONDS:
                    return False, []
            self._version = version
            self._status_checked = now
            runs = reader.runs()
            epoch_rows = reader.epoch_marks_since(self._last_epoch_id)
            phase_rows = reader.all_phases()
            for run in runs:
                if run.id not in self._planned:
                    self._planned[run.id] = _planned_branches(reader.plan(run.id), run)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{reader.path} could not be read: {exc}") from None
        for r in epoch_rows:
            key = (r["run_id"], r["phase"])
            self._phase_max_epoch[key] = max(self._phase_max_epoch.get(key, 0), r["epoch"])
        if epoch_rows:
            self._last_epoch_id = epoch_rows[-1]["id"]
        by_run: dict[str, list[dict[str, Any]]] = {}
        for r in phase_rows:
            by_run.setdefault(r["run_id"], []).append(r)
        news: list[RunNews] = []
        summaries: dict[str, RunSummary] = {}
        for run in runs:
            phases = by_run.get(run.id, [])
            retrain = [p for p in phases if p["kind"] == "retrain"]
            running = [p["phase"] for p in phases if p["status"] == "running"]
            summary = RunSummary(
                run=run,
                dense_epochs=self._phase_max_epoch.get((run.id, "dense"), 0),
                retrain_done=sum(p["status"] == "finished" for p in retrain),
                retrain_planned=self._planned[run.id],
                current_phase=running[-1] if running else None,
            )
            summaries[run.id] = summary
            before = self.summaries.get(run.id)
            if self.loaded and before is not None:
                news += _news(before.run, run)
        changed = summaries != self.summaries
        self.summaries = summaries
        self.loaded = True
        return changed, news


def _planned_branches(plan: dict[str, Any], run: RunRow) -> int:
    """The run plan's branch count, each pruner entry over its own ratios (runs recorded before RunStarted carried
    a plan: every pruner over the profile's ratios, which is what those runs could do)."""
    if "branch_count" in plan:
        return int(plan["branch_count"])
    return len(run.pruners) * len(run.ratios)


def _news(before: RunRow, after: RunRow) -> list[RunNews]:
    out = []
    if before.eb_epoch is None and after.eb_epoch is not None:
        out.append(RunNews("early_bird", after.id, after.name, after.eb_epoch))
    if before.status != after.status and after.status in ("finished", "failed", "interrupted"):
        out.append(RunNews(after.status, after.id, after.name))
    return out


def _early_bird_settings(stored: dict[str, Any]) -> Any:
    """The run's [early_bird] table with the profile model's defaults (the one place they are written) for keys a
    run recorded by an older splinebench lacks; a table that no longer validates reads as the defaults."""
    from pydantic import ValidationError

    from splinebench.profiles import EarlyBirdSettings

    known = {k: v for k, v in stored.items() if k in EarlyBirdSettings.model_fields}
    try:
        return EarlyBirdSettings.model_validate(known)
    except ValidationError:
        return EarlyBirdSettings()
