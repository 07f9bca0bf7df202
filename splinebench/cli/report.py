"""``splinebench report`` (the paper's tables and figures from the store) and ``splinebench partition`` (2-D pictures).

Both are plain functions with typer annotations; the app registers them as ``report`` and ``partition``. Bad input
(an unknown run id, a format we do not write, a run whose inputs are not 2-D) raises ``BadInputError``: one line on
stderr, exit code 2.

``partition`` is the one face that needs models rather than the store alone: it loads the run's dense ticket,
prunes it with the profile's pruner through the shared applier (the same plan the run made, since plans are
deterministic), optionally retrains it on the profile's schedule, and draws every layer's partition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from splinebench.errors import BadInputError
from splinebench.store import default_store_path

out = Console()
err = Console(stderr=True)

StoreOption = Annotated[str, typer.Option("--store", help="Results store (SQLite file).")]
DEFAULT_STORE = default_store_path()
REPORT_FORMATS = ("text", "md", "csv", "latex", "json")
TWO_D = "2d-points"


# --- report ------------------------------------------------------------------------------------------------------


def parse_fractions(text: str) -> list[float]:
    """``"0.1,0.25,1"`` -> fractions of the dense epochs for Table 12 (each in (0, 1])."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise BadInputError(f"--at {text!r}: expected fractions such as 0.1,0.25,0.5,0.75,1") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise BadInputError(f"--at {text!r}: each fraction of the dense epochs must be in (0, 1]")
    return values


def report_command(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids (unique prefixes work) or sweep ids (every trial). "
                                                      "Runs of one profile that differ only in the seed are "
                                                      "pooled: mean ± 95% interval.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text (tables in the terminal), md, csv, latex or "
                                                             "json.")] = "text",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write NAME.<ext> here (text is written as md), "
                                                               "and figures under OUT/figures.")] = None,
    figures: Annotated[bool, typer.Option("--figures/--no-figures",
                                                            help="Also draw the figures (PNG and SVG): Fig. 5 matrix, "
                                                            "per-layer distances, accuracy vs MACs, rho, 2-D "
                                                            "partitions.")] = False,
    name: Annotated[str, typer.Option("--name", help="File name of the written report, without extension.")]
    = "report",
    at: Annotated[str, typer.Option("--at", help="Table 12 epochs, as fractions of the dense epochs.")]
    = "0.1,0.25,0.5,0.75,1",
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """The paper's Tables 1, 2 and 12 (and early-bird epochs, cost ratios, rho) for the given runs."""
    from splinebench.report.build import build_report, render, write_figures, write_report
    from splinebench.report.render import to_rich
    from splinebench.store import StoreReader

    if fmt not in REPORT_FORMATS:
        raise BadInputError(f"--format {fmt!r}: choose one of {', '.join(REPORT_FORMATS)}")
    fractions = parse_fractions(at)
    reader = StoreReader(store)
    try:
        report = build_report(reader, run_ids, fractions)
        if figures:
            figure_dir = (out_dir if out_dir is not None else Path(store).parent / "reports" / report.settings[0].id)
            figure_dir = figure_dir / "figures"
            write_figures(reader, report, figure_dir)
            for setting in report.settings:
                if _is_two_d(setting.runs[0].row.dataset):
                    report.figures.extend(_partition_files(reader, setting.runs[0].id, figure_dir))
            err.print(f"figures: {len(report.figures)} files in {figure_dir}")
    finally:
        reader.close()
    if out_dir is not None:
        path = write_report(report, "md" if fmt == "text" else fmt, out_dir, name)
        err.print(f"wrote {path}")
        return
    if fmt == "text":
        for table in report.tables:
            out.print(to_rich(table))
        return
    print(render(report, fmt, relative_to=Path.cwd()))


# --- partition ---------------------------------------------------------------------------------------------------


def _is_two_d(dataset: str) -> bool:
    from splinebench.data import dataset_info

    try:
        return dataset_info(dataset).meta.get("input_kind") == TWO_D
    except BadInputError:
        return False


def _partition_files(reader: Any, run_id: str, out_dir: Path) -> list[Path]:
    from splinebench.report.figures import save_figure
    from splinebench.report.partition import PARTITION_DPI, partition_figure

    toy = ToyModels.from_run(reader, run_id)
    pictures = toy.pictures(toy.models(None, None, retrain=True))
    name = toy.profile.name
    fig = partition_figure(pictures, toy.data, f"{name} ({toy.run_id}): input-space partition per layer")
    return save_figure(fig, out_dir, f"{name}-partition", dpi=PARTITION_DPI)


class ToyModels:
    """A finished 2-D run's models exactly as the run made them, read from its directory: the dense ticket and, per
    branch, the ticket with the run's recorded pruning replayed (history and masks, the engine's resume path) and the
    retrained model the run saved. Nothing is pruned or trained again here, so the pictures show the run's own
    models, whatever its hooks, per-pruner retrain settings or ``mode = "scratch"`` did."""

    def __init__(self, profile: Any, run_dir: Path, run_id: str, plan: dict[str, Any]) -> None:
        import torch

        from splinebench.data import load_dataset
        from splinebench.engine.plan import RunPlan
        from splinebench.engine.training import BatchSource

        torch.set_num_threads(1)  # nets this small only lose to thread start-up (and to a busy machine)
        if not plan.get("branches"):
            raise BadInputError(f"run {run_id} was recorded before runs carried their plan; run its profile again")
        self.profile = profile
        self.run_dir = run_dir
        self.run_id = run_id
        self.plan = RunPlan.from_dict(plan)
        self.bundle = load_dataset(profile.data.name, root=profile.data.root, **profile.data.options)
        if tuple(self.bundle.input_shape or ()) != (2,):
            raise BadInputError(
                f"partition pictures need 2-D inputs; {profile.data.name} has inputs of shape "
                f"{tuple(self.bundle.input_shape or ())} (try profiles/toy-2d.toml)"
            )
        self.test = BatchSource(self.bundle.test, profile.data.test_batch_size, torch.device("cpu"))
        train = BatchSource(self.bundle.train, profile.data.batch_size, torch.device("cpu"))
        assert train.tensors is not None
        x, y = train.tensors
        self.data = (x.numpy(), y.numpy())
        extent = self.bundle.meta.get("extent")
        if extent:
            self.extent = (float(extent[0]), float(extent[1]), float(extent[0]), float(extent[1]))
        else:
            from splinebench.report.partition import data_extent

            self.extent = data_extent(self.data[0])

    @classmethod
    def from_run(cls, reader: Any, run_id: str) -> ToyModels:
        from splinebench.profiles import profile_from_dict

        run = reader.run(run_id)
        return cls(profile_from_dict(reader.profile(run.id)), Path(run.results_dir or ""), run.id, reader.plan(run.id))

    def _file(self, relative: str) -> Path:
        path = self.run_dir / relative
        if not path.is_file():
            raise BadInputError(f"run {self.run_id} has no {relative} in {self.run_dir}; was it trained to the end?")
        return path

    def _ticket(self, relative: str) -> Any:
        from splinebench.engine import checkpoints
        from splinebench.zoo import create_model

        model = create_model(self.profile.model.name, num_classes=self.bundle.num_classes,
                             in_channels=self.bundle.in_channels, **self.profile.model.options)
        model.load_state_dict(checkpoints.load(self._file(relative)))
        return model.eval()

    def branch(self, label: str | None) -> Any:
        """The branch to draw: ``label``, else the run's first spline entry, else its first entry."""
        branches = self.plan.branches
        if label is not None:
            found = next((b for b in branches if b.label == label), None)
            if found is None:
                raise BadInputError(f"--pruner {label!r}: run {self.run_id} has {', '.join(b.label for b in branches)}")
            return found
        return next((b for b in branches if b.pruner == "spline"), branches[0])

    def accuracy(self, model: Any) -> float:
        from splinebench.engine.training import evaluate

        return evaluate(model, self.test.batches(False)).accuracy

    def models(self, ratios: list[float] | None, label: str | None, retrain: bool) -> list[tuple[str, Any]]:
        """(title, model): the dense model, then per ratio the pruned ticket and, if asked, the retrained model."""
        import torch

        from splinebench.engine.checkpoints import build_saved_model, load_saved_model
        from splinebench.engine.plan import INIT_TICKET
        from splinebench.prune import rebuild_structure

        branch = self.branch(label)
        dense_plan = self.plan.dense_of(branch) or self.plan.dense[0]
        dense = self._ticket(dense_plan.final_ticket)
        out = [(f"dense: {100 * self.accuracy(dense):.1f}%", dense)]
        for ratio in ratios or list(branch.ratios):
            run = next((r for r in branch.runs if abs(r.ratio - ratio) < 1e-9), None)
            if run is None:
                have = ", ".join(f"{r:g}" for r in branch.ratios)
                raise BadInputError(f"--ratio {ratio:g}: run {self.run_id} pruned {branch.label} at {have} only")
            saved = load_saved_model(self._file(run.model_file))
            ticket = {"init": INIT_TICKET, "eb": dense_plan.eb_ticket(run.detector)}.get(branch.ticket,
                                                                                          dense_plan.final_ticket)
            if not (self.run_dir / ticket).is_file():  # an EB that never fired: the run used the final ticket
                ticket = dense_plan.final_ticket
            pruned = self._ticket(ticket)
            rebuild_structure(pruned, torch.zeros(saved["example_shape"]), saved.get("history") or [],
                              saved.get("masks"))
            title = f"{branch.label} {ratio:.0%}"
            out.append((f"{title} pruned: {100 * self.accuracy(pruned):.1f}%", pruned))
            if retrain:
                tuned = build_saved_model(saved)
                out.append((f"{title} +retrain: {100 * self.accuracy(tuned):.1f}%", tuned))
        return out

    def pictures(self, models: list[tuple[str, Any]], resolution: tuple[int, int] = (200, 200)) -> list[Any]:
        from splinebench.report.partition import partition_picture

        return [partition_picture(model, self.extent, title, resolution) for title, model in models]


def _train_profile(target: str, overrides: list[str], store: str) -> str:
    from splinebench.cli.progress import RichProgress
    from splinebench.engine.run import execute
    from splinebench.profiles import load_profile

    profile = load_profile(target, overrides)
    if not _is_two_d(profile.data.name):
        raise BadInputError(f"{target}: partition pictures need 2-D inputs; dataset {profile.data.name!r} is not "
                            "(try profiles/toy-2d.toml)")
    single = profile.model_copy(update={"seeds": [profile.seeds[0]]})
    progress = RichProgress(err)
    with progress:
        run_id, ok = execute(single, store, [progress])
    if not ok:
        raise BadInputError(f"training {target} failed (run {run_id}); see `splinebench runs show {run_id}`")
    return run_id


def partition_command(
    target: Annotated[str, typer.Argument(help="A profile TOML with 2-D inputs (trained first, into the store), "
                                                "or the RUN_ID of such a run.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Also save the figure (PNG and SVG) here.")] = None,
    ratio: Annotated[list[float] | None, typer.Option("--ratio", help="Pruning ratio (repeatable); default: the "
                                                                      "profile's ratios.")] = None,
    pruner: Annotated[str | None, typer.Option("--pruner", help="Pruner label from the profile (default: its "
                                                                "first spline entry).")] = None,
    retrain: Annotated[bool, typer.Option("--retrain/--no-retrain", help="Also draw each pruned net after the "
                                                                         "profile's retraining.")] = True,
    width: Annotated[int, typer.Option("--width", help="Characters per terminal panel.", min=8, max=200)] = 36,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Dotted override for a PROFILE (repeatable).")]
    = None,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Each layer's input-space partition and the decision boundary (red), before and after pruning (Figs. 1, 2)."""
    from rich.columns import Columns
    from rich.panel import Panel

    from splinebench.profiles import profile_from_dict
    from splinebench.report.terminal import braille_panels, legend
    from splinebench.store import StoreReader

    is_profile = target.endswith(".toml") or Path(target).is_file()
    run_id = _train_profile(target, set_ or [], store) if is_profile else target
    reader = StoreReader(store)
    try:
        run = reader.run(run_id)
        profile = profile_from_dict(reader.profile(run.id))
        if not _is_two_d(profile.data.name):
            raise BadInputError(f"run {run.id} trained on {profile.data.name!r}: partition pictures need 2-D inputs")
        toy = ToyModels.from_run(reader, run.id)
    finally:
        reader.close()
    models = toy.models(list(ratio) if ratio else None, pruner, retrain)
    rows = max(4, width // 2)
    small = toy.pictures(models, resolution=(2 * width, 4 * rows))
    panels = [Panel(drawing, title=title, title_align="left", expand=False, padding=0)
              for title, drawing in braille_panels(small)]
    out.print(Columns(panels))
    out.print(legend(max(len(p.layers) for p in small)))
    if out_dir is not None:
        from splinebench.report.figures import save_figure
        from splinebench.report.partition import PARTITION_DPI, partition_figure

        fig = partition_figure(toy.pictures(models), toy.data,
                               f"{profile.name} ({run.id}): input-space partition per layer")
        for path in save_figure(fig, out_dir, f"{profile.name}-partition", dpi=PARTITION_DPI):
            err.print(f"wrote {path}")
