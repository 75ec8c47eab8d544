"""Early stopping on a validation value, with the best weights kept and restored.

``EarlyStopping`` compares every new value with the **best value so far** — not with the
previous epoch, as the book's repository did (its rule is replayed in notebook 05).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from . import _check

_MODES = ("min", "max")


def check_patience(patience: Any) -> int:
    return _check.integer("patience", patience, 0)


def check_min_delta(min_delta: Any) -> float:
    return _check.number("min_delta", min_delta, 0.0)


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
      the stop, the copy is loaded back into the model passed to that ``step`` — and when no
      copy was kept (no model was passed at the best epoch), that ``step`` records the stop
      and raises ``RuntimeError`` instead of leaving the last weights in place unsaid.
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
        self.patience = check_patience(patience)
        self.min_delta = check_min_delta(min_delta)
        self.mode = _check.choice("mode", mode, _MODES)
        self.restore_best = _check.boolean("restore_best", restore_best)
        _check.instance("monitor", monitor, str, "a short text such as 'validation loss'", optional=True)
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
        gain = self.best - value if self.mode == "min" else value - self.best
        # "more than min_delta": a gain equal to it up to float rounding (0.4 - 0.3) does not count
        return gain > self.min_delta and not math.isclose(gain, self.min_delta, rel_tol=1e-9, abs_tol=1e-12)

    def step(self, value: Any, model: nn.Module | None = None) -> bool:
        """Record one validation value; return True when training should stop."""
        if self.stopped:
            raise RuntimeError(
                f"EarlyStopping already stopped at epoch {self.stopped_epoch} "
                f"({self.stop_reason}); call reset() to watch a new run"
            )
        value = _check.scalar("value", value)
        if model is not None:
            _check.instance("model", model, nn.Module, "a torch.nn.Module")
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
            return False

        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            epochs = "epoch" if self.wait == 1 else "epochs"
            self.stop_reason = (
                f"{self.monitor} did not improve on its best ({self.best:.4g} at epoch "
                f"{self.best_epoch}) by more than {self.min_delta:.4g} for {self.wait} {epochs}"
            )
            self._restore_on_stop(model)
            return True
        return False

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the copy of the best weights into ``model`` and return it."""
        _check.instance("model", model, nn.Module, "a torch.nn.Module")
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
        if not self.restore_best or model is None:
            return
        if self.best_state is None and self.best_epoch is not None:
            # the stop asks for the best weights, and they were never kept: say so, do not stop silently
            raise RuntimeError(
                f"stopped ({self.stop_reason}), but the best weights cannot be restored into the model: no model "
                f"was passed to step() at the best epoch ({self.best_epoch}), so no copy of them was kept. "
                "Pass the model at every step(value, model), or use restore_best=False"
            )
        if self.best_state is not None:
            self.restore(model)

    def __repr__(self) -> str:
        state = f"stopped at {self.stopped_epoch}" if self.stopped else f"wait={self.wait}"
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"mode={self.mode!r}, best={self.best}, best_epoch={self.best_epoch}, {state})"
        )
