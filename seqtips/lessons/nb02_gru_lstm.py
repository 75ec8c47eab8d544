"""Companion of notebook 02 (GRU vs LSTM): time and memory of a training step, measured to be trusted.

- :func:`time_calls` times several step functions *interleaved* (one call of each per round),
  after warm-up calls, synchronising an accelerator around every call; compare medians.
- :func:`saved_tensor_bytes` — how much memory autograd keeps for the backward pass (the
  activations), on any device, by watching the tensors it saves.
- :func:`peak_memory_bytes` — peak memory allocated on a CUDA device while a function runs.
- :func:`state_bytes` — parameters, their gradients and the optimizer's state, in bytes.
- :func:`backward_nodes` — the kinds of node in a loss's backward graph: one fused node per
  layer, or a handful of small nodes per time step?
- :func:`training_step` — one cell's model, Adam and a fixed batch, and the step the timing measures.
- Figures and generated prose, out of the lesson's way: :func:`plot_step_costs`,
  :func:`describe_speed`, :func:`plot_quality`, :func:`plot_run`, :func:`plot_counters`.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .. import _check
from ..data import ADDING_BASELINE_MSE, adding_problem
from ..models import SequenceModel
from ..plots import CELL_COLORS, plot_eval_curves, seed_band


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


def training_step(cell: str, hidden: int, seq_len: int, batch: int, device: torch.device | str | None,
                  seed: int, lr: float = 1e-2) -> tuple[nn.Module, torch.optim.Optimizer, Callable, Callable]:
    """``(model, optimizer, loss, step)`` for timing one cell: ``loss()`` is the forward pass on a fixed
    batch drawn from ``seed``; ``step()`` one training step (clear, forward, backward, update), as in
    the notebook's loop without the bookkeeping. The rate does not change the work of a step."""
    device = _check_device(device)
    model = SequenceModel(cell, 2, hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = (t.to(device) for t in adding_problem(batch, seq_len, generator=torch.Generator().manual_seed(seed)))

    def loss() -> torch.Tensor:
        return nn.functional.mse_loss(model(x), y)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss().backward()
        optimizer.step()

    return model, optimizer, loss, step


def _log_axis(ax: plt.Axes, ticks: Sequence[int]) -> None:
    ax.set_xticks(list(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def plot_step_costs(counts: Mapping[str, int], colors: Mapping[str, str], title: str,
                    seconds: Mapping[tuple[str, int], Sequence[float]], saved: Mapping[tuple[str, int], int],
                    cells: Sequence[str], sizes: Sequence[int], where: str) -> plt.Figure:
    """Three panels: the parameter count of each model trained (label → count), the seconds per
    training step (median and interquartile range) and the bytes saved for backward, against H."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
    bars = axes[0].bar(range(len(counts)), list(counts.values()), color=[colors[k] for k in counts])
    axes[0].bar_label(bars, labels=[f"{n:,}" for n in counts.values()], fontsize=9.5)
    axes[0].set_xticks(range(len(counts)), list(counts), fontsize=9.5)
    axes[0].set(ylabel="parameters (I = 2, with the head)", ylim=(0, 1.18 * max(counts.values())), title=title)
    axes[0].grid(False)
    for cell in cells:
        q1, med, q3 = np.array([np.percentile(seconds[cell, h], [25, 50, 75]) * 1e3 for h in sizes]).T
        axes[1].errorbar(sizes, med, yerr=[med - q1, q3 - med], color=CELL_COLORS[cell], marker="o", capsize=3,
                         label=cell.upper())
        axes[2].plot(sizes, [saved[cell, h] / 2**20 for h in sizes], color=CELL_COLORS[cell], marker="o",
                     label=cell.upper())
    axes[1].set(xscale="log", yscale="log", xlabel="hidden size H", ylabel="ms per training step (median, IQR)",
                title=f"time per step\n({where})")
    axes[2].set(xscale="log", yscale="log", xlabel="hidden size H", ylabel="MiB",
                title="tensors saved for\nthe backward pass")
    for ax in axes[1:]:
        _log_axis(ax, sizes)
    axes[1].legend(loc="upper left")
    fig.tight_layout()
    return fig


def describe_speed(device: torch.device, hidden: int, seq_len: int, cells: Sequence[str], sizes: Sequence[int],
                   seconds: Mapping[tuple[str, int], Sequence[float]], graph: Mapping[str, Counter],
                   state: Mapping[tuple[str, int], Mapping[str, int]], saved: Mapping[tuple[str, int], int],
                   peak: Mapping[tuple[str, int], int | None]) -> str:
    """The timing section's measurements in words (markdown): every number from the measurements."""
    ms = {key: 1e3 * statistics.median(times) for key, times in seconds.items()}
    big = sizes[-1]
    ratio = {h: ms["gru", h] / ms["lstm", h] for h in sizes}

    def fastest(cell: str, h: int = hidden) -> float:   # less disturbed by other programs than the median
        return 1e3 * min(seconds[cell, h])

    def compare(r: float) -> str:
        if r > 1.1:
            return f"**{r:.1f}× as long as** an LSTM step"
        if r < 0.9:
            return f"**{r:.2f}× as long as** an LSTM step (faster)"
        return f"about as long as an LSTM step (×{r:.2f})"

    text = [f"On this {device.type.upper()} a GRU training step took {compare(ratio[hidden])} at H = {hidden} "
            f"({ms['gru', hidden]:.2f} vs {ms['lstm', hidden]:.2f} ms, medians of {len(seconds['gru', hidden])} "
            f"steps; fastest steps {fastest('gru'):.2f} vs {fastest('lstm'):.2f} ms, "
            f"×{fastest('gru') / fastest('lstm'):.1f}) and {compare(ratio[big])} at H = {big}, with 3/4 of the "
            "parameters (arithmetic alone predicts ×0.75)."]
    noise = max(ms[key] / (1e3 * min(seconds[key])) for key in seconds)
    if noise > 1.5:
        text.append(f"*The machine was busy during the measurement*: some medians are {noise:.1f}× the fastest "
                    "step of the same cell (the operating system paused the steps to run other programs); the "
                    "fastest steps are then the better guide to the work itself.")
    slower = [str(h) for h in sizes if ratio[h] > 1.1]
    if slower:
        text.append(f"Fewer parameters did **not** mean a faster step here (H = {', '.join(slower)}).")
    nodes = {cell: sum(graph[cell].values()) for cell in cells}
    fused = {cell: nodes[cell] < seq_len for cell in cells}      # a step-by-step layer has nodes for every step
    kernel = {cell: next((k for k in graph[cell] if any(w in k.lower() for w in ("rnn", "lstm", "gru"))), "?")
              for cell in cells}
    text.append(f"The backward graphs (H = {hidden}) show how each cell runs: " + "; ".join(
        f"{cell.upper()}: " + (f"one node for the whole layer (`{kernel[cell]}`)" if fused[cell]
                               else f"{nodes[cell]} nodes, about {nodes[cell] // seq_len} per time step")
        for cell in cells) + ".")
    if device.type == "cpu" and fused["lstm"] and not fused["gru"]:
        text.append(
            "On a CPU, PyTorch hands `nn.LSTM` to a fused oneDNN (MKLDNN) kernel that runs the whole layer "
            "(float32, `torch.backends.mkldnn.enabled`); `nn.GRU` and `nn.RNN` have no such path, and ATen's "
            "generic code runs a handful of small operations per time step. With small matrices the fixed cost "
            "of each operation outweighs the arithmetic the GRU saves.")
        if ratio[big] < ratio[hidden]:
            text.append(f"As H grows the matrix products take over and the gap narrows "
                        f"(×{ratio[hidden]:.1f} at H = {hidden}, ×{ratio[big]:.1f} at H = {big}).")
    elif device.type == "cuda" and all(fused.values()):
        text.append(
            "On CUDA, cuDNN runs each of the three cells as one fused kernel per layer, so none of them pays "
            "per-step overhead of its own; for models this small the time is mostly fixed launch and "
            "synchronisation cost, so it follows the parameter count only loosely.")
    else:
        text.append("How each cell is implemented on this device decides its speed: measure before you choose.")
    kib = {cell: sum(state[cell, hidden].values()) / 1024 for cell in cells}
    text.append(
        f"**Memory.** Weights, their gradients and Adam's two running averages scale with the parameter count: "
        f"{kib['gru']:.0f} KiB for the GRU against {kib['lstm']:.0f} KiB for the LSTM at H = {hidden} (about 3/4; "
        f"the linear head is the same size in both). The activations kept for the backward pass need not follow "
        f"the parameter ratio (LSTM/GRU = 4/3 ≈ 1.33): here the LSTM kept "
        f"{saved['lstm', hidden] / saved['gru', hidden]:.2f}× as much as the GRU "
        f"({saved['lstm', hidden] / 1024:,.0f} vs {saved['gru', hidden] / 1024:,.0f} KiB) — what is kept is the "
        "implementation's choice (a fused kernel keeps a workspace of its own).")
    if device.type == "cuda":
        text.append(f"Peak CUDA memory allocated during one step: GRU {peak['gru', hidden] / 1024:,.0f} KiB, "
                    f"LSTM {peak['lstm', hidden] / 1024:,.0f} KiB.")
    return " ".join(text)


def plot_quality(runs: Mapping[str, Sequence[Any]], colors: Mapping[str, str], target: float, seq_len: int,
                 where: str) -> plt.Figure:
    """Test MSE against training steps (left) and against seconds of training (right), one seed band
    per model; each run is placed at its own steps (the seconds use each model's median seconds per step)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    plot_eval_curves(axes[0], runs, colors=colors, baseline=ADDING_BASELINE_MSE, logy=True)
    axes[0].axhline(target, color="0.3", ls=":", lw=1, label=f"target {target}")
    n = len(next(iter(runs.values())))
    axes[0].set(ylabel="test MSE", title=f"T = {seq_len}: against training steps\n(median, min–max over {n} seeds)")
    axes[0].get_legend().remove()
    for label, hs in runs.items():
        sec = statistics.median(h.seconds_per_step() for h in hs)
        longest = max(hs, key=lambda h: len(h.eval_step))   # every run's steps, not one seed's
        seed_band(axes[1], np.array(longest.eval_step) * sec, [h.eval_loss for h in hs], color=colors[label])
    axes[1].axhline(ADDING_BASELINE_MSE, color="0.3", ls="--", lw=1)
    axes[1].axhline(target, color="0.3", ls=":", lw=1)
    axes[1].set(yscale="log", xlabel=f"seconds of training on {where} (incl. evaluations)", ylabel="test MSE",
                title="the same runs against time\n(median seconds per step of each model)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=5, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


def _smooth(values: Sequence[float], width: int = 20) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.convolve(values, np.ones(width) / width, mode="valid") if len(values) >= width else values


def plot_run(runs: Mapping[str, Sequence[Any]], index: int, curve: str, colors: Mapping[str, str],
             target: float, title: str) -> plt.Figure:
    """One seed's runs (``index`` into each model's list): the test MSE, the training loss (smoothed over
    20 steps) or the gradient norm before clipping."""
    _check.choice("curve", curve, ("test MSE", "training loss", "gradient norm"))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for label, hs in runs.items():
        h = hs[index]
        if curve == "test MSE":
            ax.plot(h.eval_step, h.eval_loss, color=colors[label], label=label)
        elif curve == "training loss":
            ax.plot(h.step[19:] if len(h.step) >= 20 else h.step, _smooth(h.train_loss), color=colors[label],
                    label=label)
        else:
            ax.plot(h.step, h.grad_norm, color=colors[label], lw=0.7, label=label)
    if curve != "gradient norm":
        ax.axhline(target, color="0.3", ls=":", lw=1, label=f"target {target}")
        ax.axhline(ADDING_BASELINE_MSE, color="0.3", ls="--", lw=1, label="learned nothing")
    ax.set(yscale="log", xlabel="training step", ylabel=curve, title=title)
    ax.legend(fontsize="small")
    return fig


def plot_counters(states: Mapping[str, Sequence[float]], n: int) -> plt.Figure:
    """The state that holds the count (cell name → one value per step) while ``n`` a's, then ``n`` b's, are read."""
    fig, axes = plt.subplots(1, len(states), figsize=(10, 3))
    titles = {"lstm": ("cell state c_t", "LSTM: an unbounded counter"),
              "gru": ("hidden state h_t", "GRU: a bounded average")}
    for ax, (cell, values) in zip(np.atleast_1d(axes), states.items()):
        ax.plot(np.arange(1, len(values) + 1), values, color=CELL_COLORS[cell])
        ax.axvline(n, color="0.3", ls="--", lw=1)
        ax.axhline(0, color="0.3", lw=0.8)
        ylabel, title = titles.get(cell, ("state", cell.upper()))
        ax.set(xlabel=f"time step ({n} a's, then {n} b's)", ylabel=ylabel, title=title)
    fig.tight_layout()
    return fig
