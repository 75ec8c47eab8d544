"""Synthetic sequence tasks, generated on the spot (no downloads).

- :func:`adding_problem` — Hochreiter & Schmidhuber's long-range regression task: a model must
  remember two marked values across the whole sequence. Predicting the mean (1.0) scores
  MSE = 1/6, the "learned nothing" line (:data:`ADDING_BASELINE_MSE`).
- :func:`counting_task` — classify whether token 1 occurs more often than token 2; with some
  training labels flipped it overfits within seconds, which is what early stopping needs.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def adding_batches(
    batch_size: int, seq_len: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of fresh adding-problem batches drawn from ``generator``.

    The arguments are checked here, at the call, not at the first ``next()``.
    """
    batch_size, seq_len = _check.integer("batch_size", batch_size, 1), _check.integer("seq_len", seq_len, 2)
    _check.generator(generator)

    def stream() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield adding_problem(batch_size, seq_len, generator=generator)

    return stream()


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
