"""Companion of notebook 02 (GRU vs LSTM): time and memory of a training step, measured to be trusted.

- :func:`time_calls` times several step functions *interleaved* (one call of each per round),
  after warm-up calls, synchronising an accelerator around every call; compare medians.
- :func:`saved_tensor_bytes` — how much memory autograd keeps for the backward pass (the
  activations), on any device, by watching the tensors it saves.
- :func:`peak_memory_bytes` — peak memory allocated on a CUDA device while a function runs.
- :func:`state_bytes` — parameters, their gradients and the optimizer's state, in bytes.
- :func:`backward_nodes` — the kinds of node in a loss's backward graph: one fused node per
  layer, or a handful of small nodes per time step?
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .. import _check


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
