"""Companion of notebook 01 (gated vs plain RNNs): how far back the loss can reach: ‖∂L/∂h_t‖ for every time step t.

:func:`train_with_reach` trains a model while measuring, every few steps, the test loss and the
:func:`gradient_reach` ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, so that the two can be plotted together.

PyTorch's fused ``nn.RNN``/``nn.GRU``/``nn.LSTM`` compute all steps in one kernel, so the
per-step hidden states are not leaves autograd can report on. Here the trained model is
replayed step by step with ``nn.RNNCell``/``nn.GRUCell``/``nn.LSTMCell`` carrying the same
weights, keeping the gradient of every hidden state.
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

_CELL_CLASSES = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}


def unrolled_cell(model: SequenceModel) -> nn.RNNCellBase:
    """A ``*Cell`` module carrying the weights of ``model``'s (one-layer) recurrent layer."""
    _check.instance("model", model, SequenceModel, "a seqtips SequenceModel")
    rnn = model.rnn
    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError("only one-layer, one-direction models can be unrolled here")
    kwargs = {"nonlinearity": rnn.nonlinearity} if model.cell == "rnn" else {}
    cell = _CELL_CLASSES[model.cell](rnn.input_size, rnn.hidden_size, bias=rnn.bias, **kwargs)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            if hasattr(cell, name) and getattr(cell, name) is not None:
                getattr(cell, name).copy_(getattr(rnn, f"{name}_l0"))
    return cell.to(next(model.parameters()).device)


def hidden_state_gradients(
    model: SequenceModel,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.mse_loss,
) -> torch.Tensor:
    """Mean over the batch of ‖∂L/∂h_t‖ for t = 1..T, as a CPU tensor of length T.

    The model is replayed with an unrolled cell (see :func:`unrolled_cell`); its prediction
    equals the fused model's. Nothing in ``model`` changes.
    """
    cell = unrolled_cell(model)
    _check.instance("x", x, torch.Tensor, "a tensor")
    _check.instance("y", y, torch.Tensor, "a tensor")
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    inputs = model.embedding(x) if model.embedding is not None else x
    if inputs.dim() != 3:
        raise ValueError(f"x must be [batch, time, features], got shape {tuple(x.shape)}")
    batch, hidden = inputs.shape[0], model.rnn.hidden_size
    h = inputs.new_zeros(batch, hidden)
    c = inputs.new_zeros(batch, hidden)
    states = []
    for t in range(inputs.shape[1]):
        if model.cell == "lstm":
            h, c = cell(inputs[:, t], (h, c))
        else:
            h = cell(inputs[:, t], h)
        states.append(h)
    out = model.head(h)
    out = out.squeeze(-1) if out.shape[-1] == 1 else out
    if loss_fn is nn.functional.mse_loss:
        _check.same_shape(out, y, "hidden_state_gradients")
    loss = loss_fn(out, y)
    grads = torch.autograd.grad(loss, states)
    return torch.stack([g.norm(dim=1).mean() for g in grads]).detach().cpu()


def gradient_reach(model: SequenceModel, x: torch.Tensor, y: torch.Tensor) -> float:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: the fraction of the gradient at the last step that reaches the first.

    A number without units, so that cells and sizes compare: 1 means the first step receives as
    much gradient as the last, 1e-8 that it receives (almost) none.
    """
    grads = hidden_state_gradients(model, x, y)
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

    Training stops early, with ``diverged=True``, if a chunk diverges.
    """
    _check.instance("model", model, SequenceModel, "a seqtips SequenceModel")
    steps, every = _check.integer("steps", steps, 1), _check.integer("every", every, 1)
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a function evaluate(model) -> float, got {evaluate!r}")
    out = ReachHistory()
    iterator = iter(batches)
    start = time.perf_counter()

    def checkpoint(step: int) -> None:
        model.eval()
        with torch.no_grad():
            value = evaluate(model)
        model.train()
        out.step.append(step)
        out.eval_loss.append(float(value))
        out.reach.append(gradient_reach(model, *probe))

    checkpoint(0)
    done = 0
    while done < steps:
        chunk = min(every, steps - done)
        history = train(model, optimizer, iterator, chunk)
        out.train_loss.extend(history.train_loss)
        done += history.steps_done
        if history.diverged or history.steps_done < chunk:
            out.diverged = history.diverged
            break
        checkpoint(done)
    out.seconds = time.perf_counter() - start
    return out
