"""Companion of notebook 01 (gated vs plain RNNs): the unrolled replay and ‖∂L/∂h_t‖ per time step."""

import pytest
import torch
from torch import nn

import seqtips as st
from seqtips.lessons import nb05_early_stopping as nb05
from seqtips.unrolled import hidden_state_gradients, unrolled_cell


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_unrolled_cell_reproduces_fused_model(cell):
    torch.manual_seed(0)
    model = st.SequenceModel(cell, 2, 8)
    x, _ = st.adding_problem(5, 9)
    unrolled = unrolled_cell(model)
    h = torch.zeros(5, 8)
    c = torch.zeros(5, 8)
    for t in range(9):
        if cell == "lstm":
            h, c = unrolled(x[:, t], (h, c))
        else:
            h = unrolled(x[:, t], h)
    assert torch.allclose(model.head(h).squeeze(-1), model(x), atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_hidden_state_gradients_match_autograd_on_fused_output(cell):
    torch.manual_seed(1)
    model = st.SequenceModel(cell, 2, 8)
    x, y = st.adding_problem(4, 7)
    grads = hidden_state_gradients(model, x, y)
    assert grads.shape == (7,) and (grads >= 0).all()
    # The last step's gradient can be checked against the fused model directly.
    out = model.features(x)
    out.retain_grad()
    nn.functional.mse_loss(model.head(out[:, -1]).squeeze(-1), y).backward()
    assert torch.allclose(grads[-1], out.grad[:, -1].norm(dim=1).mean(), atol=1e-6)


def test_hidden_state_gradients_work_with_token_inputs():
    torch.manual_seed(2)
    model = st.SequenceModel("lstm", 4, 8, vocab_size=5)
    tokens, labels = nb05.counting_task(6, seq_len=9, generator=torch.Generator().manual_seed(0))
    grads = hidden_state_gradients(model, tokens, labels)
    assert grads.shape == (9,) and torch.isfinite(grads).all() and (grads > 0).all()


def test_plain_rnn_gradients_vanish_faster_than_gru_at_init():
    torch.manual_seed(0)
    x, y = st.adding_problem(64, 40)
    rnn = hidden_state_gradients(st.SequenceModel("rnn", 2, 16), x, y)
    gru = hidden_state_gradients(st.SequenceModel("gru", 2, 16), x, y)
    assert rnn[0] / rnn[-1] < gru[0] / gru[-1]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("had_grads", [False, True])
def test_hidden_state_gradients_leave_parameters_and_grads_unchanged(cell, had_grads):
    torch.manual_seed(0)
    model = st.SequenceModel(cell, 2, 8)
    if had_grads:  # gradients left by a training step must survive the replay untouched
        model(torch.rand(3, 5, 2)).sum().backward()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads_before = {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}
    hidden_state_gradients(model, *st.adding_problem(4, 5))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for name, p in model.named_parameters():
        if grads_before[name] is None:
            assert p.grad is None, name
        else:
            assert torch.equal(p.grad, grads_before[name]), name


def test_unrolled_cell_bad_input():
    with pytest.raises(TypeError, match="model must be a seqtips SequenceModel"):
        unrolled_cell(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="one-layer"):
        unrolled_cell(st.SequenceModel("gru", 2, 3, num_layers=2))


def test_hidden_state_gradients_bad_input():
    model = st.SequenceModel("gru", 2, 3)
    x, y = st.adding_problem(4, 5)
    with pytest.raises(TypeError, match="x must be a tensor"):
        hidden_state_gradients(model, x.tolist(), y)
    with pytest.raises(TypeError, match="y must be a tensor"):
        hidden_state_gradients(model, x, y.tolist())
    with pytest.raises(ValueError, match=r"x must be \[batch, time, features\]"):
        hidden_state_gradients(model, x[:, :, 0], y)


@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), lambda p, y: nn.functional.mse_loss(p, y)], ids=["module", "lambda"])
def test_hidden_state_gradients_guard_the_shapes_for_any_loss(loss_fn):
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 2, 4)
    x, _ = st.adding_problem(4, 5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"hidden_state_gradients: .* \(4,\) but the targets \(4, 1\)"):
        hidden_state_gradients(model, x, torch.zeros(4, 1), loss_fn=loss_fn)
    assert hidden_state_gradients(model, x, torch.zeros(4), loss_fn=loss_fn).shape == (5,)
