"""Companion of notebook 03 (Adam vs SGD): the figures it draws from the notebook's runs."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from seqtips.lessons import nb03_optimizers as lesson  # noqa: E402
from seqtips.lessons.nb03_optimizers import OPTIMIZER_COLORS  # noqa: E402
from seqtips.training import History  # noqa: E402


def history(steps, losses, diverged=False):
    h = History(label="run")
    h.eval_step, h.eval_loss = list(steps), list(losses)
    h.diverged = diverged
    return h


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_reported_curves_use_every_seeds_steps_even_when_the_first_seed_diverged(ax):
    """The bug this guards against: the band's x-axis was taken from seed 0, which stopped at step 20."""
    early = history([0, 10, 20], [1.0, 0.5, 0.4], diverged=True)
    longer = [history(range(0, 260, 10), [1.0 / (1 + s) for s in range(0, 260, 10)]) for _ in range(2)]
    lesson.plot_reported(ax, {"SGD+momentum": [early, *longer]}, {"SGD+momentum": 0.3}, target=0.01)
    median = next(line for line in ax.get_lines() if line.get_label() == "SGD+momentum, lr 0.3")
    assert max(median.get_xdata()) == 250
    assert median.get_color().lower() == OPTIMIZER_COLORS["SGD+momentum"].lower()
    thin = [line for line in ax.get_lines() if line.get_label().startswith("_") and len(line.get_xdata()) > 2]
    assert sorted(len(line.get_xdata()) for line in thin) == [3, 26, 26]  # every seed drawn, the diverged one too


def test_ladder_map_counts_steps_and_frames_the_chosen_rate(ax):
    solved = history([0, 10, 20], [1.0, 0.005, 0.001])
    stuck = history([0, 10, 20], [1.0, 0.2, 0.15])
    diverged = history([0, 10], [1.0, 0.9], diverged=True)
    ladder = {("Adam", 0.01): [solved], ("Adam", 0.1): [stuck], ("SGD", 0.1): [diverged]}
    lesson.plot_ladder(ax, ladder, {"Adam": 0.01, "SGD": 0.1}, target=0.01, steps=20)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["10\n0.001", "—\n0.15", "—\ninf"]  # SGD was not run at 0.01: a blank cell, no text
    assert len(ax.patches) == 2  # both chosen rates framed
    image = ax.images[0].get_array()
    assert image[0, 0] == 10 and image.mask[1, 0]  # steps to the target; blank where not run


def test_run_view_names_what_happened_and_a_rate_not_run(ax):
    ladder = {("Adam", 0.1): [history([0, 10, 20], [1.0, 0.005, 0.001])],
              ("SGD", 1.0): [history([0], [1.0], diverged=True)]}
    ladder[("SGD", 1.0)][0].stop_reason = "loss became non-finite (nan) at step 3"
    lesson.plot_rate(ax, ladder, "Adam", 0.1, reference=("Adam", 0.1), target=0.01)
    assert "reached the target at step 10" in ax.get_title()
    lesson.plot_rate(ax, ladder, "SGD", 1.0, reference=("Adam", 0.1), target=0.01)
    assert "non-finite" in ax.get_title()
    lesson.plot_rate(ax, ladder, "SGD", 0.3, reference=("Adam", 0.1), target=0.01)
    assert "was not run at lr 0.3" in ax.get_title()


def test_online_paths_one_line_each(ax):
    paths = {"a": [0.0, 0.5, 1.0], "b": [0.0, -0.5, -1.0]}
    lesson.plot_online(ax, paths, big=3.0)
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["a", "b"]
    assert list(labelled[1].get_ydata()) == [0.0, -0.5, -1.0]
    assert not math.isnan(ax.get_ylim()[0])
