"""The verdict: a claim, this run's numbers, and a loud failure when the claim does not hold."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def check(claim: str, holds: bool, evidence: str = "") -> None:
    """Print ``claim`` with its ``evidence`` when it ``holds``; raise ``AssertionError`` when not.

    The claim is what the notebook promised to show; the evidence is this run's numbers. A
    notebook ends its verdict cell with one ``check`` per claim, so that running it on another
    seed or device fails loudly if the effect did not appear. Returns ``None``, so that a
    notebook cell ending in ``check`` prints nothing more.
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("claim must be a non-empty sentence")
    if not isinstance(holds, bool):
        # numpy/torch booleans are welcome; anything else is a mistake in the notebook.
        if hasattr(holds, "item") and isinstance(holds.item(), bool):
            holds = bool(holds.item())
        else:
            raise ValueError(f"holds must be a boolean, got {type(holds).__name__}")
    text = claim.strip() + (f"\n    {evidence.strip()}" if evidence else "")
    if not holds:
        raise AssertionError("The claim did NOT hold in this run: " + text)
    print("✔ " + text)


def fmt(values: Iterable[float], digits: int = 3) -> str:
    """Format numbers for a verdict line: ``0.0012, 0.161, inf``."""
    out = []
    for v in values:
        v = float(v)
        out.append(str(v) if not math.isfinite(v) else f"{v:.{digits}g}")
    return ", ".join(out)


def per_seed(seeds: Sequence[int], values: Iterable[float], digits: int = 3) -> str:
    """``seed 0: 0.161, seed 1: 0.158`` — numbers labelled by their seed."""
    vals = list(values)
    if len(vals) != len(seeds):
        raise ValueError(f"values must have one entry per seed ({len(seeds)}), got {len(vals)}")
    return ", ".join(f"seed {s}: {fmt([v], digits)}" for s, v in zip(seeds, vals))
