"""Companion of notebook 04 (gradient clipping): a task where the gradient explodes through time,
and choosing a threshold from the norms a run has logged.

- :func:`recent_sum` / :func:`recent_sum_batches`: the target is the sum of the *last two* values
  of the sequence, so the answer needs no memory, yet backpropagation still runs through every
  step — any growth of the gradient with the length comes from the recurrence alone.
- ``torch.nn.utils.clip_grad_norm_`` returns the total gradient norm *before* clipping, so a few
  logged steps show the range of the gradient. :func:`suggest_threshold` turns such a log into a
  threshold: its median (robust to the spikes that clipping is for), its mean (Pascanu et al.
  2013 suggest a threshold around the average norm) or a chosen percentile.
- :func:`hidden_state_gradients` (‖∂L/∂h_t‖ for every step) is notebook 01's unrolled replay.
- :func:`check_exercise` checks the notebook's two exercises (see :mod:`.exercises`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..plots import seed_band
from ..verdict import fmt
from . import exercises
from .nb01_gated import hidden_state_gradients  # the one unrolled replay, shared with notebook 01

__all__ = [
    "THRESHOLD_METHODS",
    "check_exercise",
    "clipped_fraction",
    "hidden_state_gradients",
    "parameter_gradient_norms",
    "plot_time_gradients",
    "recent_sum",
    "recent_sum_batches",
    "suggest_threshold",
]


def recent_sum(n: int, seq_len: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` sequences of length ``seq_len`` whose target is the sum of their last two values.

    The same layout as :func:`seqtips.adding_problem` — ``x`` is ``[n, seq_len, 2]`` (channel 0: a
    value ~ U[0, 1]; channel 1: a 0/1 marker), ``y`` is ``[n]`` — but the two marked steps are
    always the last two. Predicting the mean scores MSE 1/6, the same "learned nothing" line.
    """
    n, seq_len = _check.integer("n", n, 1), _check.integer("seq_len", seq_len, 2)
    _check.generator(generator)
    values = torch.rand(n, seq_len, generator=generator)
    markers = torch.zeros(n, seq_len)
    markers[:, -2:] = 1.0
    return torch.stack([values, markers], dim=-1), values[:, -2:].sum(dim=1)


def recent_sum_batches(batch_size: int, seq_len: int, generator: torch.Generator | None = None
                       ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of :func:`recent_sum` batches drawn from ``generator`` (arguments checked at the call)."""
    batch_size, seq_len = _check.integer("batch_size", batch_size, 1), _check.integer("seq_len", seq_len, 2)
    _check.generator(generator)

    def stream() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield recent_sum(batch_size, seq_len, generator)

    return stream()


def plot_time_gradients(ax: plt.Axes, grads: Mapping[str, Sequence[Sequence[float]]],
                        colors: Mapping[str, str] | None = None) -> plt.Axes:
    """‖∂L/∂h_t‖ against t (log scale), one seed band per entry (label → list of per-seed traces)."""
    colors = colors or {}
    for label, traces in grads.items():
        width = max(len(t) for t in traces)
        seed_band(ax, np.arange(1, width + 1), traces, label=label, color=colors.get(label))
    ax.set(yscale="log", xlabel="time step t", ylabel="‖∂L/∂h_t‖")
    ax.legend()
    return ax

#: The ways :func:`suggest_threshold` can summarise a log of gradient norms.
THRESHOLD_METHODS = ("median", "mean", "percentile")


def _as_norms(norms: Iterable[float] | torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(norms, (str, bytes)) or not isinstance(norms, (Iterable, torch.Tensor, np.ndarray)):
        raise TypeError(f"norms must be a sequence of numbers, got {type(norms).__name__}")
    if isinstance(norms, torch.Tensor):
        values = norms.detach().cpu().double().flatten().numpy()
    else:
        try:
            values = np.asarray([float(v) for v in norms], dtype=float)
        except (TypeError, ValueError):
            raise ValueError("norms must hold numbers only (floats, numpy or 0-d torch scalars)") from None
    if values.size == 0:
        raise ValueError("norms must hold at least one value, got an empty sequence")
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError("norms must be non-negative (they are gradient norms), got a negative value")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("norms must hold at least one finite value; all were inf or NaN")
    return finite


def suggest_threshold(
    norms: Iterable[float] | torch.Tensor | np.ndarray,
    method: str = "median",
    q: float | None = None,
) -> float:
    """Propose a ``max_norm`` for ``clip_grad_norm_`` from logged pre-clip gradient norms.

    ``method``: ``"median"`` (default; one spike cannot move it), ``"mean"`` (the average norm
    that Pascanu et al. 2013 suggest; spikes pull it up) or ``"percentile"`` with ``q`` in
    (0, 100] (e.g. ``q=90`` clips the largest 10 % of the logged steps). Non-finite values — the
    last steps of a run that blew up — are ignored. Returns a positive float.
    """
    if method not in THRESHOLD_METHODS or not isinstance(method, str):
        error = ValueError if isinstance(method, str) else TypeError
        raise error(f"method must be one of {', '.join(map(repr, THRESHOLD_METHODS))}, got {method!r}")
    if method == "percentile":
        if q is None:
            raise ValueError("q must be given with method='percentile', e.g. q=90")
        if not _check.is_number(q):
            raise TypeError(f"q must be a number in (0, 100], got {q!r}")
        if not 0 < q <= 100:
            raise ValueError(f"q must be a number in (0, 100], got {q!r}")
    elif q is not None:
        raise ValueError(f"q is only used with method='percentile', got q={q!r} with method={method!r}")
    values = _as_norms(norms)
    if method == "median":
        threshold = float(np.median(values))
    elif method == "mean":
        threshold = float(np.mean(values))
    else:
        threshold = float(np.percentile(values, q))
    if not threshold > 0 or not math.isfinite(threshold):
        raise ValueError(
            f"the {method} of norms is {threshold!r}; a clipping threshold must be positive and finite "
            "(were all logged gradients zero?)"
        )
    return threshold


def parameter_gradient_norms(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The norm of each parameter's gradient of the MSE loss on one batch (the model is left without .grad)."""
    _check.module(model)
    _check.instance("x", x, torch.Tensor, "a tensor")
    _check.instance("y", y, torch.Tensor, "a tensor")
    model.zero_grad(set_to_none=True)
    prediction = model(x)
    _check.same_shape(prediction, y, "parameter_gradient_norms")
    torch.nn.functional.mse_loss(prediction, y).backward()
    norms = {name: float(p.grad.norm()) for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return norms


def clipped_fraction(norms: Iterable[float], threshold: float) -> float:
    """The share of logged pre-clip norms that ``clip_grad_norm_(…, threshold)`` would shorten (norm > threshold)."""
    values = np.asarray(list(norms), dtype=float)
    if values.size == 0:
        raise ValueError("norms must hold at least one value")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    return float(np.mean(values > threshold))


# --- exercises ------------------------------------------------------------------------------------

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


def check_exercise(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
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
