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
STALL_SECONDS = 30.0
"""Seconds a cell may wait with the kernel idle and silent before the run counts as stalled."""
POLL_SLICE = float(os.environ.get("SEQTIPS_POLL_SLICE", "1.0"))
"""Seconds of one poll of a kernel channel (see :func:`watched_client_class`); 0: one poll per wait."""
CELL_TIMEOUT = 300
"""Seconds any one cell may take, busy or not (the longest cell of any notebook takes well under a minute)."""


class Stall(Exception):
    """A cell's request went unanswered while the kernel sat idle: the headless stall (see :class:`WatchedClient`)."""

    def __init__(self, details: dict):
        self.details = details
        super().__init__(f"stalled: cell {details['cell']} got no reply while the kernel sat idle for "
                         f"{details['idle_s']:.0f} s (kernel CPU {details['kernel_cpu_s']:.2f} s in that time)")


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def _summary(channel: str, msg: dict) -> dict:
    """What the stall record keeps of one message: when, where, what type, in reply to what."""
    content = msg.get("content", {}) if isinstance(msg.get("content"), dict) else {}
    parent = msg.get("parent_header", {}) or {}
    return {"t": round(time.monotonic(), 3), "channel": channel, "type": msg.get("msg_type") or
            msg.get("header", {}).get("msg_type"), "parent": parent.get("msg_type"),
            **({"state": content["execution_state"]} if "execution_state" in content else {})}


def watched_client_class():
    """:class:`nbclient.NotebookClient` that cannot sit out the headless stall (built on first use).

    The stall (measured with ``python -m seqtips.tools.soak``): a widget cell finishes — the kernel
    publishes ``idle`` — but its ``execute_reply`` never reaches nbclient, which waits in *one*
    asyncio poll of the shell socket as long as the cell timeout. pyzmq's asyncio poll can miss
    the wake-up of a message that has already arrived; when its timeout fires it polls once more
    and finds the message, so the run resumed after exactly the cell timeout (600 s under nbmake's
    old setting) and passed. It happened with ipykernel 7.4 and 6.31 alike: the lost wake-up is
    the client's. The fix: every wait on a channel polls in slices of ``POLL_SLICE`` seconds, so a
    missed wake-up costs at most one slice; each one caught is listed in ``missed_wakeups``.

    A watchdog stays as the net under it: it samples the kernel's CPU time every second, and when
    no message has arrived for ``stall_seconds`` while the kernel used almost no CPU, the cell is
    stopped with :class:`Stall`, whose ``details`` hold the cell index, whether the kernel ever
    acknowledged the request, the last messages seen on shell and IOPub and the versions.
    """
    global _WatchedClient
    if _WatchedClient is not None:
        return _WatchedClient
    import asyncio
    from collections import deque
    from queue import Empty

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import ensure_async

    class StallTimeout(CellTimeoutError):
        """The form nbmake reports (a cell that timed out), carrying the :class:`Stall`."""

    class WatchedClient(NotebookClient):
        def __init__(self, nb, *, stall_seconds: float | None = None, **kw):
            super().__init__(nb, **kw)
            if stall_seconds is None:  # SEQTIPS_STALL_SECONDS, for the tests of this watchdog
                stall_seconds = float(os.environ.get("SEQTIPS_STALL_SECONDS", STALL_SECONDS))
            self.stall_seconds = stall_seconds
            self.messages: deque = deque(maxlen=12)
            self.last_message = time.monotonic()
            self.stalls: list[dict] = []  # every stall met
            self.request: str | None = None
            self.cell_index: int | None = None
            self.missed_wakeups: list[dict] = []  # messages found only when a poll slice ran out
            self._stall: dict | None = None

        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            for name in ("shell", "iopub"):
                channel = getattr(kc, f"{name}_channel")
                channel.get_msg = self._recording(name, channel.get_msg)
            send = kc.execute

            def execute(*args, **kwargs):
                self.request = send(*args, **kwargs)  # the msg_id of the request now waited for
                return self.request
            kc.execute = execute
            return kc

        def _recording(self, name, get_msg):
            async def get(timeout=None):
                # Wait in slices of POLL_SLICE seconds, never in one long poll: pyzmq's asyncio poll can
                # miss the wake-up of a message that has arrived, and finds it only when its timeout
                # fires (it then polls the socket once more) — with nbclient's one poll per cell timeout,
                # that was the 10-minute stall. A message found right as a slice ran out is counted.
                if not POLL_SLICE:  # SEQTIPS_POLL_SLICE=0: one poll, as nbclient has it (the soak's control)
                    msg = await ensure_async(get_msg(timeout=timeout))
                    self._seen(name, msg)
                    return msg
                deadline = None if timeout is None else time.monotonic() + timeout
                while True:
                    left = None if deadline is None else deadline - time.monotonic()
                    wait = POLL_SLICE if left is None else max(0.0, min(POLL_SLICE, left))
                    began = time.monotonic()
                    try:
                        msg = await ensure_async(get_msg(timeout=wait))
                    except Empty:
                        if left is not None and left <= POLL_SLICE:
                            raise
                        continue
                    if wait == POLL_SLICE and time.monotonic() - began >= POLL_SLICE * 0.999:
                        self.missed_wakeups.append({"channel": name, "cell": self.cell_index,
                                                    "type": msg.get("msg_type")})
                    break
                self._seen(name, msg)
                return msg
            return get

        def _seen(self, name: str, msg: dict) -> None:
            self.last_message = time.monotonic()
            self.messages.append(_summary(name, msg))
            if (msg.get("parent_header") or {}).get("msg_id") == self.request:
                self.acknowledged = True

        def _kernel_pid(self) -> int | None:
            provisioner = getattr(self.km, "provisioner", None)
            return getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)

        async def _watch(self, cell_index: int) -> None:
            pid = self._kernel_pid()
            samples: deque = deque()
            while True:
                await asyncio.sleep(1.0)
                now, cpu = time.monotonic(), _cpu_seconds(pid)
                if cpu is None:  # no /proc here: leave it to the cell timeout
                    return
                samples.append((now, cpu))
                while samples and samples[0][0] < now - self.stall_seconds - 1.5:
                    samples.popleft()
                quiet = now - self.last_message
                then = next(((t, c) for t, c in samples if t >= now - self.stall_seconds), None)
                if quiet < self.stall_seconds or then is None or now - then[0] < self.stall_seconds - 1.5:
                    continue
                used = cpu - then[1]
                if used > 0.02 * self.stall_seconds:  # computing silently: not a stall
                    continue
                stall = self._describe(cell_index, quiet, used)
                self.stalls.append(stall)
                self._stall = stall
                for task in asyncio.all_tasks():  # nbclient's kernel-alive poll would outlive the cell
                    if getattr(task.get_coro(), "__name__", "") == "_async_poll_kernel_alive":
                        task.cancel()
                self.task_poll_for_reply.cancel()
                return

        def _describe(self, cell_index: int, quiet: float, used: float) -> dict:
            # unread: the kernel never said it began this request (no status or input for it on IOPub)
            return {"cell": cell_index, "idle_s": round(quiet, 1), "kernel_cpu_s": round(used, 3),
                    "request_unread": not self.acknowledged,
                    "last_messages": [dict(m, ago_s=round(time.monotonic() - m["t"], 1)) for m in self.messages],
                    "versions": versions()}

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            if cell.cell_type != "code" or not cell.source.strip():
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            self._stall, self.acknowledged, self.cell_index = None, False, cell_index
            self.last_message = time.monotonic()
            watch = asyncio.ensure_future(self._watch(cell_index))
            try:
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            except DeadKernelError:
                if self._stall is None:
                    raise
                stall = Stall(self._stall)
                raise StallTimeout(f"{stall}\n{json.dumps(self._stall)}") from stall
            finally:
                watch.cancel()

    WatchedClient.Stall = Stall
    WatchedClient.StallTimeout = StallTimeout
    _WatchedClient = WatchedClient
    return WatchedClient


_WatchedClient = None


def versions() -> dict:
    """The versions of the packages between a client and its kernel."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("ipykernel", "jupyter_client", "nbclient", "pyzmq", "tornado", "ipywidgets", "tqdm", "nbmake"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out



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


def _run(path: Path, timeout: int, write: bool, output: Path | None = None,
         stall_seconds: float = STALL_SECONDS) -> dict:
    """Execute ``path`` in this process's own kernel (the child's side)."""
    import resource

    import nbformat
    from nbclient.exceptions import CellExecutionError

    from ..verdict import write_atomic

    nb = nbformat.read(path, as_version=4)
    client = watched_client_class()(nb, timeout=timeout, kernel_name="python3", stall_seconds=stall_seconds,
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as err:
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()
        error = lines[-1] if lines else type(err).__name__
    except Exception as err:  # a stall, a dead kernel or a timeout: report it, do not hide it
        error = str(err.__cause__) if isinstance(err.__cause__, Stall) else f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    if (write or output) and not error:
        text = nbformat.writes(nbformat.from_dict(clean(json.loads(nbformat.writes(nb)))))
        write_atomic(output or path, text if text.endswith("\n") else text + "\n")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    return {"notebook": str(path), "seconds": seconds, "peak_mb": peak_kb / 1024, "error": error,
            "stalls": client.stalls, "missed_wakeups": client.missed_wakeups}


def _child(path: Path, env: dict[str, str] | None, timeout: int, write: bool, output: Path | None,
           cpu: int | None, stall_seconds: float) -> dict:
    cmd = [sys.executable, "-m", "seqtips.tools.execute", str(path), "--timeout", str(timeout),
           "--stall-seconds", str(stall_seconds)]
    if write:
        cmd.append("--write")
    if output is not None:
        cmd += ["--output", str(output)]
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, preexec_fn=pin)
    if done.returncode != 0 or not done.stdout.strip():
        tail = " | ".join(done.stderr.strip().splitlines()[-5:])
        return {"notebook": str(path), "seconds": float("nan"), "peak_mb": float("nan"), "error": tail or "failed",
                "stalls": [], "missed_wakeups": []}
    return json.loads(done.stdout.strip().splitlines()[-1])


def execute(path: Path, env: dict[str, str] | None = None, timeout: int = CELL_TIMEOUT, write: bool = False,
            output: Path | None = None, cpu: int | None = None, stall_seconds: float = STALL_SECONDS,
            retries: int = 1) -> dict:
    """Execute ``path`` in a fresh child process; return its seconds, peak MB and error ("" if none).

    ``write`` saves the executed, cleaned notebook over ``path``; ``output`` saves it there instead;
    ``cpu`` pins the child and its kernel to that one CPU core (as ``taskset -c CPU`` would);
    ``timeout`` bounds each cell. A run that stalls (see :func:`watched_client_class`) is run again
    in a fresh kernel, up to ``retries`` times: the result's ``stalls`` lists every stall met, with
    its details, and ``seconds`` is the time of the run that finished — a stalled run's time is
    never returned as a timing (``seconds`` is NaN when every try stalled).
    """
    stalls: list[dict] = []
    missed: list[dict] = []
    for _ in range(retries + 1):
        result = _child(Path(path), env, timeout, write, output, cpu, stall_seconds)
        stalls += result.get("stalls", [])
        missed += result.get("missed_wakeups", [])
        if not result["error"].startswith("stalled"):
            break
        result["seconds"] = float("nan")
    result["stalls"], result["missed_wakeups"] = stalls, missed
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m seqtips.tools.execute")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--stall-seconds", type=float, default=STALL_SECONDS,
                        help="seconds of an idle, silent kernel that count as a stall")
    parser.add_argument("--write", action="store_true", help="save the executed, cleaned notebook in place")
    parser.add_argument("--output", type=Path, help="save the executed, cleaned notebook here instead")
    args = parser.parse_args()

    from . import cli

    cli.timeout(parser, args.timeout)
    args.output = cli.writable_file(parser, args.output, "--output")
    print(json.dumps(_run(args.notebook, args.timeout, args.write, args.output, args.stall_seconds)))
