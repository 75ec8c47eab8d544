"""Tests for seqtips.sweeps."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from seqtips.sweeps import Sweep, grid, heatmap, run_sweep  # noqa: E402
from seqtips.training import History, train  # noqa: E402


def fake_run(optimizer, lr, seed):
    h = History(label=f"{optimizer} {lr} {seed}")
    h.eval_step, h.eval_loss = [0, 10], [1.0, lr * 10 + seed]
    return h


# --- grid -------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_with_the_last_axis_fastest():
    assert grid(optimizer=["SGD", "Adam"], lr=[0.1, 1.0]) == [
        {"optimizer": "SGD", "lr": 0.1},
        {"optimizer": "SGD", "lr": 1.0},
        {"optimizer": "Adam", "lr": 0.1},
        {"optimizer": "Adam", "lr": 1.0},
    ]


def test_grids_concatenate_for_per_optimizer_learning_rates():
    configs = grid(optimizer=["Adam"], lr=[1e-3, 1e-2]) + grid(optimizer=["SGD"], lr=[0.1])
    assert [c["lr"] for c in configs] == [1e-3, 1e-2, 0.1]


@pytest.mark.parametrize("bad", [[], "abc", 3, None])
def test_grid_rejects_an_axis_that_is_not_a_non_empty_list(bad):
    with pytest.raises(ValueError, match="axis 'lr'"):
        grid(lr=bad)


def test_grid_needs_an_axis():
    with pytest.raises(ValueError, match="at least one axis"):
        grid()


# --- run_sweep and Sweep ----------------------------------------------------------


def test_run_sweep_calls_run_with_each_configuration_in_order():
    configs = grid(optimizer=["Adam", "SGD"], lr=[0.1, 0.3], seed=[0, 1])
    sweep = run_sweep(fake_run, configs, progress=False)
    assert len(sweep) == 8
    assert [h.label for h in sweep.histories][:3] == ["Adam 0.1 0", "Adam 0.1 1", "Adam 0.3 0"]
    assert sweep.get(optimizer="SGD", lr=0.3, seed=1).final_eval == pytest.approx(4.0)


def test_select_values_and_get():
    configs = grid(optimizer=["Adam"], lr=[0.1, 0.3], seed=[0, 1]) + grid(optimizer=["SGD"], lr=[1.0], seed=[0, 1])
    sweep = run_sweep(fake_run, configs, progress=False)
    assert [h.label for h in sweep.select(optimizer="Adam", lr=0.3)] == ["Adam 0.3 0", "Adam 0.3 1"]
    assert sweep.values("optimizer") == ["Adam", "SGD"]
    assert sweep.values("lr", optimizer="SGD") == [1.0]
    assert sweep.values("seed") == [0, 1]
    assert sweep.select(optimizer="RMSprop") == []
    with pytest.raises(KeyError, match="2 runs match"):
        sweep.get(optimizer="Adam", lr=0.1)
    with pytest.raises(KeyError, match="0 runs match"):
        sweep.get(optimizer="RMSprop")
    with pytest.raises(KeyError, match="'momentum'"):
        sweep.values("momentum")
    assert "6 runs" in repr(sweep)


def test_iteration_yields_configuration_and_history():
    sweep = run_sweep(fake_run, grid(optimizer=["SGD"], lr=[0.1], seed=[3]), progress=False)
    ((config, history),) = list(sweep)
    assert config == {"optimizer": "SGD", "lr": 0.1, "seed": 3}
    assert history.label == "SGD 0.1 3"


def test_run_sweep_with_a_progress_bar(capsys):
    sweep = run_sweep(fake_run, grid(optimizer=["SGD"], lr=[0.1, 1.0], seed=[0]), progress=True, desc="lr")
    assert len(sweep) == 2


def test_run_sweep_validates_its_arguments():
    with pytest.raises(ValueError, match="run must be callable"):
        run_sweep(None, grid(lr=[0.1]))
    with pytest.raises(ValueError, match="configs must be a non-empty list"):
        run_sweep(fake_run, [])
    with pytest.raises(ValueError, match="configs must be a non-empty list"):
        run_sweep(fake_run, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"configs\[1\] must be a dict"):
        run_sweep(fake_run, [{"optimizer": "SGD", "lr": 0.1, "seed": 0}, 0.3])
    with pytest.raises(ValueError, match="run must return a History"):
        run_sweep(lambda lr: lr, grid(lr=[0.1]), progress=False)


def test_sweep_needs_one_history_per_configuration():
    with pytest.raises(ValueError, match="same length"):
        Sweep([{"lr": 0.1}], [])


def test_a_real_training_sweep_is_reproducible_per_seed():
    """Same seed → same initial weights and batches → identical histories, whatever else differs."""
    from seqtips import adding_batches, adding_problem, mse_evaluator, seed_everything
    from seqtips.models import SequenceModel

    x, y = adding_problem(64, 6, torch.Generator().manual_seed(99))
    evaluate = mse_evaluator(x, y)

    def run(lr, seed):
        gen = seed_everything(seed)
        model = SequenceModel("gru", 2, 4)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        return train(model, opt, adding_batches(8, 6, gen), 5, evaluate=evaluate, eval_every=5)

    sweep = run_sweep(run, grid(lr=[0.1, 0.1, 0.5], seed=[0]), progress=False)
    a, b, c = sweep.histories
    assert a.eval_loss == b.eval_loss
    assert a.eval_loss[0] == c.eval_loss[0]  # same initial weights, so the same loss before training
    assert a.eval_loss[-1] != c.eval_loss[-1]
    assert sweep.seconds > 0


# --- heatmap ----------------------------------------------------------------------


def test_heatmap_draws_cells_text_and_colorbar():
    fig, ax = plt.subplots()
    values = [[80.0, math.inf, math.nan], [170.0, 130.0, 60.0]]
    text = [["80", "not reached", ""], ["170", "130", "60"]]
    heatmap(ax, values, rows=["Adam", "SGD"], cols=["0.01", "0.1", "1"], text=text, colorbar="steps")
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
        heatmap(ax, [[1.0, 2.0]], rows=["a", "b"], cols=["x"])
    with pytest.raises(ValueError, match="text must be 1 rows × 2 columns"):
        heatmap(ax, [[1.0, 2.0]], rows=["a"], cols=["x", "y"], text=[["1"]])
    plt.close(fig)
