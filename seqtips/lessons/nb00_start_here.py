"""Companion of notebook 00 (start here): the evidence report and the benchmark, summarised.

(The set-up check's training loop is written out in the notebook itself.)

- :func:`evidence_summary` reads the committed evidence summary (``evidence/summary.json``,
  written by ``python -m seqtips.evidence`` from the records in ``evidence/records/``) and
  tabulates, per notebook and evidence claim, how often the verdict held with its 95 % interval,
  the run nearest to failing and the claim's effect — so that the start page cites measurements
  instead of typing them. It shows the confirmation runs (made after the thresholds were frozen)
  where there are any, else the calibration runs, and says which.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .. import _check

REPORT_URL = "evidence/README.md"
#: The file of ``python -m seqtips.evidence`` this page reads: the report's numbers, per notebook, range and claim.
SUMMARY = "summary.json"
#: The benchmark ``python -m seqtips.bench --json`` writes: one-core seconds and reference units per notebook.
BENCHMARK = "benchmark.json"
#: Which runs the table prefers: those made after the thresholds were frozen, else those they were chosen on.
PREFERRED = ("confirmation", "calibration", "ad hoc")


def _located(folder: str | Path, name: str) -> Path:
    """``folder`` itself, or, when ``folder/name`` is missing and ``folder`` is relative, the first folder of the
    same name above the working directory that holds ``name``: the Russian twin in notebooks/ru/ reads the same
    ``../evidence`` as the English notebook."""
    folder = Path(folder)
    if (folder / name).exists() or folder.is_absolute():
        return folder
    found = (p / folder.name for p in Path.cwd().resolve().parents if (p / folder.name / name).exists())
    return next(found, folder)


def read_summary(folder: str | Path) -> dict | None:
    """``folder/summary.json`` as written by ``python -m seqtips.evidence``, or None (with a warning
    naming the file when it is there but not such a summary)."""
    _check.instance("folder", folder, (str, Path), "a folder path")
    path = _located(folder, SUMMARY) / SUMMARY
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        warnings.warn(f"skipped {path}: not readable JSON ({err})", stacklevel=2)
        return None
    if not isinstance(summary, dict) or not isinstance(summary.get("notebooks"), dict):
        warnings.warn(f"skipped {path}: not a seqtips evidence summary (per notebook, range and claim)", stacklevel=2)
        return None
    return summary


def _table(summary: dict) -> tuple[dict[str, list[str]], list[str]]:
    """Per range, the notebooks shown from it; and the table's rows (evidence claims of each notebook's range)."""
    shown: dict[str, list[str]] = {}
    rows = []
    for notebook, ranges in summary["notebooks"].items():
        name = next((r for r in PREFERRED if r in ranges), None)
        if name is None:
            continue
        mine = [f"| {notebook} | `{cid}` | {c['text']['held']} | {c['text']['closest_margin']} | "
                f"{c['text']['effect'].replace('|', '/')} |" for cid, c in ranges[name]["claims"].items()
                if c["kind"] == "evidence"]
        if mine:  # a notebook without evidence claims (the start page's own set-up check) is not listed
            shown.setdefault(name, []).append(notebook)
            rows += mine
    return shown, rows


def evidence_summary(folder: str | Path) -> str:
    """A Markdown table: per notebook and evidence claim, how often it held (95 % interval), its closest
    run and its effect — from the confirmation runs where there are any, else the calibration runs."""
    summary = read_summary(folder)
    try:
        shown, rows = _table(summary) if summary is not None else ({}, [])
    except (KeyError, TypeError, AttributeError):
        warnings.warn(f"skipped {Path(folder, SUMMARY)}: not a seqtips evidence summary (per notebook, range and "
                      "claim)", stacklevel=2)
        shown, rows = {}, []
    if not shown:
        return (f"No evidence found in `{folder}` (no `{SUMMARY}`) — read the committed report, "
                f"`{REPORT_URL}` in the seqtips repository, or make your own with "
                "`python -m seqtips.evidence --seeds 3`.")
    ranges = summary.get("ranges", {})
    said = []
    for name, notebooks in shown.items():
        seeds = ranges.get(name, {}).get("base_seeds")
        where = f"base seeds {seeds[0]}–{seeds[1]}: " if isinstance(seeds, list) and len(seeds) == 2 else ""
        note = ranges.get(name, {}).get("note", "")
        said.append(f"**{name}** runs ({where}{note}) for {', '.join(notebooks)}")
    lines = ["From the " + "; the ".join(said) + "."]
    if "confirmation" not in shown:
        lines[0] += " No confirmation run yet: read these as how the claims were set, not as a test of them."
    lines += ["", "| notebook | verdict | held in (95 % interval for the rate) | closest run: room to its "
              "threshold (×; < 1 failed) | measured value: median over runs (95 % interval) |",
              "|---|---|---|---|---|", *rows]
    return "\n".join(lines)


def time_table(folder: str | Path) -> str:
    """A Markdown line per notebook: its one-core time (seconds, reference units) from ``folder/benchmark.json``,
    and the total — or a sentence saying the benchmark is missing."""
    _check.instance("folder", folder, (str, Path), "a folder path")
    path = _located(folder, BENCHMARK) / BENCHMARK
    try:
        bench = json.loads(path.read_text(encoding="utf-8"))
        times = {name.removesuffix(".ipynb"): (float(t["seconds"]), float(t["units"]))
                 for name, t in bench["notebooks"].items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return f"No benchmark found in `{folder}` (`{BENCHMARK}`): run `python -m seqtips.bench --cpu 0 --json {path}`."
    total = sum(s for s, _ in times.values())
    rows = [f"| {name} | {s:.0f} s | {u:.0f} |" for name, (s, u) in times.items()]
    return "\n".join([f"Measured on one CPU core ({bench.get('machine', 'machine not recorded')}): all "
                      f"{len(times)} notebooks together take about **{total / 60:.0f} min** of computing; add "
                      "your reading and exercise time. Reference units divide by a fixed reference workload "
                      "timed on the same core, so they compare across machines.", "",
                      "| notebook | one core | reference units |", "|---|---|---|", *rows])
