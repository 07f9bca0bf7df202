"""``splinebench report`` (the paper's tables and figures from the store) and ``splinebench partition`` (2-D pictures).

Both are plain functions with typer annotations; the app registers them as ``report`` and ``partition``. Bad input
(an unknown run id, a format we do not write, a run whose inputs are not 2-D) raises ``BadInputError``: one line on
stderr, exit code 2.

``partition`` is the one face that needs models rather than the store alone: it loads the run's dense ticket,
prunes it with the profile's pruner through the shared applier (the same plan the run made, since plans are
deterministic), optionally retrains it on the profile's schedule, and draws every layer's partition.
"""

from __future__ import annotations

import copy
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
    from splinebench.profiles import profile_from_dict
    from splinebench.report.figures import save_figure
    from splinebench.report.partition import PARTITION_DPI, partition_figure

    run = reader.run(run_id)
    profile = profile_from_dict(reader.profile(run.id))
    toy = ToyModels.from_run(profile, Path(run.results_dir or ""), run.id)
    pictures = toy.pictures(toy.models(None, None, retrain=True))
    fig = partition_figure(pictures, toy.data, f"{profile.name} ({run.id}): input-space partition per layer")
    return save_figure(fig, out_dir, f"{profile.name}-partition", dpi=PARTITION_DPI)


class ToyModels:
    """A finished 2-D run's dense ticket and its pruned (and retrained) versions, rebuilt from the run directory."""

    def __init__(self, profile: Any, run_dir: Path, run_id: str) -> None:
        import torch

        from splinebench.data import load_dataset
        from splinebench.engine.training import BatchSource

        torch.set_num_threads(1)  # nets this small only lose to thread start-up (and to a busy machine)
        self.profile = profile
        self.run_dir = run_dir
        self.run_id = run_id
        self.device = torch.device("cpu")
        self.bundle = load_dataset(profile.data.name, root=profile.data.root, **profile.data.options)
        if tuple(self.bundle.input_shape or ()) != (2,):
            raise BadInputError(
                f"partition pictures need 2-D inputs; {profile.data.name} has inputs of shape "
                f"{tuple(self.bundle.input_shape or ())} (try profiles/toy-2d.toml)"
            )
        self.train = BatchSource(self.bundle.train, profile.data.batch_size, self.device)
        self.test = BatchSource(self.bundle.test, profile.data.test_batch_size, self.device)
        assert self.train.tensors is not None
        x, y = self.train.tensors
        self.data = (x.numpy(), y.numpy())
        extent = self.bundle.meta.get("extent")
        if extent:
            self.extent = (float(extent[0]), float(extent[1]), float(extent[0]), float(extent[1]))
        else:
            from splinebench.report.partition import data_extent

            self.extent = data_extent(self.data[0])

    @classmethod
    def from_run(cls, profile: Any, run_dir: Path, run_id: str) -> ToyModels:
        return cls(profile, run_dir, run_id)

    def _new_model(self) -> Any:
        import torch

        from splinebench.zoo import create_model

        torch.manual_seed(self.profile.seed)
        return create_model(self.profile.model.name, num_classes=self.bundle.num_classes,
                            in_channels=self.bundle.in_channels, **self.profile.model.options)

    def _ticket(self, name: str) -> Any:
        from splinebench.engine import checkpoints

        path = self.run_dir / "tickets" / name
        if not path.is_file():
            raise BadInputError(f"run {self.run_id} has no {name} in {path.parent}; was it trained to the end?")
        model = self._new_model()
        model.load_state_dict(checkpoints.load(path))
        return model

    def entry(self, label: str | None) -> Any:
        """The pruner entry to draw: ``label``, else the profile's first spline entry, else plain spline."""
        from splinebench.profiles import PrunerEntry

        entries = self.profile.prune.pruners
        if label is not None:
            found = next((e for e in entries if e.display == label), None)
            if found is None:
                raise BadInputError(f"--pruner {label!r}: the profile has {', '.join(e.display for e in entries)}")
            return found
        return next((e for e in entries if e.name == "spline"), PrunerEntry(name="spline"))

    def accuracy(self, model: Any) -> float:
        from splinebench.engine.training import evaluate

        return evaluate(model, self.test.batches(False)).accuracy

    def models(self, ratios: list[float] | None, label: str | None, retrain: bool) -> list[tuple[str, Any]]:
        """(title, model): the dense model, then per ratio the pruned one and, if asked, the retrained one."""

        from splinebench.prune import PruneContext, apply_plan, create_pruner, discover, prunable_layers

        dense = self._ticket("dense-final.pt")
        out = [(f"dense: {100 * self.accuracy(dense):.1f}%", dense)]
        entry = self.entry(label)
        ticket = dense
        if entry.ticket == "eb" and (self.run_dir / "tickets" / "dense-eb-spline.pt").is_file():
            ticket = self._ticket("dense-eb-spline.pt")
        init_state = {k: v.clone() for k, v in self._new_model().state_dict().items()}
        example = self.train.tensors[0][:64] if self.train.tensors is not None else None

        def batches(n: int):
            for i, batch in enumerate(self.train.batches(True, self.profile.seed)):
                if i >= n:
                    return
                yield batch

        registry = discover()
        for ratio in ratios or list(entry.ratios or self.profile.prune.ratios):
            if not 0 < ratio < 1:
                raise BadInputError(f"--ratio {ratio}: a pruning ratio is strictly between 0 and 1")
            pruner = create_pruner(entry.name, registry, **entry.options)
            ctx = PruneContext(
                example_input=example, batches=batches, init_state=init_state, device=self.device,
                seed=self.profile.seed, num_classes=self.bundle.num_classes,
                prunable=[layer.name for layer in prunable_layers(ticket, example) if layer.independent],
            )
            base = self._new_model() if pruner.acts_on == "init" else ticket
            if pruner.acts_on == "init":
                base.load_state_dict(init_state)
            plan = pruner.plan(base, ratio, ctx)
            pruned, _ = apply_plan(base, plan, example, init_state)
            title = f"{entry.display} {ratio:.0%}"
            out.append((f"{title} pruned: {100 * self.accuracy(pruned):.1f}%", pruned))
            if retrain and self.profile.retrain.epochs > 0:
                tuned = self._retrain(copy.deepcopy(pruned), ratio)
                out.append((f"{title} +retrain: {100 * self.accuracy(tuned):.1f}%", tuned))
        return out

    def _retrain(self, model: Any, ratio: float) -> Any:
        from splinebench.engine.training import epoch_seed, make_optimizer, make_scheduler, train_epoch

        settings = self.profile.retrain
        optimizer = make_optimizer(model, settings.lr, settings.momentum, settings.weight_decay)
        scheduler = make_scheduler(optimizer, settings.epochs, settings.milestones, settings.gamma)
        for epoch in range(1, settings.epochs + 1):
            train_epoch(model, optimizer, self.train.batches(True, epoch_seed(self.profile.seed, f"draw@{ratio}",
                                                                              epoch)))
            scheduler.step()
        return model

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
    finally:
        reader.close()
    if not _is_two_d(profile.data.name):
        raise BadInputError(f"run {run.id} trained on {profile.data.name!r}: partition pictures need 2-D inputs")
    toy = ToyModels.from_run(profile, Path(run.results_dir or ""), run.id)
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
