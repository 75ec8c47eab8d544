"""Notebook 04's science helpers: the explosion through time and the share of clipped steps."""


import pytest
import torch

import seqtips as st
from seqtips.lessons import nb04_clipping as lesson


def _model(gain, seed=0):
    st.seed_everything(seed)
    model = st.SequenceModel("rnn", input_size=2, hidden_size=64)
    torch.nn.init.orthogonal_(model.rnn.weight_hh_l0, gain=gain)
    return model


def test_the_recent_sum_needs_only_the_last_two_values():
    x, y = lesson.recent_sum(32, 9, generator=torch.Generator().manual_seed(0))
    assert x.shape == (32, 9, 2) and y.shape == (32,)
    assert torch.equal(y, x[:, -2:, 0].sum(dim=1))
    assert torch.equal(x[:, :, 1].sum(dim=0), torch.tensor([0.0] * 7 + [32.0, 32.0]))
    first = next(lesson.recent_sum_batches(4, 6, torch.Generator().manual_seed(1)))
    again = next(lesson.recent_sum_batches(4, 6, torch.Generator().manual_seed(1)))
    assert torch.equal(first[0], again[0])
    with pytest.raises(ValueError, match="seq_len"):
        lesson.recent_sum_batches(4, 1)


def test_the_shared_replay_grows_backwards_with_stretching_weights_and_vanishes_without():
    x, y = lesson.recent_sum(64, 80, generator=torch.Generator().manual_seed(2))
    stretch = st.hidden_state_gradients(_model(1.5), x, y)
    plain = st.hidden_state_gradients(_model(1.0), x, y)
    assert stretch[0] / stretch[-1] > 10
    assert plain[0] / plain[-1] < 1


def test_plot_time_gradients_draws_one_band_per_entry_on_a_log_scale():
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots()
    lesson.plot_time_gradients(ax, {"a": [np.ones(5), np.ones(5) * 2], "b": [np.ones(4)]}, colors={"a": "tab:red"})
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)


def test_recurrent_gradient_grows_with_length_while_the_head_stays_flat():
    def norms(seq_len):
        x, y = lesson.recent_sum(64, seq_len, generator=torch.Generator().manual_seed(seq_len))
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


def test_first_out_of_range_finds_the_first_step_above_factor_times_the_opening_range():
    import math

    import numpy as np

    table = np.array([[1.0, 2.0], [2.0, 2.0], [5.0, 2.0], [19.0, 30.0], [21.0, math.inf]])
    # column 0: opening range (window 2) is 2, so "out" means above 20 -> step 5; column 1: 2 -> above 20 -> step 4
    assert lesson.first_out_of_range(table, window=2, factor=10) == [5, 4]
    assert lesson.first_out_of_range(table, window=5, factor=10) == [None, None]
    assert lesson.first_out_of_range([[1.0], [1.0], [float("nan")]], window=1, factor=10) == [3]
    ratios = lesson.range_ratios(table, window=2)
    assert ratios[0] == 21.0 / 2.0 and math.isinf(ratios[1])
    with pytest.raises(ValueError, match="window"):
        lesson.first_out_of_range(table, window=6)
    with pytest.raises(ValueError, match="param_norms"):
        lesson.range_ratios([1.0, 2.0])
    with pytest.raises(TypeError, match="window"):
        lesson.range_ratios(table, window=2.5)
    with pytest.raises(ValueError, match="factor"):
        lesson.first_out_of_range(table, window=2, factor=0)


def test_plot_sweep_marks_the_rule_and_puts_runs_that_blew_up_at_the_ceiling():
    import math

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    shares = {0.1: [1.0, 1.0], 3.0: [0.1, 0.2], 1000.0: [0.0, 0.05]}
    ends = {0.1: [0.15, 0.16], 3.0: [0.03, 0.04], 1000.0: [math.inf, 500.0]}
    lesson.plot_sweep(ax, shares, ends, rule=3.0, baseline=1 / 6, ceiling=100.0)
    assert ax.get_yscale() == "log"
    offsets = [c.get_offsets() for c in ax.collections]
    assert any(len(o) == 2 and all(y == 100.0 for y in o[:, 1]) for o in offsets)   # both 1000 runs at the ceiling
    labels = [c.get_label() for c in ax.collections]
    assert "3 (warm-up rule)" in labels
    assert sorted(label for label in labels if not label.startswith("_")) == ["0.1", "1000", "3 (warm-up rule)"]
    plt.close(fig)
