"""Companion of notebook 03 (Adam vs SGD): grids of configurations, run_sweep and Sweep look-ups."""

import pytest
import torch

from seqtips.lessons.nb03_optimizers import Sweep, grid, run_sweep
from seqtips.training import History, train


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


def test_grid_rejects_an_empty_axis():
    with pytest.raises(ValueError, match="axis 'lr' must be a non-empty list"):
        grid(lr=[])


@pytest.mark.parametrize("bad", ["abc", 3, None, {"a": 1}])
def test_grid_rejects_an_axis_that_is_not_a_list(bad):
    with pytest.raises(TypeError, match="axis 'lr' must be a non-empty list"):
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


def test_select_and_get():
    configs = grid(optimizer=["Adam"], lr=[0.1, 0.3], seed=[0, 1]) + grid(optimizer=["SGD"], lr=[1.0], seed=[0, 1])
    sweep = run_sweep(fake_run, configs, progress=False)
    assert [h.label for h in sweep.select(optimizer="Adam", lr=0.3)] == ["Adam 0.3 0", "Adam 0.3 1"]
    assert [h.label for h in sweep.select(seed=1)] == ["Adam 0.1 1", "Adam 0.3 1", "SGD 1.0 1"]
    assert sweep.select(optimizer="RMSprop") == []
    assert sweep.select(momentum=0.9) == []  # a setting no configuration has matches nothing
    assert sweep.get(optimizer="SGD", seed=0).label == "SGD 1.0 0"
    with pytest.raises(KeyError, match="2 runs match"):
        sweep.get(optimizer="Adam", lr=0.1)
    with pytest.raises(KeyError, match="0 runs match"):
        sweep.get(optimizer="RMSprop")
    assert repr(sweep) == "Sweep(6 runs, 0.0 s of training)"


def test_iteration_yields_configuration_and_history():
    sweep = run_sweep(fake_run, grid(optimizer=["SGD"], lr=[0.1], seed=[3]), progress=False)
    ((config, history),) = list(sweep)
    assert config == {"optimizer": "SGD", "lr": 0.1, "seed": 3}
    assert history.label == "SGD 0.1 3"


def test_run_sweep_with_a_progress_bar(capsys):
    sweep = run_sweep(fake_run, grid(optimizer=["SGD"], lr=[0.1, 1.0], seed=[0]), progress=True, desc="lr")
    assert [h.label for h in sweep.histories] == ["SGD 0.1 0", "SGD 1.0 0"]
    assert "lr" in capsys.readouterr().err  # the bar, labelled with desc


@pytest.mark.parametrize(
    ("run", "configs", "error", "match"),
    [
        (None, [{"lr": 0.1}], TypeError, "run must be callable"),
        (fake_run, [], ValueError, "configs must be a non-empty list"),
        (fake_run, {"lr": 0.1}, TypeError, "configs must be a non-empty list"),
        (fake_run, "lr", TypeError, "configs must be a non-empty list"),
        (fake_run, [{"optimizer": "SGD", "lr": 0.1, "seed": 0}, 0.3], TypeError, r"configs\[1\] must be a dict"),
        (lambda lr: lr, [{"lr": 0.1}], TypeError, "run must return a History"),
    ],
)
def test_run_sweep_validates_its_arguments(run, configs, error, match):
    with pytest.raises(error, match=match):
        run_sweep(run, configs, progress=False)


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
