"""``splinebench sweep``: a grid of runs as one experiment, on a local process pool or a Ray cluster.

The lead registers ``sweep_command`` as ``app.command("sweep")``; ``python -m splinebench.cli.sweep`` runs it alone.
Exit codes as everywhere: 0 every trial finished, 1 a trial failed, 2 bad input (one line, nothing recorded),
130 interrupted (resumable with ``--resume``).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from splinebench.cli import help_format  # noqa: F401 - on/off flags show no <bool> tag in --help
from splinebench.errors import BadInputError
from splinebench.store import default_store_path

out = Console()
err = Console(stderr=True)


def sweep_command(
    profile: Annotated[str | None, typer.Argument(help="Profile TOML file; its \\[sweep] table may hold the grid.")]
    = None,
    grid: Annotated[list[str] | None, typer.Option(
        "--grid", help="Grid axis KEY=V1,V2,... with --set's dotted keys, e.g. seed=0,1 (repeatable).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Dotted override KEY=VALUE for every trial.")]
    = None,
    executor: Annotated[str | None, typer.Option(
        "--executor", help="local (a process pool here, the default) or ray.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Parallel tasks (default: the cores); torch threads per task = cores / workers.")] = None,
    address: Annotated[str | None, typer.Option(
        "--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:10001 (none: start a private one).")] = None,
    storage: Annotated[str | None, typer.Option(
        "--storage", help="Checkpoints every node can reach: a shared directory or an fsspec URL (s3://...).")]
    = None,
    max_retries: Annotated[int | None, typer.Option(
        "--max-retries", help="Retries of a task whose worker process dies (default 2).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue an interrupted sweep by id.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run/--no-dry-run",
        help="Print the trials and the task graph with estimated training MACs; run nothing.")] = False,
    json_out: Annotated[bool, typer.Option("--json/--no-json", help="JSON lines on stdout (events carry the trial).")]
    = False,
    store: Annotated[str, typer.Option("--store", help="Results store (SQLite file).")] = default_store_path(),
) -> None:
    """Run a grid of trials (seeds x models x pruners x ratios ...), sharing dense training where trials agree."""
    from splinebench.sweep.driver import SweepRequest, plan_sweep, run_sweep

    request = SweepRequest(store=store, profile=profile, overrides=set_ or [], grid=grid or [], executor=executor,
                           workers=workers, address=address, storage=storage, max_retries=max_retries, resume=resume)
    plan = plan_sweep(request)
    if dry_run:
        _dry_run(plan, json_out)
        return
    from splinebench.sweep.progress import JsonRecords, SweepProgress
    from splinebench.sweep.report import summary_view

    progress = SweepProgress(err)
    observers = [JsonRecords(), progress] if json_out else [progress]
    try:
        with progress:
            outcome = run_sweep(plan, store, observers)
    except KeyboardInterrupt:
        err.print(f"interrupted; resume with `splinebench sweep --resume {plan.sweep_id}`")
        raise typer.Exit(130) from None
    if not json_out:
        out.print(summary_view(outcome.summary))
    raise typer.Exit(0 if outcome.ok else 1)


def _dry_run(plan, json_out: bool) -> None:
    from splinebench.sweep.estimate import estimate
    from splinebench.sweep.report import dry_run_dict, dry_run_view

    est = estimate(plan.graph)
    if json_out:
        print(json.dumps(dry_run_dict(plan, est), default=str))
        return
    s = plan.settings
    where = s["executor"] + (f" at {s['address']}" if s.get("address") else "")
    out.print(dry_run_view(plan, est, where))


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(sweep_command)
    try:
        app()
    except BadInputError as exc:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
