"""Companion of notebook 04 (gradient clipping): choosing a threshold from the norms a run has logged.

``torch.nn.utils.clip_grad_norm_`` returns the total gradient norm *before* clipping, so a few
logged steps show the range of the gradient. :func:`suggest_threshold` turns such a log into a
threshold: its median (robust to the spikes that clipping is for), its mean (Pascanu et al.
2013 suggest a threshold around the average norm) or a chosen percentile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch

__all__ = [
    "THRESHOLD_METHODS",
    "clipped_fraction",
    "hidden_state_gradients",
    "parameter_gradient_norms",
    "suggest_threshold",
]

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
        if isinstance(q, bool) or not isinstance(q, (int, float)):
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


def hidden_state_gradients(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """‖∂L/∂h_t‖ for t = 1..T of a one-layer Elman ``st.SequenceModel`` (MSE loss), unrolled by hand.

    The fused ``nn.RNN`` does not expose the gradient with respect to each hidden state, so the
    recurrence ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` is unrolled here with the
    model's own weights. The head reads only ``h_T``: every ``h_t`` with ``t < T`` gets its
    gradient through the recurrent Jacobians alone. Returns the norms over the whole batch.
    """
    rnn = model.rnn
    if not isinstance(rnn, torch.nn.RNN) or rnn.num_layers != 1 or rnn.nonlinearity != "tanh":
        raise ValueError("hidden_state_gradients needs a one-layer tanh nn.RNN in model.rnn")
    h = x.new_zeros(x.shape[0], rnn.hidden_size)
    states = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
        states.append(h)
    loss = torch.nn.functional.mse_loss(model.head(h).squeeze(-1), y)
    # autograd.grad, not backward(): the model's own .grad (if any) is left as it was
    return [float(g.norm()) for g in torch.autograd.grad(loss, states)]


def parameter_gradient_norms(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The norm of each parameter's gradient of the MSE loss on one batch (the model is left without .grad)."""
    model.zero_grad(set_to_none=True)
    torch.nn.functional.mse_loss(model(x), y).backward()
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
