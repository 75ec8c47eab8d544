"""Companion of notebook 00 (start here): a set-up check and the evidence report, summarised.

- :func:`tiny_run` trains a small GRU on the adding problem for a few steps: a set-up check that
  takes a second or two and says how fast a step is on this machine;
- :func:`evidence_summary` reads the committed evidence records (``evidence/records/*.json``,
  written by ``python -m seqtips.evidence``) and tabulates, per notebook and claim, how often
  the verdict held and its first number — so that the start page cites measurements instead of
  typing them.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from .. import _check
from ..data import adding_batches, adding_problem
from ..models import SequenceModel
from ..runtime import seed_everything, stream_seed
from ..training import History, mse_evaluator, train
from ..verdict import load_records

REPORT_URL = "evidence/README.md"


def tiny_run(device: torch.device, seed: int = 0, steps: int = 60) -> History:
    """A GRU (hidden 16) on the adding problem of length 10, Adam 1e-2, ``steps`` steps."""
    steps = _check.integer("steps", steps, 1)
    batch_gen = seed_everything(seed)
    model = SequenceModel("gru", 2, 16).to(device)
    x, y = adding_problem(256, 10, generator=torch.Generator().manual_seed(stream_seed(seed, "test")))
    return train(model, torch.optim.Adam(model.parameters(), lr=1e-2), adding_batches(32, 10, batch_gen), steps,
                 evaluate=mse_evaluator(x, y), eval_every=max(steps // 6, 1), label="set-up check")


def load_evidence(folder: str | Path) -> dict[str, list[dict]]:
    """The records in ``folder/records``, grouped by notebook (empty when there are none).

    A file that is not a whole record (a run killed while writing, a foreign file) is skipped with
    a warning that names it.
    """
    _check.instance("folder", folder, (str, Path), "a folder path")
    grouped: dict[str, list[dict]] = {}
    for record in load_records(Path(folder, "records")):
        grouped.setdefault(record["notebook"], []).append(record)
    return grouped


def evidence_summary(folder: str | Path) -> str:
    """A Markdown table: per notebook and evidence claim, runs it held on and its first number."""
    grouped = load_evidence(folder)
    if not grouped:
        return (f"No evidence records found in `{folder}/records` — read the committed report, "
                f"`{REPORT_URL}` in the seqtips repository, or make your own with "
                "`python -m seqtips.evidence --seeds 3`.")
    lines = ["| notebook | claim | held | its first number: median (min – max) over the runs |",
             "|---|---|--:|---|"]
    for notebook, records in grouped.items():
        claims: dict[str, dict] = {}
        for record in records:
            for claim in record["claims"]:
                if claim["kind"] == "evidence":
                    entry = claims.setdefault(claim["id"], {"held": 0, "first": None, "numbers": []})
                    entry["held"] += bool(claim["passed"])
                    name, value = next(iter(claim["values"].items()), (None, None))
                    if isinstance(value, (int, float)):
                        entry["first"], entry["numbers"] = name, entry["numbers"] + [value]
        for cid, entry in claims.items():
            numbers = entry["numbers"]
            summary = (f"{entry['first']}: {statistics.median(numbers):.3g} ({min(numbers):.3g} – {max(numbers):.3g})"
                       if numbers else "—")
            lines.append(f"| {notebook} | `{cid}` | {entry['held']} of {len(records)} | {summary} |")
    return "\n".join(lines)
