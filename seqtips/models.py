"""One sequence model whose recurrent cell is chosen by name, and parameter counting."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from . import _check

#: The recurrent cells, by name.
CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
#: The deepest stack built or counted here: far beyond what trains on these tasks, short of a frozen machine.
MAX_LAYERS = 64


def check_cell(cell: object) -> str:
    """The cell's name in lower case, if it is one of :data:`CELLS`."""
    _check.instance("cell", cell, str, "a cell name")
    return _check.choice("cell", cell.lower(), CELLS)


class SequenceModel(nn.Module):
    """Read a sequence with an RNN, GRU or LSTM and predict from the last hidden state.

    ``x`` is ``[batch, time, input_size]`` floats, or ``[batch, time]`` token ids when
    ``vocab_size`` is given (an embedding of width ``input_size`` comes first). The output is
    ``[batch, output_size]``, squeezed to ``[batch]`` when ``output_size == 1``.

    ``forget_bias`` (LSTM only) is added to the forget gate's bias at initialisation;
    Jozefowicz et al. (2015) found +1 closes most of the gap to other cells. ``num_layers`` is at
    most ``MAX_LAYERS`` (64).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int = 1,
        num_layers: int = 1,
        vocab_size: int | None = None,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        self.cell = check_cell(cell)
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("output_size", output_size)):
            _check.integer(name, value, 1)
        _check.integer("num_layers", num_layers, 1, MAX_LAYERS)
        if vocab_size is not None:
            _check.integer("vocab_size", vocab_size, 1)
        forget_bias = _check.number("forget_bias", forget_bias)
        self.embedding = nn.Embedding(vocab_size, input_size) if vocab_size else None
        self.rnn = CELLS[self.cell](input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        if self.cell == "lstm" and forget_bias:
            with torch.no_grad():
                for name, param in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        # PyTorch orders the LSTM gates input, forget, cell, output.
                        param[hidden_size : 2 * hidden_size] += forget_bias

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The recurrent layer's outputs ``[batch, time, hidden]`` (after the embedding)."""
        if self.embedding is not None:
            if x.dtype not in (torch.int64, torch.int32):
                raise TypeError(f"x must hold token ids (int64) for a model with vocab_size, got {x.dtype}")
            x = self.embedding(x)
        elif x.dim() != 3:
            raise ValueError(f"x must be [batch, time, features], got shape {tuple(x.shape)}")
        out, _ = self.rnn(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.features(x)[:, -1])
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``module``."""
    _check.instance("module", module, nn.Module, "a torch.nn.Module")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def matched_size(count: Callable[[int], int], target: int, sizes: Iterable[int]) -> int:
    """The size among ``sizes`` whose parameter count ``count(size)`` is closest to ``target`` (ties: the
    smaller size) — the one matched-capacity search of seqtips, e.g. the hidden size of a plain RNN
    with as many parameters as an LSTM: ``st.matched_size(lambda h: st.count_parameters(
    st.SequenceModel("rnn", 2, h)), lstm_params, range(32, 128))``."""
    if not callable(count):
        raise TypeError(f"count must be a function count(size) -> number of parameters, got {type(count).__name__}")
    target = _check.integer("target", target, 1)
    sizes = [_check.integer("sizes", s, 1) for s in sizes]
    if not sizes:
        raise ValueError("sizes must hold at least one size to try")
    return min(sizes, key=lambda s: (abs(count(s) - target), s))
