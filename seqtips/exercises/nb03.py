"""Exercises of notebook 03: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb03 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

import statistics
from typing import Any

from .. import _check
from ..verdict import fmt
from . import _common as exercises

#: The notebook's target: test MSE below this counts as solved.
TARGET = 0.01
#: Exercise 1: with the same nominal decay, Adam's L2 must leave a model this many times worse than AdamW's.
DECAY_GAP = 3.0
#: Exercise 2: a range test has found the edge when the loss climbs to this many times its lowest (smoothed) value.
TURN = 2.0


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("adam_mse", "adamw_mse", "adam_shrink", "adamw_shrink"),
                         "{'adam_mse': [...], 'adamw_mse': [...], 'adam_shrink': [...], 'adamw_shrink': [...]}, "
                         "one number per seed")
    adam = exercises.numbers("result['adam_mse']", r["adam_mse"], at_least=0)
    n = len(adam)
    adamw = exercises.numbers("result['adamw_mse']", r["adamw_mse"], n, at_least=0)
    adam_shrink = exercises.numbers("result['adam_shrink']", r["adam_shrink"], n, at_least=0)
    adamw_shrink = exercises.numbers("result['adamw_shrink']", r["adamw_shrink"], n, at_least=0)
    gap = statistics.median(adam) / max(statistics.median(adamw), 1e-12)
    values = {"median MSE Adam + L2": statistics.median(adam), "median MSE AdamW": statistics.median(adamw),
              "Adam / AdamW": gap, "threshold": DECAY_GAP}
    measured = (f"final test MSE per seed — Adam with L2: {fmt(adam)}; AdamW: {fmt(adamw)}. Norm of the recurrent "
                f"weights against the run without decay — Adam with L2: {fmt(adam_shrink)}; "
                f"AdamW: {fmt(adamw_shrink)}.")
    if not all(v < TARGET for v in adamw):
        return exercises.not_yet("03.1", f"AdamW did not solve the task on every seed. {measured}",
                                 "give both optimizers the same learning rate and the same weight_decay; "
                                 "AdamW's decay per step is lr * weight_decay * weight — is the value the one the task "
                                 "asks for?", values)
    if not all(a < w for a, w in zip(adam_shrink, adamw_shrink)):
        return exercises.not_yet("03.1", "Adam's L2 did not shrink the recurrent weights more on every seed. "
                                 + measured,
                                 "compare model.rnn.weight_hh_l0's norm with the same seed's run without decay "
                                 "(same seed, same batches), after the same number of steps", values)
    if gap < DECAY_GAP:
        return exercises.not_yet("03.1", f"Adam with L2 ended only x{gap:.2g} worse than AdamW (expected at least "
                                 f"x{DECAY_GAP:g}). {measured}",
                                 "Adam(weight_decay=...) adds the decay to the gradient before dividing by its running "
                                 "scale; check that this is the optimizer of your 'Adam' runs", values)
    return exercises.shows("03.1", f"Same nominal decay, different decay: Adam's L2 left a model x{gap:.3g} worse "
                           f"than AdamW's (median final MSE) and shrank the recurrent weights far more. {measured}",
                           values)


def _smoothed_minimum(losses: list[float], width: int = 5) -> tuple[int, float]:
    """Index and value of the lowest point of the loss, smoothed over ``width`` steps (centred)."""
    smooth = [sum(losses[i : i + width]) / width for i in range(len(losses) - width + 1)]
    i = min(range(len(smooth)), key=smooth.__getitem__)
    return i + width // 2, smooth[i]


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("lrs", "losses", "suggested_lr", "final_mse"),
                         "{'lrs': [...], 'losses': [...], 'suggested_lr': a rate, 'final_mse': [one per seed]}")
    lrs = exercises.numbers("result['lrs']", r["lrs"], minimum=10, positive=True)
    losses = exercises.numbers("result['losses']", r["losses"], len(lrs), at_least=0)
    if any(b <= a for a, b in zip(lrs, lrs[1:])):
        raise ValueError("result['lrs'] must increase from step to step (a range test raises the rate every step)")
    lr = _check.number("result['suggested_lr']", r["suggested_lr"], positive=True)
    final = exercises.numbers("result['final_mse']", r["final_mse"], at_least=0)
    i, lowest = _smoothed_minimum(losses)
    lr_min = lrs[i]
    values = {"lr at the lowest smoothed loss": lr_min, "suggested lr": lr, "worst final MSE": max(final),
              "threshold": TARGET}
    measured = (f"range test: {len(lrs)} steps from lr {lrs[0]:.2g} to {lrs[-1]:.2g}, lowest smoothed loss at lr "
                f"{lr_min:.2g}; your rate {lr:.2g}: final test MSE per seed {fmt(final)}.")
    if max(losses[i:]) < TURN * lowest:
        return exercises.not_yet("03.2", f"The loss did not turn upwards (to {TURN:g}x its lowest smoothed value) "
                                 f"by the end of the range. {measured}",
                                 "raise the last learning rate of the test until the loss clearly turns upwards",
                                 values)
    if lr >= lr_min:
        return exercises.not_yet("03.2", f"Your rate is not below the rate of the lowest loss. {measured}",
                                 "at the lowest point the steps are already about as large as training tolerates; "
                                 "step back from it", values)
    if not all(v < TARGET for v in final):
        return exercises.not_yet("03.2", f"At your rate the task was not solved on every seed. {measured}",
                                 "where on the curve did the loss fall fastest? A rate far below it moves too little "
                                 "in the notebook's budget", values)
    return exercises.shows("03.2", f"One short run chose a rate that solves the task on every seed within the "
                           f"notebook's budget, where the notebook's tuning trained a ladder of rates. {measured}",
                           values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 03; ``result=None`` reports it as not attempted.

    1. ``result = {'adam_mse', 'adamw_mse', 'adam_shrink', 'adamw_shrink'}``, one number per seed: the final
       test MSE of Adam and AdamW with the same ``weight_decay``, and the norm of the recurrent weights
       relative to the same seed's run without decay. Shows the effect when AdamW solves the task on every
       seed, Adam's L2 shrinks the recurrent weights more on every seed, and ends ``DECAY_GAP`` times worse.
    2. ``result = {'lrs', 'losses', 'suggested_lr', 'final_mse'}``: a learning-rate range test (rate and
       training loss per step, the rate rising), the rate chosen from it, and the final test MSE per seed at
       that rate. Shows the effect when the curve turns upwards, the rate lies below its lowest point, and it
       solves the task on every seed.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("03", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
