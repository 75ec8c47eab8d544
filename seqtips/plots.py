"""Figures the notebooks share: curves with seed bands, gradient-norm traces and histograms.

Each function draws on a Matplotlib ``Axes`` it is given and returns it, so a notebook composes
its own figure and keeps control of titles and layout.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from . import _check
from .training import History

#: Okabe and Ito's colour-blind-safe palette (2008): the only colours the notebooks draw with, with grey.
PALETTE = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
           "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
#: One colour per recurrent cell, the same in every notebook.
CELL_COLORS = {"rnn": PALETTE["vermillion"], "gru": PALETTE["blue"], "lstm": PALETTE["green"]}
#: The most bins :func:`plot_norm_histogram` draws: more than a figure's width in pixels shows nothing more.
MAX_BINS = 1000


def use_style() -> None:
    """Light figures that stay small when a notebook is committed with its outputs."""
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,          # crisp on high-density screens, still small files
            "savefig.dpi": "figure",
            "figure.figsize": (9.0, 3.6),
            "font.size": 11,            # figures up to ~10 in wide shrink to ~85 % on GitHub:
            "axes.titlesize": 11,       # 11 pt stays >= 9 pt at the displayed size
            "axes.labelsize": 11,
            "xtick.labelsize": 10.5,
            "ytick.labelsize": 10.5,
            "legend.fontsize": 10.5,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def seed_band(
    ax: plt.Axes,
    x: Sequence[float],
    ys: Sequence[Sequence[float]],
    label: str | None = None,
    color: str | None = None,
    show_runs: bool = False,
) -> plt.Axes:
    """Median over seeds as a line, the min–max range over seeds as a shaded band.

    Runs may be of different lengths (a run that diverged or stopped early ends sooner); the
    statistics at each x use the runs that reached it.
    """
    if len(ys) == 0:
        raise ValueError("ys must hold at least one run")
    data = np.full((len(ys), max(len(y) for y in ys)), np.nan)  # the runs stacked, short ones padded with NaN
    for i, y in enumerate(ys):
        data[i, : len(y)] = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)[: data.shape[1]]
    data = data[:, : len(x)]
    with warnings.catch_warnings():  # columns that no run reached are all-NaN: expected, not news
        warnings.simplefilter("ignore", RuntimeWarning)
        mid = np.nanmedian(data, axis=0)
        lo, hi = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
    (line,) = ax.plot(x, mid, color=color, label=label, lw=1.8)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
    if show_runs:
        for row in data:
            ax.plot(x, row, color=line.get_color(), lw=0.6, alpha=0.5)
    return ax


def plot_eval_curves(
    ax: plt.Axes,
    runs: Mapping[str, Sequence[History]],
    colors: Mapping[str, str] | None = None,
    baseline: float | None = None,
    baseline_label: str = "learned nothing",
    logy: bool = True,
    show_runs: bool = False,
) -> plt.Axes:
    """Evaluation loss against step, one seed band per entry of ``runs`` (label → histories).

    Each run is placed at its own evaluation steps: the band at a step summarises the runs
    evaluated there (runs that stopped early, or were evaluated at other steps, are left out).
    """
    colors = dict(CELL_COLORS, **(colors or {}))
    for label, histories in runs.items():
        if not histories:
            raise ValueError(f"runs[{label!r}] holds no history")
        for i, h in enumerate(histories):
            _check.instance(f"runs[{label!r}][{i}]", h, History, "a seqtips History")
            if len(h.eval_step) != len(h.eval_loss):
                raise ValueError(f"runs[{label!r}][{i}] has {len(h.eval_step)} eval_step but {len(h.eval_loss)} "
                                 "eval_loss entries: they must pair up")
        steps = sorted({s for h in histories for s in h.eval_step})
        losses = [dict(zip(h.eval_step, h.eval_loss)) for h in histories]  # step -> loss, one dict a run
        rows = [[loss.get(s, np.nan) for s in steps] for loss in losses]
        seed_band(ax, steps, rows, label=label, color=colors.get(label))
        if show_runs:
            color = ax.get_lines()[-1].get_color()
            for h in histories:
                ax.plot(h.eval_step, h.eval_loss, color=color, lw=0.6, alpha=0.5)
    if baseline is not None:
        ax.axhline(baseline, color="0.3", ls="--", lw=1, label=baseline_label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.legend()
    return ax


def plot_grad_norms(
    ax: plt.Axes,
    norms: Sequence[float],
    threshold: float | None = None,
    label: str | None = None,
    color: str | None = None,
) -> plt.Axes:
    """Gradient norm (before clipping) at every step, log scale, with the clip threshold drawn."""
    norms = np.asarray(norms, dtype=float)
    ax.plot(np.arange(1, len(norms) + 1), norms, lw=0.8, label=label, color=color)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("‖gradient‖ before clipping")
    return ax


def plot_norm_histogram(
    ax: plt.Axes,
    norms: Sequence[float],
    threshold: float | None = None,
    percentiles: Sequence[float] = (50, 90, 99),
    bins: int = 40,
) -> plt.Axes:
    """Histogram of gradient norms on log-spaced bins, with percentiles and the threshold marked.

    ``percentiles`` are numbers from 0 to 100, each drawn as a line of its own; ``bins`` is from
    1 to ``MAX_BINS``.
    """
    bins = _check.integer("bins", bins, 1, MAX_BINS)
    if isinstance(percentiles, (str, bytes)) or not isinstance(percentiles, Sequence):
        raise TypeError(f"percentiles must be a sequence of numbers from 0 to 100, got {type(percentiles).__name__}")
    percentiles = [_check.number(f"percentiles[{i}]", p, 0.0) for i, p in enumerate(percentiles)]
    for i, p in enumerate(percentiles):
        if p > 100:
            raise ValueError(f"percentiles[{i}] must be from 0 to 100, got {p:g}")
    norms = np.asarray(norms, dtype=float)
    norms = norms[np.isfinite(norms) & (norms > 0)]
    if norms.size == 0:
        raise ValueError("norms must hold at least one finite, positive value")
    edges = np.geomspace(norms.min(), norms.max() * 1.0001, bins + 1)
    ax.hist(norms, bins=edges, color="0.6")
    ax.set_xscale("log")
    for p, style in zip(percentiles, itertools.cycle((":", "-.", "--", (0, (1, 3))))):
        value = np.percentile(norms, p)
        ax.axvline(value, color=PALETTE["purple"], ls=style, lw=1, label=f"p{p:g} = {value:.3g}")
    if threshold is not None:
        ax.axvline(threshold, color="k", lw=1.6, label=f"threshold {threshold:g}")
    ax.set_xlabel("‖gradient‖ before clipping")
    ax.set_ylabel("steps")
    ax.legend(fontsize="small")
    return ax
