"""Companion of notebook 02 (GRU vs LSTM): time and memory of a training step, measured to be trusted.

- :func:`time_calls` times several step functions *interleaved* (one call of each per round),
  after warm-up calls, synchronising an accelerator around every call; compare medians.
- :func:`saved_tensor_bytes` — how much memory autograd keeps for the backward pass (the
  activations), on any device, by watching the tensors it saves.
- :func:`peak_memory_bytes` — peak memory allocated on a CUDA device while a function runs.
- :func:`state_bytes` — parameters, their gradients and the optimizer's state, in bytes.
- :func:`backward_nodes` — the kinds of node in a loss's backward graph: one fused node per
  layer, or a handful of small nodes per time step?
- :func:`check_exercise` — the checker of the notebook's two exercises (see :mod:`.exercises`).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .. import _check
from . import exercises


def _check_device(device: object) -> torch.device:
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str):
        return torch.device(device)
    if not isinstance(device, torch.device):
        raise TypeError(f"device must be a torch.device, a device name or None, got {device!r}")
    return device


def synchronize(device: torch.device | str | None = None) -> None:
    """Wait until the accelerator has finished its queued work (nothing to wait for on a CPU)."""
    device = _check_device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


#: The most timed rounds (and warm-up calls): a median settles long before, and a typo must not run for days.
MAX_REPEATS = 10_000


def time_calls(
    calls: Mapping[str, Callable[[], Any]],
    warmup: int = 3,
    repeats: int = 20,
    device: torch.device | str | None = None,
) -> dict[str, list[float]]:
    """Seconds taken by each call of every function in ``calls`` (name → function, no arguments).

    Each function first runs ``warmup`` times untimed (memory allocation, kernel selection and
    caches happen then). Then ``repeats`` rounds each call every function once, in turn, so that
    a change in the machine's load during the measurement affects all of them alike. On a GPU,
    work is queued asynchronously: the device is synchronised before starting and before
    stopping the clock (``time.perf_counter``). Report the median; the spread shows the noise.
    """
    if not isinstance(calls, Mapping) or not calls:
        error = ValueError if isinstance(calls, Mapping) else TypeError
        raise error("calls must be a non-empty mapping of name -> function without arguments")
    for name, fn in calls.items():
        if not callable(fn):
            raise TypeError(f"calls[{name!r}] must be callable, got {fn!r}")
    _check.integer("warmup", warmup, 0, MAX_REPEATS)
    _check.integer("repeats", repeats, 1, MAX_REPEATS)
    device = _check_device(device)
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def saved_tensor_bytes(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fn()`` and return ``(its result, bytes that autograd saved for the backward pass)``.

    Every tensor that autograd stores for computing gradients passes through a
    ``saved_tensors_hooks`` pack hook; the distinct storages behind them are summed (a tensor
    saved twice, or several views of one buffer, count once). Parameters that are saved count
    too: they would be in memory anyway, so compare cells of similar size, or subtract them.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    storages: dict[tuple[str, int], int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[(str(tensor.device), storage.data_ptr())] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = fn()
    return result, sum(storages.values())


def peak_memory_bytes(fn: Callable[[], Any], device: torch.device | str | None = None) -> int | None:
    """Peak CUDA memory allocated while ``fn()`` runs, above what was allocated before it.

    Returns ``None`` on devices other than CUDA, where PyTorch keeps no such counter.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    device = _check_device(device)
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def _tensor_bytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, int]:
    """Bytes held by ``model``'s parameters, their gradients and ``optimizer``'s state tensors.

    Gradients count only where they exist (after a backward pass); the optimizer's state only
    after its first step (Adam keeps two running averages per parameter).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}")
    params = list(model.parameters())
    out = {
        "parameters": sum(_tensor_bytes(p) for p in params),
        "gradients": sum(_tensor_bytes(p.grad) for p in params if p.grad is not None),
        "optimizer": 0,
    }
    if optimizer is not None:
        for state in optimizer.state.values():
            for value in state.values():
                if isinstance(value, torch.Tensor):
                    out["optimizer"] += _tensor_bytes(value)
    return out


def backward_nodes(output: torch.Tensor) -> Counter[str]:
    """Count the nodes of ``output``'s backward graph by kind (``AddmmBackward0``, …).

    A recurrent layer that runs as one fused kernel shows up as a single node; one that runs
    step by step in generic code shows several small nodes per time step.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError("output has no backward graph (computed without gradients?)")
    counts: Counter[str] = Counter()
    seen: set[Any] = set()  # the nodes themselves: their ids could be reused once freed
    stack = [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        counts[type(node).__name__] += 1
        stack.extend(fn for fn, _ in node.next_functions)
    return counts


# --- exercises ----------------------------------------------------------------------------------

_TIMINGS = "{'hidden': [sizes], 'gru_ms': [...], 'lstm_ms': [...], 'crossing': a size or None}"


def _timings(result: Any, extra: tuple[str, ...] = ()) -> tuple[list[int], list[float], list[float], Any]:
    what = _TIMINGS[:-1] + "".join(f", {k!r}: [...]" for k in extra) + "}"
    r = exercises.fields(result, ("hidden", "gru_ms", "lstm_ms", "crossing", *extra), what)
    exercises.numbers("result['hidden']", r["hidden"], minimum=3, positive=True)
    hidden = [_check.integer(f"result['hidden'][{i}]", h, 1) for i, h in enumerate(r["hidden"])]
    if any(b <= a for a, b in zip(hidden, hidden[1:])):
        raise ValueError(f"result['hidden'] must be increasing sizes, got {hidden}")
    gru = exercises.numbers("result['gru_ms']", r["gru_ms"], len(hidden), positive=True)
    lstm = exercises.numbers("result['lstm_ms']", r["lstm_ms"], len(hidden), positive=True)
    crossing = r["crossing"]
    if crossing is not None and (_check.integer("result['crossing']", crossing, 1) not in hidden):
        raise ValueError(f"result['crossing'] must be one of the sizes measured ({hidden}) or None, got {crossing}")
    return hidden, gru, lstm, crossing


def _crossing_problem(hidden: list[int], ratio: list[float], crossing: Any) -> str:
    """Why ``crossing`` disagrees with the timings ("" when it agrees)."""
    first = next((h for h, q in zip(hidden, ratio) if q <= 1), None)
    if crossing == first:
        return ""
    if crossing is None:
        return ("you answered None, but at some size your GRU step took no longer than the LSTM step: "
                "compare gru_ms / lstm_ms at each size")
    q = ratio[hidden.index(crossing)]
    if q > 1:
        return (f"at H = {crossing} your GRU step took {q:.2f}x the LSTM step, so the two do not cost the "
                "same there yet: look at the ratio gru_ms / lstm_ms at each size")
    return f"H = {crossing} has GRU <= LSTM, but so does a smaller size you measured: the question asks the smallest"


def _sizes(hidden: list[int], ratio: list[float]) -> str:
    return ", ".join(f"H {h}: x{q:.2f}" for h, q in zip(hidden, ratio))


def _exercise_1(result: Any) -> exercises.Outcome:
    hidden, gru, lstm, crossing = _timings(result)
    ratio = [g / m for g, m in zip(gru, lstm)]
    values = {"ratio at smallest H": ratio[0], "ratio at largest H": ratio[-1],
              "crossing": math.nan if crossing is None else float(crossing)}
    problem = _crossing_problem(hidden, ratio, crossing)
    measured = f"GRU step / LSTM step — {_sizes(hidden, ratio)}."
    if problem:
        return exercises.not_yet("02.1", f"Your answer, H = {crossing}, does not match your timings. {measured}",
                                 problem, values)
    where = (f"a GRU step costs no more than an LSTM step from H = {crossing} on (of the sizes measured)"
             if crossing is not None else
             f"the GRU step was slower at every size up to H = {hidden[-1]}; the gap went from x{ratio[0]:.2f} to "
             f"x{ratio[-1]:.2f} — on this device the cells cost the same, if ever, beyond the sizes measured")
    return exercises.shows("02.1", f"Consistent with your timings: {where}. {measured}", values)


def _exercise_2(result: Any) -> exercises.Outcome:
    hidden, gru, lstm, crossing = _timings(result, ("fused_ratio",))
    fused = exercises.numbers("result['fused_ratio']", result["fused_ratio"], len(hidden), positive=True)
    ratio = [g / m for g, m in zip(gru, lstm)]
    lower = sum(u < f for u, f in zip(ratio, fused))
    values = {"sizes where unfused ratio is lower": lower, "sizes": len(hidden),
              "unfused ratio at largest H": ratio[-1], "fused ratio at largest H": fused[-1]}
    measured = (f"GRU step / LSTM step without the fused kernel — {_sizes(hidden, ratio)}; with it — "
                f"{_sizes(hidden, fused)}.")
    problem = _crossing_problem(hidden, ratio, crossing)
    if problem:
        return exercises.not_yet("02.2", f"Your answer, H = {crossing}, does not match your timings. {measured}",
                                 problem, values)
    if lower * 2 <= len(hidden):
        return exercises.not_yet(
            "02.2", f"Without the fused kernel the GRU was relatively cheaper at only {lower} of {len(hidden)} sizes. "
            f"{measured}",
            "did the switch take effect? Set torch.backends.mkldnn.enabled = False before building and timing the "
            "models (and back to True afterwards). It changes the CPU path only: on CUDA, "
            "torch.backends.cudnn.enabled = False plays its part.", values)
    where = f"from H = {crossing}" if crossing is not None else "at none of the sizes measured"
    return exercises.shows(
        "02.2", f"With both cells running step by step, the GRU step was relatively cheaper at {lower} of "
        f"{len(hidden)} sizes, and no dearer than the LSTM step {where}; at H = {hidden[-1]} it took x{ratio[-1]:.2f} "
        f"the LSTM step (parameter ratio x0.75). {measured}", values)


def check_exercise(n: int, result: Any, strict: bool = False) -> exercises.Outcome:
    """Check exercise ``n`` (1 or 2) of notebook 02; ``result=None`` reports it as not attempted.

    1. ``result = {'hidden': [sizes], 'gru_ms': [...], 'lstm_ms': [...], 'crossing': H or None}`` —
       median milliseconds of a training step per hidden size (at least three, increasing), and the
       smallest size at which the GRU step took no longer than the LSTM step (None: at none).
       Shows the effect when the answer agrees with the timings.
    2. The same with ``torch.backends.mkldnn.enabled = False``, plus ``'fused_ratio'``: exercise 1's
       GRU/LSTM ratios at the same sizes. Shows the effect when the answer agrees with the timings and
       the GRU is relatively cheaper without the fused kernel at most sizes.

    ``strict=True`` (the solutions notebook) raises ``AssertionError`` unless the effect shows.
    """
    return exercises.check("02", n, result, {1: _exercise_1, 2: _exercise_2}, strict)
