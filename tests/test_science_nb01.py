import math

import pytest
import torch

import seqtips as st
from seqtips.lessons import nb01_gated as lesson


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


def test_train_with_reach_checkpoints_and_trains():
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 2, 8)
    x, y = _data(n=64, seed=1)
    before = st.mse_evaluator(x, y)(model)
    history = lesson.train_with_reach(model, torch.optim.Adam(model.parameters(), lr=1e-2),
                                      st.adding_batches(16, 8, torch.Generator().manual_seed(2)), 25,
                                      st.mse_evaluator(x, y), (x[:16], y[:16]), every=10)
    assert history.step == [0, 10, 20, 25]
    assert len(history.eval_loss) == len(history.reach) == 4 and len(history.train_loss) == 25
    assert history.eval_loss[0] == pytest.approx(before)
    assert history.final_eval == history.eval_loss[-1] and not history.diverged
    assert history.reach_at(10) == history.reach[1]
    assert history.first_step_below(math.inf) == 0 and history.first_step_below(-1.0) is None


def test_train_with_reach_stops_on_divergence():
    torch.manual_seed(0)
    model = st.SequenceModel("rnn", 2, 8)
    x, y = _data()
    history = lesson.train_with_reach(model, torch.optim.SGD(model.parameters(), lr=1e6),
                                      st.adding_batches(16, 8, torch.Generator().manual_seed(0)), 200,
                                      st.mse_evaluator(x, y), (x, y), every=5)
    assert history.diverged and history.final_eval == math.inf and history.step[-1] < 200


def test_train_with_reach_checks_arguments():
    model = st.SequenceModel("gru", 2, 4)
    x, y = _data()
    with pytest.raises(TypeError):
        lesson.train_with_reach(torch.nn.Linear(2, 1), None, [], 5, st.mse_evaluator(x, y), (x, y))
    with pytest.raises(TypeError):
        lesson.train_with_reach(model, torch.optim.SGD(model.parameters(), lr=0.1), [], 5, "mse", (x, y))


def test_train_with_reach_marks_a_nan_test_loss_as_diverged():
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 2, 8)
    x, y = _data()
    calls = []

    def evaluate(m):  # finite at initialisation, NaN after the first chunk (the weights blew up)
        calls.append(1)
        return 0.2 if len(calls) == 1 else float("nan")

    history = lesson.train_with_reach(model, torch.optim.SGD(model.parameters(), lr=0.1),
                                      st.adding_batches(16, 8, torch.Generator().manual_seed(0)), 20,
                                      evaluate, (x, y), every=5)
    assert history.diverged and history.final_eval == math.inf
    assert history.step == [0] and history.eval_loss == [0.2]  # the NaN checkpoint is not a point of the curve
    assert len(history.train_loss) == 5  # stopped after the chunk whose checkpoint was NaN


def test_train_with_reach_marks_nan_weights_as_diverged():
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 2, 8)
    x, y = _data()
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))
    history = lesson.train_with_reach(model, torch.optim.SGD(model.parameters(), lr=0.1),
                                      st.adding_batches(16, 8, torch.Generator().manual_seed(0)), 20,
                                      st.mse_evaluator(x, y), (x, y), every=5)
    assert history.diverged and history.step == [] and math.isnan(lesson.gradient_reach(model, x, y))


def test_train_with_reach_refuses_a_probe_that_is_not_a_pair():
    model = st.SequenceModel("gru", 2, 4)
    x, y = _data()
    with pytest.raises(TypeError, match=r"probe must be an \(inputs, targets\) pair of tensors"):
        lesson.train_with_reach(model, torch.optim.SGD(model.parameters(), lr=0.1), [], 5, st.mse_evaluator(x, y), x)
