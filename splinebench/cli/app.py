"""The ``splinebench`` command. Exit codes: 0 ok, 1 the run failed, 2 bad input (one line on stderr, no traceback)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from splinebench import __version__
from splinebench.cli import help_format  # noqa: F401 - on/off flags show no <bool> tag in --help
from splinebench.errors import BadInputError, SplinebenchError
from splinebench.store import default_store_path

app = typer.Typer(
    name="splinebench", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    help="Benchmark deep-network pruning with max-affine spline insights.",
)
runs_app = typer.Typer(no_args_is_help=True, help="Runs recorded in the store.")
models_app = typer.Typer(no_args_is_help=True, help="The model zoo.")
datasets_app = typer.Typer(no_args_is_help=True, help="Datasets.")
pruners_app = typer.Typer(no_args_is_help=True, help="Registered pruners (built-in and plug-ins).")
app.add_typer(runs_app, name="runs")
app.add_typer(models_app, name="models")
app.add_typer(datasets_app, name="datasets")
app.add_typer(pruners_app, name="pruners")

out = Console()
if not out.is_terminal:  # piped or captured: tables keep their full width instead of wrapping at 80 columns
    out = Console(width=160)
err = Console(stderr=True)

StoreOption = Annotated[str, typer.Option("--store", help="Results store (SQLite file).")]
DEFAULT_STORE = default_store_path()


def _version(value: bool) -> None:
    if value:
        from splinebench import SCHEMA_VERSION

        print(f"splinebench {__version__} (schema {SCHEMA_VERSION})")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")]
    = False,
) -> None:
    """Benchmark deep-network pruning with max-affine spline insights."""


# --- run ---------------------------------------------------------------------------------------------------------


@app.command()
def run(
    profile: Annotated[str | None, typer.Argument(help="Profile TOML file (profiles/quickstart.toml).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Dotted override KEY=VALUE (repeatable).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Resume an interrupted run by id.")] = None,
    json_out: Annotated[bool, typer.Option("--json/--no-json", help="One JSON object per event on stdout.")] = False,
    store: StoreOption = DEFAULT_STORE,
    energy: Annotated[str | None, typer.Option("--energy", help="Energy meter URL (none, ssh://user@host, ...)")]
    = None,
    accept_new_host: Annotated[bool, typer.Option(help="Accept and remember an unknown SSH host key.")] = False,
    on: Annotated[str | None, typer.Option("--on", help="Run on ssh://user@host[:port]; record it here.")] = None,
    remote_cmd: Annotated[str | None, typer.Option(help="How to start splinebench there (default: splinebench).")]
    = None,
    remote_dir: Annotated[str, typer.Option(help="Where remote runs keep their files.")] = "~/.splinebench/remote",
    fetch: Annotated[bool, typer.Option(help="Fetch checkpoints and pruned models of a remote run.")] = True,
    stop_on_exit: Annotated[bool, typer.Option(help="Ctrl-C stops the remote run (default: detach).")] = False,
    event_log: Annotated[str | None, typer.Option(help="Also append every event as JSON to this file.")] = None,
    run_id: Annotated[str | None, typer.Option(help="Use this run id (remote runs use the local one).")] = None,
    tui: Annotated[bool, typer.Option("--tui/--no-tui", help="Run with the dashboard attached.")] = False,
    log: Annotated[list[str] | None, typer.Option("--log", help="Also log to a tracker: tensorboard:DIR, "
                                                   "mlflow:URI, wandb[:DIR] (offline). Repeatable.")] = None,
) -> None:
    """Train dense (with spline EB detection) -> prune with every pruner -> retrain -> evaluate."""
    if tui:
        # the dashboard starts a plain local run of PROFILE with its --set overrides; say so rather than drop the rest
        dropped = [flag for flag, given in (("--resume", resume is not None), ("--json", json_out),
                                            ("--energy", energy is not None), ("--on", on is not None),
                                            ("--run-id", run_id is not None), ("--event-log", event_log is not None),
                                            ("--log", bool(log)))
                   if given]
        if dropped or profile is None:
            what = ", ".join(dropped) if dropped else "a run without a PROFILE"
            raise BadInputError(f"--tui cannot honour {what}: it starts `splinebench run PROFILE [--set ...]` "
                                "locally. Run without --tui and watch the run with `splinebench tui`")
        from splinebench.cli.tui import run_with_dashboard

        run_with_dashboard(profile, set_ or [], store)
        return
    from splinebench.trackers import open_trackers

    if resume is None and profile is None:
        raise BadInputError("give a PROFILE to run, or --resume RUN_ID")

    trackers = open_trackers(log or [])  # a missing extra is bad input, before anything starts
    try:
        _run(profile, set_, resume, json_out, store, energy, accept_new_host, on, remote_cmd, remote_dir, fetch,
             stop_on_exit, event_log, run_id, trackers)
    finally:
        for tracker in trackers:
            tracker.close()  # a run cut short still leaves a closed, readable tracker run
            if tracker.error:
                err.print(f"[yellow]warning:[/yellow] --log {tracker.name} stopped logging: {tracker.error}",
                          highlight=False, soft_wrap=True)


def _run(profile, set_, resume, json_out, store, energy, accept_new_host, on, remote_cmd, remote_dir, fetch,
         stop_on_exit, event_log, run_id, trackers) -> None:
    """The body of ``run`` once its trackers are open (kept apart so they are closed however it ends)."""
    from splinebench.cli.progress import JsonLines, RichProgress
    from splinebench.cli.signals import interrupt_on_signals
    from splinebench.engine.run import execute, new_run_id
    from splinebench.engine.run import resume as resume_run
    from splinebench.profiles import load_profile

    interrupt_on_signals()
    sinks: list = [JsonLines()] if json_out else []
    sinks.extend(trackers)
    if event_log:
        sinks.append(JsonLines(open(event_log, "a", buffering=1)))  # noqa: SIM115 - lives as long as the run
    progress = RichProgress(err)
    sinks.append(progress)
    if resume is not None:
        with progress, _interrupted_marks(store, resume):
            _, ok = resume_run(store, resume, sinks)
        raise typer.Exit(0 if ok else 1)
    loaded = load_profile(profile, set_ or [])
    where = on or loaded.remote
    if where:
        _check_remote_cmd(profile, loaded.remote_cmd, remote_cmd)
    ok = True
    for seed in loaded.seeds:
        single = loaded.model_copy(update={"seeds": [seed]})
        if where:
            from splinebench.remote import ConnectOptions, RemoteOptions, run_remote

            options = RemoteOptions(ConnectOptions(where, accept_new_host=accept_new_host),
                                    remote_cmd=remote_cmd or "splinebench", remote_dir=remote_dir, fetch=fetch,
                                    stop_on_exit=stop_on_exit, energy=energy, warn=_warn)
            try:
                with progress:
                    done_id, seed_ok = run_remote(single, store, options, sinks)
            except KeyboardInterrupt:
                if not stop_on_exit:
                    err.print("detached: the remote run goes on; `splinebench runs attach RUN_ID` catches up")
                raise typer.Exit(130) from None
        else:
            meter, idle = _open_meter(energy or single.energy, accept_new_host)
            seed_run_id = run_id or new_run_id()
            try:
                with progress, _interrupted_marks(store, seed_run_id):
                    done_id, seed_ok = execute(single, store, sinks, meter=meter, idle=idle, run_id=seed_run_id)
            finally:
                if meter is not None:
                    meter.stop()
        ok = ok and seed_ok
        if not json_out:
            _show(store, done_id)
    raise typer.Exit(0 if ok else 1)


def _check_remote_cmd(profile: str | None, from_profile: str, from_command_line: str | None) -> None:
    """A profile (or ``--set``) cannot choose what runs in the board's shell: only the command line can."""
    if from_command_line is None and from_profile != "splinebench":
        import shlex

        raise BadInputError(
            f"{profile}: remote_cmd = {from_profile!r} would run as a command in the board's shell, and a profile "
            f"cannot choose that; if you mean it, say so on the command line: --remote-cmd {shlex.quote(from_profile)}"
        )


def _warn(message: str) -> None:
    from rich.markup import escape

    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


class _interrupted_marks:  # noqa: N801 - used as a context manager, named like one
    """On Ctrl-C (or SIGTERM) record the run as interrupted in its store and say how to resume it, then let the
    interrupt go on (exit 130)."""

    def __init__(self, store: str, run_id: str) -> None:
        self.store, self.run_id = store, run_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None or not issubclass(kind, KeyboardInterrupt) or not Path(self.store).is_file():
            return
        import contextlib
        import sqlite3

        from splinebench.store import StoreReader, StoreWriter

        with contextlib.suppress(sqlite3.Error, OSError, BadInputError):  # the interrupt is what gets reported
            reader = StoreReader(self.store)
            try:
                row = reader.run(self.run_id)
            finally:
                reader.close()
            if row.status in ("running", "interrupted") and not row.remote:
                writer = StoreWriter(self.store)
                try:
                    writer.set_run_fields(row.id, status="interrupted")
                finally:
                    writer.close()
                # typer turns the interrupt into a silent exit 130: say here what happened and what to do
                err.print(f"run {row.id} interrupted; resume with `splinebench run --resume {row.id}`",
                          highlight=False, markup=False)


def _open_meter(url: str, accept_new_host: bool, idle_seconds: float = 3.0):
    """Start the run's meter and measure an idle baseline first (PEERS: report gross and net-of-idle)."""
    if not url or url == "none":
        return None, None
    from splinebench.measure.energy import open_meter

    meter = open_meter(url, accept_new_host=accept_new_host)
    meter.start()
    err.print(f"measuring {idle_seconds:.0f} s of idle power on {url} ...")
    return meter, meter.measure_idle(idle_seconds)


def _show(store: str, run_id: str) -> None:
    from splinebench.report.tables import result_grid, rich_table
    from splinebench.store import StoreReader

    reader = StoreReader(store)
    try:
        out.print(rich_table(result_grid(reader, run_id)))
    finally:
        reader.close()


# --- runs --------------------------------------------------------------------------------------------------------


@runs_app.command("list")
def runs_list(store: StoreOption = DEFAULT_STORE,
              json_out: Annotated[bool, typer.Option("--json/--no-json", help="The runs as one JSON list on stdout.")]
              = False) -> None:
    """Every run in the store, newest first, with status, EB epoch and best accuracy."""
    from rich.markup import escape
    from rich.table import Table

    from splinebench.store import StoreReader

    reader = StoreReader(store)
    runs = reader.runs()[::-1]  # newest first: the run you just started is the one you look for
    if json_out:
        print(json.dumps([r.__dict__ for r in runs], default=str))
        return
    table = Table(title=f"runs in {escape(store)}")
    for col in ("id", "name", "status", "model", "dataset", "seed", "where", "EB epoch", "best acc"):
        table.add_column(col)
    for r in runs:
        where = (r.remote or {}).get("host") or r.host or "?"
        best = f"{100 * r.best_accuracy:.2f}" if r.best_accuracy is not None else "-"
        # every string here is user text (names, ids, hosts): escaped, so "[/bold]" in a name prints as itself
        table.add_row(*(escape(str(v)) for v in (r.id, r.name, r.status, r.model, r.dataset, r.seed, where)),
                      str(r.eb_epoch) if r.eb_epoch is not None else "-", best)
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id, or any part of it that names one run.")],
              store: StoreOption = DEFAULT_STORE,
              json_out: Annotated[bool, typer.Option("--json/--no-json", help="The run and its results as one JSON "
                                                     "object on stdout.")] = False) -> None:
    """The run's results in the paper's Table 2 layout: accuracy and total training cost per pruner and ratio."""
    from splinebench.store import StoreReader

    reader = StoreReader(store)
    run = reader.run(run_id)
    environment = reader.environment(run.id)
    if json_out:
        print(json.dumps({"run": run.__dict__, "results": reader.results(run.id), "environment": environment},
                         default=str))
        return
    _show(store, run_id)
    from splinebench.cli.runs_diff import environment_table

    table = environment_table(environment)
    out.print(table if table is not None else "environment: not recorded (run made before splinebench recorded it)")


@runs_app.command("stop")
def runs_stop(run_id: Annotated[str, typer.Argument(help="Run id, or any part of it that names one run.")],
              store: StoreOption = DEFAULT_STORE,
              accept_new_host: Annotated[bool, typer.Option(help="Accept an unknown SSH host key.")] = False) -> None:
    """Stop a run by its PID: a local one with SIGINT, a remote one over SSH."""
    from rich.markup import escape

    from splinebench.remote import ConnectOptions, RemoteOptions, stop

    out.print(escape(str(stop(store, run_id, RemoteOptions(ConnectOptions("", accept_new_host=accept_new_host))))))


@runs_app.command("attach")
def runs_attach(run_id: Annotated[str, typer.Argument(help="Run id, or any part of it that names one run.")],
                store: StoreOption = DEFAULT_STORE,
                json_out: Annotated[bool, typer.Option("--json/--no-json", help="One JSON object per event on "
                                                       "stdout.")] = False,
                energy: Annotated[str | None, typer.Option(help="Energy meter URL (default: the run's host).")] = None,
                accept_new_host: Annotated[bool, typer.Option(help="Accept an unknown SSH host key.")] = False) -> None:
    """Reconnect to a remote run and catch up on what it did while detached."""
    from splinebench.cli.progress import JsonLines, RichProgress
    from splinebench.remote import ConnectOptions, RemoteOptions, attach
    from splinebench.remote.runner import AlreadyOver

    sinks: list = [JsonLines()] if json_out else []
    progress = RichProgress(err)
    sinks.append(progress)
    try:
        with progress:
            done_id, ok = attach(store, run_id, RemoteOptions(ConnectOptions("", accept_new_host=accept_new_host),
                                                              energy=energy, warn=_warn), sinks)
    except AlreadyOver as exc:
        from rich.markup import escape

        err.print(escape(str(exc)), highlight=False, soft_wrap=True)
        raise typer.Exit(0) from None
    if not json_out:
        _show(store, done_id)
    raise typer.Exit(0 if ok else 1)


# --- registries --------------------------------------------------------------------------------------------------


@models_app.command("list")
def models_list(pattern: Annotated[str, typer.Argument(help="Wildcard pattern, e.g. 'vgg*'.")] = "*") -> None:
    """Models in the zoo (torchvision models as tv:NAME, timm's as timm:NAME, plug-ins by their own names)."""
    from rich.markup import escape
    from rich.table import Table

    from splinebench.zoo import list_models, model_info

    table = Table(title=f"models matching {pattern!r}")
    table.add_column("name")
    table.add_column("family")
    table.add_column("description")
    for name in list_models(pattern):
        meta = model_info(name).meta
        table.add_row(name, str(meta.get("family", "")), str(meta.get("description", "")))
    from splinebench.zoo.plugins import PLUGIN_ERRORS

    for name, error in sorted(PLUGIN_ERRORS.items()):  # entry points of splinebench.models that failed to load
        table.add_row(name, "-", f"[red]failed to load: {escape(error)}[/red]")
    out.print(table)


@datasets_app.command("list")
def datasets_list() -> None:
    """Datasets (bundled, generated, or read from files you have)."""
    from rich.table import Table

    from splinebench.data import dataset_info, list_datasets

    table = Table(title="datasets")
    table.add_column("name")
    table.add_column("source")
    table.add_column("description")
    for name in list_datasets():
        meta = dataset_info(name).meta
        table.add_row(name, str(meta.get("source", "")), str(meta.get("description", "")))
    out.print(table)


@pruners_app.command("list")
def pruners_list() -> None:
    """Every registered pruner: kind, data use, when it acts and where it came from."""
    from rich.table import Table

    from splinebench.prune import discover

    table = Table(title="pruners (entry-point group splinebench.pruners)")
    for col in ("name", "kind", "data", "acts", "origin", "description"):
        table.add_column(col)
    for entry in discover():
        info = entry.obj
        if info.cls is None:
            table.add_row(info.name, "-", "-", "-", info.origin, f"[red]failed to load: {info.error}[/red]")
            continue
        cls = info.cls
        table.add_row(info.name, "structured" if cls.structured else "unstructured",
                      "data-driven" if cls.data_driven else "data-free", cls.when(), info.origin, cls.description)
    out.print(table)


def _mount() -> None:
    """Commands that live in their own modules (each imports its heavy parts only when it runs)."""
    from splinebench.cli.energy import energy_app
    from splinebench.cli.energy_measure import measure_command
    from splinebench.cli.export import export_model_command
    from splinebench.cli.report import partition_command, report_command
    from splinebench.cli.sweep import sweep_command
    from splinebench.cli.tui import tui_command

    energy_app.command("measure")(measure_command)
    app.add_typer(energy_app, name="energy")
    app.command("tui")(tui_command)
    app.command("sweep")(sweep_command)
    app.command("report")(report_command)
    app.command("partition")(partition_command)
    app.command("export-model")(export_model_command)
    from splinebench.cli.bundle_export import export_command
    from splinebench.cli.runs_diff import diff_command

    runs_app.command("diff")(diff_command)
    app.command("export")(export_command)


_mount()


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    try:
        app()
    except BadInputError as exc:
        from rich.markup import escape

        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except SplinebenchError as exc:  # the run stopped for a reason outside it (store or disk): recorded, exit 1
        from rich.markup import escape

        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; resume with `splinebench run --resume RUN_ID`")
        sys.exit(130)


if __name__ == "__main__":
    main()


__all__ = ["app", "main", "Path"]
