"""Execute notebooks headless and report each one's wall time and peak memory.

    python -m seqtips.bench                      # every notebook in notebooks/
    python -m seqtips.bench notebooks/01_*.ipynb --seed 7
    python -m seqtips.bench --write              # also save the executed notebooks in place

Each notebook runs in a fresh kernel started by a fresh child process, so the peak resident
memory that the operating system reports for that child's children is the kernel's own.
Budgets (a quiet 2-core machine, one torch thread): each tip notebook <= 60 s and the five
together <= 4 min; the closing notebook 06 <= 90 s; peak memory <= 1.5 GB. The numbers are
reported, not asserted: timing depends on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BUDGET_SECONDS = 60.0
#: Notebooks with a budget of their own (the capstone trains a real-text model several times).
BUDGET_SECONDS_FOR = {"06_all_tips_together.ipynb": 90.0}
BUDGET_TOTAL_SECONDS = 240.0  # for the five tip notebooks, 01-05
BUDGET_MEMORY_MB = 1536.0


def _execute(path: Path, timeout: int, write: bool) -> dict:
    """Run one notebook in this process's own kernel (called in a child process)."""
    import resource

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = [
        out.get("ename", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    if write:
        nbformat.write(nb, path)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    return {"notebook": str(path), "seconds": seconds, "peak_mb": peak_kb / 1024, "errors": errors}


def measure(path: Path, timeout: int = 600, write: bool = False, seed: int | None = None) -> dict:
    """Execute ``path`` in a fresh child process and return its seconds and peak memory (MB)."""
    env = dict(os.environ)
    if seed is not None:
        env["SEQTIPS_SEED"] = str(seed)
    cmd = [sys.executable, "-m", "seqtips.bench", "--child", str(path), "--timeout", str(timeout)]
    if write:
        cmd.append("--write")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return {"notebook": str(path), "seconds": float("nan"), "peak_mb": float("nan"), "errors": [tail]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.bench", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--seed", type=int, default=None, help="SEQTIPS_SEED for the runs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--write", action="store_true", help="save the executed notebooks in place")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        print(json.dumps(_execute(args.child, args.timeout, args.write)))
        return 0

    paths = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none found in ./notebooks (run from the repository root)")
    for p in paths:
        if not p.is_file():
            parser.error(f"notebook {p} does not exist")
    failed = False
    total = 0.0  # the tip notebooks' total, without those that have a budget of their own
    print(f"{'notebook':44s} {'seconds':>8s} {'peak MB':>8s}  budget")
    for p in paths:
        r = measure(p, args.timeout, args.write, args.seed)
        budget = BUDGET_SECONDS_FOR.get(p.name, BUDGET_SECONDS)
        if p.name not in BUDGET_SECONDS_FOR:
            total += r["seconds"]
        over = []
        if not r["seconds"] <= budget:
            over.append(f"> {budget:.0f} s")
        if not r["peak_mb"] <= BUDGET_MEMORY_MB:
            over.append(f"> {BUDGET_MEMORY_MB:.0f} MB")
        status = "ok" if not over else "OVER " + ", ".join(over)
        if r["errors"]:
            failed = True
            status = "ERROR: " + "; ".join(r["errors"])
        print(f"{p.name:44s} {r['seconds']:8.1f} {r['peak_mb']:8.0f}  {status}", flush=True)
    verdict = "ok" if total <= BUDGET_TOTAL_SECONDS else f"OVER {BUDGET_TOTAL_SECONDS:.0f} s"
    print(f"{'total of the tip notebooks':44s} {total:8.1f} {'':8s}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
