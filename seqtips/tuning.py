"""One tuning procedure for every arm of a comparison: the same log-spaced grid of learning rates,
scored on *tuning* seeds that no reported run uses, the chosen rate kept off the grid's edge.

``tuned = st.tune("gru", run, rates=st.log_grid(1e-3, 3e-2), seeds=st.seeds(2, stream="tuning"))``
calls ``run(lr, seed) -> score`` (lower is better; a non-finite score counts as a failed run)
for every rate and seed, takes the rate with the lowest median score, and — while that rate sits
at an end of the grid — extends the grid by one more step of the same ratio on that side (at
most ``extend`` times), so a rate "chosen" only because the grid stopped is never passed off as
tuned. ``tuned.lr`` is the rate to report with; ``print(tuned)`` says what was tried, what won,
whether it is inside the grid, and what the tuning cost (runs, seconds).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import _check


def log_grid(low: float, high: float, per_decade: int = 2) -> list[float]:
    """Log-spaced rates from ``low`` to ``high`` with ``per_decade`` points per factor of 10 (2: 1, 3.16, 10)."""
    low, high = _check.number("low", low, positive=True), _check.number("high", high, positive=True)
    per_decade = _check.integer("per_decade", per_decade, 1)
    if high <= low:
        raise ValueError(f"high must be above low, got low {low:g} and high {high:g}")
    n = round(math.log10(high / low) * per_decade)
    return [float(f"{low * 10 ** (i / per_decade):.3g}") for i in range(n + 1)]


@dataclass
class Tuned:
    """What :func:`tune` tried and chose for one arm."""

    name: str
    scores: dict[float, list[float]] = field(default_factory=dict)  # rate -> score per tuning seed
    seeds: list[int] = field(default_factory=list)
    lr: float = math.nan
    at_edge: bool = False  # the chosen rate is still an end of the (extended) grid
    extended: int = 0      # how many rates were added beyond the grid given
    runs: int = 0
    seconds: float = 0.0

    @property
    def rates(self) -> list[float]:
        return sorted(self.scores)

    def median(self, lr: float) -> float:
        return statistics.median(self.scores[lr])

    def __str__(self) -> str:
        grid = ", ".join(f"{lr:g}: {self.median(lr):.3g}" for lr in self.rates)
        where = ("at the grid's edge even after extending it: the best rate may lie beyond it" if self.at_edge
                 else "inside the grid" + (f" (grid extended by {self.extended})" if self.extended else ""))
        return (f"{self.name}: median score by rate on tuning seeds {self.seeds} — {grid}; "
                f"chosen lr {self.lr:g}, {where}; tuning cost {self.runs} runs, {self.seconds:.1f} s")


def tune(name: str, run: Callable[[float, int], float], rates: Sequence[float], seeds: Sequence[int],
         extend: int = 2) -> Tuned:
    """Tune one arm's learning rate: ``run(lr, seed) -> score`` on every rate of ``rates`` (at least 4,
    log-spaced, ascending) and every seed of ``seeds``; lowest median score wins (ties: the lower rate).
    While the winner is an end of the grid, one more rate of the same ratio is tried beyond it
    (at most ``extend`` times). Non-finite scores count as ``inf``: a diverged run loses."""
    _check.instance("name", name, str, "the arm's name, such as 'gru'")
    if not callable(run):
        raise TypeError(f"run must be a function run(lr, seed) -> score, got {type(run).__name__}")
    rates = [_check.number("rates", r, positive=True) for r in rates]
    if len(rates) < 4 or rates != sorted(set(rates)):
        raise ValueError(f"rates must be at least 4 distinct rates in ascending order, got {rates}")
    seeds = [_check.integer("seeds", s, 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one tuning seed (st.seeds(n, stream='tuning'))")
    extend = _check.integer("extend", extend, 0)
    out = Tuned(name=name, seeds=seeds)
    start = time.perf_counter()

    def score(lr: float) -> None:
        values = [_check.scalar(f"run({lr:g}, {seed})'s score", run(lr, seed)) for seed in seeds]
        out.scores[lr] = [v if math.isfinite(v) else math.inf for v in values]
        out.runs += len(seeds)

    for lr in rates:
        score(lr)
    while True:
        grid = out.rates
        out.lr = min(grid, key=lambda r: (out.median(r), r))
        edge = out.lr in (grid[0], grid[-1])
        if not edge or out.extended >= extend:
            out.at_edge = edge
            break
        ratio = grid[1] / grid[0] if out.lr == grid[0] else grid[-1] / grid[-2]
        score(float(f"{(out.lr / ratio if out.lr == grid[0] else out.lr * ratio):.3g}"))
        out.extended += 1
    out.seconds = time.perf_counter() - start
    return out
