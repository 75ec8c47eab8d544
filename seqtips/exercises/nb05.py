"""Exercises of notebook 05: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb05 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _check
from ..lessons.nb05_early_stopping import replay
from ..verdict import fmt
from . import _common as exercises

#: The notebook's patience, the rule the exercises compare with.
PATIENCE = 5
#: Exercise 1: how much more test loss than patience's checkpoint GL's may have, on any seed.
REGRET_MARGIN = 0.05
#: Exercise 2: a slow rule "costs" at least this many times the epochs, and "buys" less than Prechelt's ~4 %.
SLOW_COST, PRECHELT_GAIN = 1.5, 0.04


def generalization_loss(value: float, best: float) -> float:
    """Prechelt's GL = 100 * (value / best - 1), in percent; a best loss of 0 gives 0 (value 0) or inf."""
    if best > 0:
        return 100.0 * (value / best - 1.0)
    return 0.0 if value <= best else math.inf


def generalization_loss_stop(values: Sequence[float], alpha: float) -> int | None:
    """Index where Prechelt's GL_alpha stops on a validation curve (None: never)."""
    best = math.inf
    for t, v in enumerate(values):
        best = min(best, v)
        if generalization_loss(v, best) > alpha:
            return t
    return None


def _best_so_far(values: Sequence[float], stop: int | None) -> int:
    seen = values if stop is None else values[: stop + 1]
    return min(range(len(seen)), key=seen.__getitem__)


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("alpha", "val_loss", "test_loss", "stop_epoch"),
                         "{'alpha': a number, 'val_loss': [curves], 'test_loss': [curves], "
                         "'stop_epoch': [one per seed]}")
    alpha = _check.number("result['alpha']", r["alpha"], positive=True)
    val = exercises.curves("result['val_loss']", r["val_loss"], at_least=0)
    test = exercises.curves("result['test_loss']", r["test_loss"], at_least=0)
    if len(test) != len(val) or any(len(a) != len(b) for a, b in zip(val, test)):
        raise ValueError("result['val_loss'] and result['test_loss'] must hold curves of the same lengths")
    stops = r["stop_epoch"]
    if isinstance(stops, (str, bytes, Mapping)) or not hasattr(stops, "__iter__"):
        raise TypeError("result['stop_epoch'] must be a list (an epoch index or None per seed), "
                        f"got {type(stops).__name__}")
    stops = list(stops)
    if len(stops) != len(val):
        raise ValueError(f"result['stop_epoch'] must have one entry per curve ({len(val)}), got {len(stops)}")
    stops = [None if s is None else _check.integer(f"result['stop_epoch'][{i}]", s, 0, len(val[i]) - 1)
             for i, s in enumerate(stops)]
    for i, (curve, mine) in enumerate(zip(val, stops)):
        right = generalization_loss_stop(curve, alpha)
        if mine != right:
            gl = generalization_loss(curve[mine], min(curve[: mine + 1])) if mine is not None else math.nan
            where = ("never" if mine is None else f"at index {mine}, where GL = {gl:.1f}")
            return exercises.not_yet(
                "05.1", f"On curve {i} your rule stops {where}; GL_{alpha:g} as defined stops elsewhere.",
                "GL(t) = 100 * (E_va(t) / E_opt(t) - 1), where E_opt(t) is the lowest validation loss up to and "
                "including epoch t; stop at the first t with GL(t) > alpha", {"alpha": alpha})
    patience = [replay(curve, PATIENCE) for curve in val]
    gl_epochs = [len(c) if s is None else s + 1 for c, s in zip(val, stops)]
    p_epochs = [p.epochs_run for p in patience]
    oracle = [min(t) for t in test]
    gl_regret = [t[_best_so_far(c, s)] - o for c, t, s, o in zip(val, test, stops, oracle)]
    p_regret = [t[p.best_epoch] - o for t, p, o in zip(test, patience, oracle)]
    worst = max(g - p for g, p in zip(gl_regret, p_regret))
    values = {"alpha": alpha, "epochs GL": sum(gl_epochs), "epochs patience": sum(p_epochs),
              "largest extra regret": worst, "threshold": REGRET_MARGIN}
    measured = (f"GL_{alpha:g}: {ints(gl_epochs)} epochs, test loss above the oracle's {fmt(gl_regret)}; "
                f"patience {PATIENCE}: {ints(p_epochs)} epochs, {fmt(p_regret)} (per seed).")
    if sum(gl_epochs) >= sum(p_epochs):
        return exercises.not_yet("05.1", f"GL_{alpha:g} did not train fewer epochs than patience {PATIENCE}. "
                                 + measured,
                                 "GL stops as soon as the loss is alpha percent above its best: what does a large "
                                 "alpha wait for?", values)
    if worst > REGRET_MARGIN:
        return exercises.not_yet("05.1", f"GL_{alpha:g}'s checkpoint was worse than patience's by {worst:.3f} on some "
                                 f"seed (allowed {REGRET_MARGIN:g}). {measured}",
                                 "plot GL(t) over the first epochs: a small bump early in a noisy curve can exceed a "
                                 "small alpha before the real minimum", values)
    return exercises.shows("05.1", f"GL_{alpha:g} trained {sum(gl_epochs)} epochs against patience {PATIENCE}'s "
                           f"{sum(p_epochs)}, with a checkpoint within {REGRET_MARGIN:g} of its test loss on every "
                           f"seed. {measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("fast_epochs", "slow_epochs", "fast_test", "slow_test"),
                         "{'fast_epochs', 'slow_epochs', 'fast_test', 'slow_test'}, one number per seed")
    fast_e = exercises.numbers("result['fast_epochs']", r["fast_epochs"], positive=True)
    n = len(fast_e)
    slow_e = exercises.numbers("result['slow_epochs']", r["slow_epochs"], n, positive=True)
    fast_t = exercises.numbers("result['fast_test']", r["fast_test"], n, positive=True)
    slow_t = exercises.numbers("result['slow_test']", r["slow_test"], n, positive=True)
    cost = sum(slow_e) / sum(fast_e)
    gain = 1.0 - sum(slow_t) / sum(fast_t)
    values = {"epochs slow / fast": cost, "test-loss gain": gain, "cost threshold": SLOW_COST,
              "gain threshold": PRECHELT_GAIN}
    measured = (f"epochs per seed — fast: {ints(fast_e)}, slow: {ints(slow_e)} (x{cost:.2f} in all); test loss of the "
                f"restored checkpoint — fast: {fmt(fast_t)}, slow: {fmt(slow_t)} (gain {gain:.1%}).")
    if cost < SLOW_COST:
        return exercises.not_yet("05.2", f"The slow rule cost only x{cost:.2f} the epochs. {measured}",
                                 "replay the recorded curves with the larger patience for the slow rule and count "
                                 "every epoch trained up to its stop", values)
    if gain >= PRECHELT_GAIN:
        return exercises.not_yet("05.2", f"The slow rule bought {gain:.1%}, at least Prechelt's ~4 %. {measured}",
                                 "both checkpoints must be chosen by validation loss alone; read each one's test loss "
                                 "at the epoch it restores", values)
    return exercises.shows("05.2", f"On curves that turn this sharply, the slow rule cost x{cost:.2f} the epochs and "
                           f"bought {gain:.1%} — less than the ~4 % Prechelt measured. {measured}", values)


def ints(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 05; ``result=None`` reports it as not attempted.

    1. ``result = {'alpha', 'val_loss', 'test_loss', 'stop_epoch'}``: Prechelt's GL_alpha, its stop index on
       each recorded validation curve (None: never) and the curves. Shows the effect when the stops follow
       GL's definition, GL trains fewer epochs than patience ``PATIENCE`` in all, and its checkpoint (the best
       validation epoch before its stop) is within ``REGRET_MARGIN`` of patience's test loss on every seed.
    2. ``result = {'fast_epochs', 'slow_epochs', 'fast_test', 'slow_test'}``, one number per seed: epochs
       trained and the restored checkpoint's test loss for a fast and a slow rule. Shows the effect when the
       slow rule costs at least ``SLOW_COST`` times the epochs and buys less than ``PRECHELT_GAIN``.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("05", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
