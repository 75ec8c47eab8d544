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


# --- the timed step and the figures ----------------------------------------------------------------

def test_training_step_is_one_update_on_a_fixed_batch():
    model, optimizer, loss, step = speed.training_step("gru", 8, 5, 4, "cpu", seed=3)
    assert isinstance(optimizer, torch.optim.Adam)
    first = loss().item()
    assert loss().item() == first  # the same batch every call
    before = [p.detach().clone() for p in model.parameters()]
    step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    lstm = speed.training_step("lstm", 8, 5, 4, None, seed=3)[0]
    assert st.count_parameters(lstm) == st.count_parameters(st.SequenceModel("lstm", 2, 8))


def _history(steps, losses, seconds=1.0):
    h = st.History(label="h")
    h.eval_step, h.eval_loss = list(steps), list(losses)
    for s in range(1, steps[-1] + 1):
        h.log(s, 0.1, 1.0)
    h.seconds = seconds
    return h


def test_plot_quality_places_every_run_at_its_own_steps():
    import matplotlib.pyplot as plt
    short = _history([0, 25, 50], [0.2, 0.1, 0.005])     # stopped early
    long = _history([0, 25, 50, 75, 100], [0.2, 0.1, 0.05, 0.02, 0.004])
    fig = speed.plot_quality({"GRU": [short, long]}, {"GRU": st.CELL_COLORS["gru"]}, 0.01, 10, "cpu")
    right = fig.axes[1]
    xs = max(max(line.get_xdata()) for line in right.get_lines() if len(line.get_xdata()) > 2)
    sec = (short.seconds_per_step() + long.seconds_per_step()) / 2
    assert xs == pytest.approx(100 * sec)  # the band reaches the longest run's last step, not the first seed's
    plt.close(fig)


def test_plot_step_costs_shows_the_models_it_is_given_and_nothing_else():
    import matplotlib.pyplot as plt
    sizes, cells = [8, 16], ["gru", "lstm"]
    seconds = {(c, h): [0.001, 0.002, 0.003] for c in cells for h in sizes}
    saved = {(c, h): 1024 * h for c in cells for h in sizes}
    counts = {"GRU 8": 291, "LSTM 8": 385}
    fig = speed.plot_step_costs(counts, {"GRU 8": "#0072B2", "LSTM 8": "#009E73"}, "trained", seconds, saved,
                                cells, sizes, "cpu")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == list(counts)
    assert len(fig.axes[0].patches) == 2
    plt.close(fig)


def test_plot_run_and_counters_draw_and_validate():
    import matplotlib.pyplot as plt
    h = _history([0, 25, 50], [0.2, 0.1, 0.005])
    for curve in ("test MSE", "training loss", "gradient norm"):
        plt.close(speed.plot_run({"GRU": [h]}, 0, curve, {"GRU": "#0072B2"}, 0.01, "seed 0"))
    with pytest.raises(ValueError, match="curve"):
        speed.plot_run({"GRU": [h]}, 0, "accuracy", {"GRU": "#0072B2"}, 0.01, "seed 0")
    fig = speed.plot_counters({"lstm": [1.0, 2.0, 1.0, 0.0], "gru": [0.5, 0.7, 0.4, 0.1]}, 2)
    assert [ax.get_title() for ax in fig.axes] == ["LSTM: an unbounded counter", "GRU: a bounded average"]
    plt.close(fig)


def test_describe_speed_reads_its_numbers_from_the_measurements():
    from collections import Counter
    sizes, cells = [32, 256], ["rnn", "gru", "lstm"]
    seconds = {("rnn", 32): [0.001] * 3, ("gru", 32): [0.003] * 3, ("lstm", 32): [0.0015] * 3,
               ("rnn", 256): [0.004] * 3, ("gru", 256): [0.010] * 3, ("lstm", 256): [0.010] * 3}
    graph = {"rnn": Counter({"AddmmBackward0": 50}), "gru": Counter({"AddmmBackward0": 150}),
             "lstm": Counter({"MkldnnRnnLayerBackward0": 1})}
    state = {(c, h): {"parameters": 1024, "gradients": 1024, "optimizer": 2048} for c in cells for h in sizes}
    saved = {(c, h): 2048 * (2 if c == "lstm" else 1) for c in cells for h in sizes}
    text = speed.describe_speed(torch.device("cpu"), 32, 10, cells, sizes, seconds, graph, state, saved,
                                {k: None for k in saved})
    assert "**2.0× as long as** an LSTM step at H = 32" in text
    assert "about as long as an LSTM step (×1.00) at H = 256" in text
    assert "one node for the whole layer (`MkldnnRnnLayerBackward0`)" in text
    assert "the LSTM kept 2.00× as much as the GRU" in text
