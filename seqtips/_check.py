"""Argument checks shared by every public function, so that a mistake reads the same everywhere.

A value of the wrong *type* raises ``TypeError``; a value of the right type but out of range
raises ``ValueError``. Both messages name the argument and say what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn


# What counts as an integer, and as a number: Python's and numpy's scalars alike (bools are neither).
def is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (numpy integers welcome, bools not)."""
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "" if minimum is None else f" >= {minimum}"
        hi = "" if maximum is None else f" <= {maximum}"
        raise ValueError(f"{name} must be an integer{lo}{' and' if lo and hi else ''}{hi}, got {value}")
    return value


def scalar(name: str, value: Any) -> float:
    """``value`` as a ``float``, NaN and inf included (a Python/numpy number or a one-element tensor)."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and math.prod(value.shape) == 1:
        value = value.item()
    if not is_number(value):
        shape = f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else ""
        raise TypeError(f"{name} must be a single number, got {type(value).__name__}{shape}")
    return float(value)


def number(name: str, value: Any, minimum: float | None = None, positive: bool = False) -> float:
    """``value`` as a finite ``float`` (see :func:`scalar`), optionally ``> 0`` or ``>= minimum``."""
    value = scalar(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if (positive and value <= 0) or (minimum is not None and value < minimum):
        raise ValueError(f"{name} must be {'> 0' if positive else f'>= {minimum:g}'}, got {value:g}")
    return value


def string(name: str, value: Any, accept: Callable[[str], Any], what: str) -> str:
    """``value`` if it is a string that ``accept`` finds true: a non-string raises ``TypeError``, a string
    ``accept`` refuses ``ValueError`` — both saying that ``name`` must be ``what``."""
    if not isinstance(value, str) or not accept(value):
        error = ValueError if isinstance(value, str) else TypeError
        raise error(f"{name} must be {what}, got {value!r}")
    return value


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options`` (strings, compared as given)."""
    options = tuple(options)
    return string(name, value, lambda v: v in options, f"one of {', '.join(map(repr, options))}")


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def instance(name: str, value: Any, kind: type | tuple[type, ...], what: str, optional: bool = False) -> Any:
    """``value`` if it is a ``kind`` (or ``None`` when ``optional``); ``what`` names the kind."""
    if (value is None and optional) or isinstance(value, kind):
        return value
    raise TypeError(f"{name} must be {what}{' or None' if optional else ''}, got {type(value).__name__}")


def generator(value: Any, name: str = "generator") -> torch.Generator | None:
    return instance(name, value, torch.Generator, "a torch.Generator", optional=True)


def module(value: Any, name: str = "model") -> nn.Module:
    """``value`` if it is an ``nn.Module`` holding at least one parameter."""
    instance(name, value, nn.Module, "a torch.nn.Module")
    if next(value.parameters(), None) is None:
        raise ValueError(f"{name} has no parameters: there is nothing to train or measure")
    return value


def same_shape(prediction: torch.Tensor, target: torch.Tensor, where: str) -> None:
    """Refuse to compare predictions and targets of different shapes (broadcasting would hide it)."""
    if prediction.shape != target.shape:
        raise ValueError(
            f"{where}: the model's predictions have shape {tuple(prediction.shape)} but the targets "
            f"{tuple(target.shape)}; they must match (e.g. squeeze a trailing dimension of 1)"
        )
