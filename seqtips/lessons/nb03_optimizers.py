"""Companion of notebook 03 (Adam vs SGD): Reddi et al.'s constructed problem and the notebook's figures.

The experiment — the optimizers, the training loop, the tuning and the reported runs — is written
in the notebook's own cells; this module holds what would bury it: :func:`online_counterexample`
(the one-dimensional problem on which Adam with a short memory provably fails), and the plotting
functions :func:`plot_ladder` (every optimizer on the tuning ladder: the working band),
:func:`plot_reported` (test curves of the tuned runs, every seed at its own evaluation steps),
:func:`plot_online` and :func:`plot_run` (one run of the ladder, for the browser), with
:func:`heatmap` underneath :func:`plot_ladder`. Its exercises are in :mod:`seqtips.exercises.nb03`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .. import _check
from ..data import ADDING_BASELINE_MSE
from ..plots import PALETTE, plot_eval_curves
from ..training import History

#: One colour per optimizer in every figure of the notebook.
OPTIMIZER_COLORS = {"Adam": PALETTE["blue"], "SGD": PALETTE["orange"], "SGD+momentum": PALETTE["purple"]}


def _steps(history: History, target: float) -> float:
    s = history.steps_to(target)
    return math.inf if s is None else s


def plot_ladder(
    ax: plt.Axes,
    ladder: Mapping[tuple[str, float], Sequence[History]],
    chosen: Mapping[str, float],
    target: float,
    steps: int,
) -> plt.Axes:
    """The tuning ladder as a map: one row per optimizer, one column per learning rate.

    ``ladder`` maps ``(optimizer, lr)`` to the histories of its tuning runs (one per tuning seed);
    colour is the median number of steps to a validation MSE below ``target`` (grey: not reached),
    the text the median final validation MSE (``inf``: diverged); ``chosen`` (optimizer → rate)
    is framed. Rates an optimizer was not run at stay blank.
    """
    optimizers = list(dict.fromkeys(o for o, _ in ladder))
    rates = sorted({lr for _, lr in ladder})
    values, text = [], []
    for o in optimizers:
        row_v, row_t = [], []
        for lr in rates:
            runs = ladder.get((o, lr))
            if not runs:
                row_v.append(math.nan)
                row_t.append("")
                continue
            med = statistics.median(_steps(h, target) for h in runs)
            final = statistics.median(h.final_eval for h in runs)
            row_v.append(med)
            row_t.append(f"{'—' if math.isinf(med) else f'{med:.0f}'}\n{final:.2g}")
        values.append(row_v)
        text.append(row_t)
    heatmap(ax, values, rows=optimizers, cols=[f"{lr:g}" for lr in rates], text=text, vmin=0, vmax=steps,
            colorbar="median steps to\nthe target (grey: not reached)")
    for i, o in enumerate(optimizers):
        if o in chosen and chosen[o] in rates:
            j = rates.index(chosen[o])
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=PALETTE["black"], lw=2.2))
    ax.set(xlabel="learning rate", title=f"The tuning ladder: steps to validation MSE < {target:g} (colour) and "
           f"final validation MSE (text) after {steps} steps; the chosen rate framed")
    return ax


def plot_reported(
    ax: plt.Axes,
    reported: Mapping[str, Sequence[History]],
    lrs: Mapping[str, float],
    target: float,
) -> plt.Axes:
    """Test MSE against step for each optimizer at its tuned rate: median and range over seeds, and every seed.

    Each run is placed at its own evaluation steps (:func:`seqtips.plot_eval_curves`), so a seed that
    diverged early ends there while the others go on: no seed's curve is hidden behind another's.
    """
    labels = {o: f"{o}, lr {lrs[o]:g}" for o in reported}
    plot_eval_curves(ax, {labels[o]: hs for o, hs in reported.items()},
                     colors={labels[o]: OPTIMIZER_COLORS[o] for o in reported},
                     baseline=ADDING_BASELINE_MSE, baseline_label="learned nothing (1/6)", show_runs=True)
    ax.axhline(target, color=PALETTE["black"], ls=":", lw=1, label=f"target {target:g}")
    ax.set(ylim=(5e-5, 20), ylabel="test MSE (a diverged run ends)",
           title="Each optimizer at its tuned rate, on the reported seeds\n(median and min–max over seeds; "
                 "thin lines: each seed)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_rate(
    ax: plt.Axes,
    ladder: Mapping[tuple[str, float], Sequence[History]],
    optimizer: str,
    lr: float,
    reference: tuple[str, float],
    target: float,
) -> plt.Axes:
    """One rate of the ladder (validation MSE of each tuning seed) against a reference run of the ladder (grey)."""
    for (o, r), color, width in ((reference, "0.6", 2.6), ((optimizer, lr), OPTIMIZER_COLORS.get(optimizer), 1.6)):
        for h in ladder.get((o, r), []):
            ax.plot(h.eval_step, h.eval_loss, color=color, lw=width, label=f"{o}, lr {r:g}")
    runs = ladder.get((optimizer, lr), [])
    if runs:
        how = "; ".join(h.stop_reason or (f"reached the target at step {h.steps_to(target)}" if h.steps_to(target)
                        else f"final validation MSE {h.final_eval:.3g}") for h in runs)
        title = f"{optimizer}, lr {lr:g}: {how}"
    else:
        title = f"{optimizer} was not run at lr {lr:g}"
    ax.axhline(ADDING_BASELINE_MSE, color="0.3", ls="--", lw=1, label="learned nothing")
    ax.axhline(target, color=PALETTE["black"], ls=":", lw=1, label="target")
    ax.set(yscale="log", ylim=(1e-4, 20), xlabel="training step", ylabel="validation MSE")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_online(ax: plt.Axes, paths: Mapping[str, Sequence[float]], big: float) -> plt.Axes:
    """The trajectories of x on Reddi et al.'s problem, one line per optimizer (log-scaled steps)."""
    colors = [PALETTE["blue"], PALETTE["sky"], OPTIMIZER_COLORS["SGD"], PALETTE["green"], PALETTE["purple"], "0.4"]
    for (name, path), color in zip(paths.items(), colors):
        ax.plot(np.arange(1, len(path) + 1), path, color=color, lw=1.6, label=name)
    ax.axhline(-1, color="0.3", ls=":", lw=1)
    ax.set(xscale="log", ylim=(-1.1, 1.1), xlabel="step t", ylabel="x",
           title=f"Constructed: Reddi et al.'s online problem (C = {big:g}); best point x = −1, worst x = +1")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def online_counterexample(
    optimizer: Callable[[list], Any], big: float = 3.0, steps: int = 1500
) -> tuple[list[float], float]:
    """Reddi, Kale & Kumar's (2018) one-dimensional online problem, played by ``optimizer``.

    At step t the loss is ``f_t(x) = big * x`` when ``t % 3 == 0`` and ``-x`` otherwise, with
    ``x`` kept in [-1, 1] (projected after every step). Over three steps the loss is
    ``(big - 2) * x``: for ``big > 2`` the best point is x = -1, the worst x = +1. The learning
    rate decays as ``lr / sqrt(t + 1)`` (their setting). ``optimizer(params)`` builds the
    optimizer for the one parameter. Returns the trajectory of x (one value per step) and the
    average loss per step over the last third of the run (negative is good; the best possible
    is ``-(big - 2) / 3``).
    """
    import torch

    if not callable(optimizer):
        raise TypeError(f"optimizer must be a function params -> torch.optim.Optimizer, got {optimizer!r}")
    big = _check.number("big", big)
    if not big > 2:
        raise ValueError(f"big must exceed 2 (else x = -1 is not the best point), got {big!r}")
    steps = _check.integer("steps", steps, 3)
    x = torch.zeros(1, requires_grad=True)
    opt = optimizer([x])
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (t + 1) ** -0.5)
    path, losses = [], []
    for t in range(steps):
        opt.zero_grad()
        loss = (big * x if t % 3 == 0 else -x).sum()
        losses.append(loss.item())
        loss.backward()
        opt.step()
        schedule.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
        path.append(x.item())
    tail = losses[-3 * (steps // 9):] if steps >= 9 else losses
    return path, sum(tail) / len(tail)


def heatmap(
    ax: plt.Axes,
    values: Sequence[Sequence[float]],
    rows: Sequence[str],
    cols: Sequence[str],
    text: Sequence[Sequence[str]] | None = None,
    cmap: str = "viridis_r",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: str | None = None,
) -> plt.Axes:
    """One coloured cell per (row, column), optionally with text in it.

    ``values`` is ``len(rows)`` lists of ``len(cols)`` numbers; ``nan`` leaves a cell blank (not
    run) and ``inf`` paints it in the colour map's "over" colour (light grey: e.g. target not
    reached). ``colorbar`` labels a colour bar when given.
    """
    data = np.asarray(values, dtype=float)
    if data.shape != (len(rows), len(cols)):
        raise ValueError(
            f"values must be {len(rows)} rows × {len(cols)} columns (rows × cols), got shape {data.shape}"
        )
    if text is not None and (len(text) != len(rows) or any(len(t) != len(cols) for t in text)):
        raise ValueError(f"text must be {len(rows)} rows × {len(cols)} columns, like values")
    finite = data[np.isfinite(data)]
    lo = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
    hi = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
    cm = plt.get_cmap(cmap).with_extremes(over="0.85", bad="white")
    # +inf is drawn just above vmax (the "over" colour); nan and -inf stay blank.
    shown = np.ma.masked_invalid(np.where(np.isposinf(data), hi + max(1.0, abs(hi)), data))
    image = ax.imshow(shown, cmap=cm, vmin=lo, vmax=hi, aspect="auto")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols])
    ax.set_yticks(range(len(rows)), [str(r) for r in rows])
    ax.grid(False)
    if text is not None:
        for i in range(len(rows)):
            for j in range(len(cols)):
                if not text[i][j]:
                    continue
                r, g, b, _ = image.cmap(image.norm(shown[i, j])) if np.isfinite(data[i, j]) else (1, 1, 1, 1)
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(j, i, text[i][j], ha="center", va="center", fontsize="small",
                        color="white" if dark else "black")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar, extend="max")
    return ax
