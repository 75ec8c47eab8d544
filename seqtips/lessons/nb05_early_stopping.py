"""Companion of notebook 05 (early stopping): replay stopping rules over a recorded curve.

One training run records its validation curve; :func:`replay` shows where any patience or
``min_delta`` would have stopped on it — with :class:`seqtips.EarlyStopping`'s rule (compare
with the best value so far) or with the book repository's rule (compare with the previous
epoch). :func:`counting_task` is its data set. Its exercises are in :mod:`seqtips.exercises.nb05`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import torch

from .. import _check
from ..early_stopping import EarlyStopping, check_min_delta, check_patience

_RULES = ("best", "previous")


class Replay(NamedTuple):
    """Where a stopping rule stops on a recorded curve.

    ``stop_epoch``: index of the value that triggers the stop, None if it never stops.
    ``best_epoch``: index of the checkpoint the rule keeps at that point.
    ``epochs_run``: how many epochs are trained (``stop_epoch + 1``, or the whole curve).
    """

    stop_epoch: int | None
    best_epoch: int | None
    epochs_run: int


def _check_values(values: Any) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.detach().flatten().tolist()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"values must be a sequence of numbers, got {type(values).__name__}")
    return [_check.scalar(f"values[{i}]", v) for i, v in enumerate(values)]


def replay(
    values: Sequence[float],
    patience: int,
    min_delta: float = 0.0,
    mode: str = "min",
    rule: str = "best",
) -> Replay:
    """Replay a stopping rule over a recorded validation curve.

    ``rule="best"``: ``EarlyStopping`` (compare with the best value so far).
    ``rule="previous"``: the book repository's rule -- the counter grows when a loss is not
    below the *previous* epoch's loss (``loss_t >= loss_tm1``) and resets when it is; the
    first epoch never counts; it stops when the counter reaches ``patience``. Its checkpoint
    is epoch 0, replaced by any later epoch whose loss is below both its predecessor and
    every earlier checkpointed loss from epoch 1 on (epoch 0's loss is never recorded as
    the best). A NaN compares False, so it resets the counter. Only
    ``mode="min"`` and ``min_delta=0`` exist for it. For ``patience >= 1`` this is the
    book's rule exactly; with ``patience=0`` it stops at the first value not below its
    predecessor (the book's code would stop after epoch 1 whatever happened).
    """
    vals = _check_values(values)
    patience, min_delta = check_patience(patience), check_min_delta(min_delta)
    mode, rule = _check.choice("mode", mode, ("min", "max")), _check.choice("rule", rule, _RULES)

    if rule == "best":
        stopper = EarlyStopping(patience, min_delta, mode, restore_best=False)
        for v in vals:
            if stopper.step(v):
                break
        return Replay(stopper.stopped_epoch, stopper.best_epoch, len(stopper.values))

    if mode != "min" or min_delta != 0.0:
        raise ValueError("rule='previous' exists only for mode='min' and min_delta=0 (as in the book)")
    counter, best, best_epoch = 0, math.inf, None
    for t, v in enumerate(vals):
        if t == 0:  # the book saves epoch 0 unconditionally but does not record its loss
            best_epoch = 0
            continue
        if v >= vals[t - 1]:
            counter += 1
            if counter >= patience:
                return Replay(t, best_epoch, t + 1)
        else:
            if v < best:
                best, best_epoch = v, t
            counter = 0
    return Replay(None, best_epoch, len(vals))


def counting_task(
    n: int,
    seq_len: int = 20,
    vocab_size: int = 5,
    flip: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of tokens labelled 1.0 when token 1 occurs more often than token 2, else 0.0.

    Tokens are uniform over ``0 .. vocab_size-1``. ``flip`` is the fraction of labels that are
    flipped on purpose (label noise; exactly ``round(flip * n)`` of them), which makes a model
    that memorises its training set score worse on clean data. Returns ``(tokens [n, seq_len]
    int64, labels [n] float)``.
    """
    n, seq_len = _check.integer("n", n, 1), _check.integer("seq_len", seq_len, 1)
    vocab_size = _check.integer("vocab_size", vocab_size, 3)
    if not _check.number("flip", flip, 0.0) <= 1.0:
        raise ValueError(f"flip must be a fraction between 0 and 1, got {flip!r}")
    _check.generator(generator)
    tokens = torch.randint(0, vocab_size, (n, seq_len), generator=generator)
    labels = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).float()
    n_flip = round(flip * n)
    if n_flip:
        idx = torch.randperm(n, generator=generator)[:n_flip]
        labels[idx] = 1.0 - labels[idx]
    return tokens, labels


def mark_epoch(
    ax: plt.Axes, epoch: float, label: str | None = None, color: str = "k", ls: str = "--"
) -> plt.Axes:
    """A vertical marker (best epoch, early-stopping epoch, …)."""
    ax.axvline(epoch, color=color, ls=ls, lw=1.2, label=label)
    return ax
