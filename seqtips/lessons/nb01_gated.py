"""Companion of notebook 01 (gated vs plain RNNs): how far back the loss can reach, what a model
uses of its input, and the notebook's figures (kept here so that its cells show the experiment).

:func:`gradient_reach` is ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ from :func:`seqtips.hidden_state_gradients` (the
unrolled replay, shared with notebook 04); :func:`marked_weights` regresses a model's predictions
on the two marked values of the adding problem. The exercises are in :mod:`seqtips.exercises.nb01`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..models import SequenceModel
from ..plots import seed_band
from ..unrolled import hidden_state_gradients

FLOOR = 1e-16  # reach values below it (or exactly zero after underflow) are drawn at it


def gradient_reach(model: SequenceModel, x: torch.Tensor, y: torch.Tensor) -> float:
    """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: the fraction of the gradient at the last step that reaches the first.

    A number without units, so that cells and sizes compare: 1 means the first step receives as
    much gradient as the last, 1e-8 that it receives (almost) none.
    """
    grads = hidden_state_gradients(model, x, y)
    if not bool(torch.isfinite(grads).all()):
        return math.nan  # the weights or the gradients blew up: there is no fraction to give
    return float(grads[0] / grads[-1]) if grads[-1] > 0 else 0.0


def marked_values(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first and the second marked value of each adding-problem sequence ``x`` ([n, T, 2])."""
    _check.instance("x", x, torch.Tensor, "a tensor of adding-problem inputs [n, T, 2]")
    if x.dim() != 3 or x.shape[-1] != 2 or x.shape[1] < 2:
        raise ValueError(f"x must be adding-problem inputs of shape [n, T >= 2, 2], got {tuple(x.shape)}")
    half = x.shape[1] // 2  # one marker in each half (st.adding_problem)
    values, markers = x[..., 0], x[..., 1]
    return (values[:, :half] * markers[:, :half]).sum(1), (values[:, half:] * markers[:, half:]).sum(1)


def marked_weights(prediction: torch.Tensor, x: torch.Tensor) -> tuple[float, float]:
    """Least squares ``prediction ≈ c + w1·u1 + w2·u2`` over the sequences ``x``: ``(w1, w2)``, the weight
    the predictions put on the first (distant) and on the second (recent) marked value.

    The task's answer is ``u1 + u2`` (weights 1 and 1); predicting the mean gives 0 and 0.
    """
    u1, u2 = marked_values(x)
    prediction = _check.instance("prediction", prediction, torch.Tensor, "a tensor of predictions").detach().cpu()
    if prediction.shape != u1.shape:
        raise ValueError(f"prediction must hold one number per sequence ({tuple(u1.shape)}), "
                         f"got {tuple(prediction.shape)}")
    design = torch.stack([torch.ones_like(u1), u1, u2], dim=1).double()
    coef = torch.linalg.lstsq(design, prediction.double().unsqueeze(1)).solution.squeeze(1)
    return float(coef[1]), float(coef[2])


def plot_lengths(axes: Sequence[plt.Axes], lengths: Sequence[int], cells: Mapping[str, str],
                 colors: Mapping[str, str], mse: Mapping[tuple[str, int], Sequence[float]],
                 weights: Mapping[tuple[str, int], Sequence[tuple[float, float]]]) -> None:
    """The main figure: per cell (label ``cells[cell]``), every seed's final test MSE (a fraction of the
    learned-nothing line) and its weights on the first and the second marked value, against the length."""
    ax_mse, ax_first, ax_second = axes
    for i, (cell, label) in enumerate(cells.items()):
        shift = (i - 1) * 0.25  # side by side, so that the seeds of one length do not hide each other
        for ax, values in ((ax_mse, {t: mse[cell, t] for t in lengths}),
                           (ax_first, {t: [w[0] for w in weights[cell, t]] for t in lengths}),
                           (ax_second, {t: [w[1] for w in weights[cell, t]] for t in lengths})):
            ax.plot(lengths, [np.median(values[t]) for t in lengths], color=colors[cell], lw=1.8,
                    label=label if ax is ax_mse else None)
            for t in lengths:
                ax.plot([t + shift] * len(values[t]), values[t], "o", color=colors[cell], ms=4, alpha=0.8)
    ax_mse.axhline(1.0, color="0.3", ls="--", lw=1)
    ax_mse.text(lengths[0], 1.15, "learned nothing", fontsize=9, color="0.3")
    ax_mse.set(yscale="log", xticks=list(lengths), xlabel="sequence length T",
               ylabel="final test MSE / (1/6)", title="Quality against length")
    for ax, which in ((ax_first, "first (distant)"), (ax_second, "second (recent)")):
        ax.axhline(1.0, color="0.3", ls="--", lw=1)
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set(xticks=list(lengths), ylim=(-0.25, 1.25), xlabel="sequence length T",
               ylabel="weight in the predictions", title=f"Use of the {which} value")
    ax_mse.legend(loc="lower right", fontsize=9)


def plot_training(ax_loss: plt.Axes, ax_reach: plt.Axes, cells: Mapping[str, str], colors: Mapping[str, str],
                  steps: Mapping[str, Sequence[Sequence[int]]],
                  loss: Mapping[str, Sequence[Sequence[float]]], reach: Mapping[str, Sequence[Sequence[float]]],
                  escape: float, reached: float, escapes: Mapping[str, Sequence[int | None]]) -> None:
    """Test MSE (top) and gradient reach (bottom) over training, median and range over seeds per cell,
    each run's escape marked ▼ on both panels."""
    for cell, label in cells.items():
        cell_steps = steps[cell]
        seed_band(ax_loss, cell_steps[0], loss[cell], color=colors[cell], label=label)
        seed_band(ax_reach, cell_steps[0], [np.maximum(np.nan_to_num(r, nan=FLOOR), FLOOR) for r in reach[cell]],
                  color=colors[cell])
        for s_run, l_run, r_run, esc in zip(cell_steps, loss[cell], reach[cell], escapes[cell]):
            if esc is not None:
                i = list(s_run).index(esc)
                ax_loss.plot(esc, l_run[i], "v", color=colors[cell], ms=6)
                ax_reach.plot(esc, max(r_run[i], FLOOR), "v", color=colors[cell], ms=6)
    ax_loss.axhline(ADDING_BASELINE_MSE, color="0.3", ls="--", lw=1, label="learned nothing (1/6)")
    ax_loss.axhline(escape, color="0.3", ls=":", lw=1, label="escape (1/24)")
    ax_loss.set(yscale="log", ylabel="test MSE")
    ax_reach.axhline(reached, color="0.3", ls=":", lw=1)
    ax_reach.set(yscale="log", ylim=(FLOOR, 5), xlabel="training step", ylabel="gradient reach\n‖∂L/∂h₁‖ / ‖∂L/∂h_T‖")
    plt.setp(ax_loss.get_xticklabels(), visible=False)


def plot_profiles(ax: plt.Axes, profiles: Mapping[tuple[str, str], np.ndarray], colors: Mapping[str, str]) -> None:
    """‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ for every step t, at initialisation (dotted) and trained (solid), per cell."""
    for (cell, when), profile in profiles.items():
        t = np.arange(1, len(profile) + 1)
        ax.plot(t, np.maximum(profile, FLOOR), color=colors[cell], lw=2 if when == "trained" else 1.2,
                ls="-" if when == "trained" else ":")
    ax.set(yscale="log", ylim=(FLOOR, 5), xlabel="time step t", ylabel="‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
