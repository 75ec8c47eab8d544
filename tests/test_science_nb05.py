"""Notebook 05's replays: every slider combination of its widget, and the rules' relations."""

import numpy as np
import pytest

from seqtips.lessons import nb05_early_stopping as lesson

PATIENCE_OPTIONS = list(range(0, 31))  # the notebook's sliders
MIN_DELTAS = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1]
RULES = ["best", "previous"]


def _curves():
    # noisy U-shaped validation curves like the notebook's: a turn, then a climb
    rng = np.random.default_rng(0)
    t = np.arange(60)
    for turn in (3, 8, 15, 40):
        yield 0.4 + 0.002 * (t - turn) ** 2 / (1 + t) + rng.normal(0, 0.01, 60)


@pytest.mark.parametrize("curve", list(_curves()))
def test_every_widget_combination_replays_and_stays_inside_the_curve(curve):
    for p in PATIENCE_OPTIONS:
        for d in MIN_DELTAS:
            for rule in RULES:
                r = lesson.replay(curve, p, d if rule == "best" else 0.0, rule=rule)
                assert 1 <= r.epochs_run <= len(curve)
                assert 0 <= r.best_epoch < r.epochs_run
                if r.stop_epoch is not None:
                    assert r.epochs_run == r.stop_epoch + 1


@pytest.mark.parametrize("curve", list(_curves()))
def test_best_rule_stops_patience_epochs_after_its_best_and_previous_rule_never_earlier(curve):
    for p in range(1, 31):
        best = lesson.replay(curve, p)
        if best.stop_epoch is not None:
            assert best.stop_epoch == best.best_epoch + p
            assert curve[best.best_epoch] == pytest.approx(min(curve[: best.stop_epoch + 1]))
        previous = lesson.replay(curve, p, rule="previous")
        if best.stop_epoch is not None and previous.stop_epoch is not None:
            assert previous.stop_epoch >= best.stop_epoch


def test_with_min_delta_an_improvement_must_beat_the_best_by_more_than_it():
    curve = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95]  # steps of 0.01
    assert lesson.replay(curve, 2).stop_epoch is None
    r = lesson.replay(curve, 2, min_delta=0.02)
    assert (r.best_epoch, r.stop_epoch) == (0, 2)
