"""``splinebench export-model``: a run's pruned, retrained model as ``.pt`` or ONNX, with its provenance JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from splinebench.errors import BadInputError
from splinebench.store import StoreReader, default_store_path


def _entry(profile: dict[str, Any], label: str) -> dict[str, Any]:
    """The profile's pruner entry stored under ``label`` (the same rule as ``PrunerEntry.display``)."""
    from splinebench.report.collect import entry_label

    return next((e for e in profile.get("prune", {}).get("pruners", []) if entry_label(e) == label), {})


def _branch(reader: StoreReader, run_id: str, label: str, ratio: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(retrain phase row, result row) of ``label`` at ``ratio``; a bad pair names the ones the run has."""
    phases = [p for p in reader.phases(run_id) if p["kind"] == "retrain"]
    phase = next((p for p in phases if p["pruner"] == label and abs(p["ratio"] - ratio) < 1e-9), None)
    result = next((r for r in reader.results(run_id) if r["pruner"] == label and abs(r["ratio"] - ratio) < 1e-9),
                  None)
    if phase is None or result is None or result["status"] != "ok":
        have = sorted(f"{r['pruner']} --ratio {r['ratio']:g}" for r in reader.results(run_id)
                      if r["status"] == "ok" and r["pruner"] != "dense")
        why = f"failed at {result['stage']}: {result['error']}" if result and result["status"] != "ok" else \
            "no such pruned model"
        raise BadInputError(f"run {run_id}: --pruner {label} --ratio {ratio:g}: {why}. "
                            f"Exportable: {'; '.join(have) if have else 'none'}")
    return phase, result


def export_model_command(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    pruner: Annotated[str, typer.Option("--pruner", help="Pruner label as `runs show` lists it.")],
    ratio: Annotated[float, typer.Option("--ratio", help="Pruning ratio, e.g. 0.5.")],
    out: Annotated[Path, typer.Option("--out", help="File to write (its provenance goes to FILE.json).")],
    fmt: Annotated[str, typer.Option("--format", help="pt (splinebench's saved model) or onnx.")] = "pt",
    store: Annotated[str, typer.Option("--store", help="Results store (SQLite file).")] = default_store_path(),
) -> None:
    """Write a run's pruned, retrained model (pt or ONNX) plus a JSON of its provenance."""
    from splinebench.engine.checkpoints import pruned_model_path
    from splinebench.engine.export import export_model

    if fmt not in ("pt", "onnx"):
        raise BadInputError(f"--format must be pt or onnx, not {fmt!r}")
    reader = StoreReader(store)
    try:
        run = reader.run(run_id)
        phase, result = _branch(reader, run.id, pruner, ratio)
        profile = reader.profile(run.id)
        plan = next((p for p in reader.plans(run.id) if p["pruner"] == pruner and abs(p["ratio"] - ratio) < 1e-9),
                    {})
        versions = reader.query("SELECT versions FROM runs WHERE id=?", (run.id,))[0][0]
        # the file name is the run plan's (RunStarted carries it); runs recorded before the plan: the old rule
        planned = [r["model_file"] for b in reader.plan(run.id).get("branches", []) for r in b["runs"]
                   if r["phase"] == phase["phase"]]
    finally:
        reader.close()
    if not run.results_dir:
        raise BadInputError(f"run {run.id} has no results directory recorded")
    import json

    provenance = {
        "run_id": run.id, "run_name": run.name, "store": str(store), "dataset": run.dataset, "seed": run.seed,
        "device": run.device, "pruner": pruner, "pruner_entry": _entry(profile, pruner), "ratio": ratio,
        "ticket": result.get("ticket"), "ticket_epoch": result.get("ticket_epoch"), "eb_epoch": result.get("eb_epoch"),
        "asked_ratio": plan.get("asked_ratio"), "achieved_ratio": plan.get("achieved_ratio"),
        "accuracy": result.get("accuracy"), "params": result.get("params"), "flops": result.get("flops"),
        "speedup": result.get("speedup"), "run_versions": json.loads(versions or "{}"), "profile": profile,
    }
    saved = Path(run.results_dir) / planned[0] if planned else pruned_model_path(Path(run.results_dir),
                                                                                 phase["phase"])
    done = export_model(saved, out, "onnx" if fmt == "onnx" else "pt", provenance)
    typer.echo(f"wrote {done.model_file} ({fmt}) and {done.provenance_file}")
    diff = done.provenance.get("onnxruntime_max_abs_diff")
    if diff is not None:
        typer.echo(f"onnxruntime vs torch on 3 random inputs: max |difference| = {diff:.2e}")
