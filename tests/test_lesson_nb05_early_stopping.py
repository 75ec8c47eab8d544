"""Companion of notebook 05 (early stopping): replaying the best-value rule and the book's previous-epoch rule."""

import random

import numpy as np
import pytest
import torch

from seqtips.early_stopping import EarlyStopping
from seqtips.lessons.nb05_early_stopping import Replay, replay

ZIGZAG = [1.0, 0.5, 0.6, 0.55, 0.7, 0.65, 0.8, 0.75, 0.9, 0.85, 1.0, 0.95]


def run(stopper, values):
    for i, v in enumerate(values):
        if stopper.step(v):
            return i
    return None


def test_previous_rule_is_fooled_by_a_zigzag_rise():
    # every dip below the previous epoch resets the book's counter, so it never stops
    assert replay(ZIGZAG, patience=2, rule="previous").stop_epoch is None
    assert replay(ZIGZAG, patience=3, rule="previous").stop_epoch is None
    # compared with the best (0.5 at epoch 1), epochs 2, 3, 4 all fail to improve
    assert replay(ZIGZAG, patience=2).stop_epoch == 3
    assert replay(ZIGZAG, patience=3).stop_epoch == 4


def test_previous_rule_stops_later_on_a_slow_noisy_rise():
    values = [1.0, 0.6, 0.62, 0.61, 0.63, 0.64, 0.65, 0.66, 0.67]
    assert replay(values, patience=3).stop_epoch == 4
    assert replay(values, patience=3, rule="previous").stop_epoch == 6


def test_both_rules_agree_on_a_clean_u_shape():
    values = [1.0, 0.7, 0.5, 0.45, 0.5, 0.6, 0.7, 0.8]
    assert replay(values, 3).stop_epoch == replay(values, 3, rule="previous").stop_epoch == 6


def test_previous_rule_matches_the_book_details():
    # epoch 0 never counts; the counter is compared after each update
    assert replay([1.0, 1.0], patience=1, rule="previous").stop_epoch == 1
    assert replay([1.0], patience=1, rule="previous").stop_epoch is None
    # a NaN compares False, so the book's rule resets instead of stopping
    assert replay([1.0, 2.0, float("nan"), 3.0], patience=2, rule="previous").stop_epoch is None
    assert replay([1.0, 2.0, float("nan"), 3.0], patience=2).stop_epoch == 2
    # its checkpoint: epoch 0, then any epoch below its predecessor and the best seen since
    r = replay([0.5, 0.6, 0.55, 0.7, 0.8], patience=2, rule="previous")
    assert r == Replay(stop_epoch=4, best_epoch=2, epochs_run=5)


def test_previous_rule_never_stops_earlier_than_best_rule():
    # with min_delta=0 the previous-epoch counter can only lag the best-value counter
    rng = random.Random(1)
    for _ in range(300):
        n = rng.randint(1, 40)
        walk = [1.0]
        for _ in range(n - 1):
            walk.append(walk[-1] + rng.uniform(-0.1, 0.1))
        for p in (0, 1, 2, 3, 5):
            best = replay(walk, p).stop_epoch
            prev = replay(walk, p, rule="previous").stop_epoch
            assert prev is None or (best is not None and prev >= best)


def test_replay_agrees_with_stepping_by_hand():
    rng = np.random.default_rng(0)
    for _ in range(50):
        curve = list(np.cumsum(rng.normal(0, 0.1, size=30)))
        for p, d, mode in [(0, 0.0, "min"), (3, 0.0, "min"), (2, 0.05, "max")]:
            es = EarlyStopping(p, d, mode)
            stop = run(es, curve)
            r = replay(curve, p, d, mode)
            assert r.stop_epoch == stop
            assert r.best_epoch == es.best_epoch
            assert r.epochs_run == (len(curve) if stop is None else stop + 1)


def test_replay_best_rule_counts_a_gain_of_exactly_min_delta_as_no_improvement():
    assert replay([0.4, 0.3], patience=1, min_delta=0.1) == Replay(stop_epoch=1, best_epoch=0, epochs_run=2)


def test_replay_accepts_arrays_and_tensors():
    curve = [1.0, 0.5, 0.6, 0.7]
    assert replay(np.array(curve), 2).stop_epoch == 3
    assert replay(torch.tensor(curve), 2).stop_epoch == 3
    assert replay(curve, 2, rule="previous") == Replay(3, 1, 4)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([1.0], 1), {"rule": "prev"}, ValueError, "rule must be one of"),
        (([1.0], 1), {"rule": None}, TypeError, "rule must be one of"),
        (([1.0], -2), {}, ValueError, "patience"),
        (([1.0], 1.5), {}, TypeError, "patience"),
        (([1.0], 1), {"min_delta": -1.0}, ValueError, "min_delta"),
        (([1.0], 1), {"mode": "up"}, ValueError, "mode"),
        (([1.0], 1), {"mode": "max", "rule": "previous"}, ValueError, "previous"),
        (([1.0], 1), {"min_delta": 0.1, "rule": "previous"}, ValueError, "previous"),
        ((3.0, 1), {}, TypeError, "values must be a sequence"),
        (("abc", 1), {}, TypeError, "values must be a sequence"),
        ((["a"], 1), {}, TypeError, r"values\[0\]"),
    ],
)
def test_replay_argument_checks(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        replay(*args, **kwargs)
