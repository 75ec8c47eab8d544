"""Companion of notebook 04 (gradient clipping): suggest_threshold from a log of gradient norms."""

import math

import numpy as np
import pytest
import torch

from seqtips.lessons.nb04_clipping import suggest_threshold


def test_median_mean_and_percentile_of_a_log():
    norms = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert suggest_threshold(norms) == 3.0
    assert suggest_threshold(norms, method="median") == 3.0
    assert suggest_threshold(norms, method="mean") == pytest.approx(22.0)
    assert suggest_threshold(norms, method="percentile", q=50) == 3.0
    assert suggest_threshold(norms, method="percentile", q=100) == 100.0
    assert suggest_threshold(norms, method="percentile", q=25) == 2.0


def test_a_spike_moves_the_mean_but_not_the_median():
    calm = [1.0] * 9
    assert suggest_threshold(calm + [1e6], method="median") == 1.0
    assert suggest_threshold(calm + [1e6], method="mean") > 1e4


def test_non_finite_values_are_ignored():
    norms = [2.0, 4.0, math.inf, float("nan")]
    assert suggest_threshold(norms) == 3.0
    assert suggest_threshold(norms, method="mean") == 3.0


def test_accepts_tensors_arrays_and_torch_scalars():
    expected = suggest_threshold([0.5, 1.5, 2.5])
    assert suggest_threshold(torch.tensor([0.5, 1.5, 2.5])) == expected
    assert suggest_threshold(np.array([0.5, 1.5, 2.5])) == expected
    assert suggest_threshold([torch.tensor(0.5), torch.tensor(1.5), np.float32(2.5)]) == expected
    assert isinstance(suggest_threshold(torch.tensor([1.0, 2.0])), float)


def test_the_norm_clip_grad_norm_returns_is_a_valid_input():
    layer = torch.nn.Linear(3, 2)
    layer(torch.ones(4, 3)).pow(2).sum().backward()
    norm = torch.nn.utils.clip_grad_norm_(layer.parameters(), max_norm=math.inf)
    assert suggest_threshold([norm]) == pytest.approx(norm.item())


@pytest.mark.parametrize("bad", ["1,2", None, 3.0])
def test_rejects_what_is_not_a_sequence(bad):
    with pytest.raises(TypeError, match="norms must be a sequence"):
        suggest_threshold(bad)


@pytest.mark.parametrize("bad", [[], [1.0, "a"], [[1.0, 2.0]]])
def test_rejects_a_sequence_without_numbers(bad):
    with pytest.raises(ValueError, match="norms"):
        suggest_threshold(bad)


def test_rejects_negative_all_non_finite_and_all_zero_logs():
    with pytest.raises(ValueError, match="non-negative"):
        suggest_threshold([1.0, -2.0])
    with pytest.raises(ValueError, match="finite"):
        suggest_threshold([math.inf, float("nan")])
    with pytest.raises(ValueError, match="positive"):
        suggest_threshold([0.0, 0.0])


@pytest.mark.parametrize("method", ["avg", "Median", ""])
def test_rejects_unknown_methods(method):
    with pytest.raises(ValueError, match="method must be one of"):
        suggest_threshold([1.0], method=method)


@pytest.mark.parametrize("method", [None, 50])
def test_rejects_a_method_that_is_not_a_name(method):
    with pytest.raises(TypeError, match="method must be one of"):
        suggest_threshold([1.0], method=method)


@pytest.mark.parametrize("q", [None, 0, -5, 101, math.nan])
def test_percentile_needs_a_q_in_0_100(q):
    with pytest.raises(ValueError, match="q"):
        suggest_threshold([1.0, 2.0], method="percentile", q=q)


@pytest.mark.parametrize("q", ["90", True])
def test_percentile_q_must_be_a_number(q):
    with pytest.raises(TypeError, match="q must be a number"):
        suggest_threshold([1.0, 2.0], method="percentile", q=q)


def test_q_without_percentile_is_an_error():
    with pytest.raises(ValueError, match="only used with method='percentile'"):
        suggest_threshold([1.0, 2.0], method="median", q=90)


def test_parameter_gradient_norms_guard_the_shapes():
    import seqtips as st
    from seqtips.lessons.nb04_clipping import parameter_gradient_norms

    torch.manual_seed(0)
    model = st.SequenceModel("rnn", 2, 4)
    x, y = st.adding_problem(4, 5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"parameter_gradient_norms: .* \(4,\) but the targets \(4, 1\)"):
        parameter_gradient_norms(model, x, y[:, None])
    assert all(p.grad is None for p in model.parameters())
    assert set(parameter_gradient_norms(model, x, y)) == {n for n, _ in model.named_parameters()}
    with pytest.raises(TypeError, match="y must be a tensor"):
        parameter_gradient_norms(model, x, y.tolist())


@pytest.mark.parametrize("q", [np.int64(90), np.float32(90.0)])
def test_percentile_q_may_be_a_numpy_number(q):
    assert suggest_threshold([1.0, 2.0, 3.0], method="percentile", q=q) == pytest.approx(2.8)
