"""Run notebooks under many base seeds and report how often each verdict held.

    python -m seqtips.evidence                                  # every notebook, 20 base seeds
    python -m seqtips.evidence --notebooks 02 --seeds 3         # a reader's check of one notebook
    python -m seqtips.evidence --seeds 20 --jobs 2 --out evidence

Each run executes a notebook headless in a fresh kernel with ``SEQTIPS_SEED`` set to one base
seed, ``SEQTIPS_THREADS=1`` and ``SEQTIPS_RECORD`` pointing at ``OUT/records``, where the
notebook's ``st.check`` calls leave one JSON record per run. A notebook that fails counts as a
failed run: its failing claim is in the record, and the sweep goes on. The report
``OUT/README.md`` gives, per notebook and claim, how many runs it held on and the median / min /
max of each number it compared, with every failure listed by seed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import queue
import re
import statistics
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..runtime import SEED_LIMIT
from ..verdict import code_hash, load_records, read_record, write_atomic
from . import cli, reference
from .execute import CELL_TIMEOUT, execute

NOTEBOOKS = Path("notebooks")


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


def run_one(notebook: Path, seed: int, records: Path, timeout: int, cores: queue.Queue | None = None) -> dict:
    """Execute ``notebook`` under base ``seed``; return its record, completed with how the run went.

    With ``cores`` (a queue of free CPU numbers), the run takes one core to itself for its duration.
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
                     "error": result["error"], "code_hash": code_hash(notebook), "one_core": cpu is not None}
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


def summarise(records: list[dict]) -> dict[str, dict]:
    """Per notebook: runs, seeds, wall times, code hashes, environment, and per claim its tally."""
    out: dict[str, dict] = {}
    for rec in sorted(records, key=lambda r: (r["notebook"], r["environment"].get("base_seed", 0))):
        nb = out.setdefault(rec["notebook"], {"runs": 0, "seeds": [], "seconds": [], "units": [], "stalls": [],
                                              "hashes": set(),
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
        failed_claim = False
        for claim in rec["claims"]:
            tally = nb["claims"].setdefault(claim["id"], {"claim": claim["claim"], "kind": claim["kind"],
                                                          "passed": 0, "runs": 0, "values": {}, "failures": []})
            tally["claim"] = claim["claim"]
            tally["runs"] += 1
            tally["passed"] += bool(claim["passed"])
            for name, value in claim["values"].items():
                tally["values"].setdefault(name, []).append(value)
            if not claim["passed"]:
                failed_claim = True
                tally["failures"].append({"seed": seed, "values": claim["values"]})
        if run.get("error") and not failed_claim:
            nb["errors"].append({"seed": seed, "error": run["error"]})
    return out


def _stats(values: list) -> str:
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return ", ".join(sorted(set(map(str, values))))
    text = f"{_num(statistics.median(nums))} ({_num(min(nums))} – {_num(max(nums))})"
    return text + (f", {len(values) - len(nums)} non-finite" if len(nums) < len(values) else "")


def report(summary: dict[str, dict], notebooks: Sequence[Path] = (), out: str = "evidence") -> str:
    """The Markdown report of a :func:`summarise` result."""
    current = {p.stem: code_hash(p) for p in notebooks}
    lines = ["# Evidence: how often each verdict held", "",
             "Generated by `python -m seqtips.evidence`; do not edit by hand. Each notebook ran once per base "
             "seed (`SEQTIPS_SEED`), headless, with one torch thread; every `st.check` left a record in "
             "`records/`. A claim's numbers are given as median (min – max) over the runs.", ""]
    if summary:
        seeds = sorted({s for nb in summary.values() for s in nb["seeds"]})
        lines += [f"Regenerate all of it: `python -m seqtips.evidence --base {seeds[0]} --seeds {len(seeds)} "
                  f"--jobs 2 --out {out}`; one notebook: add `--notebooks NN`.", ""]
    for name, nb in summary.items():
        env = nb["environment"]
        hashes = sorted(h for h in nb["hashes"] if h)
        secs = nb["seconds"] or [float("nan")]
        lines += [f"## {name}", "",
                  f"{nb['runs']} runs, base seeds {min(nb['seeds'])}–{max(nb['seeds'])}; wall time per run "
                  f"median {_num(statistics.median(secs))} s, max {_num(max(secs))} s"
                  + _units_text(nb["units"], len(nb["seconds"]))
                  + f"; stalls met: {len(nb['stalls'])}; "
                  f"torch {env.get('torch', '?')} on {env.get('device', '?')} ({env.get('device_name', '?')}), "
                  f"{env.get('torch_threads', '?')} thread(s), {env.get('platform', '?')}; "
                  f"notebook code `{', '.join(hashes) or '?'}`"
                  + (f" (current: `{current[name]}`)" if name in current and current[name] not in hashes else ""),
                  "", "| claim | kind | held | numbers: median (min – max) |", "|---|---|--:|---|"]
        for cid, t in nb["claims"].items():
            held = f"{t['passed']} of {nb['runs']}"
            if t["runs"] < nb["runs"]:
                held += f" ({nb['runs'] - t['runs']} not reached)"
            numbers = "; ".join(f"{k}: {_stats(v)}" for k, v in t["values"].items())
            lines.append(f"| **{cid}** — {t['claim'].replace('|', '/')} | {t['kind']} | {held} | {numbers} |")
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
        lines.append("")
    return "\n".join(lines)


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


def reader_summary(summary: dict[str, dict]) -> str:
    """A short block a reader can paste into an issue."""
    lines = ["```", f"seqtips evidence, {datetime.date.today().isoformat()}"]
    for name, nb in summary.items():
        env = nb["environment"]
        lines.append(f"{name}: {nb['runs']} seeds on {env.get('device', '?')} ({env.get('device_name', '?')}), "
                     f"torch {env.get('torch', '?')}, seqtips {env.get('seqtips', '?')}")
        for cid, t in nb["claims"].items():
            lines.append(f"  {cid}: held {t['passed']}/{nb['runs']}")
        lines += [f"  error on seed {e['seed']}: {e['error']}" for e in nb["errors"]]
    return "\n".join(lines + ["```"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.evidence", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="+", metavar="NN", help="notebook numbers (default: all)")
    parser.add_argument("--seeds", type=int, default=20, help="number of base seeds N (default 20)")
    parser.add_argument("--base", type=int, default=0, help="first base seed B (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once, one torch thread each")
    parser.add_argument("--out", type=Path, default=Path("evidence-run"), help="report folder (default evidence-run)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if not 0 <= args.base <= SEED_LIMIT - args.seeds:
        parser.error(f"--base must be from 0 to {SEED_LIMIT - args.seeds} for {args.seeds} seeds, got {args.base}")
    if any(not re.fullmatch(r"\d{1,2}", n) for n in args.notebooks or []):
        parser.error(f"--notebooks takes notebook numbers such as 01 04, got {' '.join(args.notebooks)}")
    cli.timeout(parser, args.timeout)
    try:
        notebooks = find_notebooks(args.notebooks)
    except ValueError as err:
        parser.error(str(err))
    args.out = cli.writable_folder(parser, args.out, "--out")
    records = cli.writable_folder(parser, args.out / "records", "--out")
    runs = [(nb, seed) for seed in range(args.base, args.base + args.seeds) for nb in notebooks]
    from tqdm import tqdm

    cores = None
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.jobs <= len(available):  # each run gets a core of its own: its time is a one-core time
        cores = queue.Queue()
        for cpu in available[: args.jobs]:
            cores.put(cpu)
    with ThreadPoolExecutor(args.jobs) as pool, tqdm(total=len(runs), desc="notebook runs", file=sys.stdout) as bar:
        futures = [pool.submit(run_one, nb, seed, records, args.timeout, cores) for nb, seed in runs]
        for future in futures:
            rec = future.result()
            failed = [c["id"] for c in rec["claims"] if not c["passed"]]
            if failed or rec["run"]["error"]:
                bar.write(f"{rec['notebook']} seed {rec['environment'].get('base_seed')}: "
                          + (f"claim {', '.join(failed)} did not hold" if failed else rec["run"]["error"]))
            bar.update()
    summary = summarise(load_records(records))
    write_atomic(args.out / "README.md", report(summary, find_notebooks(None), args.out.as_posix()))
    write_benchmark(load_records(records), args.out / "benchmark.json")
    print(reader_summary({k: v for k, v in summary.items() if k in {p.stem for p in notebooks}}))
    print(f"report: {args.out / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
