"""Exercises of notebook 06: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb06 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

from typing import Any

from .. import _check
from ..verdict import fmt
from . import _common as exercises

#: Exercise 1: "close" — the GRU's and the LSTM's mean test NLL over the seeds within this many nats. Over base
#: seeds 0-21 the two cells' runs differed by 0.045 nats at most on one seed, and their means over two seeds by less
#: than 0.03.
CLOSE_NATS = 0.05
#: Exercise 1: the GRU generator must have at most this share of the LSTM generator's parameters.
PARAMETER_SHARE = 0.85
#: Exercise 2: the coldest temperature must copy at least this many times as often as the hottest.
COPY_FACTOR = 2.0


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("gru_test", "lstm_test", "gru_params", "lstm_params"),
                         "{'gru_test': [...], 'lstm_test': [...]} (test NLL per seed), 'gru_params': n, "
                         "'lstm_params': n")
    gru = exercises.numbers("result['gru_test']", r["gru_test"], positive=True)
    lstm = exercises.numbers("result['lstm_test']", r["lstm_test"], len(gru), positive=True)
    gru_params = _check.integer("result['gru_params']", r["gru_params"], 1)
    lstm_params = _check.integer("result['lstm_params']", r["lstm_params"], 1)
    share = gru_params / lstm_params
    gap = abs(sum(gru) / len(gru) - sum(lstm) / len(lstm))
    values = {"gap of the means (nats)": gap, "GRU / LSTM parameters": share, "threshold": CLOSE_NATS}
    measured = (f"test NLL per seed — GRU {fmt(gru, 4)}, LSTM {fmt(lstm, 4)}; parameters {gru_params:,} vs "
                f"{lstm_params:,} ({share:.0%}).")
    if share > PARAMETER_SHARE:
        return exercises.not_yet("06.1", f"The GRU generator has {share:.0%} of the LSTM's "
                                 f"parameters. {measured}", "build both with the recipe's sizes (SequenceModel), and "
                                 "count with st.count_parameters on each model", values)
    if gap >= CLOSE_NATS:
        return exercises.not_yet("06.1", f"The two cells' mean test NLL differ by {gap:.3f} nats, not less than "
                                 f"{CLOSE_NATS:g}. {measured}", "give the LSTM the whole recipe — Adam at the chosen "
                                 "rate, the clipping threshold and early stopping — on the same seeds", values)
    return exercises.shows("06.1", f"Tip 2 on real names: on average over the seeds the GRU and the LSTM ended "
                           f"{gap:.3f} nats apart, the GRU with {share:.0%} of the parameters. {measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("temperatures", "copied", "distinct"),
                         "{'temperatures': [...] increasing, 'copied': [...], 'distinct': [...]} (shares, one per "
                         "temperature)")
    temps = exercises.numbers("result['temperatures']", r["temperatures"], minimum=3, positive=True)
    if any(b <= a for a, b in zip(temps, temps[1:])):
        raise ValueError(f"result['temperatures'] must increase, got {temps}")
    copied = exercises.numbers("result['copied']", r["copied"], len(temps))
    distinct = exercises.numbers("result['distinct']", r["distinct"], len(temps))
    if not all(0 <= v <= 1 for v in copied + distinct):
        raise ValueError("result['copied'] and result['distinct'] are shares: numbers between 0 and 1")
    factor = copied[0] / max(copied[-1], 1e-12)
    values = {"copied, coldest / hottest": factor, "distinct, coldest": distinct[0], "distinct, hottest": distinct[-1],
              "threshold": COPY_FACTOR}
    measured = "; ".join(f"temperature {t:g}: {c:.1%} copied, {d:.0%} distinct"
                         for t, c, d in zip(temps, copied, distinct)) + "."
    if factor < COPY_FACTOR or distinct[0] >= distinct[-1]:
        return exercises.not_yet("06.2", f"The coldest temperature did not copy clearly more, or repeat itself more, "
                                 f"than the hottest. {measured}", "span a wide range — well below and well above "
                                 "1 — and draw a few hundred names per temperature, with the same generator", values)
    return exercises.shows("06.2", f"Colder sampling copies training names x{factor:.3g} as often as the hottest and "
                           f"repeats itself; hotter sampling invents more. {measured}", values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 06; ``result=None`` reports it as not attempted.

    1. ``result = {'gru_test', 'lstm_test', 'gru_params', 'lstm_params'}``: the full recipe with a GRU and
       with an LSTM on the same seeds (test NLL per seed) and each generator's parameter count. Shows the
       effect when their mean test NLL are within ``CLOSE_NATS`` and the GRU has at most
       ``PARAMETER_SHARE`` of the LSTM's parameters.
    2. ``result = {'temperatures', 'copied', 'distinct'}``: names sampled from one generator at rising
       temperatures, the share that copy a training name and the share that are distinct. Shows the effect
       when the coldest copies ``COPY_FACTOR`` times as often as the hottest and is less distinct.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("06", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
