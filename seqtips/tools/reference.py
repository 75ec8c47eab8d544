"""The reference workload: a fixed tiny-RNN training loop that timings are divided by.

    python -m seqtips.tools.reference        # prints its seconds (best of 3)

Machines of one kind differ by 2x in per-operation overhead, and on these models time is the
number of small operations times that overhead, not FLOPs. So a notebook's wall time says little
across machines; its wall time divided by this workload's, measured in the same run on the same
core just before and after it, does: that ratio is the notebook's cost in *reference units*, the
unit the budgets are set in. The workload: a GRU, an LSTM and a plain RNN (hidden 32) each take 40
Adam steps with clipping on one batch of 64 sequences of length 30 of the adding problem, with one
torch thread and flush-denormal on, as the notebooks run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def once() -> float:
    """Seconds for one pass of the workload in this process."""
    import torch
    from torch import nn

    g = torch.Generator().manual_seed(0)
    steps, batch, hidden = 30, 64, 32
    x, y = torch.rand(batch, steps, 2, generator=g), torch.rand(batch, 1, generator=g)
    start = time.perf_counter()
    for kind in (nn.GRU, nn.LSTM, nn.RNN):
        torch.manual_seed(0)
        rnn, head = kind(2, hidden, batch_first=True), nn.Linear(hidden, 1)
        params = [*rnn.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, 3e-3)
        for _ in range(40):
            opt.zero_grad()
            loss = ((head(rnn(x)[0][:, -1]) - y) ** 2).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
    return time.perf_counter() - start


def best_of(repeats: int = 3) -> float:
    """The workload's best time over ``repeats`` passes, with one torch thread and flush-denormal."""
    import torch

    threads, flush = torch.get_num_threads(), None
    torch.set_num_threads(1)
    try:
        flush = torch.set_flush_denormal(True)
        return min(once() for _ in range(repeats))
    finally:
        torch.set_num_threads(threads)
        if flush:
            torch.set_flush_denormal(False)


def measure(cpu: int | None = None) -> float:
    """The workload's seconds in a fresh child process, pinned to ``cpu`` when given (NaN if it fails)."""
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    done = subprocess.run([sys.executable, "-m", "seqtips.tools.reference"], capture_output=True, text=True,
                          preexec_fn=pin)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def units(seconds: float, before: float, after: float) -> float:
    """``seconds`` in reference units: divided by the mean of the reference times around it."""
    reference = (before + after) / 2
    return seconds / reference if reference > 0 else float("nan")


if __name__ == "__main__":
    print(f"{best_of():.4f}")
