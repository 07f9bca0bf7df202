"""The plug-in door: a pip-installed third-party pruner is discovered and run; broken ones fail alone.

One real run (digits, convnet-small, 2 dense epochs, 1 retrain epoch) carries the throw-away plug-in package, its
two deliberately broken pruners and every baseline, so the engine is exercised end to end once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from splinebench.engine.run import execute
from splinebench.profiles import Profile
from splinebench.prune import discover
from splinebench.store import StoreReader

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "splinebench-demo-plugin"
version = "0.0.1"

[project.entry-points."splinebench.pruners"]
demo-keep-first = "sbdemo_plugin.good:KeepFirstChannels"
demo-raises = "sbdemo_plugin.good:RaisesInPlan"
demo-broken-import = "sbdemo_plugin.broken:Anything"

[tool.setuptools]
packages = ["sbdemo_plugin"]
"""

PLUGIN_GOOD = '''
from splinebench.prune import Plan, Pruner, prunable_layers


class KeepFirstChannels(Pruner):
    name = "demo-keep-first"
    description = "keeps each layer's first channels"

    def plan(self, model, ratio, ctx):
        remove = {}
        for layer in prunable_layers(model, ctx.example_input):
            if layer.independent:
                count = min(layer.units - 1, round(ratio * layer.units))
                remove[layer.name] = list(range(layer.units - count, layer.units))
        return Plan.channels(remove)


class RaisesInPlan(Pruner):
    name = "demo-raises"

    def plan(self, model, ratio, ctx):
        raise RuntimeError("demo plug-in deliberately fails while planning")
'''

BASELINES = ["ns", "eb-mask", "thinet", "l1-norm", "random", "lt", "snip"]


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build and pip-install the throw-away package into a temporary --target put on sys.path."""
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "pyproject.toml").write_text(textwrap.dedent(PLUGIN_PYPROJECT))
    package = src / "sbdemo_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(PLUGIN_GOOD)
    (package / "broken.py").write_text('raise ImportError("demo plug-in deliberately fails to import")\n')
    target = tmp_path_factory.mktemp("plugin-target")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(src)],
        check=True, capture_output=True, timeout=180,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(target))
        yield target
    for name in [m for m in sys.modules if m.startswith("sbdemo_plugin")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def tiny_run(installed_plugin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    pruners = [{"name": "demo-keep-first"}, {"name": "demo-broken-import"}, {"name": "demo-raises"}]
    pruners += [{"name": n, "ticket": "eb" if n == "eb-mask" else "final"} for n in BASELINES]
    # an early bird that must fire at the start of epoch 2 (FIFO of 2, any distance) exercises the EB-mask tickets
    pruners.append({"name": "eb-mask", "ticket": "eb", "label": "eb-mask-fast", "options": {"fifo": 2, "eps": 1.0}})
    profile = Profile.model_validate({
        "name": "baselines-tiny", "device": "cpu", "seeds": [0],
        "model": {"name": "convnet-small"}, "data": {"name": "digits", "batch_size": 128},
        "train": {"epochs": 2, "lr": 0.05}, "partition": {"probe_size": 64},
        "prune": {"ratios": [0.5], "pruners": pruners},
        "retrain": {"epochs": 1, "lr": 0.01},
    })
    store = tmp_path_factory.mktemp("store") / "results.sqlite"
    run_id, ok = execute(profile, str(store))
    reader = StoreReader(str(store))
    try:
        yield {
            "ok": ok,
            "results": {r["pruner"]: r for r in reader.results(run_id)},
            "early_birds": [dict(r) for r in reader.query("SELECT * FROM early_birds WHERE run_id=?", (run_id,))],
        }
    finally:
        reader.close()


def test_installed_plugin_is_listed_with_the_package_it_came_from(installed_plugin):
    registry = discover()
    good = registry.get("demo-keep-first")
    assert good.cls is not None and good.origin == "splinebench-demo-plugin"
    broken = registry.get("demo-broken-import")
    assert broken.cls is None and "deliberately fails to import" in (broken.error or "")
    assert all(registry.get(name).origin == "built-in" and registry.get(name).cls for name in BASELINES)


def test_plugin_runs_and_broken_plugins_fail_alone_with_their_errors_recorded(tiny_run):
    assert tiny_run["ok"]
    results = tiny_run["results"]
    assert results["demo-keep-first"]["status"] == "ok"
    failed_import = results["demo-broken-import"]
    assert (failed_import["status"], failed_import["stage"]) == ("failed", "import")
    assert "deliberately fails to import" in failed_import["error"]
    failed_plan = results["demo-raises"]
    assert (failed_plan["status"], failed_plan["stage"]) == ("failed", "plan")
    assert "deliberately fails while planning" in failed_plan["error"]


@pytest.mark.parametrize("name", ["ns", "eb-mask", "thinet", "l1-norm", "random"])
def test_structured_baselines_run_through_the_engine_and_shrink_the_model(tiny_run, name):
    row = tiny_run["results"][name]
    assert row["status"] == "ok", row["error"]
    assert row["flops"] < tiny_run["results"]["dense"]["flops"] and row["sparse_flops"] is None


def test_eb_mask_tickets_are_drawn_per_ratio_in_the_shared_l1_run(tiny_run):
    row = tiny_run["results"]["eb-mask-fast"]
    assert (row["status"], row["ticket"], row["eb_epoch"]) == ("ok", "eb", 1)
    fired = [(e["detector"], e["phase"], e["epoch"]) for e in tiny_run["early_birds"]]
    assert ("mask-eps1-fifo2@0.5", "dense:bn-l1:0.0001", 1) in fired
    assert tiny_run["results"]["eb-mask"]["ticket"] == "final (no EB)"  # 5 masks need 5 epoch starts


@pytest.mark.parametrize("name", ["lt", "snip"])
def test_unstructured_baselines_keep_dense_flops_and_report_sparse_ones(tiny_run, name):
    row = tiny_run["results"][name]
    assert row["status"] == "ok", row["error"]
    assert row["flops"] == tiny_run["results"]["dense"]["flops"]
    assert row["sparse_flops"] < row["flops"]
