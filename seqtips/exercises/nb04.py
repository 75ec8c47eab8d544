"""Exercises of notebook 04: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb04 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..verdict import fmt
from . import _common as exercises

#: "Learned": test MSE at the end below 60 % of the learned-nothing line (the notebook's LEARNED).
LEARNED = 0.6 * ADDING_BASELINE_MSE


def _end_values(name: str, values: Any, length: int | None = None) -> list[float]:
    """End test MSEs per seed; ``inf`` (a run that blew up) is allowed, NaN and negatives are not."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of numbers, one per seed, got {type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        if not _check.is_number(v) or math.isnan(v) or v < 0:
            raise ValueError(f"{name}[{i}] must be a test MSE (a non-negative number, inf after a blow-up), got {v!r}")
        out.append(float(v))
    if not out or (length is not None and len(out) != length):
        raise ValueError(f"{name} must have {length or 'at least one'} entries, got {len(out)}")
    return out


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("threshold", "end_mse", "fraction_clipped", "chosen_fraction_clipped"),
                         "{'threshold': the average norm, 'end_mse': [...], 'fraction_clipped': [...], "
                         "'chosen_fraction_clipped': [...]}, one number per seed")
    threshold = _check.number("result['threshold']", r["threshold"], positive=True)
    end = _end_values("result['end_mse']", r["end_mse"])
    frac = exercises.numbers("result['fraction_clipped']", r["fraction_clipped"], len(end))
    chosen = exercises.numbers("result['chosen_fraction_clipped']", r["chosen_fraction_clipped"], len(end))
    if not all(0 <= f <= 1 for f in frac + chosen):
        raise ValueError("the fractions clipped must lie between 0 and 1")
    values = {"worst end MSE": max(end), "smallest fraction clipped": min(frac), "threshold": LEARNED}
    measured = (f"threshold {threshold:.3g}: end test MSE per seed {fmt(end)}; fraction of steps clipped "
                f"{fmt(frac, 2)} (the 90th percentile's: {fmt(chosen, 2)}).")
    if not all(f > c for f, c in zip(frac, chosen)):
        return exercises.not_yet("04.1", f"The average norm did not clip more steps than the 90th percentile on every "
                                 f"seed. {measured}", "is the threshold the warm-up's mean (method='mean'), below the "
                                 "chosen one? Count with lesson.clipped_fraction on each run's grad_norm", values)
    if not all(e < LEARNED for e in end):
        return exercises.not_yet("04.1", f"Training did not end below {LEARNED:.3g} on every seed. {measured}",
                                 "same seeds, batches and number of steps as the notebook's runs? Compare the "
                                 "test curves with the chosen threshold's", values)
    return exercises.shows("04.1", "Pascanu et al.'s average norm rescaled a larger share of the steps than the 90th "
                           "percentile and still kept every run finite and learning. " + measured, values)


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("lr", "end_mse", "clipped_end_mse"),
                         "{'lr': the lower rate, 'end_mse': [...] unclipped at that rate, 'clipped_end_mse': [...] "
                         "the chosen threshold at the notebook's rate}, one number per seed")
    lr = _check.number("result['lr']", r["lr"], positive=True)
    end = _end_values("result['end_mse']", r["end_mse"])
    clipped = _end_values("result['clipped_end_mse']", r["clipped_end_mse"], len(end))
    ratio = statistics.median(e / max(c, 1e-12) for e, c in zip(end, clipped))
    values = {"worst end MSE, lower rate": max(end), "median ratio to clipping": ratio, "threshold": LEARNED}
    measured = (f"unclipped at lr {lr:g}: end test MSE per seed {fmt(end)}; clipped at the notebook's rate: "
                f"{fmt(clipped)} (ratio, median over seeds: {ratio:.2g}).")
    if not all(math.isfinite(e) for e in end):
        return exercises.not_yet("04.2", f"At lr {lr:g} some run still blew up. {measured}",
                                 "a step is lr times the gradient: how much smaller must the rate be for the largest "
                                 "norms of section 3 to stay harmless?", values)
    if not all(e < LEARNED for e in end):
        return exercises.not_yet("04.2", f"At lr {lr:g} some run stayed finite but did not learn (end test MSE not "
                                 f"below {LEARNED:.3g}). {measured}", "too small a rate crawls: look for one between "
                                 "the rate that blows up and one that barely moves in the budget", values)
    return exercises.shows("04.2", f"The other cure: unclipped at lr {lr:g} every run stayed finite and learned. "
                           + measured, values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 04; ``result=None`` reports it as not attempted.

    1. ``result = {'threshold', 'end_mse', 'fraction_clipped', 'chosen_fraction_clipped'}``: runs clipped at
       the warm-up's average norm (Pascanu et al.), per seed their end test MSE and fraction of steps
       clipped, next to the chosen (90th percentile) threshold's fractions. Shows the effect when it clipped
       more steps than the 90th percentile on every seed and every run still ended below ``LEARNED``.
    2. ``result = {'lr', 'end_mse', 'clipped_end_mse'}``: unclipped runs at a lower learning rate (``inf``
       for a run that blew up) next to the notebook's clipped runs at its rate. Shows the effect when every
       lower-rate run stayed finite and ended below ``LEARNED``; the ratio to clipping is reported.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("04", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
