"""Companion of notebook 02 (GRU vs LSTM): timing, saved activations, state bytes, backward graphs."""

import pytest
import torch
from torch import nn

import seqtips as st
from seqtips.lessons import nb02_gru_lstm as speed


def test_time_calls_warms_up_then_interleaves():
    order = []
    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    times = speed.time_calls(calls, warmup=2, repeats=3)
    assert order[:4] == ["a", "a", "b", "b"]  # warm-up: each function in a block, untimed
    assert order[4:] == ["a", "b"] * 3  # timed: one call of each per round
    assert set(times) == {"a", "b"}
    assert all(len(v) == 3 and all(t >= 0 for t in v) for v in times.values())


def test_time_calls_without_warmup_and_on_a_named_device():
    times = speed.time_calls({"f": lambda: None}, warmup=0, repeats=1, device="cpu")
    assert len(times["f"]) == 1


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"calls": {}}, ValueError, "calls"),
        ({"calls": [lambda: None]}, TypeError, "calls"),
        ({"calls": {"f": 3}}, TypeError, r"calls\['f'\]"),
        ({"calls": {"f": lambda: None}, "repeats": 0}, ValueError, "repeats"),
        ({"calls": {"f": lambda: None}, "repeats": 2.0}, TypeError, "repeats"),
        ({"calls": {"f": lambda: None}, "warmup": -1}, ValueError, "warmup"),
        ({"calls": {"f": lambda: None}, "device": 3}, TypeError, "device"),
    ],
)
def test_time_calls_validates(kwargs, error, match):
    with pytest.raises(error, match=match):
        speed.time_calls(**kwargs)


def test_saved_tensor_bytes_counts_what_backward_needs_once():
    x = torch.randn(1000, requires_grad=True)
    result, nbytes = speed.saved_tensor_bytes(lambda: (x * 2).exp().sum())
    assert nbytes == 1000 * 4  # exp keeps its output; multiplying by a number keeps nothing
    assert result.requires_grad
    _, nbytes = speed.saved_tensor_bytes(lambda: (x * x).sum())
    assert nbytes == 1000 * 4  # x is saved twice (both factors) but stored once
    with torch.no_grad():
        _, nbytes = speed.saved_tensor_bytes(lambda: (x * 2).exp().sum())
    assert nbytes == 0


def test_saved_tensor_bytes_grows_with_sequence_length():
    model = st.SequenceModel("gru", 2, 8)
    short = speed.saved_tensor_bytes(lambda: model(torch.randn(4, 5, 2)).sum())[1]
    long = speed.saved_tensor_bytes(lambda: model(torch.randn(4, 20, 2)).sum())[1]
    assert long > 2 * short > 0


def test_peak_memory_is_none_off_cuda_and_validates():
    assert speed.peak_memory_bytes(lambda: torch.ones(10), device="cpu") is None
    with pytest.raises(TypeError, match="fn must be callable"):
        speed.peak_memory_bytes(3)
    with pytest.raises(TypeError, match="fn must be callable"):
        speed.saved_tensor_bytes("not callable")


def test_state_bytes_counts_parameters_gradients_and_adam_state():
    model = nn.Linear(3, 2)  # 8 parameters, 32 bytes in float32
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    assert speed.state_bytes(model, optimizer) == {"parameters": 32, "gradients": 0, "optimizer": 0}
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    out = speed.state_bytes(model, optimizer)
    assert out["parameters"] == 32 and out["gradients"] == 32
    assert 2 * 32 <= out["optimizer"] <= 2 * 32 + 2 * 8  # two running averages (+ a step counter each)
    assert speed.state_bytes(model) == {"parameters": 32, "gradients": 32, "optimizer": 0}


def test_state_bytes_validates():
    with pytest.raises(TypeError, match="model must be"):
        speed.state_bytes("model")
    with pytest.raises(TypeError, match="optimizer must be"):
        speed.state_bytes(nn.Linear(2, 2), optimizer="adam")


def test_backward_nodes_of_a_small_graph():
    a, b = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    counts = speed.backward_nodes((a * b).sum())
    assert counts == {"SumBackward0": 1, "MulBackward0": 1, "AccumulateGrad": 2}


def test_backward_nodes_show_a_step_by_step_layer():
    model = st.SequenceModel("gru", 2, 8)
    short = sum(speed.backward_nodes(model(torch.randn(4, 5, 2)).sum()).values())
    long = sum(speed.backward_nodes(model(torch.randn(4, 10, 2)).sum()).values())
    assert long > short  # generic GRU code: nodes for every time step


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs oneDNN (MKLDNN)")
def test_backward_nodes_show_the_fused_cpu_lstm():
    model = st.SequenceModel("lstm", 2, 8)
    counts = speed.backward_nodes(model(torch.randn(4, 30, 2)).sum())
    assert sum(counts.values()) < 30
    assert any("Rnn" in name for name in counts)


def test_backward_nodes_validates():
    with pytest.raises(TypeError, match="output must be a tensor"):
        speed.backward_nodes([1.0])
    with pytest.raises(ValueError, match="backward graph"):
        speed.backward_nodes(torch.ones(2))
