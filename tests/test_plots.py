"""Figures the notebooks share: seed bands, gradient-norm plots, evaluation curves, heatmaps, the style."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import seqtips as st  # noqa: E402
from seqtips.lessons import nb03_optimizers as nb03
from seqtips.lessons import nb05_early_stopping as nb05


def test_seed_band_ragged_runs():
    fig, ax = plt.subplots()
    st.seed_band(ax, [0, 1, 2, 3], [[1, 2, 3, 4], [2, 3], [3, 4, 5, 6]], label="x")
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == [2, 3, 4, 5]
    with pytest.raises(ValueError, match="at least one run"):
        st.seed_band(ax, [0], [])
    plt.close(fig)


def test_plots_draw_threshold_and_percentiles():
    fig, (a, b) = plt.subplots(1, 2)
    norms = np.geomspace(0.1, 10, 100)
    st.plot_grad_norms(a, norms, threshold=2.0)
    assert any("threshold 2" in str(line.get_label()) for line in a.get_lines())
    st.plot_norm_histogram(b, norms, threshold=1.0)
    labels = [t.get_text() for t in b.get_legend().get_texts()]
    assert any(lbl.startswith("p50") for lbl in labels) and "threshold 1" in labels
    with pytest.raises(ValueError, match="finite, positive"):
        st.plot_norm_histogram(b, [float("nan"), 0.0])
    plt.close(fig)


def test_plot_eval_curves():
    h1 = st.History(label="a", eval_step=[0, 10, 20], eval_loss=[1.0, 0.5, 0.2])
    h2 = st.History(label="a", eval_step=[0, 10], eval_loss=[1.0, 0.7])
    fig, ax = plt.subplots()
    st.plot_eval_curves(ax, {"gru": [h1, h2]}, baseline=1 / 6)
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="no history"):
        st.plot_eval_curves(ax, {"gru": []})
    plt.close(fig)


def test_seed_band_draws_median_and_min_max_band():
    fig, ax = plt.subplots()
    st.seed_band(ax, [0, 1], [[1.0, 4.0], [2.0, 6.0], [3.0, 5.0]], show_runs=True)
    lines = ax.get_lines()
    assert list(lines[0].get_ydata()) == [2.0, 5.0]  # the median
    assert len(lines) == 1 + 3  # and one thin line per run
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 1.0 and band[:, 1].max() == 6.0
    plt.close(fig)


def test_mark_epoch_draws_a_vertical_line():
    fig, ax = plt.subplots()
    nb05.mark_epoch(ax, 7, label="best")
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [7, 7] and line.get_label() == "best"
    plt.close(fig)


def test_heatmap_draws_cells_text_and_colorbar():
    fig, ax = plt.subplots()
    values = [[80.0, math.inf, math.nan], [170.0, 130.0, 60.0]]
    text = [["80", "not reached", ""], ["170", "130", "60"]]
    assert nb03.heatmap(ax, values, rows=["Adam", "SGD"], cols=["0.01", "0.1", "1"], text=text, colorbar="steps") is ax
    assert [t.get_text() for t in ax.texts] == ["80", "not reached", "170", "130", "60"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Adam", "SGD"]
    assert len(fig.axes) == 2  # the colour bar
    image = ax.images[0]
    assert image.get_array().mask[0, 2]  # nan: blank cell
    assert image.get_array()[0, 1] > image.norm.vmax  # inf: the "over" colour
    plt.close(fig)


def test_heatmap_checks_shapes():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="2 rows × 1 columns"):
        nb03.heatmap(ax, [[1.0, 2.0]], rows=["a", "b"], cols=["x"])
    with pytest.raises(ValueError, match="text must be 1 rows × 2 columns"):
        nb03.heatmap(ax, [[1.0, 2.0]], rows=["a"], cols=["x", "y"], text=[["1"]])
    plt.close(fig)


def test_plot_eval_curves_draws_each_run_at_its_own_steps():
    every_10 = st.History(eval_step=[0, 10, 20], eval_loss=[1.0, 0.5, 0.2])
    every_5 = st.History(eval_step=[0, 5, 10, 15, 20, 25, 30], eval_loss=[1.0, 0.9, 0.7, 0.6, 0.4, 0.3, 0.1])
    fig, ax = plt.subplots()
    st.plot_eval_curves(ax, {"gru": [every_10, every_5]}, logy=False, show_runs=True)
    median, run_10, run_5 = ax.get_lines()
    assert list(median.get_xdata()) == [0, 5, 10, 15, 20, 25, 30]
    assert list(median.get_ydata()) == pytest.approx([1.0, 0.9, 0.6, 0.6, 0.3, 0.3, 0.1])  # at 10: (0.5 + 0.7) / 2
    assert list(run_10.get_xdata()) == [0, 10, 20] and list(run_10.get_ydata()) == [1.0, 0.5, 0.2]
    assert list(run_5.get_xdata()) == every_5.eval_step
    plt.close(fig)


def test_plot_eval_curves_refuses_what_is_not_a_history():
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match=r"runs\['gru'\]\[0\] must be a seqtips History"):
        st.plot_eval_curves(ax, {"gru": [[0.5, 0.2]]})
    with pytest.raises(ValueError, match=r"runs\['gru'\]\[0\] has 2 eval_step but 1 eval_loss"):
        st.plot_eval_curves(ax, {"gru": [st.History(eval_step=[0, 10], eval_loss=[1.0])]})
    plt.close(fig)


def test_plot_norm_histogram_draws_every_percentile_asked_for():
    fig, ax = plt.subplots()
    st.plot_norm_histogram(ax, np.geomspace(0.1, 10, 100), percentiles=(10, 25, 50, 75, 90, 99))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [lbl.split(" ")[0] for lbl in labels] == ["p10", "p25", "p50", "p75", "p90", "p99"]
    plt.close(fig)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"percentiles": (50, 150)}, ValueError, r"percentiles\[1\] must be from 0 to 100, got 150"),
    ({"percentiles": (-1,)}, ValueError, r"percentiles\[0\] must be >= 0"),
    ({"percentiles": (50, float("nan"))}, ValueError, r"percentiles\[1\] must be a finite number"),
    ({"percentiles": 90}, TypeError, "percentiles must be a sequence"),
    ({"bins": 10**9}, ValueError, r"bins must be an integer >= 1 and <= 1000"),
    ({"bins": 0}, ValueError, "bins"),
    ({"bins": 2.5}, TypeError, "bins"),
])
def test_plot_norm_histogram_refuses_bad_percentiles_and_bins(kwargs, error, match):
    fig, ax = plt.subplots()
    with pytest.raises(error, match=match):
        st.plot_norm_histogram(ax, [1.0, 2.0, 3.0], **kwargs)
    plt.close(fig)
