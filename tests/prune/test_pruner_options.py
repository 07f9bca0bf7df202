"""A misspelt pruner option is bad input before the run, not a silently ignored key that leaves the default."""

from __future__ import annotations

from typing import Any

import pytest

from splinebench.errors import BadInputError
from splinebench.prune import Pruner, check_options, discover
from splinebench.prune.discovery import PrunerInfo
from splinebench.registry import Registry

BUILT_IN = ["spline", "ns", "eb-mask", "thinet", "l1-norm", "random", "lt", "snip", "grasp", "synflow", "tp:l1",
            "tp:l2", "tp:bn-scale", "tp:lamp", "tp:fpgm", "tp:random", "tp:taylor", "tp:hessian", "tp:activation"]


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_pruner_refuses_an_option_it_does_not_take(name):
    with pytest.raises(BadInputError, match=rf"pruner '{name}' has no option 'bogus_option'"):
        check_options(name, {"bogus_option": 1}, discover())


def test_a_near_miss_names_the_option_meant_and_every_option_taken():
    with pytest.raises(BadInputError) as caught:
        check_options("eb-mask", {"fifi": 5}, discover())
    message = str(caught.value)
    assert "Did you mean: fifo?" in message
    assert "it takes: sparsity, eps, fifo, scope, during_retrain" in message


def test_the_options_a_pruner_takes_pass():
    check_options("spline", {"scope": "global", "rho": 0.1}, discover())
    check_options("eb-mask", {"sparsity": 1e-4, "eps": 0.1, "fifo": 5}, discover())


def test_a_plugin_whose_init_takes_any_keyword_is_not_second_guessed():
    class TakesAnything(Pruner):
        name = "takes-anything"

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)

        def plan(self, model, ratio, ctx):
            raise NotImplementedError

    registry: Registry[PrunerInfo] = Registry("pruner")
    registry.register("takes-anything", PrunerInfo("takes-anything", "test", "x:y", TakesAnything))
    check_options("takes-anything", {"whatever": 1}, registry)
