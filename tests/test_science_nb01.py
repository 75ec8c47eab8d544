import math

import matplotlib
import pytest
import torch

import seqtips as st
from seqtips.lessons import nb01_gated as lesson

matplotlib.use("Agg")


def _data(seq_len=8, n=32, seed=0):
    return st.adding_problem(n, seq_len, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_gradient_reach_is_first_over_last_step_gradient(cell):
    torch.manual_seed(0)
    model = st.SequenceModel(cell, 2, 8)
    x, y = _data()
    grads = st.hidden_state_gradients(model, x, y)
    reach = lesson.gradient_reach(model, x, y)
    assert reach == pytest.approx(float(grads[0] / grads[-1]))
    assert 0 < reach < 1  # a fresh cell loses gradient on the way back


def test_gradient_reach_of_blown_up_weights_is_nan():
    model = st.SequenceModel("rnn", 2, 8)
    with torch.no_grad():
        model.rnn.weight_hh_l0.fill_(math.inf)
    assert math.isnan(lesson.gradient_reach(model, *_data()))


def test_marked_values_are_the_two_marked_inputs():
    x, y = _data(seq_len=9, n=200)
    u1, u2 = lesson.marked_values(x)
    assert torch.allclose(u1 + u2, y)
    half = 9 // 2
    first = x[:, :half, 1].argmax(1)
    assert torch.equal(u1, x[torch.arange(200), first, 0])


@pytest.mark.parametrize(("w1", "w2"), [(1.0, 1.0), (0.0, 1.0), (0.0, 0.0), (0.5, -0.25)])
def test_marked_weights_recover_a_known_linear_rule(w1, w2):
    x, _ = _data(seq_len=10, n=500)
    u1, u2 = lesson.marked_values(x)
    got = lesson.marked_weights(0.3 + w1 * u1 + w2 * u2, x)
    assert got == pytest.approx((w1, w2), abs=1e-6)


def test_marked_weights_of_the_mean_predictor_are_zero():
    x, _ = _data(seq_len=10, n=500)
    assert lesson.marked_weights(torch.ones(500), x) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_marked_weights_check_their_arguments():
    x, _ = _data()
    with pytest.raises(ValueError, match="one number per sequence"):
        lesson.marked_weights(torch.ones(31), x)
    with pytest.raises(ValueError, match=r"shape \[n, T >= 2, 2\]"):
        lesson.marked_values(x[..., :1])
    with pytest.raises(TypeError, match="prediction"):
        lesson.marked_weights([1.0] * 32, x)


def test_the_figures_draw_what_they_are_given():
    import matplotlib.pyplot as plt

    cells = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}
    lengths = [5, 10]
    mse = {(c, t): [0.5, 0.6] for c in cells for t in lengths}
    weights = {(c, t): [(0.1, 0.9), (0.2, 0.8)] for c in cells for t in lengths}
    fig, axes = plt.subplots(1, 3)
    lesson.plot_lengths(axes, lengths, cells, st.CELL_COLORS, mse, weights)
    assert [len(ax.lines) for ax in axes] == [3 + 3 * 2 + 1, 3 + 3 * 2 + 2, 3 + 3 * 2 + 2]
    fig, (a, b, c) = plt.subplots(3)
    steps = {k: [[0, 20, 40]] * 2 for k in cells}
    loss = {k: [[0.2, 0.05, 0.01]] * 2 for k in cells}
    reach = {k: [[1e-5, 0.0, math.nan]] * 2 for k in cells}
    lesson.plot_training(a, b, cells, st.CELL_COLORS, steps, loss, reach, 1 / 24, 1e-2,
                         {k: [20, None] for k in cells})
    assert sum(1 for line in a.lines if line.get_marker() == "v") == 3   # one escape per cell
    lesson.plot_profiles(c, {("rnn", "init"): [1e-3, 1.0], ("rnn", "trained"): [0.0, 1.0]}, st.CELL_COLORS)
    assert min(c.lines[1].get_ydata()) == lesson.FLOOR
    plt.close("all")
