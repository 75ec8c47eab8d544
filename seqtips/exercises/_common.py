"""The exercises at the end of each tip notebook: what a checker returns, and how it is called.

Each companion module has ``check_exercise(n, result, strict=False)``; ``n`` is the exercise's
number in its notebook (1 or 2) and ``result`` what the reader's code produced, in the shape the
exercise asks for. The checker answers with an :class:`Outcome` — the exercise, a status, this
result's numbers, and when the effect does not show, a hint of where to look (never the answer):

- ``result = None`` (the placeholder in the notebook's cell) → *not attempted*, so the notebook
  runs top to bottom before anyone has written an answer;
- a result that shows the expected effect → *shows the effect*;
- a result that does not, yet → *does not show it yet*, with the hint.

``strict=True`` is for the solutions notebooks (``solutions/``): anything but *shows the effect*
raises ``AssertionError`` with the numbers, so a solution whose outcome no longer happens fails
``pytest``. A result of the wrong type or shape raises ``TypeError``/``ValueError`` naming the
part of ``result`` that is wrong, in either mode.

A companion writes one function per exercise, ``result -> Outcome`` (built with :func:`shows` or
:func:`not_yet`), and hands them to :func:`check`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _check

NOT_ATTEMPTED, SHOWS, NOT_YET = "not attempted", "shows the effect", "does not show it yet"
STATUSES = (NOT_ATTEMPTED, SHOWS, NOT_YET)
_MARK = {NOT_ATTEMPTED: "·", SHOWS: "✔", NOT_YET: "✘"}


@dataclass(frozen=True)
class Outcome:
    """What a checker says about one result. ``print`` it, or let the notebook display it."""

    exercise: str  # "02.1": notebook 02, exercise 1
    status: str  # one of STATUSES
    message: str  # this result's numbers, in a sentence or two
    hint: str = ""  # where to look when the effect does not show (empty otherwise)
    values: dict[str, float] = field(default_factory=dict)  # the key numbers, for tests and tools

    @property
    def shows_effect(self) -> bool:
        return self.status == SHOWS

    def __str__(self) -> str:
        text = f"{_MARK[self.status]} Exercise {self.exercise}: {self.status}. {self.message}"
        return text + (f"\n  Hint: {self.hint}" if self.hint else "")

    __repr__ = __str__


def shows(exercise: str, message: str, values: Mapping[str, float] | None = None) -> Outcome:
    return Outcome(exercise, SHOWS, message, "", dict(values or {}))


def not_yet(exercise: str, message: str, hint: str, values: Mapping[str, float] | None = None) -> Outcome:
    return Outcome(exercise, NOT_YET, message, hint, dict(values or {}))


def not_attempted(exercise: str) -> Outcome:
    return Outcome(exercise, NOT_ATTEMPTED,
                   "`result` is still None: write your code in the cell, set `result`, and run it again.")


def check(
    notebook: str,
    n: Any,
    result: Any,
    checkers: Mapping[int, Callable[[Any], Outcome]],
    strict: Any = False,
) -> Outcome:
    """Run exercise ``n``'s checker on ``result`` (``None``: not attempted); see the module's docstring.

    ``strict=True`` raises ``AssertionError`` unless the result shows the effect.
    """
    n = _check.integer("n", n, 1, len(checkers))
    strict = _check.boolean("strict", strict)
    name = f"{notebook}.{n}"
    outcome = not_attempted(name) if result is None else checkers[n](result)
    if strict and not outcome.shows_effect:
        raise AssertionError(f"The exercise's intended outcome did NOT happen in this run:\n{outcome}")
    return outcome


# --- reading a result: the same errors everywhere -------------------------------------------------


def fields(result: Any, keys: Sequence[str], what: str) -> dict[str, Any]:
    """``result`` as a dict holding at least ``keys``; ``what`` describes the expected shape."""
    if not isinstance(result, Mapping):
        raise TypeError(f"result must be a dict {what}, got {type(result).__name__}")
    missing = [k for k in keys if k not in result]
    if missing:
        raise ValueError(f"result is missing {', '.join(map(repr, missing))}: expected a dict {what}")
    return dict(result)


#: The most entries a result's list may hold: far more seeds, sizes or steps than an exercise asks for.
MAX_ENTRIES = 100_000


def numbers(name: str, values: Any, length: int | None = None, minimum: int = 1, positive: bool = False,
            at_least: float | None = None) -> list[float]:
    """``values`` as a list of finite numbers, of ``length`` if given (at least ``minimum`` of them).

    ``positive`` asks for numbers ``> 0``; ``at_least`` for numbers ``>= at_least`` (``0`` for a
    loss or an MSE, which cannot be negative).
    """
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__}")
    if hasattr(values, "__len__") and len(values) > MAX_ENTRIES:
        raise ValueError(f"{name} must have at most {MAX_ENTRIES:,} entries, got {len(values):,}")
    out = [_check.number(f"{name}[{i}]", v, at_least, positive=positive) for i, v in enumerate(values)]
    if length is not None and len(out) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(out)}")
    if len(out) < minimum:
        raise ValueError(f"{name} must have at least {minimum} entries, got {len(out)}")
    return out


def curves(name: str, values: Any, at_least: float | None = None) -> list[list[float]]:
    """``values`` as a non-empty list of curves (each a list of finite numbers ``>= at_least``), e.g. one per seed."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of curves (lists of numbers), got {type(values).__name__}")
    out = [numbers(f"{name}[{i}]", v, at_least=at_least) for i, v in enumerate(values)]
    if not out:
        raise ValueError(f"{name} must hold at least one curve")
    return out
