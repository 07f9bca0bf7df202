"""``splinebench energy``: check a meter end to end (``probe``) and list the meters (``meters list``).

``probe`` is the quick way to check a link and a board before a long run: it opens the meter exactly as a run
would (host-key check included), prints each sample's power per rail as it arrives, then the energy integrated
over the probe with its provenance. ``--json`` prints one JSON object on stdout and the live lines on stderr.
Exit codes: 0 ok, 2 bad input or meter unavailable (one line on stderr).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from splinebench.errors import BadInputError
from splinebench.measure.energy import METERS, EnergyWindow, PowerSample, meter_scheme, open_meter

energy_app = typer.Typer(
    no_args_is_help=True, help="Energy meters: probe one (a Jetson over SSH, NVML, RAPL)."
)
meters_app = typer.Typer(no_args_is_help=True, help="The energy meters splinebench knows.")
energy_app.add_typer(meters_app, name="meters")


def _fmt_w(mw: float | None) -> str:
    return "n/a" if mw is None else f"{mw / 1000:.2f} W"


def _sample_line(sample: PowerSample, t_start: float) -> str:
    rails = "  ".join(f"{name} {mw:.0f} mW" for name, mw in sample.rails_mw.items())
    return f"{sample.t - t_start:+7.2f}s  total {_fmt_w(sample.total_mw):>9}  | {rails}"


def _window_lines(window: EnergyWindow) -> list[str]:
    if window.joules is None:
        return [f"energy: n/a ({window.why_unavailable})"]
    gaps = ", ".join(f"{b - a:.2f} s" for a, b in window.gaps) or "none"
    interval = f"{window.sample_interval_s * 1000:.0f} ms" if window.sample_interval_s else "?"
    lines = [
        f"energy: {window.joules:.3f} J over {window.duration_s:.2f} s "
        f"(mean {window.mean_power_w:.3f} W, peak {window.peak_power_w:.3f} W)",
        f"  {window.n_samples} samples every ~{interval}, coverage {window.coverage:.1%}, gaps: {gaps}, "
        f"method {window.method}, meter {window.meter}",
    ]
    if window.per_rail_joules:
        lines.append("  per rail: " + ", ".join(f"{k} {v:.3f} J" for k, v in window.per_rail_joules.items()))
    return lines


def _header(info: dict[str, Any]) -> str:
    keys = ("meter", "host", "peer", "board_model", "l4t_release", "source", "total_source", "interval_ms")
    return "  ".join(f"{k}={info[k]}" for k in keys if info.get(k) is not None)


@energy_app.command()
def probe(
    url: Annotated[str, typer.Argument(help="ssh://user@host[:port], nvml[:INDEX], rapl, jetson or none.")],
    seconds: Annotated[float, typer.Option("--seconds", "-s", min=0.1, help="How long to measure.")] = 5.0,
    interval: Annotated[int, typer.Option("--interval", min=10, help="Sampling interval in ms.")] = 1000,
    accept_new_host: Annotated[
        bool, typer.Option("--accept-new-host/--no-accept-new-host",
                           help="Accept an unknown SSH host key; add it to known_hosts.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json/--no-json", help="One JSON object on stdout, live lines on stderr.")
    ] = False,
    identity: Annotated[
        list[Path] | None, typer.Option("--identity", "-i", help="SSH private key (default: agent, ~/.ssh).")
    ] = None,
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="known_hosts file (default: ssh config, ~/.ssh).")
    ] = None,
    ssh_config: Annotated[
        Path | None, typer.Option("--ssh-config", "-F", help="ssh config file (default ~/.ssh/config).")
    ] = None,
) -> None:
    """Print live power per rail and the energy integrated over --seconds."""
    try:
        _probe(url, seconds, interval, accept_new_host, json_out, identity, known_hosts, ssh_config)
    except BadInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _probe(
    url: str,
    seconds: float,
    interval: int,
    accept_new_host: bool,
    json_out: bool,
    identity: list[Path] | None,
    known_hosts: Path | None,
    ssh_config: Path | None,
) -> None:
    options: dict[str, Any] = {}
    if meter_scheme(url) == "ssh":
        if identity:
            options["client_keys"] = [str(p) for p in identity]
        if known_hosts is not None:
            options["known_hosts"] = str(known_hosts)
        if ssh_config is not None:
            options["config"] = [str(ssh_config)]
    elif identity or known_hosts or ssh_config:
        raise BadInputError("--identity, --known-hosts and --ssh-config only apply to ssh:// meters")
    meter = open_meter(url, accept_new_host=accept_new_host, interval_ms=interval, **options)
    live_to_stderr = json_out
    started = time.time()

    def show(samples: list[PowerSample]) -> None:
        for sample in samples:
            typer.echo(_sample_line(sample, t_start), err=live_to_stderr)

    meter.start()
    try:
        t_start = meter.now()
        typer.echo(_header(meter.info()), err=live_to_stderr)
        for sample in meter.samples():
            show([sample])
        meter.add_listener(show)
        t0 = meter.now()
        time.sleep(seconds)
        window = meter.energy(t0, meter.now())
    finally:
        meter.stop()
    info = meter.info()
    if json_out:
        payload = {
            "url": url,
            "wall_s": time.time() - started,
            "info": info,
            "window": window.to_dict(),
            "samples": [s.to_dict() for s in meter.samples()],
        }
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
        return
    for line in _window_lines(window):
        typer.echo(line)
    if info.get("remote_left_running"):
        left = info["remote_left_running"]
        typer.echo(f"warning: remote sampler(s) {left} still running on the board", err=True)


@meters_app.command("list")
def list_meters() -> None:
    """The meter URL schemes, with an example and what each measures."""
    from splinebench.measure.energy.registry import load_plugins

    load_plugins()
    for entry in METERS:
        typer.echo(f"{entry.name:7} {entry.meta.get('example', ''):44} {entry.meta.get('what', '')}")
