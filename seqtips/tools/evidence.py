"""Run notebooks under many base seeds and report how often each verdict held.

    python -m seqtips.evidence --range calibration --jobs 2 --out evidence   # base seeds 0-19
    python -m seqtips.evidence --freeze                                      # evidence/frozen.json
    python -m seqtips.evidence --range confirmation --jobs 2 --out evidence  # base seeds 1000-1019
    python -m seqtips.evidence --notebooks 02 --seeds 3                      # a reader's ad hoc check

Each run executes a notebook headless in a fresh kernel with ``SEQTIPS_SEED`` set to one base
seed, ``SEQTIPS_THREADS=1`` and ``SEQTIPS_RECORD`` pointing at ``OUT/records``, where the
notebook's ``st.check`` calls leave one JSON record per run. A notebook that fails counts as a
failed run: its failing claim is in the record, and the sweep goes on.

Base seeds come in two named, disjoint ranges (:data:`CALIBRATION`, :data:`CONFIRMATION`; base
seed ``b`` trains seeds of its own, so two base seeds share no training seed). Thresholds are
chosen on the calibration seeds; ``--freeze`` then writes ``evidence/frozen.json`` (the commit and
each notebook's code hash), and a confirmation run refuses to start unless every notebook it runs
has the code hash frozen there. Any other seeds are "ad hoc". The report ``OUT/README.md`` and
``OUT/summary.json`` give, per notebook, range and claim: how many runs it held on with a 95 %
Clopper–Pearson interval for its rate, the run nearest to failing (its margin and seed), the
median of its first number with a distribution-free 95 % interval, and every failure by seed.
The confirmation run is the headline; the calibration follows it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import queue
import re
import statistics
import subprocess
import sys
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..runtime import SEED_LIMIT
from ..verdict import code_hash, write_atomic
from . import cli, reference, stats
from .execute import CELL_TIMEOUT, execute

NOTEBOOKS = Path("notebooks")
#: The base seeds thresholds are chosen on: the report says "thresholds may have been chosen on these".
CALIBRATION = range(0, 20)
#: The base seeds run only after the thresholds were frozen: the report's headline. Disjoint from
#: CALIBRATION; change either here (consecutive base seeds, step 1) and rerun both.
CONFIRMATION = range(1000, 1020)
RANGES = {"confirmation": CONFIRMATION, "calibration": CALIBRATION}
#: The name of base seeds in neither range.
AD_HOC = "ad hoc"
#: How the report describes the runs of each range.
RANGE_NOTES = {"confirmation": "run after the thresholds were frozen",
               "calibration": "thresholds may have been chosen on these",
               AD_HOC: "outside both named ranges"}
#: Where ``--freeze`` writes, and a confirmation run reads, the frozen code hashes.
FROZEN = Path("evidence") / "frozen.json"
SUMMARY = "summary.json"


def read_record(path: Path) -> dict | None:
    """The record in ``path``, or None (with a warning naming the file) when it is not a whole record."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        warnings.warn(f"skipped {path}: not a readable JSON record ({err})", stacklevel=2)
        return None
    whole = (isinstance(record, dict) and isinstance(record.get("notebook"), str)
             and isinstance(record.get("environment"), dict) and isinstance(record.get("claims"), list)
             and all(isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("kind"), str)
                     and isinstance(c.get("passed"), bool) and isinstance(c.get("values"), dict)
                     for c in record["claims"]))
    if not whole:
        warnings.warn(f"skipped {path}: not a seqtips record (a notebook name, an environment and claims, "
                      "each with id, kind, passed and values)", stacklevel=2)
        return None
    return record


def load_records(records: Path) -> list[dict]:
    """Every whole record in the folder ``records``; a truncated or foreign file is skipped and named."""
    return [r for p in sorted(Path(records).glob("*-seed*.json")) if (r := read_record(p)) is not None]


def range_of(seed: object) -> str:
    """The name of the range base seed ``seed`` belongs to: ``confirmation``, ``calibration`` or ``ad hoc``."""
    return next((name for name, seeds in RANGES.items() if isinstance(seed, int) and seed in seeds), AD_HOC)


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str:
    """The commit checked out here (``git rev-parse HEAD``), or ``"unknown"`` outside a git checkout."""
    return _git("rev-parse", "HEAD") or "unknown"


def git_changes(paths: Sequence[Path]) -> bool | None:
    """Whether ``paths`` differ from the commit checked out (uncommitted changes); None outside git."""
    out = _git("status", "--porcelain", "--", *map(str, paths))
    return None if out is None else bool(out)


def find_notebooks(numbers: Sequence[str] | None, folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks ``NN_*.ipynb`` of ``folder`` with the given numbers (default: all)."""
    available = {p.name[:2]: p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    if not available:
        raise ValueError(f"no notebooks found in {folder}/ (run from the repository root)")
    if not numbers:
        return list(available.values())
    unknown = [n for n in numbers if n.zfill(2) not in available]
    if unknown:
        raise ValueError(f"--notebooks: no notebook numbered {', '.join(unknown)}; "
                         f"choose from {', '.join(available)}")
    return [available[n.zfill(2)] for n in dict.fromkeys(numbers)]


def record_path(records: Path, notebook: Path, seed: int) -> Path:
    return records / f"{notebook.stem}-seed{seed}.json"


def run_one(notebook: Path, seed: int, records: Path, timeout: int, cores: queue.Queue | None = None,
            commit: str | None = None) -> dict:
    """Execute ``notebook`` under base ``seed``; return its record, completed with how the run went.

    With ``cores`` (a queue of free CPU numbers), the run takes one core to itself for its duration;
    ``commit`` (default: :func:`git_commit`) is kept in the record as the commit the run was made at.
    """
    path = record_path(records, notebook, seed)
    path.unlink(missing_ok=True)
    env = {"SEQTIPS_SEED": str(seed), "SEQTIPS_RECORD": str(records.resolve()), "SEQTIPS_THREADS": "1"}
    cpu = cores.get() if cores is not None else None
    try:
        before = reference.measure(cpu)
        result = execute(notebook, env, timeout, cpu=cpu)
        after = reference.measure(cpu)
    finally:
        if cpu is not None:
            cores.put(cpu)
    record = read_record(path) if path.is_file() else None
    if record is None:  # the run wrote no record, or half of one: keep what the runner knows
        record = {"notebook": notebook.stem, "environment": {"base_seed": seed}, "claims": []}
    record["notebook"] = notebook.stem
    # a stalled try is run again (execute retries once): its time is never the run's, its details are kept
    record["run"] = {"seconds": round(result["seconds"], 2), "peak_mb": round(result["peak_mb"], 1),
                     "units": round(reference.units(result["seconds"], before, after), 1),
                     "reference_s": [round(before, 4), round(after, 4)], "stalls": result["stalls"],
                     "error": result["error"], "code_hash": code_hash(notebook), "one_core": cpu is not None,
                     "range": range_of(seed), "commit": commit or git_commit()}
    write_atomic(path, json.dumps(record, indent=1, ensure_ascii=False))
    return record


def _units_text(units: list[float], runs: int) -> str:
    """The median in reference units, and over how many runs when not every run measured the reference."""
    if not units:
        return ""
    text = f"; median {_num(statistics.median(units))} reference units"
    if len(units) < runs:
        text += f" (over the {len(units)} run{'s' if len(units) > 1 else ''} that measured the reference)"
    return text


def _num(value: float) -> str:
    return f"{value:.3g}" if isinstance(value, (int, float)) else str(value)


def _number(value: object) -> float | None:
    """A record's number as a float (``"inf"``, ``"-inf"`` and ``"nan"`` as floats), or None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    return None


def _seed(record: dict) -> int | None:
    seed = record["environment"].get("base_seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def summarise(records: list[dict]) -> dict[str, dict]:
    """Per notebook: runs, seeds, wall times, code hashes, commits, environment, and per claim its tally.

    A claim's tally counts the runs it held on (``passed``) and reached (``runs``), keeps each
    number over the runs, its failures by seed and its margins; it then gets, over the notebook's
    runs N, its ``interval`` (95 % Clopper–Pearson for the rate; None for a deterministic check),
    its ``closest`` run (the smallest margin and its seed) and its ``effect`` (the median of its
    first number with a 95 % order-statistic interval).
    """
    out: dict[str, dict] = {}
    for rec in sorted(records, key=lambda r: (r["notebook"], -1 if _seed(r) is None else _seed(r))):
        nb = out.setdefault(rec["notebook"], {"runs": 0, "seeds": [], "seconds": [], "units": [], "stalls": [],
                                              "hashes": set(), "commits": set(),
                                              "errors": [], "claims": {}, "environment": rec["environment"]})
        seed = rec["environment"].get("base_seed")
        nb["runs"] += 1
        nb["seeds"].append(seed)
        run = rec.get("run", {})
        if isinstance(run.get("seconds"), (int, float)) and run["seconds"] == run["seconds"]:
            nb["seconds"].append(run["seconds"])
        if isinstance(run.get("units"), (int, float)) and run["units"] == run["units"]:
            nb["units"].append(run["units"])
        nb["stalls"] += [{"seed": seed, **stall} for stall in run.get("stalls", [])]
        nb["hashes"].add(run.get("code_hash") or rec["environment"].get("code_hash"))
        if isinstance(run.get("commit"), str):
            nb["commits"].add(run["commit"])
        failed_claim = False
        for claim in rec["claims"]:
            tally = nb["claims"].setdefault(claim["id"], {"claim": claim["claim"], "kind": claim["kind"],
                                                          "passed": 0, "runs": 0, "values": {}, "failures": [],
                                                          "margins": [], "not_comparable": 0})
            tally["claim"], tally["kind"] = claim["claim"], claim["kind"]
            tally["runs"] += 1
            tally["passed"] += bool(claim["passed"])
            for name, value in claim["values"].items():
                tally["values"].setdefault(name, []).append(value)
            if "margin" in claim:
                margin = _number(claim["margin"])
                if margin is None or math.isnan(margin):
                    tally["not_comparable"] += 1
                else:
                    tally["margins"].append((seed, margin))
            if not claim["passed"]:
                failed_claim = True
                tally["failures"].append({"seed": seed, "values": claim["values"]})
        if run.get("error") and not failed_claim:
            nb["errors"].append({"seed": seed, "error": run["error"]})
    for nb in out.values():
        for tally in nb["claims"].values():
            _conclude(tally, nb["runs"])
    return out


def _conclude(tally: dict, runs: int) -> None:
    """Add a claim's interval, closest run and effect (see :func:`summarise`) over ``runs`` runs."""
    deterministic = tally["kind"] == "deterministic"
    tally["interval"] = None if deterministic else list(stats.clopper_pearson(tally["passed"], runs))
    closest = min(tally["margins"], key=lambda seed_margin: seed_margin[1], default=None)
    tally["closest"] = None if closest is None else {"seed": closest[0], "margin": closest[1]}
    first = next(iter(tally["values"]), None)
    numbers = [v for v in map(_number, tally["values"].get(first, [])) if v is not None and not math.isnan(v)]
    tally["effect"] = None
    if numbers:
        median, low, high = stats.median_interval(numbers)
        tally["effect"] = {"name": first, "median": median, "low": low, "high": high, "runs": len(numbers),
                           "min": min(numbers), "max": max(numbers)}


def summarise_ranges(records: list[dict]) -> dict[str, dict[str, dict]]:
    """:func:`summarise` of each range's records: confirmation first, then calibration, then ad hoc."""
    groups: dict[str, list[dict]] = {}
    for rec in records:
        groups.setdefault(range_of(_seed(rec)), []).append(rec)
    return {name: summarise(groups[name]) for name in (*RANGES, AD_HOC) if name in groups}


def headline(ranges: dict[str, dict[str, dict]]) -> dict[str, str]:
    """Per notebook, the range its headline comes from: confirmation when it has any, else calibration, else ad hoc."""
    names = sorted({name for summary in ranges.values() for name in summary})
    return {name: next(r for r, summary in ranges.items() if name in summary) for name in names}


# --- how a claim reads ---------------------------------------------------------------------------------


def held_text(tally: dict, runs: int) -> str:
    """``18 of 20 (0.683–0.988)``: runs held, of the notebook's runs, with the 95 % interval for the rate.

    A deterministic check reads once: held on every run, or the runs it did not hold on.
    """
    missing = runs - tally["runs"]
    if tally["kind"] == "deterministic":
        failed = [str(f["seed"]) for f in tally["failures"]]
        if failed:
            return (f"deterministic: did NOT hold on {len(failed)} of {runs} runs (seed{'s' * (len(failed) > 1)} "
                    f"{', '.join(failed)}); it must hold on every run")
        if missing:
            return ("deterministic: held on every run that reached it (checked once per run; not a trial); "
                    f"{missing} run{'s' * (missing > 1)} stopped before it")
        return "deterministic: held on every run (checked once per run; not a trial)"
    low, high = tally["interval"]
    return f"{tally['passed']} of {runs} ({_num(low)}–{_num(high)})" + (f"; {missing} not reached" if missing else "")


def margin_text(tally: dict) -> str:
    """``1.48 (seed 1007)``: the run nearest to failing and its margin, or a dash without margins."""
    closest, unmeasured = tally["closest"], tally["not_comparable"]
    text = "—" if closest is None else f"{_num(closest['margin'])} (seed {closest['seed']})"
    if closest is not None and closest["margin"] <= 1:
        exact = closest["margin"] == 1 and tally["kind"] == "deterministic"  # an identity holds exactly on its line
        text += " — failed" if closest["margin"] < 1 else " — an equality, held exactly" if exact else " — on the line"
    if unmeasured:
        text += f"; {unmeasured} run{'s' * (unmeasured > 1)} not comparable (NaN)"
    return text


def effect_text(tally: dict) -> str:
    """``worst GRU MSE: 0.00036 (0.0003 – 0.00042)``: the first number's median with its 95 % interval."""
    effect = tally["effect"]
    if effect is None:
        return "—"
    text = f"{effect['name']}: {_num(effect['median'])}"
    if tally["kind"] == "deterministic":
        return text if effect["min"] == effect["max"] else text + f" (varies: {_num(effect['min'])} – " \
            f"{_num(effect['max'])})"
    if effect["low"] is None:
        return text + f" (no 95 % interval from {effect['runs']} run{'s' * (effect['runs'] > 1)}: 6 are needed)"
    return text + f" ({_num(effect['low'])} – {_num(effect['high'])})"


def _stats(values: list) -> str:
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return ", ".join(sorted(set(map(str, values))))
    text = f"{_num(statistics.median(nums))} ({_num(min(nums))} – {_num(max(nums))})"
    return text + (f", {len(values) - len(nums)} non-finite" if len(nums) < len(values) else "")


def _cell(text: str) -> str:
    return text.replace("|", "/")


def _seed_span(seeds: list) -> str:
    known = [s for s in seeds if isinstance(s, int)]
    return f"{min(known)}–{max(known)}" if known else "?"


def _regenerate(ranges: dict[str, dict[str, dict]], out: str) -> str:
    """How to make each range's runs again: ``--range NAME`` for a whole named range, else its seeds."""
    commands = []
    for name, summary in ranges.items():
        seeds = sorted({s for nb in summary.values() for s in nb["seeds"] if isinstance(s, int)})
        if not seeds:
            continue
        if name in RANGES and seeds == list(RANGES[name]):
            flags = f"--range {name}"
        else:
            flags = f"--base {seeds[0]} --seeds {seeds[-1] - seeds[0] + 1}"
        commands.append(f"{name} `python -m seqtips.evidence {flags} --jobs 2 --out {out}`")
    return ("Regenerate: " + "; ".join(commands) + "; one notebook: add `--notebooks NN`; this report alone, "
            "from the records: add `--report-only`.")


def _frozen_lines(frozen: dict | None) -> list[str]:
    if not frozen:
        return ["No thresholds are frozen yet (`frozen.json` is missing): `python -m seqtips.evidence --freeze` "
                "records each notebook's code hash and the commit before a confirmation run.", ""]
    commits = sorted({e.get("commit", "unknown") for e in frozen["notebooks"].values()})
    return [f"Thresholds frozen in `frozen.json` at commit{'s' * (len(commits) > 1)} "
            f"{', '.join(f'`{c[:12]}`' for c in commits)}; a confirmation run starts only for a notebook whose "
            "code hash is the frozen one.", ""]


READING = (
    "How to read it. **held** is the number of runs the claim held on, of the notebook's runs N (a claim a "
    "failing notebook never reached counts as not held), with a 95 % Clopper–Pearson interval for the rate at "
    "which it holds: 20 of 20 gives 0.832–1, so 20 clean runs still allow a claim that fails one run in six. "
    "A **deterministic** check (a seed-independent identity or constructed case) is shown once, never as a rate. "
    "**closest margin** is the run nearest to failing: its margin is how far the compared number was from its "
    "threshold, as a ratio (threshold / value for \"<\", value / threshold for \">\"): above 1 it held with room, "
    "1 is the line, below 1 it failed; inf: no ratio applies (a zero, or numbers of opposite signs) and it held; "
    "a dash: the claim states no comparison (`st.check(..., compare=...)`). "
    "**effect** is the median over the runs of the claim's first number, with a distribution-free 95 % interval "
    "for the median (order statistics; 6 runs at least). The **confirmation** runs (base seeds "
    f"{CONFIRMATION.start}–{CONFIRMATION.stop - 1}) are the headline: they ran after the thresholds were frozen. "
    f"The **calibration** runs (base seeds {CALIBRATION.start}–{CALIBRATION.stop - 1}) follow: thresholds may have "
    "been chosen on these, so they show how the claims were set, not a test of them. Other base seeds are "
    "**ad hoc**."
)


def report(ranges: dict[str, dict[str, dict]], notebooks: Sequence[Path] = (), out: str = "evidence",
           frozen: dict | None = None) -> str:
    """The Markdown report of a :func:`summarise_ranges` result (and the frozen thresholds, if any)."""
    current = {p.stem: code_hash(p) for p in notebooks}
    lines = ["# Evidence: how often each verdict held", "",
             "Generated by `python -m seqtips.evidence`; do not edit by hand. Each notebook ran once per base "
             "seed (`SEQTIPS_SEED`), headless, with one torch thread; every `st.check` left a record in "
             "`records/`, and `summary.json` holds the numbers below for programs. A claim's numbers are given "
             "as median (min – max) over the runs.", "", READING, ""]
    heads = headline(ranges)
    unconfirmed = [name for name, r in heads.items() if r != "confirmation"]
    if heads and len(unconfirmed) == len(heads):
        lines += ["> **No confirmation run yet.** Every number in this report comes from base seeds on which the "
                  "thresholds may have been chosen (or ad hoc seeds): read it as how the claims were set, not as "
                  "a test of them.", ""]
    elif unconfirmed:
        lines += [f"> **No confirmation run yet for {', '.join(unconfirmed)}**: their headline is their "
                  "calibration, on which the thresholds may have been chosen.", ""]
    lines += _frozen_lines(frozen)
    if ranges:
        lines += [_regenerate(ranges, out), ""]
        lines += _headline_table(ranges, heads)
    for name in heads:
        lines += [f"## {name}", ""]
        for range_name, summary in ranges.items():
            if name in summary:
                lines += _range_section(name, range_name, summary[name], current, frozen)
    return "\n".join(lines)


def _headline_table(ranges: dict[str, dict[str, dict]], heads: dict[str, str]) -> list[str]:
    lines = ["## Headline", "",
             "Per notebook, its evidence claims over its headline runs: the confirmation where there is one. Sanity, "
             "illustration and deterministic checks are in each notebook's section.", "",
             "| notebook | range | claim | held (95 % interval) | closest margin | effect: median (95 % interval) |",
             "|---|---|---|---|---|---|"]
    for name, range_name in heads.items():
        nb = ranges[range_name][name]
        for cid, t in nb["claims"].items():
            if t["kind"] == "evidence":
                lines.append(f"| {name} | {range_name} | **{cid}** | {held_text(t, nb['runs'])} | {margin_text(t)} "
                             f"| {_cell(effect_text(t))} |")
    return lines + [""]


def _range_section(name: str, range_name: str, nb: dict, current: dict[str, str], frozen: dict | None) -> list[str]:
    env = nb["environment"]
    hashes = sorted(h for h in nb["hashes"] if h)
    secs = nb["seconds"] or [float("nan")]
    lines = [f"### {range_name.capitalize()}: {RANGE_NOTES[range_name]}", "",
             f"{nb['runs']} runs, base seeds {_seed_span(nb['seeds'])}; wall time per run "
             f"median {_num(statistics.median(secs))} s, max {_num(max(secs))} s"
             + _units_text(nb["units"], len(nb["seconds"]))
             + f"; stalls met: {len(nb['stalls'])}; "
             f"torch {env.get('torch', '?')} on {env.get('device', '?')} ({env.get('device_name', '?')}), "
             f"{env.get('torch_threads', '?')} thread(s), {env.get('platform', '?')}; "
             f"notebook code `{', '.join(hashes) or '?'}`"
             + (f" (current: `{current[name]}`)" if name in current and current[name] not in hashes else ""), ""]
    if range_name == "confirmation":
        lines += [_confirmation_line(name, nb, hashes, frozen), ""]
    lines += ["| claim | kind | held (95 % interval) | closest margin | effect: median (95 % interval) "
              "| numbers: median (min – max) |", "|---|---|---|---|---|---|"]
    for cid, t in nb["claims"].items():
        numbers = "; ".join(f"{k}: {_stats(v)}" for k, v in t["values"].items())
        lines.append(f"| **{cid}** — {_cell(t['claim'])} | {t['kind']} | {held_text(t, nb['runs'])} | "
                     f"{margin_text(t)} | {_cell(effect_text(t))} | {_cell(numbers)} |")
    failures = [(cid, f) for cid, t in nb["claims"].items() for f in t["failures"]]
    if failures or nb["errors"]:
        lines += ["", "Failures:"]
        lines += [f"- seed {f['seed']}: **{cid}** did not hold — "
                  + ", ".join(f"{k} = {_num(v)}" for k, v in f["values"].items()) for cid, f in failures]
        lines += [f"- seed {e['seed']}: the notebook stopped with an error — {e['error']}" for e in nb["errors"]]
    if nb["stalls"]:
        lines += ["", "Stalls (the kernel sat idle without reading a request; the run was repeated in a fresh "
                  "kernel and only the repeat's time counts):"]
        lines += [f"- seed {st['seed']}: cell {st['cell']}, idle {st['idle_s']} s"
                  + (", the request never read" if st.get("request_unread") else "") for st in nb["stalls"]]
    return lines + [""]


def _confirmation_line(name: str, nb: dict, hashes: list[str], frozen: dict | None) -> str:
    commits = ", ".join(f"`{c[:12]}`" for c in sorted(nb["commits"])) or "an unrecorded commit"
    entry = (frozen or {}).get("notebooks", {}).get(name)
    if entry is None:
        return (f"**No frozen code hash for {name} in `frozen.json`**: these runs (at commit {commits}) confirm no "
                "frozen thresholds.")
    text = (f"Thresholds frozen at commit `{entry.get('commit', 'unknown')[:12]}` with code hash "
            f"`{entry['code_hash']}` ({entry.get('date', '?')}); these runs were made at commit {commits}.")
    if hashes != [entry["code_hash"]]:
        text += " **They ran other code than was frozen: they do not confirm the frozen thresholds.**"
    return text


# --- summary.json: the report's numbers for programs (the start page reads it) ---------------------------


def _json_number(value: float | None) -> float | str | None:
    """A number for strict JSON: finite as a number, infinities and NaN as text (as records keep them)."""
    return value if value is None or math.isfinite(value) else str(value)


def _claim_data(tally: dict, runs: int) -> dict:
    closest, effect = tally["closest"], tally["effect"]
    return {
        "claim": tally["claim"], "kind": tally["kind"], "held": tally["passed"], "runs": runs,
        "reached": tally["runs"], "interval": tally["interval"],
        "closest_margin": None if closest is None else {"seed": closest["seed"],
                                                        "margin": _json_number(closest["margin"])},
        "not_comparable": tally["not_comparable"],
        "effect": None if effect is None else {k: _json_number(v) if isinstance(v, float) else v
                                               for k, v in effect.items()},
        "failures": tally["failures"],
        "text": {"held": held_text(tally, runs), "closest_margin": margin_text(tally), "effect": effect_text(tally)},
    }


def summary_data(ranges: dict[str, dict[str, dict]], frozen: dict | None = None) -> dict:
    """What ``summary.json`` holds: per notebook, per range, per claim, the report's numbers and their text."""
    notebooks: dict[str, dict] = {}
    for range_name, summary in ranges.items():
        for name, nb in summary.items():
            seeds = [s for s in nb["seeds"] if isinstance(s, int)]
            notebooks.setdefault(name, {})[range_name] = {
                "runs": nb["runs"], "base_seeds": [min(seeds), max(seeds)] if seeds else None,
                "code_hashes": sorted(h for h in nb["hashes"] if h), "commits": sorted(nb["commits"]),
                "errors": nb["errors"],
                "claims": {cid: _claim_data(t, nb["runs"]) for cid, t in nb["claims"].items()},
            }
    return {
        "generated_by": "python -m seqtips.evidence", "level": stats.LEVEL,
        "ranges": {name: {"base_seeds": [seeds.start, seeds.stop - 1], "note": RANGE_NOTES[name]}
                   for name, seeds in RANGES.items()} | {AD_HOC: {"base_seeds": None, "note": RANGE_NOTES[AD_HOC]}},
        "frozen": frozen, "headline": headline(ranges),
        "notebooks": {name: notebooks[name] for name in sorted(notebooks)},
    }


def write_reports(out: Path, records: list[dict], notebooks: Sequence[Path], frozen: dict | None) -> dict:
    """Write ``out/README.md`` and ``out/summary.json`` (each whole, atomically) from ``records``; return the ranges."""
    ranges = summarise_ranges(records)
    write_atomic(out / "README.md", report(ranges, notebooks, out.as_posix(), frozen))
    write_atomic(out / SUMMARY, json.dumps(summary_data(ranges, frozen), indent=1, ensure_ascii=False,
                                           allow_nan=False) + "\n")
    return ranges


# --- frozen thresholds -------------------------------------------------------------------------------------


def read_frozen(path: Path) -> dict | None:
    """The frozen thresholds in ``path``, or None when there is no such file; ValueError when it is not one."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        frozen = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not readable JSON ({err}): freeze again with python -m seqtips.evidence "
                         "--freeze") from None
    entries = frozen.get("notebooks") if isinstance(frozen, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(e, dict) and isinstance(e.get("code_hash"), str)
                                                for e in entries.values()):
        raise ValueError(f"{path} is not a frozen-thresholds file (notebooks, each with its code_hash): freeze "
                         "again with python -m seqtips.evidence --freeze")
    return frozen


def freeze(notebooks: Sequence[Path], previous: dict | None = None) -> dict:
    """Frozen thresholds for ``notebooks`` at this commit (entries of other notebooks in ``previous`` kept)."""
    commit, changes = git_commit(), git_changes(notebooks)
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    entries = dict((previous or {}).get("notebooks", {}))
    for path in notebooks:
        entries[path.stem] = {"code_hash": code_hash(path), "commit": commit, "uncommitted_changes": changes,
                              "date": date}
    return {"about": "The code of each notebook at which its thresholds were frozen (python -m seqtips.evidence "
                     "--freeze). A confirmation run starts only for a notebook whose code hash is the one here.",
            "commit": commit, "date": date,
            "ranges": {name: [seeds.start, seeds.stop - 1] for name, seeds in RANGES.items()},
            "notebooks": dict(sorted(entries.items()))}


def frozen_problems(notebooks: Sequence[Path], frozen: dict | None, path: Path = FROZEN) -> list[str]:
    """Why ``notebooks`` may not be confirmed against ``frozen`` (empty when every one may)."""
    if frozen is None:
        return [f"{path} is missing: freeze the thresholds first (python -m seqtips.evidence --freeze), commit it, "
                "then run the confirmation"]
    problems = []
    for nb in notebooks:
        entry, now = frozen["notebooks"].get(nb.stem), code_hash(nb)
        if entry is None:
            problems.append(f"{nb.stem} has no frozen code hash in {path}: freeze it first "
                            f"(python -m seqtips.evidence --freeze --notebooks {nb.name[:2]})")
        elif entry["code_hash"] != now:
            problems.append(f"{nb.stem} changed since its thresholds were frozen (frozen code hash "
                            f"{entry['code_hash']} at commit {str(entry.get('commit', 'unknown'))[:12]}, now {now}): "
                            f"re-freeze it (python -m seqtips.evidence --freeze --notebooks {nb.name[:2]}; the new "
                            f"{path.name} shows the change in git) and run its confirmation again")
    return problems


def confirmation_problems(folder: Path, notebooks: Sequence[Path]) -> list[str]:
    """What makes the confirmation evidence in ``folder`` stale for ``notebooks`` (empty when none is).

    Every confirmation record (``folder/records``) must have been made at its notebook's current
    code hash, which ``folder/frozen.json`` must hold too; ``folder/summary.json``, if there, must
    give the confirmation at that code hash. No confirmation records: nothing to be stale.
    """
    folder = Path(folder)
    current = {nb.stem: code_hash(nb) for nb in notebooks}
    confirmed = [r for r in load_records(folder / "records") if range_of(_seed(r)) == "confirmation"]
    problems = []
    for rec in confirmed:
        name, made = rec["notebook"], rec.get("run", {}).get("code_hash") or rec["environment"].get("code_hash")
        if name in current and made != current[name]:
            problems.append(f"{name}: the confirmation record of base seed {_seed(rec)} was made at code hash "
                            f"{made}, but the notebook's code is now {current[name]}: re-freeze and run the "
                            "confirmation again")
    names = sorted({r["notebook"] for r in confirmed} & set(current))
    try:
        frozen = read_frozen(folder / "frozen.json")
    except ValueError as err:
        return problems + [str(err)]
    if names:
        nbs = [nb for nb in notebooks if nb.stem in names]
        problems += frozen_problems(nbs, frozen, folder / "frozen.json")
    summary_path = folder / SUMMARY
    if names and summary_path.is_file():
        given = json.loads(summary_path.read_text(encoding="utf-8")).get("notebooks", {})
        for name in names:
            hashes = given.get(name, {}).get("confirmation", {}).get("code_hashes")
            if hashes != [current[name]]:
                problems.append(f"{name}: {summary_path} gives the confirmation at code {hashes}, not the current "
                                f"{current[name]}: regenerate it (python -m seqtips.evidence --report-only)")
    return problems


def summary_problems(folder: Path, notebooks: Sequence[Path]) -> list[str]:
    """What makes ``folder/summary.json`` (which the start page reads) stale for ``notebooks``; empty when current.

    It must exist, and give each notebook's headline runs at the notebook's current code hash.
    """
    path = Path(folder) / SUMMARY
    if not path.is_file():
        return [f"{path} is missing: python -m seqtips.evidence --report-only --out {Path(folder).as_posix()} "
                "writes it from the records"]
    summary = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for nb in notebooks:
        head = summary.get("headline", {}).get(nb.stem)
        hashes = summary.get("notebooks", {}).get(nb.stem, {}).get(head, {}).get("code_hashes")
        if head is None:
            problems.append(f"{path} has no runs of {nb.stem}")
        elif hashes != [code_hash(nb)]:
            problems.append(f"{path} gives {nb.stem}'s {head} runs at code {hashes}, but its code is now "
                            f"{code_hash(nb)}: rerun its evidence")
    return problems


def write_benchmark(records: list[dict], path: Path) -> None:
    """Per notebook, the median wall time and the largest peak memory of the runs pinned to one core."""
    runs: dict[str, list[dict]] = {}
    for rec in records:
        run = rec.get("run", {})
        if run.get("one_core") and not run.get("error") and run.get("seconds") == run.get("seconds"):
            runs.setdefault(rec["notebook"] + ".ipynb", []).append(run)
    if not runs:
        return
    env = records[0]["environment"]
    write_atomic(path, json.dumps({
        "machine": f"{env.get('device_name', '?')}; each run on one CPU core, one torch thread; "
                   "median over the evidence runs",
        "date": datetime.date.today().isoformat(),
        "notebooks": {name: {"seconds": round(statistics.median(r["seconds"] for r in rs), 1),
                             # units only where every run measured them: a median of a few is not the runs'
                             **({"units": round(statistics.median(r["units"] for r in rs), 1)}
                                if all("units" in r for r in rs) else {}),
                             "peak_mb": round(max(r["peak_mb"] for r in rs)), "runs": len(rs),
                             "stalls": sum(len(r.get("stalls", [])) for r in rs)}
                      for name, rs in sorted(runs.items())},
    }, indent=1) + "\n")


def reader_summary(ranges: dict[str, dict[str, dict]]) -> str:
    """A short block a reader can paste into an issue."""
    lines = ["```", f"seqtips evidence, {datetime.date.today().isoformat()}"]
    for range_name, summary in ranges.items():
        for name, nb in summary.items():
            env = nb["environment"]
            lines.append(f"{name} ({range_name}): {nb['runs']} seeds on {env.get('device', '?')} "
                         f"({env.get('device_name', '?')}), torch {env.get('torch', '?')}, "
                         f"seqtips {env.get('seqtips', '?')}")
            for cid, t in nb["claims"].items():
                if t["kind"] == "deterministic":
                    lines.append(f"  {cid}: {held_text(t, nb['runs'])}")
                else:
                    low, high = t["interval"]
                    lines.append(f"  {cid}: held {t['passed']}/{nb['runs']} (95 % interval {_num(low)}–{_num(high)})")
            lines += [f"  error on seed {e['seed']}: {e['error']}" for e in nb["errors"]]
    return "\n".join(lines + ["```"])


def _seeds_to_run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> range:
    """The base seeds the arguments ask for: a named ``--range``, or ``--base``/``--seeds`` (default: calibration)."""
    if args.range is not None:
        if args.base is not None or args.seeds is not None:
            parser.error(f"--range {args.range} sets the base seeds itself: leave out --base and --seeds (or use "
                         "them without --range for an ad hoc run)")
        return RANGES[args.range]
    if args.base is None and args.seeds is None:
        return CALIBRATION
    seeds = 20 if args.seeds is None else args.seeds
    base = 0 if args.base is None else args.base
    if seeds < 1:
        parser.error(f"--seeds must be at least 1, got {seeds}")
    if not 0 <= base <= SEED_LIMIT - seeds:
        parser.error(f"--base must be from 0 to {SEED_LIMIT - seeds} for {seeds} seeds, got {base}")
    return range(base, base + seeds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.evidence", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="+", metavar="NN", help="notebook numbers (default: all)")
    parser.add_argument("--range", choices=list(RANGES),
                        help=f"a named range of base seeds: calibration ({CALIBRATION.start}–{CALIBRATION.stop - 1}) "
                             f"or confirmation ({CONFIRMATION.start}–{CONFIRMATION.stop - 1}; needs --freeze first)")
    parser.add_argument("--seeds", type=int,
                        help="ad hoc: number of base seeds N (default 20; with neither --base nor --seeds: the "
                             "calibration range)")
    parser.add_argument("--base", type=int, help="ad hoc: first base seed B (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once, one torch thread each")
    parser.add_argument("--out", type=Path, default=Path("evidence-run"), help="report folder (default evidence-run)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--freeze", action="store_true",
                        help="run nothing: write the frozen code hashes (--frozen) of the notebooks at this commit")
    parser.add_argument("--frozen", type=Path, default=FROZEN, help=f"the frozen code hashes (default {FROZEN})")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: rewrite OUT/README.md and OUT/summary.json from OUT/records")
    args = parser.parse_args(argv)
    if args.freeze and args.report_only:
        parser.error("--freeze and --report-only each run nothing: choose one")
    if (args.freeze or args.report_only) and (args.range or args.base is not None or args.seeds is not None):
        parser.error(f"{'--freeze' if args.freeze else '--report-only'} runs nothing: leave out --range, --base and "
                     "--seeds")
    seeds = _seeds_to_run(parser, args)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if any(not re.fullmatch(r"\d{1,2}", n) for n in args.notebooks or []):
        parser.error(f"--notebooks takes notebook numbers such as 01 04, got {' '.join(args.notebooks)}")
    cli.timeout(parser, args.timeout)
    try:
        notebooks = find_notebooks(args.notebooks)
    except ValueError as err:
        parser.error(str(err))
    confirming = not (args.freeze or args.report_only) and any(range_of(s) == "confirmation" for s in seeds)
    try:
        frozen = read_frozen(args.frozen)
    except ValueError as err:
        if confirming:
            parser.error(f"--frozen: {err}")
        warnings.warn(f"--frozen: {err}; " + ("it is replaced, with only the notebooks frozen now" if args.freeze
                                              else "the report shows no frozen thresholds"), stacklevel=1)
        frozen = None
    if args.freeze:
        path = cli.writable_file(parser, args.frozen, "--frozen")
        frozen = freeze(notebooks, frozen)
        write_atomic(path, json.dumps(frozen, indent=1, ensure_ascii=False) + "\n")
        print(f"froze {len(notebooks)} notebook(s) at commit {frozen['commit'][:12]}: {path}")
        if any(frozen["notebooks"][nb.stem]["uncommitted_changes"] for nb in notebooks):
            print("the notebooks have uncommitted changes: commit them together with the frozen file")
        return 0
    if confirming:
        problems = frozen_problems(notebooks, frozen, args.frozen)
        if problems:
            flag = "--range confirmation" if args.range else "--base/--seeds (confirmation seeds)"
            parser.error(f"{flag}: the confirmation may not start:\n  " + "\n  ".join(problems))
    if args.report_only:
        found = load_records(args.out / "records") if (args.out / "records").is_dir() else []
        if not found:
            parser.error(f"--report-only: no records in {args.out / 'records'}")
        args.out = cli.writable_folder(parser, args.out, "--out")
        write_reports(args.out, found, find_notebooks(None), frozen)
        print(f"report: {args.out / 'README.md'}, {args.out / SUMMARY}")
        return 0
    args.out = cli.writable_folder(parser, args.out, "--out")
    records = cli.writable_folder(parser, args.out / "records", "--out")
    runs = [(nb, seed) for seed in seeds for nb in notebooks]
    from tqdm import tqdm

    cores = None
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.jobs <= len(available):  # each run gets a core of its own: its time is a one-core time
        cores = queue.Queue()
        for cpu in available[: args.jobs]:
            cores.put(cpu)
    commit = git_commit()
    with ThreadPoolExecutor(args.jobs) as pool, tqdm(total=len(runs), desc="notebook runs", file=sys.stdout) as bar:
        futures = [pool.submit(run_one, nb, seed, records, args.timeout, cores, commit) for nb, seed in runs]
        for future in futures:
            rec = future.result()
            failed = [c["id"] for c in rec["claims"] if not c["passed"]]
            if failed or rec["run"]["error"]:
                bar.write(f"{rec['notebook']} seed {rec['environment'].get('base_seed')}: "
                          + (f"claim {', '.join(failed)} did not hold" if failed else rec["run"]["error"]))
            bar.update()
    all_records = load_records(records)
    ranges = write_reports(args.out, all_records, find_notebooks(None), frozen)
    write_benchmark(all_records, args.out / "benchmark.json")
    chosen, ran = {p.stem for p in notebooks}, {range_of(s) for s in seeds}
    print(reader_summary({r: {k: v for k, v in summary.items() if k in chosen}
                          for r, summary in ranges.items() if r in ran}))
    print(f"report: {args.out / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
