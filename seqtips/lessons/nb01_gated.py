"""Companion of notebook 01 (gated vs plain RNNs): how far back the loss can reach: ‖∂L/∂h_t‖ for every time step t.

:func:`train_with_reach` trains a model while measuring, every few steps, the test loss and the
:func:`gradient_reach` ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, so that the two can be plotted together.

PyTorch's fused ``nn.RNN``/``nn.GRU``/``nn.LSTM`` compute all steps in one kernel, so the
per-step hidden states are not leaves autograd can report on. Here the trained model is
replayed step by step with ``nn.RNNCell``/``nn.GRUCell``/``nn.LSTMCell`` carrying the same
weights, keeping the gradient of every hidden state.

:func:`check_exercise` checks the notebook's two exercises (see :mod:`.exercises`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..models import SequenceModel
from ..training import checked_loss, train
from ..verdict import fmt
from . import exercises

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
    loss = checked_loss(loss_fn, out, y, "hidden_state_gradients")
    grads = torch.autograd.grad(loss, states)
    return torch.stack([g.norm(dim=1).mean() for g in grads]).detach().cpu()


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


# --- exercises ------------------------------------------------------------------------------------

#: "Solved" in both exercises: test MSE below a tenth of the learned-nothing line (the notebook's SOLVED).
SOLVED = ADDING_BASELINE_MSE / 10
#: Exercise 2: "learned" below half the learned-nothing line, "did not learn" above 60 % of it.
LEARNED, STUCK = 0.5 * ADDING_BASELINE_MSE, 0.6 * ADDING_BASELINE_MSE


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("model", "final_mse"), "{'model': one trained model, 'final_mse': [one per seed]}")
    model = r["model"]
    _check.instance("result['model']", model, SequenceModel, "a seqtips SequenceModel")
    final = exercises.numbers("result['final_mse']", r["final_mse"], minimum=2, at_least=0)
    values = {"worst final MSE": max(final), "threshold": SOLVED}
    measured = f"final test MSE per seed {fmt(final)} (solved: below {SOLVED:.3g})."
    if model.cell != "rnn" or model.rnn.nonlinearity != "relu":
        return exercises.not_yet("01.1", f"This is not an IRNN: its recurrent layer is a {model.cell} "
                                 f"({getattr(model.rnn, 'nonlinearity', 'gated')}). {measured}",
                                 "an IRNN is a plain RNN with ReLU: replace model.rnn with nn.RNN(..., "
                                 "nonlinearity='relu', batch_first=True), then set its recurrent weights to the "
                                 "identity and both biases to zero", values)
    if not all(v < SOLVED for v in final):
        return exercises.not_yet("01.1", f"The IRNN did not solve the task on every seed. {measured}",
                                 "a ReLU recurrence is unbounded: look at the training loss of the first 50 steps — "
                                 "does it run away? Le et al. trained their IRNNs with small steps", values)
    return exercises.shows("01.1", "A plain RNN solved the task on every seed once it started as an identity map "
                           "with ReLU (Le et al. 2015) — the same cell that stayed on the plateau with the default "
                           f"initialisation. {measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("lengths", "final_mse"),
                         "{'lengths': [T, ...] increasing, 'final_mse': [[one per seed] for each length]}")
    lengths = [_check.integer(f"result['lengths'][{i}]", t, 2) for i, t in enumerate(r["lengths"])]
    if len(lengths) < 3 or any(b <= a for a, b in zip(lengths, lengths[1:])):
        raise ValueError(f"result['lengths'] must hold at least 3 increasing lengths, got {lengths}")
    final = exercises.curves("result['final_mse']", r["final_mse"], at_least=0)
    if len(final) != len(lengths) or len({len(f) for f in final}) != 1:
        raise ValueError("result['final_mse'] must hold one list per length, each with one number per seed")
    learned = [sum(v < LEARNED for v in f) for f in final]
    seeds = len(final[0])
    table = "; ".join(f"T = {t}: {fmt(f)}" for t, f in zip(lengths, final))
    values = {"seeds learned at the shortest": learned[0], "seeds learned at the longest": learned[-1],
              "seeds": seeds, "threshold": LEARNED}
    if learned[0] < seeds:
        return exercises.not_yet("01.2", f"At the shortest length the plain RNN did not learn on every seed. "
                                 f"Final test MSE per seed — {table}.",
                                 "start short enough that the two marked values sit a few steps apart; is the "
                                 "model, learning rate and step count the notebook's?", values)
    if any(v < STUCK for v in final[-1]):
        return exercises.not_yet("01.2", f"At the longest length the plain RNN still learned on some seed. "
                                 f"Final test MSE per seed — {table}.",
                                 "go as long as the notebook's sequences", values)
    # "did not learn" is "not below STUCK", here as in the test above: the longest length always qualifies
    first_fail = next(t for t, f in zip(lengths, final) if all(v >= STUCK for v in f))
    return exercises.shows("01.2", f"The plain RNN learned the short dependency on every seed and none of the long "
                           f"one; from T = {first_fail} on it learned nothing on any seed. Final test MSE per "
                           f"seed — {table}.", values)


def check_exercise(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 01; ``result=None`` reports it as not attempted.

    1. ``result = {'model': a trained IRNN, 'final_mse': [one per seed]}``: the notebook's plain RNN turned
       into an IRNN (ReLU, identity recurrent weights, zero biases) and trained on every seed. Shows the
       effect when the model is a ReLU RNN and it solved the task (test MSE < ``SOLVED``) on every seed.
    2. ``result = {'lengths': [...], 'final_mse': [[...], ...]}``: the plain RNN trained at several lengths,
       the final test MSE per seed for each. Shows the effect when the shortest length was learned (below
       ``LEARNED``) on every seed and the longest on none (above ``STUCK``).

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("01", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
