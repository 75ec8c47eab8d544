"""Regenerate the lock: requirements.txt from the ranges in requirements.in, then binder/requirements.txt.

    python scripts/lock.py                          # keep the current pins; add or drop what the ranges now need
    python scripts/lock.py --upgrade                # move every pin to the newest release the ranges allow
    python scripts/lock.py --upgrade-package numpy  # move one pin
    python scripts/lock.py --binder                 # only derive binder/requirements.txt from the lock

Needs pip-tools (`pip install pip-tools`); run it on Linux with Python 3.11, the platform the lock is for.
The lock names plain `torch==X`; Binder gets `torch==X+cpu` from PyTorch's CPU wheel index instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from seqtips.verdict import write_atomic

ROOT = Path(__file__).resolve().parents[1]
LOCK, BINDER = ROOT / "requirements.txt", ROOT / "binder" / "requirements.txt"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH = re.compile(r"^torch==([^\s+]+)(\+cpu)?", re.M)
BINDER_HEADER = f"""\
# Binder (repo2docker) reads this file instead of the root requirements.txt. Derived from that lock by
# `python scripts/lock.py`; do not edit. Only torch differs: the CPU build from PyTorch's CPU wheel index
# (the default Linux wheel pulls gigabytes of CUDA libraries that Binder cannot use).
--extra-index-url {CPU_INDEX}
"""


def compile_lock(pip_compile_args: list[str]) -> None:
    cmd = [
        sys.executable,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--allow-unsafe",
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-find-links",
        "--annotation-style=line",
        "--output-file=requirements.txt",
        *pip_compile_args,
        "requirements.in",
    ]
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python scripts/lock.py"}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    # A local CPU wheel resolves as X+cpu: lock the release X (the annotation column kept in place).
    text = TORCH.sub(lambda m: f"torch=={m[1]}" + " " * len(m[2] or ""), LOCK.read_text())
    if re.search(r"^(nvidia-|triton==)", text, re.M):
        sys.exit("the lock pulled CUDA packages: resolve torch to its CPU wheel and run again")
    write_atomic(LOCK, text)


def derive_binder() -> None:
    lines = [ln for ln in LOCK.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    body = re.sub(r"^torch==([^\s+]+)(?: {4}(?= ))?", r"torch==\1+cpu", "\n".join(lines), flags=re.M)
    write_atomic(BINDER, BINDER_HEADER + body + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args != ["--binder"]:
        compile_lock(args)
    derive_binder()
    print(f"wrote {LOCK.relative_to(ROOT)} and {BINDER.relative_to(ROOT)}")
