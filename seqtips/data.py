"""Synthetic sequence tasks, generated on the spot (no downloads).

- :func:`adding_problem` — Hochreiter & Schmidhuber's long-range regression task: a model must
  remember two marked values across the whole sequence. Predicting the mean (1.0) scores
  MSE = 1/6, the "learned nothing" line (:data:`ADDING_BASELINE_MSE`).
- :func:`batches` — an endless stream of fresh batches of such a task (:func:`adding_batches`
  for the adding problem).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import torch

from . import _check

#: MSE of always predicting 1.0 on the adding problem: Var(U1 + U2) = 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(
    n: int, seq_len: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Make ``n`` examples of the adding problem of length ``seq_len``.

    Returns ``x`` of shape ``[n, seq_len, 2]`` (channel 0: a value ~ U[0, 1]; channel 1: a 0/1
    marker, exactly one marker in each half of the sequence) and ``y`` of shape ``[n]``, the sum
    of the two marked values.
    """
    n, seq_len = _check.integer("n", n, 1), _check.integer("seq_len", seq_len, 2)
    _check.generator(generator)
    values = torch.rand(n, seq_len, generator=generator)
    half = seq_len // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, seq_len, (n,), generator=generator)
    markers = torch.zeros(n, seq_len)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)
    y = values[rows, first] + values[rows, second]
    return x, y


def batches(
    task: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    batch_size: int,
    seq_len: int,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of fresh batches ``task(batch_size, seq_len, generator=generator)``.

    ``task`` makes one batch (:func:`adding_problem`, or a notebook's own task of the same
    signature). The arguments are checked here, at the call, not at the first ``next()``.
    """
    if not callable(task):
        raise TypeError(f"task must be a function (n, seq_len, generator=...) -> (x, y), got {task!r}")
    batch_size, seq_len = _check.integer("batch_size", batch_size, 1), _check.integer("seq_len", seq_len, 2)
    _check.generator(generator)

    return (task(batch_size, seq_len, generator=generator) for _ in itertools.count())


def adding_batches(
    batch_size: int, seq_len: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of fresh adding-problem batches drawn from ``generator``."""
    return batches(adding_problem, batch_size, seq_len, generator)
