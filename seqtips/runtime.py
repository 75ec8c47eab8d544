"""Where and how the experiments run: device, seeds, threads — and the notebooks' setup call.

Importing seqtips changes nothing in the process. A notebook opts in, visibly, with
``device = st.setup("01_gated_vs_plain_rnn")``, which reads the environment once:

- ``SEQTIPS_DEVICE``: ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (default: cuda if present, else cpu);
- ``SEQTIPS_SEED``: the base seed (default 0), which owns its own block of seeds (:func:`seeds`);
- ``SEQTIPS_THREADS``: torch's CPU threads (default 1: tiny RNNs run fastest on one thread);
- ``SEQTIPS_RECORD``: a folder where the run's verdicts are written as JSON (default: none; ``~``
  is expanded, and a file or a folder that cannot be written is refused by ``setup``).
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from . import _check

DEVICE_ENV, SEED_ENV, THREADS_ENV = "SEQTIPS_DEVICE", "SEQTIPS_SEED", "SEQTIPS_THREADS"
#: Seeds must lie below 2**32: torch and NumPy would give larger ones the runs of smaller ones.
SEED_LIMIT = 2**32
MAX_THREADS = 256
#: What a seed is for. Each stream is a quarter of torch's seeds (it uses their low 32 bits only).
STREAMS = ("train", "tuning", "test", "probe")
STREAM_SIZE = SEED_LIMIT // len(STREAMS)
#: Seeds a base seed owns in each stream (its block): a notebook trains a handful per base seed.
SEEDS_PER_BASE = 100
#: Distinct blocks per stream: base seeds that differ by a multiple of this share a block.
BLOCKS = STREAM_SIZE // SEEDS_PER_BASE


def get_device(name: str | None = None) -> torch.device:
    """The device to train on: ``name``, else ``SEQTIPS_DEVICE``, else cuda if present, else cpu.

    MPS is used only when asked for: PyTorch's LSTM has given wrong results on it
    (pytorch/pytorch issue 92615). A device this machine lacks raises ``RuntimeError`` saying
    how to fall back.
    """
    source = "name"
    if name is None:
        name, source = os.environ.get(DEVICE_ENV, "").strip() or None, DEVICE_ENV
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    _check.instance(source, name, str, "a device name such as 'cpu' or 'cuda'")
    kind, _, index = name.strip().lower().partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"{source} must be one of 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}")
    device = torch.device(name.strip().lower())
    fallback = f"Unset {DEVICE_ENV} or set {DEVICE_ENV}=cpu to run on the CPU."
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{source}={name!r} asks for a CUDA GPU, but torch {torch.__version__} sees none "
                           f"(no GPU, no driver, or a CPU-only build of torch). {fallback}")
    if kind == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise RuntimeError(f"{source}={name!r}: only {torch.cuda.device_count()} GPU(s) are visible. {fallback}")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"{source}={name!r} asks for Apple's MPS backend, which is not available. {fallback}")
    return device


def _env_int(env: str, default: int, minimum: int, maximum: int) -> int:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{env} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{env} must be an integer from {minimum} to {maximum}, got {value}")
    return value


def base_seed() -> int:
    """The base seed of a notebook: ``SEQTIPS_SEED`` (0 to 2**32 − 1), default 0."""
    return _env_int(SEED_ENV, 0, 0, SEED_LIMIT - 1)


def seeds(n: int, base: int | None = None, stream: str = "train") -> list[int]:
    """The first ``n`` seeds of ``base``'s block (default base: :func:`base_seed`) in ``stream``.

    Each base seed owns a block of ``SEEDS_PER_BASE`` seeds that no other base seed shares
    (``base * 100 + i``), so runs of different base seeds are independent trials. ``stream``
    names what the seeds are for: ``"train"`` (initial weights and batch order), ``"tuning"``
    (the runs that choose a learning rate — never the reported ones), ``"test"`` or
    ``"probe"`` (fixed data sets); the streams are disjoint quarters of torch's 32-bit seeds.
    """
    n = _check.integer("n", n, 1, SEEDS_PER_BASE)
    start = base_seed() if base is None else _check.integer("base", base, 0, SEED_LIMIT - 1)
    return [_offset(stream) + (start % BLOCKS) * SEEDS_PER_BASE + i for i in range(n)]


def stream_seed(seed: int, stream: str) -> int:
    """The seed in ``stream`` that sits where ``seed`` sits in its own: e.g. a training seed's test set.

    ``torch.Generator().manual_seed(st.stream_seed(SEEDS[0], "test"))`` draws a test set that
    no training run of any base seed draws its weights or batches from.
    """
    seed = _check.integer("seed", seed, 0, SEED_LIMIT - 1)
    return _offset(stream) + seed % STREAM_SIZE


def _offset(stream: str) -> int:
    return STREAMS.index(_check.choice("stream", stream, STREAMS)) * STREAM_SIZE


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and torch's generators; return a fresh torch Generator with ``seed``."""
    seed = _check.integer("seed", seed, 0, SEED_LIMIT - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def setup(notebook: str | None = None, threads: int | None = None, style: bool = True) -> torch.device:
    """What every notebook opts into, in one visible call; returns the device.

    Sets torch's CPU threads (``threads``, else ``SEQTIPS_THREADS``, else 1), flushes denormal
    floats to zero (one GRU run took 406 s with them and 13 s without, same results), applies
    the plot style, and starts the verdict record of ``notebook`` (written to
    ``SEQTIPS_RECORD`` when that is set). Prints one line saying what it set.
    """
    from . import plots, verdict  # setup ties the floors together; nothing imports it

    device = get_device()
    seed = base_seed()
    verdict.check_notebook_name(notebook)
    verdict.record_folder()  # an unusable SEQTIPS_RECORD is said now, not at the first verdict after training
    if threads is None:
        threads = _env_int(THREADS_ENV, 1, 1, MAX_THREADS)
    torch.set_num_threads(_check.integer("threads", threads, 1, MAX_THREADS))
    flushed = torch.set_flush_denormal(True)
    if style:
        plots.use_style()
    verdict.start(notebook, device, seed)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine()
    print(f"seqtips on {device} ({name}), torch {torch.__version__}, base seed {seed} · set: "
          f"{torch.get_num_threads()} torch thread(s) (tiny RNNs run fastest on one)"
          + (", denormals flushed to zero (much faster, same results)" if flushed else "")
          + (", plot style" if style else ""))
    return device
