"""Exercises of notebook 02: their checkers and reference answers (not importable through the lesson).

``from seqtips.exercises import nb02 as exercises``, then ``exercises.check(1, result)``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _check
from . import _common as exercises

_TIMINGS = "{'hidden': [sizes], 'gru_ms': [...], 'lstm_ms': [...], 'crossing': a size or None}"


def _timings(result: Any, extra: tuple[str, ...] = ()) -> tuple[list[int], list[float], list[float], Any]:
    what = _TIMINGS[:-1] + "".join(f", {k!r}: [...]" for k in extra) + "}"
    r = exercises.fields(result, ("hidden", "gru_ms", "lstm_ms", "crossing", *extra), what)
    exercises.numbers("result['hidden']", r["hidden"], minimum=3, positive=True)
    hidden = [_check.integer(f"result['hidden'][{i}]", h, 1) for i, h in enumerate(r["hidden"])]
    if any(b <= a for a, b in zip(hidden, hidden[1:])):
        raise ValueError(f"result['hidden'] must be increasing sizes, got {hidden}")
    gru = exercises.numbers("result['gru_ms']", r["gru_ms"], len(hidden), positive=True)
    lstm = exercises.numbers("result['lstm_ms']", r["lstm_ms"], len(hidden), positive=True)
    crossing = r["crossing"]
    if crossing is not None and (_check.integer("result['crossing']", crossing, 1) not in hidden):
        raise ValueError(f"result['crossing'] must be one of the sizes measured ({hidden}) or None, got {crossing}")
    return hidden, gru, lstm, crossing


def _crossing_problem(hidden: list[int], ratio: list[float], crossing: Any) -> str:
    """Why ``crossing`` disagrees with the timings ("" when it agrees)."""
    first = next((h for h, q in zip(hidden, ratio) if q <= 1), None)
    if crossing == first:
        return ""
    if crossing is None:
        return ("you answered None, but at some size your GRU step took no longer than the LSTM step: "
                "compare gru_ms / lstm_ms at each size")
    q = ratio[hidden.index(crossing)]
    if q > 1:
        return (f"at H = {crossing} your GRU step took {q:.2f}x the LSTM step, so the two do not cost the "
                "same there yet: look at the ratio gru_ms / lstm_ms at each size")
    return f"H = {crossing} has GRU <= LSTM, but so does a smaller size you measured: the question asks the smallest"


def _sizes(hidden: list[int], ratio: list[float]) -> str:
    return ", ".join(f"H {h}: x{q:.2f}" for h, q in zip(hidden, ratio))


def _exercise_1(result: Any) -> exercises.Outcome:
    hidden, gru, lstm, crossing = _timings(result)
    ratio = [g / m for g, m in zip(gru, lstm)]
    values = {"ratio at smallest H": ratio[0], "ratio at largest H": ratio[-1],
              "crossing": math.nan if crossing is None else float(crossing)}
    problem = _crossing_problem(hidden, ratio, crossing)
    measured = f"GRU step / LSTM step — {_sizes(hidden, ratio)}."
    if problem:
        return exercises.not_yet("02.1", f"Your answer, H = {crossing}, does not match your timings. {measured}",
                                 problem, values)
    where = (f"a GRU step costs no more than an LSTM step from H = {crossing} on (of the sizes measured)"
             if crossing is not None else
             f"the GRU step was slower at every size up to H = {hidden[-1]}; the gap went from x{ratio[0]:.2f} to "
             f"x{ratio[-1]:.2f} — on this device the cells cost the same, if ever, beyond the sizes measured")
    return exercises.shows("02.1", f"Consistent with your timings: {where}. {measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    hidden, gru, lstm, crossing = _timings(result, ("fused_ratio",))
    fused = exercises.numbers("result['fused_ratio']", result["fused_ratio"], len(hidden), positive=True)
    ratio = [g / m for g, m in zip(gru, lstm)]
    lower = sum(u < f for u, f in zip(ratio, fused))
    values = {"sizes where unfused ratio is lower": lower, "sizes": len(hidden),
              "unfused ratio at largest H": ratio[-1], "fused ratio at largest H": fused[-1]}
    measured = (f"GRU step / LSTM step without the fused kernel — {_sizes(hidden, ratio)}; with it — "
                f"{_sizes(hidden, fused)}.")
    problem = _crossing_problem(hidden, ratio, crossing)
    if problem:
        return exercises.not_yet("02.2", f"Your answer, H = {crossing}, does not match your timings. {measured}",
                                 problem, values)
    if lower * 2 <= len(hidden):
        return exercises.not_yet(
            "02.2", f"Without the fused kernel the GRU was relatively cheaper at only {lower} of {len(hidden)} sizes. "
            f"{measured}",
            "did the switch take effect? Set torch.backends.mkldnn.enabled = False before building and timing the "
            "models (and back to True afterwards). It changes the CPU path only: on CUDA, "
            "torch.backends.cudnn.enabled = False plays its part.", values)
    where = f"from H = {crossing}" if crossing is not None else "at none of the sizes measured"
    return exercises.shows(
        "02.2", f"With both cells running step by step, the GRU step was relatively cheaper at {lower} of "
        f"{len(hidden)} sizes, and no dearer than the LSTM step {where}; at H = {hidden[-1]} it took x{ratio[-1]:.2f} "
        f"the LSTM step (parameter ratio x0.75). {measured}", values)


def check(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 02; ``result=None`` reports it as not attempted.

    1. ``result = {'hidden': [sizes], 'gru_ms': [...], 'lstm_ms': [...], 'crossing': H or None}`` —
       median milliseconds of a training step per hidden size (at least three, increasing), and the
       smallest size at which the GRU step took no longer than the LSTM step (None: at none).
       Shows the effect when the answer agrees with the timings.
    2. The same with ``torch.backends.mkldnn.enabled = False``, plus ``'fused_ratio'``: exercise 1's
       GRU/LSTM ratios at the same sizes. Shows the effect when the answer agrees with the timings and
       the GRU is relatively cheaper without the fused kernel at most sizes.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("02", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
