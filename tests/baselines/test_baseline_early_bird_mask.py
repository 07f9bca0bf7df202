"""Mask-distance early bird: fires exactly when the newest of 5 masks is within 0.1 of all 4 older ones."""

from __future__ import annotations

import torch
from torch import nn

from baselines.early_bird_mask import EarlyBirdMask, EarlyBirdMaskHook

CHANNELS = 20  # one swap between a removed and a kept channel moves 2 of 20 entries: distance exactly 0.1


class OneNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(CHANNELS)


def scales_removing(removed: set[int]) -> torch.Tensor:
    """BN scales whose smallest half (what 50% removes) is exactly ``removed``."""
    return torch.tensor([0.01 * (i + 1) if i in removed else 1.0 + 0.01 * i for i in range(CHANNELS)])


def run(hook: EarlyBirdMaskHook, sequence: list[torch.Tensor]) -> list[list[str]]:
    """Feed one BN-scale vector per epoch start (epoch 1 = initialisation); what fired at each."""
    model = OneNorm()
    fired = []
    for epoch, scales in enumerate(sequence, start=1):
        with torch.no_grad():
            model.bn.weight.copy_(scales)
        fired.append(hook.on_epoch_start(model, epoch))
    return fired


def hook_at(*ratios: float) -> EarlyBirdMaskHook:
    hook = EarlyBirdMask().training_hook()
    hook.ratios = list(ratios)
    return hook


A = set(range(10))
ONE_SWAP = (A - {9}) | {10}  # distance 0.1 from A
TWO_SWAPS = (A - {8, 9}) | {10, 11}  # distance 0.2 from A


def test_stable_masks_fire_at_the_fifth_epoch_start_and_only_once():
    fired = run(hook_at(0.5), [scales_removing(A)] * 7)
    assert fired == [[], [], [], [], ["mask@0.5"], [], []]


def test_a_distance_of_exactly_eps_still_fires():
    fired = run(hook_at(0.5), [scales_removing(A)] * 4 + [scales_removing(ONE_SWAP)])
    assert fired[-1] == ["mask@0.5"]


def test_a_change_above_eps_waits_until_it_leaves_the_fifo():
    sequence = [scales_removing(A)] * 4 + [scales_removing(TWO_SWAPS)] * 5
    fired = run(hook_at(0.5), sequence)
    assert [i + 1 for i, f in enumerate(fired) if f] == [9]  # masks 5..9 all equal only from epoch 9


def test_distances_are_from_the_newest_mask_not_between_consecutive_ones():
    drifting = [set(range(10))]
    for step in range(4):  # each epoch swaps one more channel: consecutive distance 0.1, cumulative 0.4
        drifting.append((drifting[-1] - {9 - step}) | {10 + step})
    hook = hook_at(0.5)
    fired = run(hook, [scales_removing(s) for s in drifting])
    assert fired == [[], [], [], [], []]
    assert hook.distances[0.5] == [0.4, 0.3, 0.2, 0.1]


def test_each_ratio_fires_on_its_own_mask():
    # the 6 smallest (what 30% removes) never change; the 50% mask drifts by one swap per epoch
    drifting = [set(range(10))]
    for step in range(4):
        drifting.append((drifting[-1] - {9 - step}) | {10 + step})
    fired = run(hook_at(0.3, 0.5), [scales_removing(s) for s in drifting])
    assert fired == [[], [], [], [], ["mask@0.3"]]


def test_early_bird_info_reports_the_fifo_of_the_detector_that_fired():
    hook = hook_at(0.5)
    run(hook, [scales_removing(A)] * 4 + [scales_removing(ONE_SWAP)])
    info = hook.early_bird_info()
    assert info["eps"] == 0.1 and info["window"] == 5
    assert info["fifo"] == [0.1, 0.1, 0.1, 0.1]


def test_state_round_trip_resumes_the_fifo():
    first = hook_at(0.5)
    run(first, [scales_removing(A)] * 3)
    second = hook_at(0.5)
    second.load_state_dict(first.state_dict())
    model = OneNorm()
    with torch.no_grad():
        model.bn.weight.copy_(scales_removing(A))
    assert second.on_epoch_start(model, 4) == []
    assert second.on_epoch_start(model, 5) == ["mask@0.5"]


def test_each_ratio_draws_its_own_ticket():
    hook = EarlyBirdMask().training_hook()
    assert hook.detector_for(0.3) == "mask@0.3" and hook.detector_for(0.7) == "mask@0.7"
