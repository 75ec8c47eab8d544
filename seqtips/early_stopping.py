"""Early stopping on a validation value, with the best weights kept and restored.

``EarlyStopping`` compares every new value with the **best value so far** (not with the
previous epoch). ``replay`` and the two ``stop_epoch_*`` functions run a stopping rule over
a curve that was already recorded, so one training run can show where any patience or
``min_delta`` would have stopped -- and where the book repository's rule (compare with the
previous epoch) would have stopped.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

__all__ = [
    "EarlyStopping",
    "Replay",
    "replay",
    "stop_epoch_best_rule",
    "stop_epoch_previous_rule",
]

_MODES = ("min", "max")
_RULES = ("best", "previous")


def _as_float(value: Any, name: str = "value") -> float:
    """Turn a python number, numpy scalar or one-element tensor into a float."""
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(
                f"{name} must be a single number (a 0-d tensor), got a tensor of shape {tuple(value.shape)}"
            )
        return float(value.detach().item())
    size = getattr(value, "size", 1)
    if isinstance(size, int) and size != 1:
        raise TypeError(f"{name} must be a single number, got an array of size {size}")
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a number (float, numpy scalar or 0-d tensor), got {type(value).__name__}"
        ) from None


def _check_patience(patience: Any) -> int:
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
        raise ValueError(f"patience must be an int >= 0, got {patience!r}")
    return patience


def _check_min_delta(min_delta: Any) -> float:
    is_number = isinstance(min_delta, (int, float)) and not isinstance(min_delta, bool)
    if not (is_number and math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
    return float(min_delta)


def _check_mode(mode: Any) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode must be 'min' (lower is better) or 'max' (higher is better), got {mode!r}")
    return mode


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _fmt(x: float) -> str:
    return f"{x:.4g}"


class EarlyStopping:
    """Stop when a validation value has not beaten its best for ``patience`` epochs.

    Call ``step(value, model)`` once per epoch; it returns True when training should stop.

    - An *improvement* is a value better than the best so far by more than ``min_delta``
      (``mode="min"``: lower is better, ``mode="max"``: higher is better). The first finite
      value is always the best so far.
    - ``wait`` counts the consecutive values since the best that did not improve; the stop
      comes on the ``patience``-th of them. ``patience=0`` stops on the first one (so 0 and
      1 behave alike, as in Keras and Lightning).
    - A non-finite value (NaN or +-inf) stops at once.
    - With ``restore_best=True``, every time a model is passed at an improvement a copy of
      its ``state_dict`` is taken (cloned to CPU, so later training cannot change it); on
      the stop, the copy is loaded back into the model passed to that ``step``.
      ``restore(model)`` does the same on demand, e.g. when the epoch budget ran out first.
    - After the stop, further ``step`` calls raise ``RuntimeError``: a stopped run is over.
      Call ``reset()`` to watch a new run with the same settings.

    Attributes: ``best`` (None until a finite value arrives), ``best_epoch`` (0-based index
    of the best value among those given to ``step``), ``wait``, ``stopped_epoch`` (index of
    the value that triggered the stop, else None), ``stop_reason`` (text, else None),
    ``values`` (every value given, as floats) and ``restored`` (True once best weights
    were loaded back into a model).
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best: bool = True,
        *,
        monitor: str | None = None,
    ) -> None:
        self.patience = _check_patience(patience)
        self.min_delta = _check_min_delta(min_delta)
        self.mode = _check_mode(mode)
        if restore_best is not True and restore_best is not False:
            raise ValueError(f"restore_best must be True or False, got {restore_best!r}")
        self.restore_best = restore_best
        if monitor is not None and not isinstance(monitor, str):
            raise ValueError(f"monitor must be a short text such as 'validation loss', got {monitor!r}")
        self.monitor = monitor or ("validation loss" if mode == "min" else "validation score")
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far (the settings stay)."""
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.stop_reason: str | None = None
        self.values: list[float] = []
        self.best_state: dict[str, Any] | None = None
        self.best_state_epoch: int | None = None
        self.restored = False

    @property
    def stopped(self) -> bool:
        """True once a call to ``step`` has returned True."""
        return self.stopped_epoch is not None

    def is_improvement(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: Any, model: nn.Module | None = None) -> bool:
        """Record one validation value; return True when training should stop."""
        if self.stopped:
            raise RuntimeError(
                f"EarlyStopping already stopped at epoch {self.stopped_epoch} "
                f"({self.stop_reason}); call reset() to watch a new run"
            )
        value = _as_float(value)
        if model is not None:
            _check_model(model)
        epoch = len(self.values)
        self.values.append(value)

        if not math.isfinite(value):
            self.stopped_epoch = epoch
            self.stop_reason = f"{self.monitor} was {value} at epoch {epoch}: stopped at once"
            self._restore_on_stop(model)
            return True

        if self.is_improvement(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                # a copy taken now; an older copy would no longer be the best weights
                self.best_state = self._snapshot(model) if model is not None else None
                self.best_state_epoch = epoch if model is not None else None
            return False

        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            epochs = "epoch" if self.wait == 1 else "epochs"
            self.stop_reason = (
                f"{self.monitor} did not improve on its best ({_fmt(self.best)} at epoch "
                f"{self.best_epoch}) by more than {_fmt(self.min_delta)} for {self.wait} {epochs}"
            )
            self._restore_on_stop(model)
            return True
        return False

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the copy of the best weights into ``model`` and return it."""
        _check_model(model)
        if self.best_state is None:
            if not self.restore_best:
                why = "restore_best=False, so no copy of the weights is kept"
            elif self.best_epoch is None:
                why = "no finite value has been recorded yet"
            else:
                why = f"no model was passed to step() at the best epoch ({self.best_epoch})"
            raise RuntimeError(f"nothing to restore: {why}")
        model.load_state_dict(self.best_state)
        self.restored = True
        return model

    @staticmethod
    def _snapshot(model: nn.Module) -> dict[str, Any]:
        return {
            k: v.detach().to("cpu", copy=True) if isinstance(v, torch.Tensor) else copy.deepcopy(v)
            for k, v in model.state_dict().items()
        }

    def _restore_on_stop(self, model: nn.Module | None) -> None:
        if self.restore_best and model is not None and self.best_state is not None:
            self.restore(model)

    def __repr__(self) -> str:
        state = f"stopped at {self.stopped_epoch}" if self.stopped else f"wait={self.wait}"
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"mode={self.mode!r}, best={self.best}, best_epoch={self.best_epoch}, {state})"
        )


class Replay(NamedTuple):
    """Where a stopping rule stops on a recorded curve.

    ``stop_epoch``: index of the value that triggers the stop, None if it never stops.
    ``best_epoch``: index of the checkpoint the rule keeps at that point.
    ``epochs_run``: how many epochs are trained (``stop_epoch + 1``, or the whole curve).
    """

    stop_epoch: int | None
    best_epoch: int | None
    epochs_run: int


def _check_values(values: Any) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.detach().flatten().tolist()
    try:
        seq = list(values)
    except TypeError:
        raise TypeError(f"values must be a sequence of numbers, got {type(values).__name__}") from None
    return [_as_float(v, "values[i]") for v in seq]


def replay(
    values: Sequence[float],
    patience: int,
    min_delta: float = 0.0,
    mode: str = "min",
    rule: str = "best",
) -> Replay:
    """Replay a stopping rule over a recorded validation curve.

    ``rule="best"``: ``EarlyStopping`` (compare with the best value so far).
    ``rule="previous"``: the book repository's rule -- the counter grows when a loss is not
    below the *previous* epoch's loss (``loss_t >= loss_tm1``) and resets when it is; the
    first epoch never counts; it stops when the counter reaches ``patience``. Its checkpoint
    is epoch 0, replaced by any later epoch whose loss is below both its predecessor and
    every earlier checkpointed loss from epoch 1 on (epoch 0's loss is never recorded as
    the best). A NaN compares False, so it resets the counter. Only
    ``mode="min"`` and ``min_delta=0`` exist for it. For ``patience >= 1`` this is the
    book's rule exactly; with ``patience=0`` it stops at the first value not below its
    predecessor (the book's code would stop after epoch 1 whatever happened).
    """
    vals = _check_values(values)
    patience = _check_patience(patience)
    min_delta = _check_min_delta(min_delta)
    mode = _check_mode(mode)
    if rule not in _RULES:
        raise ValueError(f"rule must be 'best' or 'previous', got {rule!r}")

    if rule == "best":
        stopper = EarlyStopping(patience, min_delta, mode, restore_best=False)
        for v in vals:
            if stopper.step(v):
                break
        return Replay(stopper.stopped_epoch, stopper.best_epoch, len(stopper.values))

    if mode != "min" or min_delta != 0.0:
        raise ValueError("rule='previous' exists only for mode='min' and min_delta=0 (as in the book)")
    counter, best, best_epoch = 0, math.inf, None
    for t, v in enumerate(vals):
        if t == 0:  # the book saves epoch 0 unconditionally but does not record its loss
            best_epoch = 0
            continue
        if v >= vals[t - 1]:
            counter += 1
            if counter >= patience:
                return Replay(t, best_epoch, t + 1)
        else:
            if v < best:
                best, best_epoch = v, t
            counter = 0
    return Replay(None, best_epoch, len(vals))


def stop_epoch_best_rule(
    values: Sequence[float], patience: int, min_delta: float = 0.0, mode: str = "min"
) -> int | None:
    """Index where ``EarlyStopping(patience, min_delta, mode)`` stops on ``values`` (None: never)."""
    return replay(values, patience, min_delta, mode, rule="best").stop_epoch


def stop_epoch_previous_rule(values: Sequence[float], patience: int) -> int | None:
    """Index where the book's compare-with-previous-epoch rule stops on ``values`` (None: never)."""
    return replay(values, patience, rule="previous").stop_epoch
