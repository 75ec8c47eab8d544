"""Exercises of notebook 01: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb01 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

from typing import Any

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..models import SequenceModel
from ..verdict import fmt
from . import _common as exercises

#: Exercise 1: "uses the first marked value", test MSE below a quarter of the learned-nothing line (the
#: notebook's ESCAPE: remembering only the second value scores half of it).
ESCAPE = ADDING_BASELINE_MSE / 4
#: Exercise 2: "learned" below half the learned-nothing line, "did not learn" above 60 % of it.
LEARNED, STUCK = 0.5 * ADDING_BASELINE_MSE, 0.6 * ADDING_BASELINE_MSE


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("model", "final_mse", "tanh_final_mse"),
                         "{'model': one trained IRNN, 'final_mse': [one per seed], "
                         "'tanh_final_mse': [the tanh RNN at the same rate, one per seed]}")
    model = r["model"]
    _check.instance("result['model']", model, SequenceModel, "a seqtips SequenceModel")
    final = exercises.numbers("result['final_mse']", r["final_mse"], minimum=2, at_least=0)
    tanh = exercises.numbers("result['tanh_final_mse']", r["tanh_final_mse"], length=len(final), at_least=0)
    values = {"worst final MSE": max(final), "threshold": ESCAPE, "best tanh RNN MSE at the same rate": min(tanh)}
    measured = (f"IRNN: final test MSE per seed {fmt(final)}; tanh RNN at the same rate: {fmt(tanh)} "
                f"(uses the first marked value: below {ESCAPE:.3g}).")
    if model.cell != "rnn" or model.rnn.nonlinearity != "relu":
        return exercises.not_yet("01.1", f"This is not an IRNN: its recurrent layer is a {model.cell} "
                                 f"({getattr(model.rnn, 'nonlinearity', 'gated')}). {measured}",
                                 "an IRNN is a plain RNN with ReLU: replace model.rnn with nn.RNN(..., "
                                 "nonlinearity='relu', batch_first=True), then set its recurrent weights to the "
                                 "identity and both biases to zero", values)
    if not all(v < ESCAPE for v in final):
        return exercises.not_yet("01.1", f"The IRNN did not learn the long dependency on every seed. {measured}",
                                 "a ReLU recurrence is unbounded: look at the training loss of the first 50 steps — "
                                 "does it run away? Le et al. trained their IRNNs with small steps", values)
    if any(v < STUCK for v in tanh):
        return exercises.not_yet("01.1", "The IRNN solved the task, but so did (in part) the tanh RNN at the same "
                                 f"rate on some seed, so the rate alone may be what helped. {measured}",
                                 "train the notebook's tanh RNN (st.SequenceModel('rnn', 2, HIDDEN['rnn'])) at the "
                                 "IRNN's rate, on the same seeds, batches and length", values)
    return exercises.shows("01.1", "A plain RNN learned the long dependency on every seed once it started as an "
                           "identity map with ReLU (Le et al. 2015), while the tanh RNN at the same small rate learned "
                           "(almost) nothing: the small rate alone does not rescue it, the ReLU identity start does. "
                           f"{measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("lengths", "final_mse"),
                         "{'lengths': [T, ...] increasing, 'final_mse': [[one per seed] for each length]}")
    lengths = [_check.integer(f"result['lengths'][{i}]", t, 2) for i, t in enumerate(r["lengths"])]
    if len(lengths) < 3 or any(b <= a for a, b in zip(lengths, lengths[1:])):
        raise ValueError(f"result['lengths'] must hold at least 3 increasing lengths, got {lengths}")
    final = exercises.curves("result['final_mse']", r["final_mse"], at_least=0)
    if len(final) != len(lengths) or len({len(f) for f in final}) != 1:
        raise ValueError("result['final_mse'] must hold one list per length, each with one number per seed")
    learned = [sum(v < LEARNED for v in f) for f in final]
    seeds = len(final[0])
    table = "; ".join(f"T = {t}: {fmt(f)}" for t, f in zip(lengths, final))
    values = {"seeds learned at the shortest": learned[0], "seeds learned at the longest": learned[-1],
              "seeds": seeds, "threshold": LEARNED}
    if learned[0] < seeds:
        return exercises.not_yet("01.2", f"At the shortest length the plain RNN did not learn on every seed. "
                                 f"Final test MSE per seed — {table}.",
                                 "start short enough that the two marked values sit a few steps apart; is the "
                                 "model, learning rate and step count the notebook's?", values)
    if any(v < STUCK for v in final[-1]):
        return exercises.not_yet("01.2", f"At the longest length the plain RNN still learned on some seed. "
                                 f"Final test MSE per seed — {table}.",
                                 "go as long as the notebook's sequences", values)
    # "did not learn" is "not below STUCK", here as in the test above: the longest length always qualifies
    first_fail = next(t for t, f in zip(lengths, final) if all(v >= STUCK for v in f))
    return exercises.shows("01.2", f"The plain RNN learned the short dependency on every seed and none of the long "
                           f"one; from T = {first_fail} on it learned nothing on any seed. Final test MSE per "
                           f"seed — {table}.", values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 01; ``result=None`` reports it as not attempted.

    1. ``result = {'model': a trained IRNN, 'final_mse': [one per seed], 'tanh_final_mse': [one per seed]}``:
       the notebook's plain RNN turned into an IRNN (ReLU, identity recurrent weights, zero biases) and
       trained on every seed, and the tanh RNN at the same rate. Shows the effect when the model is a
       ReLU RNN, it used the first marked value (test MSE < ``ESCAPE``) on every seed, and the tanh RNN
       at the same rate stayed above ``STUCK`` on every seed.
    2. ``result = {'lengths': [...], 'final_mse': [[...], ...]}``: the plain RNN trained at several lengths,
       the final test MSE per seed for each. Shows the effect when the shortest length was learned (below
       ``LEARNED``) on every seed and the longest on none (above ``STUCK``).

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("01", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
