"""The dataset registry: ``load_dataset("mnist-5k")`` gives a :class:`DatasetBundle`, whatever the format.

A loader is ``loader(root: Path | None, **options) -> DatasetBundle``, registered with
:func:`register_dataset`. Options a loader does not take raise :class:`BadInputError` naming those it does.
``subset=N`` (keep N training samples, drawn with ``subset_seed``) works for every dataset; loaders that can
do it more cheaply take it themselves. ``test_subset=N`` (drawn with ``test_subset_seed``) keeps N test samples: a
short CPU run evaluates after every epoch, and a seeded half of a 10,000-image test split halves that cost while
every run of the profile still sees the same images.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Subset, TensorDataset

from splinebench.data.arrays import seeded_subset_indices
from splinebench.data.bundle import DatasetBundle
from splinebench.errors import BadInputError
from splinebench.registry import Entry, Registry

DatasetLoader = Callable[..., DatasetBundle]

DATASETS: Registry[DatasetLoader] = Registry("dataset")

GENERIC_OPTIONS = ("subset", "subset_seed", "test_subset", "test_subset_seed")


def register_dataset(
    name: str, *, description: str, input_kind: str = "image", needs_files: bool = False, **meta: Any
) -> Callable[[DatasetLoader], DatasetLoader]:
    """Decorator: add ``loader(root, **options)`` under ``name``.

    ``needs_files`` marks datasets read from disk (as opposed to bundled with a package or generated), so
    ``datasets list`` can say which need a download.
    """
    return DATASETS.register(
        name, description=description, input_kind=input_kind, needs_files=needs_files, **meta
    )


def list_datasets(pattern: str = "*") -> list[str]:
    """Registered dataset names matching a shell-style ``pattern``, sorted."""
    return DATASETS.names(pattern)


def dataset_info(name: str) -> Entry[DatasetLoader]:
    """The registry entry: ``entry.meta`` holds description, input_kind and needs_files."""
    return DATASETS.entry(name)


def load_dataset(name: str, root: str | Path | None = None, **options: Any) -> DatasetBundle:
    """Load dataset ``name`` from ``root`` (each loader has its own default) with its ``options``."""
    entry = DATASETS.entry(name)
    accepted = _loader_options(entry.obj)
    unknown = sorted(set(options) - set(accepted) - set(GENERIC_OPTIONS))
    if unknown:
        takes = ", ".join(sorted(set(accepted) | set(GENERIC_OPTIONS)))
        raise BadInputError(f"dataset {name!r} got unknown option(s) {', '.join(unknown)}; it takes: {takes}")
    subset = options.pop("subset", None) if "subset" not in accepted else None
    subset_seed = options.pop("subset_seed", 0) if "subset_seed" not in accepted else 0
    test_subset = options.pop("test_subset", None) if "test_subset" not in accepted else None
    test_subset_seed = options.pop("test_subset_seed", 0) if "test_subset_seed" not in accepted else 0
    bundle = entry.obj(Path(root).expanduser() if root is not None else None, **options)
    if subset is not None:
        bundle = keep_training_subset(bundle, subset, subset_seed)
    if test_subset is not None:
        bundle = keep_test_subset(bundle, test_subset, test_subset_seed)
    return bundle


def keep_training_subset(bundle: DatasetBundle, size: int, seed: int = 0) -> DatasetBundle:
    """The same bundle with ``size`` training samples drawn without replacement by a ``seed``-ed generator."""
    train = _subset(bundle.train, seeded_subset_indices(len(bundle.train), size, seed))  # type: ignore[arg-type]
    meta = {**bundle.meta, "subset": size, "subset_seed": seed}
    return dataclasses.replace(bundle, train=train, meta=meta)


def keep_test_subset(bundle: DatasetBundle, size: int, seed: int = 0) -> DatasetBundle:
    """The same bundle with ``size`` test samples drawn without replacement by a ``seed``-ed generator."""
    total = len(bundle.test)  # type: ignore[arg-type]
    indices = seeded_subset_indices(total, size, seed, split="test")
    meta = {**bundle.meta, "test_subset": size, "test_subset_seed": seed}
    return dataclasses.replace(bundle, test=_subset(bundle.test, indices), meta=meta)


def _subset(dataset: Any, indices: Any) -> Any:
    if isinstance(dataset, TensorDataset):
        return TensorDataset(*(t[torch.from_numpy(indices)] for t in dataset.tensors))
    return Subset(dataset, indices.tolist())


def _loader_options(loader: DatasetLoader) -> list[str]:
    parameters = list(inspect.signature(loader).parameters.values())[1:]  # the first is root
    return [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
