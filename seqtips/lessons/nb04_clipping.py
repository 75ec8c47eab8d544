"""Companion of notebook 04 (gradient clipping): a task where the gradient explodes through time,
and choosing a threshold from the norms a run has logged.

- :func:`recent_sum` / :func:`recent_sum_batches`: the target is the sum of the *last two* values
  of the sequence, so the answer needs no memory, yet backpropagation still runs through every
  step — any growth of the gradient with the length comes from the recurrence alone.
- ``torch.nn.utils.clip_grad_norm_`` returns the total gradient norm *before* clipping, so a few
  logged steps show the range of the gradient. :func:`suggest_threshold` turns such a log into a
  threshold: its median (robust to the spikes that clipping is for), its mean (Pascanu et al.
  2013 suggest a threshold around the average norm) or a chosen percentile.
- :func:`range_ratios` / :func:`first_out_of_range`: when a parameter's gradient "leaves its range" —
  its norm exceeds ``factor`` times the largest norm it had in the first ``window`` steps.
- :func:`plot_sweep`: end test MSE against the share of steps a threshold clipped, the rule marked.
- :func:`hidden_state_gradients` (‖∂L/∂h_t‖ for every step) is notebook 01's unrolled replay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import _check
from ..data import batches
from ..plots import seed_band

__all__ = [
    "THRESHOLD_METHODS",
    "clipped_fraction",
    "first_out_of_range",
    "parameter_gradient_norms",
    "plot_sweep",
    "plot_time_gradients",
    "range_ratios",
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
    """An endless stream of :func:`recent_sum` batches drawn from ``generator``."""
    return batches(recent_sum, batch_size, seq_len, generator)


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


def _norm_table(param_norms: Sequence[Sequence[float]], window: int) -> np.ndarray:
    window = _check.integer("window", window, 1)
    table = np.asarray(param_norms, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError("param_norms must be a [steps, parameters] table with at least one step, "
                         f"got shape {table.shape}")
    if table.shape[0] < window:
        raise ValueError(f"param_norms has {table.shape[0]} steps, fewer than window={window}")
    return table


def range_ratios(param_norms: Sequence[Sequence[float]], window: int = 5) -> np.ndarray:
    """Per parameter (column): its largest gradient norm over all steps / its largest over the first ``window``.

    ``param_norms`` is a ``[steps, parameters]`` table of per-parameter gradient norms, one row per
    training step. A non-finite norm counts as infinitely far out of range.
    """
    table = _norm_table(param_norms, window)
    start = table[:window].max(axis=0)
    peak = np.where(np.isfinite(table), table, np.inf).max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(start > 0, peak / start, np.inf)


def first_out_of_range(param_norms: Sequence[Sequence[float]], window: int = 5,
                       factor: float = 10.0) -> list[int | None]:
    """Per parameter: the first step (1-based) whose gradient norm exceeds ``factor`` × its largest
    norm over the first ``window`` steps — where it "left its range" — or None if it never did."""
    table = _norm_table(param_norms, window)
    factor = _check.number("factor", factor, positive=True)
    limit = factor * table[:window].max(axis=0)
    out = ~(np.where(np.isfinite(table), table, np.inf) <= limit)
    return [int(np.argmax(col)) + 1 if col.any() else None for col in out.T]


def plot_sweep(ax: plt.Axes, shares: Mapping[float, Sequence[float]], ends: Mapping[float, Sequence[float]],
               rule: float, colors: Mapping[float, str] | None = None, baseline: float | None = None,
               ceiling: float = 100.0) -> plt.Axes:
    """End test MSE (log) against the share of steps clipped: one point per run, one colour per threshold.

    ``shares`` and ``ends`` map each threshold to its runs' values; a run that blew up (``inf``) is
    drawn at ``ceiling`` with an upward triangle. ``rule``'s points are drawn larger, as stars.
    """
    colors = colors or {}
    for tau in shares:
        y = np.asarray(ends[tau], dtype=float)
        ran_away = ~np.isfinite(y) | (y > ceiling)
        x = np.asarray(shares[tau], dtype=float)
        style = dict(color=colors.get(tau), s=140 if tau == rule else 36, zorder=3 if tau == rule else 2,
                     edgecolor="k" if tau == rule else "none")
        label = f"{tau:g}" + (" (warm-up rule)" if tau == rule else "")
        if (~ran_away).any():
            ax.scatter(x[~ran_away], y[~ran_away], marker="*" if tau == rule else "o", label=label, **style)
        if ran_away.any():
            ax.scatter(x[ran_away], np.full(ran_away.sum(), ceiling), marker="^",
                       label=None if (~ran_away).any() else label, **style)
    if baseline is not None:
        ax.axhline(baseline, color="0.3", ls="--", lw=1, label="learned nothing")
    ax.set(yscale="log", xlim=(-0.03, 1.03), xlabel="share of training steps clipped",
           ylabel="end test MSE (▲: blew up or ran away)")
    return ax
