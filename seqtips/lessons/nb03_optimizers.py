"""Companion of notebook 03 (Adam vs SGD): run a grid of training runs and read the results back as a small table.

A sweep is a list of configurations — plain dicts such as ``{"optimizer": "Adam", "lr": 0.01,
"seed": 0}``. :func:`grid` builds the cartesian product of some axes; grids that differ per
optimizer are concatenated lists. :func:`run_sweep` calls the notebook's own ``run(**config)``
for each configuration (so the lines that are the lesson stay in the notebook) with a progress
bar, and returns a :class:`Sweep` that looks results up by their settings. ``st.heatmap`` draws
one number per (row, column) cell, e.g. steps to reach a target per optimizer and learning rate.
:func:`check_exercise` checks the notebook's two exercises (see :mod:`.exercises`).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .. import _check
from ..training import History
from ..verdict import fmt
from . import exercises


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


# --- exercises ----------------------------------------------------------------------------------

#: The notebook's target: test MSE below this counts as solved.
TARGET = 0.01
#: Exercise 1: with the same nominal decay, Adam's L2 must leave a model this many times worse than AdamW's.
DECAY_GAP = 3.0
#: Exercise 2: a range test has found the edge when the loss climbs to this many times its lowest (smoothed) value.
TURN = 2.0


def _exercise_1(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("adam_mse", "adamw_mse", "adam_shrink", "adamw_shrink"),
                         "{'adam_mse': [...], 'adamw_mse': [...], 'adam_shrink': [...], 'adamw_shrink': [...]}, "
                         "one number per seed")
    adam = exercises.numbers("result['adam_mse']", r["adam_mse"], at_least=0)
    n = len(adam)
    adamw = exercises.numbers("result['adamw_mse']", r["adamw_mse"], n, at_least=0)
    adam_shrink = exercises.numbers("result['adam_shrink']", r["adam_shrink"], n, at_least=0)
    adamw_shrink = exercises.numbers("result['adamw_shrink']", r["adamw_shrink"], n, at_least=0)
    gap = statistics.median(adam) / max(statistics.median(adamw), 1e-12)
    values = {"median MSE Adam + L2": statistics.median(adam), "median MSE AdamW": statistics.median(adamw),
              "Adam / AdamW": gap, "threshold": DECAY_GAP}
    measured = (f"final test MSE per seed — Adam with L2: {fmt(adam)}; AdamW: {fmt(adamw)}. Norm of the recurrent "
                f"weights against the run without decay — Adam with L2: {fmt(adam_shrink)}; "
                f"AdamW: {fmt(adamw_shrink)}.")
    if not all(v < TARGET for v in adamw):
        return exercises.not_yet("03.1", f"AdamW did not solve the task on every seed. {measured}",
                                 "give both optimizers the same learning rate and the same weight_decay; "
                                 "AdamW's decay per step is lr * weight_decay * weight — is the value the one the task "
                                 "asks for?", values)
    if not all(a < w for a, w in zip(adam_shrink, adamw_shrink)):
        return exercises.not_yet("03.1", "Adam's L2 did not shrink the recurrent weights more on every seed. "
                                 + measured,
                                 "compare model.rnn.weight_hh_l0's norm with the same seed's run without decay "
                                 "(same seed, same batches), after the same number of steps", values)
    if gap < DECAY_GAP:
        return exercises.not_yet("03.1", f"Adam with L2 ended only x{gap:.2g} worse than AdamW (expected at least "
                                 f"x{DECAY_GAP:g}). {measured}",
                                 "Adam(weight_decay=...) adds the decay to the gradient before dividing by its running "
                                 "scale; check that this is the optimizer of your 'Adam' runs", values)
    return exercises.shows("03.1", f"Same nominal decay, different decay: Adam's L2 left a model x{gap:.3g} worse "
                           f"than AdamW's (median final MSE) and shrank the recurrent weights far more. {measured}",
                           values)


def _smoothed_minimum(losses: list[float], width: int = 5) -> tuple[int, float]:
    """Index and value of the lowest point of the loss, smoothed over ``width`` steps (centred)."""
    smooth = [sum(losses[i : i + width]) / width for i in range(len(losses) - width + 1)]
    i = min(range(len(smooth)), key=smooth.__getitem__)
    return i + width // 2, smooth[i]


def _exercise_2(result: Any) -> exercises.Outcome:
    r = exercises.fields(result, ("lrs", "losses", "suggested_lr", "final_mse"),
                         "{'lrs': [...], 'losses': [...], 'suggested_lr': a rate, 'final_mse': [one per seed]}")
    lrs = exercises.numbers("result['lrs']", r["lrs"], minimum=10, positive=True)
    losses = exercises.numbers("result['losses']", r["losses"], len(lrs), at_least=0)
    if any(b <= a for a, b in zip(lrs, lrs[1:])):
        raise ValueError("result['lrs'] must increase from step to step (a range test raises the rate every step)")
    lr = _check.number("result['suggested_lr']", r["suggested_lr"], positive=True)
    final = exercises.numbers("result['final_mse']", r["final_mse"], at_least=0)
    i, lowest = _smoothed_minimum(losses)
    lr_min = lrs[i]
    values = {"lr at the lowest smoothed loss": lr_min, "suggested lr": lr, "worst final MSE": max(final),
              "threshold": TARGET}
    measured = (f"range test: {len(lrs)} steps from lr {lrs[0]:.2g} to {lrs[-1]:.2g}, lowest smoothed loss at lr "
                f"{lr_min:.2g}; your rate {lr:.2g}: final test MSE per seed {fmt(final)}.")
    if max(losses[i:]) < TURN * lowest:
        return exercises.not_yet("03.2", f"The loss did not turn upwards (to {TURN:g}x its lowest smoothed value) "
                                 f"by the end of the range. {measured}",
                                 "raise the last learning rate of the test until the loss clearly turns upwards",
                                 values)
    if lr >= lr_min:
        return exercises.not_yet("03.2", f"Your rate is not below the rate of the lowest loss. {measured}",
                                 "at the lowest point the steps are already about as large as training tolerates; "
                                 "step back from it", values)
    if not all(v < TARGET for v in final):
        return exercises.not_yet("03.2", f"At your rate the task was not solved on every seed. {measured}",
                                 "where on the curve did the loss fall fastest? A rate far below it moves too little "
                                 "in the notebook's budget", values)
    return exercises.shows("03.2", f"One short run chose a rate that solves the task on every seed within the "
                           f"notebook's budget — a sweep found the same band. {measured}", values)


def check_exercise(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 03; ``result=None`` reports it as not attempted.

    1. ``result = {'adam_mse', 'adamw_mse', 'adam_shrink', 'adamw_shrink'}``, one number per seed: the final
       test MSE of Adam and AdamW with the same ``weight_decay``, and the norm of the recurrent weights
       relative to the same seed's run without decay. Shows the effect when AdamW solves the task on every
       seed, Adam's L2 shrinks the recurrent weights more on every seed, and ends ``DECAY_GAP`` times worse.
    2. ``result = {'lrs', 'losses', 'suggested_lr', 'final_mse'}``: a learning-rate range test (rate and
       training loss per step, the rate rising), the rate chosen from it, and the final test MSE per seed at
       that rate. Shows the effect when the curve turns upwards, the rate lies below its lowest point, and it
       solves the task on every seed.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("03", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
