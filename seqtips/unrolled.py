"""The per-step gradient ‖∂L/∂h_t‖, which the fused recurrent layers hide (notebooks 01 and 04).

PyTorch's fused ``nn.RNN``/``nn.GRU``/``nn.LSTM`` compute all steps in one kernel, so the
per-step hidden states are not leaves autograd can report on. Here a model is replayed step by
step with ``nn.RNNCell``/``nn.GRUCell``/``nn.LSTMCell`` carrying the same weights, keeping the
gradient of every hidden state.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from . import _check
from .models import SequenceModel
from .training import checked_loss

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
    h = inputs.new_zeros(inputs.shape[0], model.rnn.hidden_size)
    c = torch.zeros_like(h)
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
