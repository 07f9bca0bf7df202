"""``splinebench energy measure URL -- COMMAND ...``: meter any command on a board that cannot run splinebench.

A TX2 on JetPack 4.x has Python 3.6 and no current PyTorch; the paper's own training script still runs there. This
runs a command on the board over SSH, streams its output here, records the board's power (tegrastats over SSH) for
the command's whole duration, and stores joules, mean and peak power per rail as a run in the store. Output lines
matching ``--epoch-pattern`` mark epoch boundaries, so energy per epoch is stored too.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from splinebench.engine.events import EnergyMeasured, EventBus, RunFinished, RunStarted
from splinebench.errors import BadInputError
from splinebench.store import StoreWriter, default_store_path


def measure_command(
    url: Annotated[str, typer.Argument(help="ssh://user@host[:port] of the board.")],
    command: Annotated[list[str], typer.Argument(help="The command to run there (after --).")],
    store: Annotated[str, typer.Option("--store", help="Results store (SQLite file).")] = default_store_path(),
    epoch_pattern: Annotated[str, typer.Option(help="Regex whose match in an output line ends an epoch.")]
    = r"epoch\s+(\d+)",
    interval: Annotated[int, typer.Option("--interval", min=10, help="Sampling interval in ms.")] = 1000,
    accept_new_host: Annotated[bool, typer.Option(
        "--accept-new-host/--no-accept-new-host", help="Accept an unknown host key.")] = False,
    identity: Annotated[list[Path] | None, typer.Option("--identity", "-i", help="SSH private key.")] = None,
    known_hosts: Annotated[Path | None, typer.Option("--known-hosts", help="known_hosts file.")] = None,
    ssh_config: Annotated[Path | None, typer.Option("--ssh-config", "-F", help="ssh config file.")] = None,
) -> None:
    """Run COMMAND on the board, stream its output, and store the energy it took (per rail, per epoch)."""
    if not url.startswith("ssh://"):
        raise BadInputError(f"energy measure runs commands over SSH: expected ssh://user@host, not {url!r}")
    if not command:
        raise BadInputError("give the command to measure after --, e.g. energy measure ssh://tx2 -- python3 train.py")
    try:
        pattern = re.compile(epoch_pattern, re.IGNORECASE)
    except re.error as exc:
        raise BadInputError(f"--epoch-pattern {epoch_pattern!r} is not a regular expression: {exc}") from None
    ssh_options: dict[str, Any] = {}
    if identity:
        ssh_options["client_keys"] = [str(p) for p in identity]
    if known_hosts is not None:
        ssh_options["known_hosts"] = [str(known_hosts)]
    if ssh_config is not None:
        ssh_options["config"] = [str(ssh_config)]
    status = asyncio.run(measure(url, command, store, pattern, interval, accept_new_host, ssh_options))
    raise typer.Exit(0 if status == 0 else 1)


async def measure(url: str, command: list[str], store: str, pattern: re.Pattern[str], interval_ms: int,
                  accept_new_host: bool, ssh_options: dict[str, Any]) -> int:
    """Meter ``command`` on ``url``; returns its exit status. Everything lands in the store as one run."""
    from splinebench.engine.run import new_run_id
    from splinebench.measure.energy import open_meter
    from splinebench.remote.session import ConnectOptions, RemoteSession

    meter = open_meter(url, accept_new_host=accept_new_host, interval_ms=interval_ms, **ssh_options)
    session = RemoteSession(ConnectOptions(url, accept_new_host=accept_new_host, **ssh_options))
    await meter.astart()
    try:
        await session.open()
        writer = StoreWriter(store)
        run_id = new_run_id()
        bus = EventBus(run_id, clock=meter.now)  # timestamps on the board's clock, like the samples
        bus.subscribe(writer, required=True)
        line = shlex.join(command)
        bus.emit(RunStarted, name="energy-measure", profile={"command": line, "meter": url}, versions={},
                 model="-", dataset="-", seed=0, device=url, host=session.target.display, pid=os.getpid(),
                 results_dir="", pruners=[], ratios=[], planned_epochs=0)
        writer.set_run_fields(run_id, remote={"url": url, "host": session.target.display, "command": line,
                                              "local_host": socket.gethostname()})
        meter.add_listener(lambda samples: writer.write_power_samples(run_id, samples))
        assert session.conn is not None
        t0 = last = meter.now()
        epoch = 0
        process = await session.conn.create_process(line)
        async for text in process.stdout:
            sys.stdout.write(text)
            sys.stdout.flush()
            if pattern.search(text):
                epoch += 1
                now = meter.now()
                _emit(bus, meter, "epoch", epoch, last, now)
                last = now
        await process.wait()
        status = process.exit_status if process.exit_status is not None else 1
        t1 = meter.now()
        await asyncio.sleep(2 * meter.interval_s if hasattr(meter, "interval_s") else 1.0)  # the closing sample
        window = _emit(bus, meter, "run", None, t0, t1)
        bus.emit(RunFinished, seconds=t1 - t0, summary={"exit_status": status, "epochs": epoch,
                                                        "joules": window.joules})
        _print_summary(window, t1 - t0, status)
        writer.close()
        return status
    finally:
        await meter.astop()
        await session.close()


def _emit(bus: EventBus, meter: Any, kind: str, epoch: int | None, t0: float, t1: float) -> Any:
    window = meter.energy(t0, t1, wait=False)
    peak = {rail: max((s.rails_mw.get(rail, 0.0) for s in meter.samples() if t0 <= s.t <= t1), default=None)
            for rail in (meter.samples()[-1].rails_mw if meter.samples() else {})}
    bus.emit(EnergyMeasured, window=kind, phase="command", epoch=epoch, t0=t0, t1=t1, joules=window.joules,
             mean_power_w=window.mean_power_w,
             provenance={**window.to_dict(), "peak_rail_mw": peak, "clock": "board"}, why=window.why_unavailable)
    return window


def _print_summary(window: Any, seconds: float, status: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    if window.joules is None:
        console.print(f"energy: n/a ({window.why_unavailable})")
        return
    table = Table(title=f"energy over {seconds:.1f} s (exit status {status})")
    for col in ("rail", "joules", "mean W"):
        table.add_column(col)
    table.add_row("board total", f"{window.joules:.2f}", f"{window.mean_power_w:.2f}")
    for rail, joules in sorted(window.per_rail_joules.items()):
        table.add_row(rail, f"{joules:.2f}", f"{joules / seconds:.2f}" if seconds else "-")
    console.print(table)


_ = time  # (kept for readers: all times here are meter.now(), the board's clock)
