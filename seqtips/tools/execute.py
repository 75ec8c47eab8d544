"""Execute one notebook headless in a fresh kernel, and clean what gets committed.

Used by ``python -m seqtips.bench`` and ``python -m seqtips.evidence``. Each notebook runs in a
child process of its own (``python -m seqtips.tools.execute PATH``), so the peak resident memory
the operating system reports for that child's children is the kernel's alone.

:func:`clean` drops what changes on every run without telling a reader anything: widget state
(a live JupyterLab rebuilds widgets; GitHub shows the picture that comes with them), execution
timestamps, and the text fallback of progress bars ("0%| 0/3"); and it stores figures with a
256-colour palette (a quarter of the bytes, no visible difference for line plots).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def compact_png(data: str) -> str:
    """A base64 PNG re-encoded with an adaptive 256-colour palette, if that is smaller."""
    from PIL import Image

    raw = base64.b64decode(data)
    image = Image.open(io.BytesIO(raw)).convert("RGBA").quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode() if out.tell() < len(raw) else data


def clean(nb: dict) -> dict:
    """``nb`` without widget state, execution timestamps or progress-bar outputs (in place)."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data and set(data) <= {WIDGET_VIEW, "text/plain"}:
                continue  # a bare widget (a progress bar): nothing a static reader could see
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and "it/s]" in str(out.get("text")):
                continue  # a text progress bar
            if isinstance(data.get("image/png"), str):
                data["image/png"] = compact_png(data["image/png"])
            kept.append(out)
        cell["outputs"] = kept
    return nb


def _run(path: Path, timeout: int, write: bool, output: Path | None = None) -> dict:
    """Execute ``path`` in this process's own kernel (the child's side)."""
    import resource

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as err:
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()
        error = lines[-1] if lines else type(err).__name__
    except Exception as err:  # a dead kernel or a timeout: report it, do not hide it
        error = f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    if (write or output) and not error:
        nbformat.write(nbformat.from_dict(clean(json.loads(nbformat.writes(nb)))), output or path)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    return {"notebook": str(path), "seconds": seconds, "peak_mb": peak_kb / 1024, "error": error}


def execute(path: Path, env: dict[str, str] | None = None, timeout: int = 600, write: bool = False,
            output: Path | None = None, cpu: int | None = None) -> dict:
    """Execute ``path`` in a fresh child process; return its seconds, peak MB and error ("" if none).

    ``write`` saves the executed, cleaned notebook over ``path``; ``output`` saves it there instead;
    ``cpu`` pins the child and its kernel to that one CPU core (as ``taskset -c CPU`` would).
    """
    cmd = [sys.executable, "-m", "seqtips.tools.execute", str(path), "--timeout", str(timeout)]
    if write:
        cmd.append("--write")
    if output is not None:
        cmd += ["--output", str(output)]
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, preexec_fn=pin)
    if done.returncode != 0 or not done.stdout.strip():
        tail = " | ".join(done.stderr.strip().splitlines()[-5:])
        return {"notebook": str(path), "seconds": float("nan"), "peak_mb": float("nan"), "error": tail or "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m seqtips.tools.execute")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--write", action="store_true", help="save the executed, cleaned notebook in place")
    parser.add_argument("--output", type=Path, help="save the executed, cleaned notebook here instead")
    args = parser.parse_args()
    print(json.dumps(_run(args.notebook, args.timeout, args.write, args.output)))
