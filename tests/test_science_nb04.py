"""Notebook 04's science helpers: the explosion through time and the share of clipped steps."""

import math

import pytest
import torch

import seqtips as st
from seqtips.lessons import nb04_clipping as lesson


def _model(gain, seed=0):
    st.seed_everything(seed)
    model = st.SequenceModel("rnn", input_size=2, hidden_size=64)
    torch.nn.init.orthogonal_(model.rnn.weight_hh_l0, gain=gain)
    return model


def test_hidden_state_gradients_match_autograd_on_the_fused_rnn():
    model = _model(1.5)
    x, y = st.adding_problem(16, 12, generator=torch.Generator().manual_seed(1))
    norms = lesson.hidden_state_gradients(model, x, y)
    assert len(norms) == 12
    # the last state's gradient comes from the head alone: compare with the fused module's output
    out = model.features(x)
    out.retain_grad()
    torch.nn.functional.mse_loss(model.head(out[:, -1]).squeeze(-1), y).backward()
    assert math.isclose(norms[-1], float(out.grad[:, -1].norm()), rel_tol=1e-5)


def test_hidden_state_gradients_grow_backwards_with_stretching_weights_and_vanish_without():
    x, y = st.adding_problem(64, 80, generator=torch.Generator().manual_seed(2))
    stretch = lesson.hidden_state_gradients(_model(1.5), x, y)
    plain = lesson.hidden_state_gradients(_model(1.0), x, y)
    assert stretch[0] / stretch[-1] > 10
    assert plain[0] / plain[-1] < 1


def test_hidden_state_gradients_leave_no_grad_behind_and_reject_other_cells():
    model = _model(1.5)
    x, y = st.adding_problem(8, 6, generator=torch.Generator().manual_seed(3))
    lesson.hidden_state_gradients(model, x, y)
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError):
        lesson.hidden_state_gradients(st.SequenceModel("gru", 2, 8), x, y)


def test_recurrent_gradient_grows_with_length_while_the_head_stays_flat():
    def norms(seq_len):
        x, y = st.adding_problem(64, seq_len, generator=torch.Generator().manual_seed(seq_len))
        return lesson.parameter_gradient_norms(_model(1.5), x, y)

    short, long = norms(5), norms(80)
    assert set(short) == {name for name, _ in _model(1.5).named_parameters()}
    assert long["rnn.weight_hh_l0"] / short["rnn.weight_hh_l0"] > 5
    assert long["head.weight"] / short["head.weight"] < 3


def test_clipped_fraction_counts_norms_strictly_above_the_threshold():
    assert lesson.clipped_fraction([0.5, 1.0, 2.0, 4.0], 1.0) == 0.5
    assert lesson.clipped_fraction([0.1, 0.2], 5.0) == 0.0
    assert lesson.clipped_fraction([10.0], 0.25) == 1.0
    with pytest.raises(ValueError):
        lesson.clipped_fraction([], 1.0)
    with pytest.raises(ValueError):
        lesson.clipped_fraction([1.0], 0.0)
