"""Soak: execute notebooks headless many times and count the runs that stall.

    python -m seqtips.tools.soak --minimal all --runs 300 --jobs 2 --out soak/k7.jsonl
    python -m seqtips.tools.soak notebooks/02_gru_vs_lstm.ipynb --runs 20 --seeds 1000

Each run is a fresh kernel in a fresh child process (:mod:`seqtips.tools.execute`), whose client
polls in short slices (the fix) and counts the messages a slice had to catch, watched for the
headless stall: a cell whose request goes unanswered while the kernel sits idle and silent for
``--stall-seconds``. At a stall the harness records the cell index, the last messages seen on
shell and IOPub and the package versions, and stops the run. ``--no-slices`` is the control: the
client waits for each message in one poll, as plain nbclient does, which is how the stall
happened before the fix. One JSON line per run goes to ``--out``; the summary counts stalls per
notebook.

``--minimal KIND`` soaks a generated notebook instead of real ones: ``--cells`` repetitions of one
widget cell, one ``tqdm.auto`` loop and one plain cell (``all``), or of one kind alone
(``widgets``, ``tqdm``, ``plain``) — to find which output, if any, the stall needs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import cli
from .execute import STALL_SECONDS, _child, versions

CELLS = {
    "widgets": "import ipywidgets as w\nfrom IPython.display import display\n"
               "display(w.interactive(lambda x: print(x * 2), x=w.IntSlider(value=3, min=0, max=9)))",
    "tqdm": "import time\nfrom tqdm.auto import tqdm\nfor _ in tqdm(range(40), desc='loop'):\n    time.sleep(0.002)",
    "plain": "total = sum(i * i for i in range(20000))\nprint(total)",
}


def minimal_notebook(kind: str, repeats: int, folder: Path) -> Path:
    """A notebook of ``repeats`` rounds of the ``kind`` cells (``all``: one of each per round)."""
    import nbformat

    kinds = list(CELLS) if kind == "all" else [kind]
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(CELLS[k]) for _ in range(repeats) for k in kinds]
    path = folder / f"minimal-{kind}.ipynb"
    nbformat.write(nb, path)
    return path


def soak(paths: list[Path], runs: int, jobs: int, stall_seconds: float, out: Path | None,
         seed: int | None = None, timeout: int = 300, slices: bool = True) -> list[dict]:
    """Execute every notebook ``runs`` times, ``jobs`` at once; one result dict per run."""
    todo = [(p, i) for i in range(runs) for p in paths]
    results: list[dict] = []
    sink = out.open("a", encoding="utf-8") if out else None

    def one(item):
        path, i = item
        env = ({"SEQTIPS_THREADS": "1"} | ({"SEQTIPS_SEED": str(seed + i)} if seed is not None else {})
               | ({} if slices else {"SEQTIPS_POLL_SLICE": "0"}))
        start = time.perf_counter()
        r = _child(path, env, timeout, False, None, None, stall_seconds)
        return {"notebook": path.name, "run": i, "wall_s": round(time.perf_counter() - start, 2),
                "error": r["error"], "stalls": r.get("stalls", []), "missed_wakeups": r.get("missed_wakeups", []),
                "env": env}

    try:
        with ThreadPoolExecutor(jobs) as pool:
            for n, r in enumerate(pool.map(one, todo), 1):
                results.append(r)
                if sink:
                    sink.write(json.dumps(r) + "\n")
                    sink.flush()
                if r["stalls"] or r["error"]:
                    print(f"[{n}/{len(todo)}] {r['notebook']} run {r['run']}: "
                          f"{len(r['stalls'])} stall(s) {r['error'][:160]}", flush=True)
                elif n % 25 == 0:
                    print(f"[{n}/{len(todo)}] ok", flush=True)
    finally:
        if sink:
            sink.close()
    return results


def summary(results: list[dict]) -> str:
    """Per notebook: runs, runs with a stall, errors, median wall time, missed wake-ups caught."""
    lines = [f"versions: {json.dumps(versions())}"]
    for name in sorted({r["notebook"] for r in results}):
        rs = [r for r in results if r["notebook"] == name]
        stalled = [r for r in rs if r["stalls"]]
        errors = sum(bool(r["error"]) for r in rs)
        walls = sorted(r["wall_s"] for r in rs)
        missed = [m for r in rs for m in r.get("missed_wakeups", [])]
        lines.append(f"{name}: {len(stalled)} of {len(rs)} runs stalled ({sum(len(r['stalls']) for r in rs)} "
                     f"stalls); {errors} runs ended with an error; "
                     f"median wall {walls[len(walls) // 2]:.1f} s; {len(missed)} missed wake-ups caught by a "
                     f"poll slice in {sum(bool(r.get('missed_wakeups')) for r in rs)} runs")
        if len(rs) and not stalled:
            lines.append(f"  0 stalls in {len(rs)}: a stall rate above {1 - math.pow(0.05, 1 / len(rs)):.2%} "
                         "per run is excluded at 95 %")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.tools.soak", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--minimal", choices=["all", *CELLS], help="soak a generated minimal notebook")
    parser.add_argument("--cells", type=int, default=10, help="rounds of cells in the minimal notebook")
    parser.add_argument("--runs", type=int, default=100, help="executions per notebook")
    parser.add_argument("--jobs", type=int, default=1, help="executions at once")
    parser.add_argument("--seeds", type=int, default=None, metavar="B", help="SEQTIPS_SEED = B + run number")
    parser.add_argument("--stall-seconds", type=float, default=STALL_SECONDS)
    parser.add_argument("--no-slices", action="store_true",
                        help="the control: wait for each message in one poll, as plain nbclient does")
    parser.add_argument("--out", type=Path, help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1 or args.cells < 1:
        parser.error("--runs, --jobs and --cells must be at least 1")
    if args.stall_seconds <= 2:
        parser.error(f"--stall-seconds must be more than 2, got {args.stall_seconds}")
    if bool(args.minimal) == bool(args.notebooks):
        parser.error("give notebooks or --minimal KIND (one or the other)")
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    cli.seed(parser, args.seeds, "--seeds")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out = cli.writable_file(parser, args.out, "--out")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [minimal_notebook(args.minimal, args.cells, Path(tmp))] if args.minimal else list(args.notebooks)
        results = soak(paths, args.runs, args.jobs, args.stall_seconds, args.out, args.seeds,
                       slices=not args.no_slices)
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
