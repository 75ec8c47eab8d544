"""Execute notebooks headless and report each one's wall time and peak memory.

    python -m seqtips.bench                      # every notebook in notebooks/
    python -m seqtips.bench notebooks/01_*.ipynb --seed 7
    python -m seqtips.bench --write              # also save the executed notebooks in place

Each notebook runs in a fresh kernel started by a fresh child process (seqtips.tools.execute),
so the peak memory reported is the kernel's own. ``--json PATH`` saves the table (the README's
launch table reads ``evidence/benchmark.json``); measure on one core, as Binder gives:
``taskset -c 0 python -m seqtips.bench --json evidence/benchmark.json``.
Budgets (a quiet 2-core machine, one torch thread): each tip notebook <= 60 s and the five
together <= 4 min; the closing notebook 06 <= 90 s; peak memory <= 1.5 GB. The numbers are
reported, not asserted: timing depends on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
from pathlib import Path

from .execute import execute

BUDGET_SECONDS = 60.0
#: Notebooks with a budget of their own (the capstone trains a real-text model several times).
BUDGET_SECONDS_FOR = {"06_all_tips_together.ipynb": 90.0}
BUDGET_TOTAL_SECONDS = 240.0  # for the five tip notebooks, 01-05
BUDGET_MEMORY_MB = 1536.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.bench", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--seed", type=int, default=None, help="SEQTIPS_SEED for the runs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--write", action="store_true", help="save the executed notebooks in place")
    parser.add_argument("--json", type=Path, help="also save the results as JSON in this file")
    args = parser.parse_args(argv)

    paths = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none found in ./notebooks (run from the repository root)")
    for p in paths:
        if not p.is_file():
            parser.error(f"notebook {p} does not exist")
    failed = False
    results: dict[str, dict] = {}
    total = 0.0  # the tip notebooks' total, without those that have a budget of their own
    print(f"{'notebook':44s} {'seconds':>8s} {'peak MB':>8s}  budget")
    for p in paths:
        env = {} if args.seed is None else {"SEQTIPS_SEED": str(args.seed)}
        r = execute(p, env, args.timeout, args.write)
        # a child that died measured nothing (NaN): saved as null, left out of the total
        results[p.name] = {key: round(r[key], digits) if math.isfinite(r[key]) else None
                           for key, digits in (("seconds", 1), ("peak_mb", None))}
        budget = BUDGET_SECONDS_FOR.get(p.name, BUDGET_SECONDS)
        if p.name not in BUDGET_SECONDS_FOR and math.isfinite(r["seconds"]):
            total += r["seconds"]
        over = []
        if not r["seconds"] <= budget:
            over.append(f"> {budget:.0f} s")
        if not r["peak_mb"] <= BUDGET_MEMORY_MB:
            over.append(f"> {BUDGET_MEMORY_MB:.0f} MB")
        status = "ok" if not over else "OVER " + ", ".join(over)
        if r["error"]:
            failed = True
            status = "ERROR: " + r["error"]
        print(f"{p.name:44s} {r['seconds']:8.1f} {r['peak_mb']:8.0f}  {status}", flush=True)
    verdict = "ok" if total <= BUDGET_TOTAL_SECONDS else f"OVER {BUDGET_TOTAL_SECONDS:.0f} s"
    print(f"{'total of the tip notebooks':44s} {total:8.1f} {'':8s}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; one torch thread",
            "date": datetime.date.today().isoformat(), "notebooks": results}, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
