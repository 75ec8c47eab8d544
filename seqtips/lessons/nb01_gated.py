"""Companion of notebook 01 (gated vs plain RNNs): how far back the loss can reach: ‖∂L/∂h_t‖ for every time step t.

:func:`train_with_reach` trains a model while measuring, every few steps, the test loss and the
:func:`gradient_reach` ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, so that the two can be plotted together.

The per-step gradients come from :func:`seqtips.hidden_state_gradients` (the unrolled replay,
shared with notebook 04). The exercises are in :mod:`seqtips.exercises.nb01`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import _check
from ..models import SequenceModel
from ..training import train
from ..unrolled import hidden_state_gradients


def gradient_reach(model: SequenceModel, x: torch.Tensor, y: torch.Tensor) -> float:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: the fraction of the gradient at the last step that reaches the first.

    A number without units, so that cells and sizes compare: 1 means the first step receives as
    much gradient as the last, 1e-8 that it receives (almost) none.
    """
    grads = hidden_state_gradients(model, x, y)
    if not bool(torch.isfinite(grads).all()):
        return math.nan  # the weights or the gradients blew up: there is no fraction to give
    return float(grads[0] / grads[-1]) if grads[-1] > 0 else 0.0


@dataclass
class ReachHistory:
    """A training run checkpointed every few steps: test loss and gradient reach at each checkpoint."""

    step: list[int] = field(default_factory=list)  # 0 = at initialisation
    eval_loss: list[float] = field(default_factory=list)
    reach: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)  # every training step
    diverged: bool = False
    seconds: float = 0.0

    @property
    def final_eval(self) -> float:
        return math.inf if self.diverged or not self.eval_loss else self.eval_loss[-1]

    def first_step_below(self, value: float) -> int | None:
        """The first checkpoint whose test loss is below ``value`` (``None``: never)."""
        return next((s for s, v in zip(self.step, self.eval_loss) if v < value), None)

    def reach_at(self, step: int) -> float:
        """The gradient reach measured at checkpoint ``step``."""
        return self.reach[self.step.index(step)]


def train_with_reach(
    model: SequenceModel,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    steps: int,
    evaluate: Callable[[nn.Module], float],
    probe: tuple[torch.Tensor, torch.Tensor],
    every: int = 50,
) -> ReachHistory:
    """Train with :func:`seqtips.train` in chunks of ``every`` steps; at initialisation and after each
    chunk, record the test loss (``evaluate``) and the :func:`gradient_reach` on the ``probe`` batch.

    Training stops early, with ``diverged=True``, if a chunk diverges or a checkpoint's test loss
    or reach is not finite (that checkpoint is not recorded).
    """
    _check.instance("model", model, SequenceModel, "a seqtips SequenceModel")
    steps, every = _check.integer("steps", steps, 1), _check.integer("every", every, 1)
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a function evaluate(model) -> float, got {evaluate!r}")
    if not (isinstance(probe, (tuple, list)) and len(probe) == 2 and all(isinstance(t, torch.Tensor) for t in probe)):
        raise TypeError(f"probe must be an (inputs, targets) pair of tensors, got {type(probe).__name__}")
    out = ReachHistory()
    iterator = iter(batches)
    start = time.perf_counter()

    def checkpoint(step: int) -> bool:
        model.eval()
        with torch.no_grad():
            value = _check.scalar("evaluate(model)'s result", evaluate(model))
        model.train()
        reach = gradient_reach(model, *probe)
        if not (math.isfinite(value) and math.isfinite(reach)):
            out.diverged = True
            return False
        out.step.append(step)
        out.eval_loss.append(value)
        out.reach.append(reach)
        return True

    done = 0
    ok = checkpoint(0)
    while ok and done < steps:
        chunk = min(every, steps - done)
        history = train(model, optimizer, iterator, chunk)
        out.train_loss.extend(history.train_loss)
        done += history.steps_done
        if history.diverged or history.steps_done < chunk:
            out.diverged = history.diverged
            break
        ok = checkpoint(done)
    out.seconds = time.perf_counter() - start
    return out
