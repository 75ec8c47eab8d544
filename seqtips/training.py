"""One training loop that records what the notebooks plot.

Every step records the training loss and the gradient norm *before* clipping (the value that
``torch.nn.utils.clip_grad_norm_`` returns); every ``eval_every`` steps an ``evaluate(model)``
callback gives a validation/test loss. A non-finite loss, gradient norm or evaluation stops
training at once with a stated reason — never a silent NaN curve.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from . import _check

#: Losses that compare predictions and targets element by element: their shapes must agree.
ELEMENTWISE_LOSSES = (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy,
                      F.binary_cross_entropy_with_logits)
ELEMENTWISE_LOSS_MODULES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss)


def checked_loss(loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], prediction: torch.Tensor,
                 target: torch.Tensor, where: str) -> torch.Tensor:
    """``loss_fn(prediction, target)``, refused when it would broadcast predictions against targets.

    An element-wise loss (a function or module of :data:`ELEMENTWISE_LOSSES` /
    :data:`ELEMENTWISE_LOSS_MODULES`) must get tensors of one shape; any other callable (a lambda,
    a partial) is run with torch's broadcasting warning ("target size ... different to the input
    size") turned into the same ``ValueError``.
    """
    if loss_fn in ELEMENTWISE_LOSSES or isinstance(loss_fn, ELEMENTWISE_LOSS_MODULES):
        _check.same_shape(prediction, target, where)
        return loss_fn(prediction, target)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*different to the input size", category=UserWarning)
        try:
            return loss_fn(prediction, target)
        except UserWarning as warning:
            _check.same_shape(prediction, target, where)  # different shapes: say which
            raise ValueError(f"{where}: loss_fn broadcast its arguments ({warning})") from None


@dataclass
class History:
    """What one training run recorded."""

    label: str = ""
    step: list[int] = field(default_factory=list)  # 1-based index of each optimizer step
    train_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # total norm before clipping
    eval_step: list[int] = field(default_factory=list)  # step after which evaluate() ran (0: before training)
    eval_loss: list[float] = field(default_factory=list)
    stop_reason: str = ""
    diverged: bool = False
    seconds: float = 0.0

    @property
    def steps_done(self) -> int:
        return self.step[-1] if self.step else 0

    @property
    def final_eval(self) -> float:
        """The last evaluation (``inf`` when training diverged or never evaluated)."""
        return math.inf if self.diverged or not self.eval_loss else self.eval_loss[-1]

    def steps_to(self, target: float) -> int | None:
        """First evaluated step at which the evaluation was below ``target``, else ``None``."""
        return next((s for s, v in zip(self.eval_step, self.eval_loss) if v < target), None)

    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps_done, 1)

    def log(self, step: int, loss: float | torch.Tensor, grad_norm: float | torch.Tensor | None = None) -> bool:
        """Record one step's loss and gradient norm (before clipping; ``None`` when the loop does not
        measure it, recorded as NaN); ``False`` — with ``diverged`` and ``stop_reason`` set, nothing
        recorded — when the loss or a measured norm is not finite: the loop must stop.

        The guard every training loop in seqtips uses, :func:`train`'s included::

            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if not history.log(step, loss, norm):
                break
            optimizer.step()
        """
        loss = _check.scalar("loss", loss)
        norm = math.nan if grad_norm is None else _check.scalar("grad_norm", grad_norm)
        for what, value in (("loss", loss), ("gradient norm", 0.0 if grad_norm is None else norm)):
            if not self._finite(what, value, f"at step {step}"):
                return False
        self.step.append(step)
        self.train_loss.append(loss)
        self.grad_norm.append(norm)
        return True

    def log_eval(self, step: int, value: float | torch.Tensor) -> bool:
        """Record an evaluation made after ``step`` (0: before training); ``False`` — with ``diverged`` and
        ``stop_reason`` set, nothing recorded — when it is not finite."""
        value = _check.scalar("evaluate(model)'s result", value)
        if not self._finite("evaluation", value, f"after step {step}"):
            return False
        self.eval_step.append(step)
        self.eval_loss.append(value)
        return True

    def _finite(self, what: str, value: float, when: str) -> bool:
        if not math.isfinite(value):
            self.diverged = True
            self.stop_reason = f"{what} became non-finite ({value}) {when}"
        return math.isfinite(value)


def mse_evaluator(x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> Callable[[nn.Module], float]:
    """Return ``evaluate(model) -> float``: mean squared error of ``model`` on the fixed set ``(x, y)``."""
    _check.instance("x", x, torch.Tensor, "a tensor")
    _check.instance("y", y, torch.Tensor, "a tensor")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must hold the same, non-zero number of examples, got {len(x)} and {len(y)}")
    batch_size = _check.integer("batch_size", batch_size, 1)

    def evaluate(model: nn.Module) -> float:
        device = next(model.parameters()).device
        total = 0.0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size].to(device), y[i : i + batch_size].to(device)
            prediction = model(xb)
            _check.same_shape(prediction, yb, "mse_evaluator")
            total += nn.functional.mse_loss(prediction, yb, reduction="sum").item()
        return total / len(x)

    return evaluate


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    steps: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.mse_loss,
    clip: float | None = None,
    evaluate: Callable[[nn.Module], float] | None = None,
    eval_every: int = 50,
    label: str = "",
) -> History:
    """Train ``model`` for ``steps`` optimizer steps on ``batches`` and return its :class:`History`.

    One step is ``zero_grad → loss → backward → clip_grad_norm_ → step``; with ``clip=None`` the
    norm is measured but not clipped. ``evaluate`` runs before training, every ``eval_every``
    steps and after the last step, under ``torch.no_grad()`` in eval mode. Training stops,
    with ``diverged=True`` and a reason, when the loss, the gradient norm or an evaluation
    becomes non-finite.
    """
    _check.module(model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function loss_fn(prediction, target) -> tensor, "
                        f"got {type(loss_fn).__name__}")
    _check.instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in owned for p in params):
        raise ValueError("optimizer holds none of model's parameters: it was made for another model "
                         "(re-run the cell that creates both, or make the optimizer from model.parameters())")
    lacking = [name for name, p in named if id(p) not in owned]
    if lacking:
        raise ValueError(f"optimizer lacks {len(lacking)} of model's trainable parameters: {', '.join(lacking)} "
                         "(was part of the model replaced after the optimizer was made? Make the optimizer "
                         "from model.parameters() after the last change to the model)")
    steps, eval_every = _check.integer("steps", steps, 1), _check.integer("eval_every", eval_every, 1)
    max_norm = math.inf if clip is None else _check.number("clip", clip, positive=True)
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a function evaluate(model) -> float, got {type(evaluate).__name__}")
    if isinstance(batches, torch.Tensor) or not isinstance(batches, Iterable):
        raise TypeError(f"batches must be an iterable of (inputs, targets) pairs, got {type(batches).__name__}")
    device = next(model.parameters()).device
    history = History(label=label)
    iterator = iter(batches)

    def run_eval(step: int) -> bool:
        if evaluate is None:
            return True
        model.eval()
        with torch.no_grad():
            value = evaluate(model)
        model.train()
        return history.log_eval(step, value)

    start = time.perf_counter()
    try:
        if not run_eval(0):
            return history
        model.train()
        for step in range(1, steps + 1):
            batch = next(iterator, None)
            if batch is None:
                history.stop_reason = f"batches ran out after {step - 1} steps"
                break
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                    and all(isinstance(t, torch.Tensor) for t in batch)):
                raise TypeError(f"batches must yield (inputs, targets) pairs of tensors, got {type(batch).__name__}")
            x, y = batch[0].to(device), batch[1].to(device)
            optimizer.zero_grad(set_to_none=True)
            # mse_loss broadcasts [B] against [B, 1] with only a warning
            loss = checked_loss(loss_fn, model(x), y, "train")
            loss.backward()
            if not history.log(step, loss, torch.nn.utils.clip_grad_norm_(params, max_norm)):
                break
            optimizer.step()
            if (step % eval_every == 0 or step == steps) and not run_eval(step):
                break
        else:
            history.stop_reason = f"completed {steps} steps"
    finally:
        history.seconds = time.perf_counter() - start
    return history
