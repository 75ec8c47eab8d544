"""Where and how the experiments run: device, seeds, CPU threads.

Everything here reads the environment once, at the door, so that a notebook can be re-run
on another device or seed without editing it:

- ``SEQTIPS_DEVICE``: ``cpu``, ``cuda``, ``cuda:1``, ``mps`` (default: best available);
- ``SEQTIPS_SEED``: the base seed, an integer (default 0);
- ``SEQTIPS_THREADS``: torch's CPU thread count (default 1: tiny RNNs run fastest on one).
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

DEVICE_ENV = "SEQTIPS_DEVICE"
SEED_ENV = "SEQTIPS_SEED"
THREADS_ENV = "SEQTIPS_THREADS"

_KNOWN_DEVICES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(name: str | None = None) -> torch.device:
    """Return the device to train on.

    ``name`` wins; else the environment variable ``SEQTIPS_DEVICE``; else the best available
    device (cuda, then mps, then cpu). An unknown name raises ``ValueError``; a known device
    that this machine does not have raises ``RuntimeError`` saying how to fall back.
    """
    source = "name"
    if name is None:
        name = os.environ.get(DEVICE_ENV, "").strip() or None
        source = DEVICE_ENV
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(name, str):
        raise ValueError(f"name must be a device name such as 'cpu' or 'cuda', got {name!r}")
    kind, _, index = name.strip().lower().partition(":")
    if kind not in _KNOWN_DEVICES or (index and not index.isdigit()):
        raise ValueError(
            f"{source} must be one of 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}"
        )
    device = torch.device(name.strip().lower())
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{source}={name!r} asks for a CUDA GPU, but torch {torch.__version__} sees none "
                "(no GPU, no driver, or a CPU-only torch build). Run on the CPU instead: "
                f"unset {DEVICE_ENV} or set {DEVICE_ENV}=cpu."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"{source}={name!r} asks for GPU {device.index}, but only "
                f"{torch.cuda.device_count()} GPU(s) are visible. Use 'cuda:0' or 'cpu'."
            )
    if kind == "mps" and not _mps_available():
        raise RuntimeError(
            f"{source}={name!r} asks for Apple's MPS backend, which is not available here. "
            f"Unset {DEVICE_ENV} or set {DEVICE_ENV}=cpu."
        )
    return device


def base_seed() -> int:
    """The base seed of a notebook: ``SEQTIPS_SEED`` as an integer, default 0."""
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return 0
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer, got {raw!r}") from None
    if seed < 0:
        raise ValueError(f"{SEED_ENV} must be a non-negative integer, got {seed}")
    return seed


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and torch's generators; return a fresh seeded torch Generator."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def seeds(n: int, base: int | None = None) -> list[int]:
    """``n`` consecutive seeds starting at ``base`` (default: :func:`base_seed`)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    start = base_seed() if base is None else base
    return [start + i for i in range(n)]


def configure_cpu(threads: int | None = None) -> int:
    """Make tiny recurrent models fast on a CPU; return the thread count in force.

    Flushes denormal floats to zero (a GRU run went from minutes to seconds with identical
    results) and sets torch's thread count deliberately: ``threads``, else ``SEQTIPS_THREADS``,
    else 1 — small RNNs spend their time in tiny kernels that extra threads only slow down,
    and a Binder container sees many host cores but gets one.
    """
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if raw:
            try:
                threads = int(raw)
            except ValueError:
                raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}") from None
        else:
            threads = 1
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads)
    return torch.get_num_threads()


def describe_runtime(device: torch.device | None = None, seed: int | None = None) -> str:
    """One line saying what runs where: torch version, device, threads and base seed."""
    device = get_device() if device is None else device
    seed = base_seed() if seed is None else seed
    if device.type == "cuda":
        where = f"{device} ({torch.cuda.get_device_name(device)})"
    else:
        where = f"{device} ({platform.processor() or platform.machine()})"
    return (
        f"torch {torch.__version__} on {where}, {torch.get_num_threads()} CPU thread(s), "
        f"base seed {seed}"
    )
