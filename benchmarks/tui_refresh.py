"""How much the dashboard costs: refresh time of the run screen, idle CPU while watching, training slowdown.

    .venv/bin/python benchmarks/tui_refresh.py                 # all four parts
    .venv/bin/python benchmarks/tui_refresh.py --skip-training # parts 1-3 only
    .venv/bin/python benchmarks/tui_refresh.py --only-live --live-size 80x24,140x45,200x60  # 2 and 3 (~7 min)

1. Refresh cost, in process (Textual's headless driver), on a synthetic store of 100 layers x 160 epochs written
   event by event through ``StoreWriter`` as the engine writes them. 120 epochs are written first; the run screen
   is opened on them; then each of the last 40 epochs is written and one refresh is timed: the incremental poll,
   the panel update and the screen's composition, plus (measured separately) encoding a full 80x24 or 200x60
   frame for the terminal, so the figure is an upper bound. Goal: >= 10 refreshes/s (<= 100 ms each).
2. Idle CPU while watching: the real app in a pseudo-terminal, on the finished synthetic run (runs screen, then
   the run screen's layers panel), CPU seconds of its process over a quiet window (``--idle-seconds``).
   Goal: <= 0.5% of one core.
3. Live panels (``--live-seconds``): the real app in a pseudo-terminal on a run that grows while it watches,
   written event by event through ``StoreWriter`` from this process as the engine writes them. For every panel,
   at 1 epoch/s with 100 layers: the app's CPU (goal <= 5% of one core) and the delay from each commit to the
   next frame the app writes to its terminal (goal <= 100 ms); then, at 20 epochs/s on the Layers and Curves
   panels, the real screen-change rate: frames written to the terminal per second (goal >= 10; the app draws
   once per burst of commits, so at 10 epochs/s it could show at most 10 and a rate at the goal would not tell
   whether it keeps up). ``--live-size`` takes several sizes (``80x24,140x45,200x60``); each figure is keyed
   ``...@WxH``. Idle CPU on the run screen of a finished run is part 2's (goal <= 0.5%).
4. Training slowdown: the same shortened quickstart run headless and with the dashboard attached (the app
   launches it and follows its run screen, as ``splinebench run --tui`` does), wall time taken from the
   store's own start/finish stamps; ratio attached / headless.

Figures vary with machine load: each part measures its own baseline in the same run and prints ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import io
import json
import os
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from rich.console import Console

from splinebench.store import StoreReader, StoreWriter
from splinebench.tui.app import SplinebenchDashboard
from splinebench.tui.panels import PANELS
from splinebench.tui.screens.run import RunScreen
from splinebench.tui.store_watch import file_events_supported
from splinebench.tui.synthetic import SyntheticRun

ROOT = Path(__file__).resolve().parents[1]
LAYERS, EPOCHS, PREFILL = 100, 160, 120
SHORT_QUICKSTART = ["train.epochs=3", "retrain.epochs=1", "prune.ratios=[0.5]"]


def build_store(path: Path, epochs: int) -> tuple[StoreWriter, SyntheticRun]:
    run = SyntheticRun(layers=LAYERS, epochs=EPOCHS, eps=0.03)
    writer = StoreWriter(path)
    writer.write_many(run.start())
    for epoch in range(1, epochs + 1):
        writer.write_many(run.epoch(epoch))
    return writer, run


# --- 1. refresh cost ------------------------------------------------------------------------------------------


def frame_encoding_ms(app: SplinebenchDashboard, repeats: int = 5) -> float:
    """Time to turn one full frame into terminal output (what the headless driver skips)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
        update.render_segments(console)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


async def refresh_cost(folder: Path, size: tuple[int, int]) -> dict[str, float]:
    store = folder / f"refresh-{size[0]}x{size[1]}.sqlite"
    writer, run = build_store(store, PREFILL)
    app = SplinebenchDashboard(str(store), poll_interval=3600)  # timers idle: refreshes are driven below
    out: dict[str, float] = {}
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        t0 = time.perf_counter()
        app.open_run(run.run_id)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        while not screen.feed.loaded:
            await pilot.pause(0.01)
        await pilot.pause()
        out["open_ms"] = (time.perf_counter() - t0) * 1000
        reader = app.store.reader
        assert reader is not None
        cpu_idle = []
        for _ in range(50):
            t = time.process_time()
            assert screen.feed.poll(reader) == set()
            cpu_idle.append(time.process_time() - t)
        out["idle_poll_us"] = statistics.median(cpu_idle) * 1e6
        per_epoch = []
        for epoch in range(PREFILL + 1, EPOCHS + 1):
            writer.write_many(run.epoch(epoch))
            t = time.process_time()
            screen.poll()
            await pilot.pause()
            per_epoch.append(time.process_time() - t)
        out["epoch_refresh_ms_median"] = statistics.median(per_epoch) * 1000
        out["epoch_refresh_ms_max"] = max(per_epoch) * 1000
        panel_ms = {}
        for pid in [p.pid for p in PANELS]:
            screen.stale.add(pid)
            t = time.process_time()
            screen.action_panel(pid)
            await pilot.pause()
            panel_ms[pid] = (time.process_time() - t) * 1000
        out["panel_first_draw_ms_max"] = max(panel_ms.values())
        out["panel_first_draw_slowest"] = max(panel_ms, key=panel_ms.get)  # type: ignore[arg-type]
        screen.action_panel("layers")
        await pilot.pause()
        out["frame_encode_ms"] = frame_encoding_ms(app)
    out["refresh_ms_upper"] = out["epoch_refresh_ms_median"] + out["frame_encode_ms"]
    out["implied_hz"] = 1000 / out["refresh_ms_upper"]
    writer.close()
    return out


def reader_query_comparison(folder: Path) -> dict[str, float]:
    """The incremental query an idle poll makes, as StoreReader writes it vs with ``+run_id`` (rowid range)."""
    store = folder / "queries.sqlite"
    writer, run = build_store(store, EPOCHS)
    writer.close()
    reader = StoreReader(store)
    last = reader.query("SELECT MAX(id) FROM layer_distances")[0][0]
    timings = {}
    for label, call in (
        ("reader_since_id_ms", lambda: reader.layer_distances(run.run_id, since_id=last)),
        (
            "rowid_range_ms",
            lambda: reader.query(
                "SELECT * FROM layer_distances WHERE id > ? AND +run_id = ? ORDER BY id", (last, run.run_id)
            ),
        ),
    ):
        samples = []
        for _ in range(30):
            t = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t)
        timings[label] = statistics.median(samples) * 1000
    reader.close()
    return timings


# --- the app in a pseudo-terminal -----------------------------------------------------------------------------


class TerminalApp:
    """The dashboard as a user runs it: its own process on a pty of a given size, output drained."""

    def __init__(self, code: str, size: tuple[int, int] = (80, 24), cwd: Path | None = None) -> None:
        master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.frames: list[float] = []  # monotonic start of each burst of output: one screen change each
        self._last_chunk = 0.0
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            if now - self._last_chunk > FRAME_GAP_SECONDS:
                self.frames.append(now)
            self._last_chunk = now
            self.output += chunk[-4096:]

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.process.poll() is None:
            self.press(b"q")
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.close(self.master)


def _app_code(store: Path, extra: str = "") -> str:
    return (
        "from splinebench.tui.app import SplinebenchDashboard\n"
        f"SplinebenchDashboard({str(store)!r}, profiles_dir={str(ROOT / 'profiles')!r}{extra}).run()\n"
    )


def idle_cpu(folder: Path, seconds: float) -> dict[str, float]:
    store = folder / "idle.sqlite"
    writer, run = build_store(store, EPOCHS)
    writer.write_many(run.finish())
    writer.close()
    app = TerminalApp(_app_code(store))
    out = {}
    try:
        time.sleep(6)  # start-up: imports, first draw
        for label, keys in (("runs_screen", b""), ("run_screen_layers", b"\r")):
            if keys:
                app.press(keys)
                time.sleep(3)
            c0, t0 = app.cpu_seconds(), time.monotonic()
            time.sleep(seconds)
            out[f"idle_cpu_pct_{label}"] = 100 * (app.cpu_seconds() - c0) / (time.monotonic() - t0)
    finally:
        app.close()
    return out


# --- 3. live panels ------------------------------------------------------------------------------------------

#: Epochs written per second while the screen-change rate is measured: above the >= 10 changes/s goal.
CHANGE_RATE_EPOCHS_PER_S = 20.0
#: Output chunks closer together than this belong to one frame (Textual writes a frame in one go).
FRAME_GAP_SECONDS = 0.008
PANEL_KEYS = {pid: str(n).encode() for n, pid in enumerate([p.pid for p in PANELS], 1)}


def _write_epochs(writer: StoreWriter, run: SyntheticRun, first: int, count: int, per_second: float) -> list[float]:
    """Write ``count`` epochs event by event (one commit per event, as the engine's sink does) at
    ``per_second`` epochs a second; returns the monotonic time of each epoch's last commit."""
    commits = []
    start = time.monotonic()
    for n in range(count):
        time.sleep(max(0.0, start + n / per_second - time.monotonic()))
        for event in run.epoch(first + n):
            writer(event)
        commits.append(time.monotonic())
    return commits


def _latencies(commits: list[float], frames: list[float]) -> list[float]:
    out = []
    for t in commits:
        after = [f for f in frames if f >= t]
        if after and after[0] - t < 1.0:
            out.append(after[0] - t)
    return out


def store_watch_mode(folder: Path) -> str:
    """How the app learns of commits here: "events" (inotify) or "polling" (the figures differ)."""
    return "events" if file_events_supported(folder / "live.sqlite") else "polling"


def live_panels(folder: Path, seconds: float, size: tuple[int, int] = (80, 24)) -> dict[str, float]:
    store = folder / f"live-{size[0]}x{size[1]}.sqlite"
    writer, run = build_store(store, 40)
    app = TerminalApp(_app_code(store), size=size)
    out: dict[str, float] = {}
    epoch = 41
    try:
        time.sleep(6)
        app.press(b"\r")
        time.sleep(3)
        for pid, key in PANEL_KEYS.items():
            app.press(key)
            time.sleep(1.5)
            c0, t0 = app.cpu_seconds(), time.monotonic()
            count = int(seconds)
            commits = _write_epochs(writer, run, epoch, count, 1.0)
            epoch += count
            time.sleep(max(0.0, t0 + count + 0.5 - time.monotonic()))
            out[f"live_cpu_pct_{pid}"] = 100 * (app.cpu_seconds() - c0) / (time.monotonic() - t0)
            delays = _latencies(commits, app.frames)
            out[f"live_delay_ms_median_{pid}"] = 1000 * statistics.median(delays) if delays else float("nan")
            out[f"live_delay_ms_max_{pid}"] = 1000 * max(delays) if delays else float("nan")
        for pid in ("layers", "curves"):
            app.press(PANEL_KEYS[pid])
            time.sleep(1.5)
            n0, t0 = len(app.frames), time.monotonic()
            count = int(seconds * CHANGE_RATE_EPOCHS_PER_S)
            _write_epochs(writer, run, epoch, count, CHANGE_RATE_EPOCHS_PER_S)
            epoch += count
            out[f"frames_per_s_at_{CHANGE_RATE_EPOCHS_PER_S:g}_epochs_per_s_{pid}"] = (
                (len(app.frames) - n0) / (time.monotonic() - t0)
            )
    finally:
        app.close()
        writer.close()
    return out


# --- 4. training slowdown -------------------------------------------------------------------------------------


def _run_seconds(store: Path) -> float:
    conn = sqlite3.connect(store)
    created, finished, status = conn.execute("SELECT created_at, finished_at, status FROM runs").fetchone()
    conn.close()
    if status != "finished":
        raise RuntimeError(f"the benchmark run ended {status}")
    return finished - created


def headless_run(folder: Path) -> float:
    store = folder / "store.sqlite"
    command = [
        sys.executable,
        "-m",
        "splinebench.cli.app",
        "run",
        str(ROOT / "profiles" / "quickstart.toml"),
        "--store",
        str(store),
    ]
    for item in SHORT_QUICKSTART:
        command += ["--set", item]
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _run_seconds(store)


def attached_run(folder: Path) -> tuple[float, float]:
    """(training seconds, dashboard CPU % of one core while it watched)."""
    store = folder / "store.sqlite"
    start = f", start=({str(ROOT / 'profiles' / 'quickstart.toml')!r}, {SHORT_QUICKSTART!r})"
    app = TerminalApp(_app_code(store, start), cwd=folder)
    try:
        c0, t0 = app.cpu_seconds(), time.monotonic()
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            time.sleep(1)
            if store.exists():
                conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
                try:
                    row = conn.execute("SELECT status FROM runs").fetchone()
                except sqlite3.Error:
                    row = None
                conn.close()
                if row and row[0] in ("finished", "failed"):
                    break
        cpu = 100 * (app.cpu_seconds() - c0) / (time.monotonic() - t0)
    finally:
        app.close()
    return _run_seconds(store), cpu


def training_slowdown(folder: Path, repeats: int) -> dict[str, float]:
    headless, attached, watch_cpu = [], [], []
    for n in range(repeats):
        for kind in ("headless", "attached"):
            run_folder = folder / f"{kind}-{n}"
            run_folder.mkdir()
            if kind == "headless":
                headless.append(headless_run(run_folder))
            else:
                seconds, cpu = attached_run(run_folder)
                attached.append(seconds)
                watch_cpu.append(cpu)
    return {
        "headless_s": statistics.median(headless),
        "attached_s": statistics.median(attached),
        "slowdown_ratio": statistics.median(attached) / statistics.median(headless),
        "dashboard_cpu_pct_while_training": statistics.median(watch_cpu),
    }


def goal_lines(results: dict[str, object]) -> list[str]:
    """Each measured figure against the issue's goals, one line each (live figures per terminal size)."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def numbers(prefix: str, size: str = "") -> dict[str, float]:
        suffix = f"@{size}" if size else ""
        return {
            k[len(prefix): len(k) - len(suffix)]: v
            for k, v in results.items()
            if k.startswith(prefix) and k.endswith(suffix) and isinstance(v, float)
        }

    lines = []
    hz = numbers("implied_hz")
    if hz:
        low = min(hz.values())
        lines.append(f"redraw cost allows >= 10 Hz: {low:.0f} Hz ({verdict(low >= 10)})")
    for label, value in numbers("idle_cpu_pct_").items():
        lines.append(f"idle CPU {label} <= 0.5% of a core: {value:.2f}% ({verdict(value <= 0.5)})")
    for size in str(results.get("live_size", "")).split(","):
        if not size:
            continue
        delay_max = numbers("live_delay_ms_max_", size)
        for pid, cpu in numbers("live_cpu_pct_", size).items():
            delay = numbers("live_delay_ms_median_", size).get(pid, float("nan"))
            lines.append(
                f"{size:7s} {pid:12s} at 1 epoch/s: CPU {cpu:5.2f}% (<= 5%: {verdict(cpu <= 5)}), commit-to-screen "
                f"median {delay:4.0f} ms, max {delay_max.get(pid, float('nan')):4.0f} ms "
                f"(<= 100 ms: {verdict(delay_max.get(pid, 1e9) <= 100)})"
            )
        prefix = f"frames_per_s_at_{CHANGE_RATE_EPOCHS_PER_S:g}_epochs_per_s_"
        for pid, rate in numbers(prefix, size).items():
            lines.append(f"{size:7s} screen changes on {pid} at {CHANGE_RATE_EPOCHS_PER_S:g} epochs/s: {rate:.1f}/s "
                         f"(>= 10: {verdict(rate >= 10)})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-training", action="store_true", help="skip the training slowdown part")
    parser.add_argument("--repeats", type=int, default=1, help="headless/attached pairs (medians reported)")
    parser.add_argument("--idle-seconds", type=float, default=60.0,
                        help="idle window per screen (shorter windows are dominated by clock-tick noise)")
    parser.add_argument("--live-seconds", type=float, default=8.0, help="seconds per panel in part 3 (0: skip)")
    parser.add_argument("--only-live", action="store_true", help="run part 3 (and idle CPU) only")
    parser.add_argument("--live-size", default="80x24", help="terminal size(s) of part 3, WIDTHxHEIGHT[,...] "
                        "(the goals hold at every size; 200x60 redraws cost about 2.5x more)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    results: dict[str, object] = {"store": f"{LAYERS} layers x {EPOCHS} epochs"}
    try:
        if not args.only_live:
            for size in ((80, 24), (200, 60)):
                figures = asyncio.run(refresh_cost(folder, size))
                results.update({f"{k}@{size[0]}x{size[1]}": v for k, v in figures.items()})
            results.update(reader_query_comparison(folder))
        results.update(idle_cpu(folder, args.idle_seconds))
        if args.live_seconds > 0:
            sizes = [tuple(int(n) for n in size.lower().split("x")) for size in args.live_size.split(",")]
            results["live_size"] = ",".join(f"{w}x{h}" for w, h in sizes)
            results["store_watch"] = store_watch_mode(folder)
            for width, height in sizes:
                figures = live_panels(folder, args.live_seconds, size=(width, height))
                results.update({f"{k}@{width}x{height}": v for k, v in figures.items()})
        if not args.skip_training and not args.only_live:
            results.update(training_slowdown(folder, args.repeats))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:45s} {value:.3f}" if isinstance(value, float) else f"{key:45s} {value}")
    print()
    for line in goal_lines(results):
        print(line)
    if "slowdown_ratio" in results:
        print(f"training slowdown with the dashboard attached: x{results['slowdown_ratio']:.3f} (1.0 = none)")


if __name__ == "__main__":
    main()
