"""The sequence model, its cells and forget bias, and parameter counting."""

import pytest
import torch
from torch import nn

import seqtips as st
from seqtips import models


def test_count_parameters_trainable_only():
    m = nn.Linear(3, 2)
    assert st.count_parameters(m) == 8
    m.bias.requires_grad_(False)
    assert st.count_parameters(m) == 6
    assert st.count_parameters(m, trainable_only=False) == 8
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        st.count_parameters("not a module")


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "GRU"])
def test_sequence_model_shapes(cell):
    m = st.SequenceModel(cell, 2, 8)
    assert m.cell == cell.lower()
    assert m(torch.rand(4, 6, 2)).shape == (4,)
    m3 = st.SequenceModel(cell, 2, 8, output_size=3, num_layers=2)
    assert m3(torch.rand(4, 6, 2)).shape == (4, 3)
    assert st.count_parameters(m3) == st.count_parameters(models.CELLS[cell.lower()](2, 8, num_layers=2)) + 8 * 3 + 3


def test_sequence_model_with_vocabulary():
    m = st.SequenceModel("gru", 4, 8, vocab_size=5)
    assert m(torch.randint(0, 5, (3, 7))).shape == (3,)
    with pytest.raises(TypeError, match="token ids"):
        m(torch.rand(3, 7, 4))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("elman", 2, 8), {}, ValueError, "cell must be one of"),
        ((None, 2, 8), {}, TypeError, "cell must be a cell name"),
        (("gru", 2, 0), {}, ValueError, "hidden_size"),
        (("gru", 2.0, 8), {}, TypeError, "input_size"),
        (("gru", 2, 8), {"output_size": 0}, ValueError, "output_size"),
        (("gru", 2, 8), {"vocab_size": 0}, ValueError, "vocab_size"),
        (("lstm", 2, 8), {"forget_bias": None}, TypeError, "forget_bias"),
    ],
)
def test_sequence_model_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        st.SequenceModel(*args, **kwargs)


def test_sequence_model_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[batch, time, features\]"):
        st.SequenceModel("gru", 2, 8)(torch.rand(4, 2))


def test_lstm_forget_bias():
    torch.manual_seed(0)
    plain = st.SequenceModel("lstm", 2, 6, forget_bias=0.0)
    torch.manual_seed(0)
    biased = st.SequenceModel("lstm", 2, 6, forget_bias=1.0)
    diff = biased.rnn.bias_ih_l0 - plain.rnn.bias_ih_l0
    assert torch.allclose(diff[6:12], torch.ones(6))
    assert torch.count_nonzero(diff[:6]) == 0 and torch.count_nonzero(diff[12:]) == 0
    assert torch.equal(biased.rnn.bias_hh_l0, plain.rnn.bias_hh_l0)


def test_forget_bias_changes_only_the_lstm():
    torch.manual_seed(0)
    plain = st.SequenceModel("gru", 2, 6, forget_bias=0.0)
    torch.manual_seed(0)
    biased = st.SequenceModel("gru", 2, 6, forget_bias=3.0)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), biased.state_dict().values()))


def test_forget_bias_goes_into_every_layer():
    torch.manual_seed(0)
    plain = st.SequenceModel("lstm", 2, 4, num_layers=2, forget_bias=0.0)
    torch.manual_seed(0)
    biased = st.SequenceModel("lstm", 2, 4, num_layers=2, forget_bias=2.0)
    for layer in (0, 1):
        diff = getattr(biased.rnn, f"bias_ih_l{layer}") - getattr(plain.rnn, f"bias_ih_l{layer}")
        assert torch.allclose(diff, torch.tensor([0.0] * 4 + [2.0] * 4 + [0.0] * 8))
