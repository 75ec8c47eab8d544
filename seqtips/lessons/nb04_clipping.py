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

__all__ = ["THRESHOLD_METHODS", "suggest_threshold"]

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
