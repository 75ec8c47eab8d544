"""Execute notebooks headless and report each one's wall time, cost in reference units and peak memory.

    python -m seqtips.bench                      # every notebook in notebooks/
    python -m seqtips.bench notebooks/01_*.ipynb --seed 7
    python -m seqtips.bench --cpu 0 --json evidence/benchmark.json   # on one core, as Binder gives

Each notebook runs in a fresh kernel started by a fresh child process (seqtips.tools.execute),
so the peak memory reported is the kernel's own. Just before and just after each notebook, the
reference workload (seqtips.tools.reference) runs on the same core; the notebook's seconds divided
by the mean of the two is its cost in *reference units*, which compares across machines where
seconds do not (machines of one kind differ by 2x). The budgets are set in those units, on one
core with one torch thread: each tip notebook <= 116, the capstone 06 <= 174, the start page 00
<= 29; peak memory <= 1.5 GB. They are reported, not asserted. A run that stalls (an idle kernel
that never read a request) is run again, and the table says so; its time is never reported.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
from pathlib import Path

from ..verdict import write_atomic
from . import cli, reference
from .execute import CELL_TIMEOUT, execute

BUDGET_UNITS = 116.0
#: Notebooks with a budget of their own: the start page is short, the capstone trains real text.
BUDGET_UNITS_FOR = {"00_start_here.ipynb": 29.0, "06_all_tips_together.ipynb": 174.0}
BUDGET_MEMORY_MB = 1536.0


def budget(name: str) -> float:
    return BUDGET_UNITS_FOR.get(name, BUDGET_UNITS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.bench", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--seed", type=int, default=None, help="SEQTIPS_SEED for the runs")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--cpu", type=int, default=None, help="pin every run and the reference to this CPU core")
    parser.add_argument("--write", action="store_true", help="save the executed notebooks in place")
    parser.add_argument("--json", type=Path, help="also save the results as JSON in this file")
    args = parser.parse_args(argv)
    cli.timeout(parser, args.timeout)
    cli.seed(parser, args.seed)
    args.json = cli.writable_file(parser, args.json, "--json")

    paths = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none found in ./notebooks (run from the repository root)")
    for p in paths:
        if not p.is_file():
            parser.error(f"notebook {p} does not exist")
    if args.cpu is not None and hasattr(os, "sched_getaffinity") and args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu must be one of this process's CPU cores {sorted(os.sched_getaffinity(0))}, "
                     f"got {args.cpu}")
    failed = False
    results: dict[str, dict] = {}
    print(f"{'notebook':36s} {'seconds':>8s} {'units':>7s} {'ref s':>6s} {'peak MB':>8s}  budget (units)")
    for p in paths:
        env = {"SEQTIPS_THREADS": "1"} | ({} if args.seed is None else {"SEQTIPS_SEED": str(args.seed)})
        before = reference.measure(args.cpu)
        r = execute(p, env, args.timeout, args.write, cpu=args.cpu)
        after = reference.measure(args.cpu)
        cost = reference.units(r["seconds"], before, after)
        # a child that died or stalled measured nothing (NaN): saved as null
        results[p.name] = {"seconds": round(r["seconds"], 1) if math.isfinite(r["seconds"]) else None,
                           "units": round(cost, 1) if math.isfinite(cost) else None,
                           "reference_s": [round(before, 4), round(after, 4)],
                           "peak_mb": round(r["peak_mb"]) if math.isfinite(r["peak_mb"]) else None,
                           "stalls": len(r["stalls"])}
        over = []
        if not cost <= budget(p.name):
            over.append(f"> {budget(p.name):.0f} units")
        if not r["peak_mb"] <= BUDGET_MEMORY_MB:
            over.append(f"> {BUDGET_MEMORY_MB:.0f} MB")
        status = ("ok" if not over else "OVER " + ", ".join(over)) + f" (<= {budget(p.name):.0f})"
        if r["stalls"]:
            status += f"; stalled {len(r['stalls'])}x, timed on the retry"
        if r["error"]:
            failed = True
            status = "ERROR: " + r["error"]
        print(f"{p.name:36s} {r['seconds']:8.1f} {cost:7.1f} {(before + after) / 2:6.3f} {r['peak_mb']:8.0f}  {status}",
              flush=True)
    stalls = sum(r["stalls"] for r in results.values())
    print(f"stalls met: {stalls}" + (" (each run again in a fresh kernel)" if stalls else ""))
    if args.json:
        write_atomic(args.json, json.dumps({
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; one torch thread"
                       + (f"; pinned to CPU {args.cpu}" if args.cpu is not None else ""),
            "date": datetime.date.today().isoformat(), "notebooks": results}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
