"""Companion of notebook 03 (Adam vs SGD): run a grid of training runs and read the results back as a small table.

A sweep is a list of configurations — plain dicts such as ``{"optimizer": "Adam", "lr": 0.01,
"seed": 0}``. :func:`grid` builds the cartesian product of some axes; grids that differ per
optimizer are concatenated lists. :func:`run_sweep` calls the notebook's own ``run(**config)``
for each configuration (so the lines that are the lesson stay in the notebook) with a progress
bar, and returns a :class:`Sweep` that looks results up by their settings. ``st.heatmap`` draws
one number per (row, column) cell, e.g. steps to reach a target per optimizer and learning rate.
Its exercises are in :mod:`seqtips.exercises.nb03`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .. import _check
from ..training import History


def grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """The cartesian product of the ``axes`` as a list of configurations, the last axis varying fastest.

    ``grid(optimizer=["SGD"], lr=[0.1, 1.0])`` → ``[{"optimizer": "SGD", "lr": 0.1},
    {"optimizer": "SGD", "lr": 1.0}]``.
    """
    if not axes:
        raise ValueError("grid needs at least one axis, e.g. grid(lr=[0.01, 0.1])")
    for name, values in axes.items():
        is_list = isinstance(values, Sequence) and not isinstance(values, (str, bytes))
        if not is_list or len(values) == 0:
            raise (ValueError if is_list else TypeError)(
                f"axis {name!r} must be a non-empty list of values, got {values!r}")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]


def _matches(config: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    return all(key in config and config[key] == value for key, value in where.items())


class Sweep:
    """The results of a sweep: one :class:`History` per configuration, looked up by settings."""

    def __init__(self, configs: Sequence[Mapping[str, Any]], histories: Sequence[History]) -> None:
        if len(configs) != len(histories):
            raise ValueError(
                f"configs and histories must have the same length, got {len(configs)} and {len(histories)}"
            )
        self.configs = [dict(c) for c in configs]
        self.histories = list(histories)

    def __len__(self) -> int:
        return len(self.configs)

    def __iter__(self) -> Iterator[tuple[dict[str, Any], History]]:
        return iter(zip(self.configs, self.histories))

    def __repr__(self) -> str:
        return f"Sweep({len(self)} runs, {self.seconds:.1f} s of training)"

    @property
    def seconds(self) -> float:
        """Total training time of all runs, in seconds."""
        return sum(h.seconds for h in self.histories)

    def select(self, **where: Any) -> list[History]:
        """The histories whose configuration has all the given settings, in sweep order."""
        return [h for c, h in self if _matches(c, where)]

    def get(self, **where: Any) -> History:
        """The one history with the given settings; ``KeyError`` when none or several match."""
        found = self.select(**where)
        if len(found) != 1:
            raise KeyError(f"{len(found)} runs match {where!r}; give settings that pick exactly one")
        return found[0]


def run_sweep(
    run: Callable[..., History],
    configs: Sequence[Mapping[str, Any]],
    progress: bool = True,
    desc: str = "sweep",
) -> Sweep:
    """Call ``run(**config)`` for every configuration, with a progress bar; return a :class:`Sweep`.

    ``run`` must return a :class:`~seqtips.training.History` (what :func:`seqtips.train` returns).
    """
    if not callable(run):
        raise TypeError(f"run must be callable, got {run!r}")
    is_list = isinstance(configs, Sequence) and not isinstance(configs, (str, bytes))
    if not is_list or len(configs) == 0:
        raise (ValueError if is_list else TypeError)(
            "configs must be a non-empty list of dicts, e.g. grid(lr=[0.01, 0.1])")
    for i, c in enumerate(configs):
        if not isinstance(c, Mapping):
            raise TypeError(f"configs[{i}] must be a dict of settings, got {c!r}")
    histories: list[History] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(configs), desc=desc)
    try:
        for c in configs:
            history = run(**c)
            if not isinstance(history, History):
                raise TypeError(f"run must return a History, got {type(history).__name__} for {dict(c)!r}")
            histories.append(history)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return Sweep(configs, histories)


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
