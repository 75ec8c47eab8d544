"""seqtips/tools/execute.py: clean() on a hand-made notebook, and a child that cannot run reports why."""

import base64
import copy
import io
import math

import pytest
from PIL import Image

from seqtips.tools import execute

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def view(model_id="abc"):
    return {"version_major": 2, "version_minor": 0, "model_id": model_id}


def notebook():
    bundle = {WIDGET_VIEW: view("browse"), "image/png": png_base64(), "text/plain": "(interactive figure)"}
    return {
        "metadata": {"kernelspec": {"name": "python3"}, "widgets": {"application/vnd.jupyter.widget-state+json": {}}},
        "nbformat": 4, "nbformat_minor": 5,
        "cells": [
            {"cell_type": "markdown", "metadata": {"execution": {"iopub.status.busy": "2026-01-01"}}, "source": "# T"},
            {"cell_type": "code", "execution_count": 1, "source": "train()",
             "metadata": {"tags": ["keep"], "execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"}},
             "outputs": [
                 {"output_type": "display_data", "metadata": {},
                  "data": {WIDGET_VIEW: view("bar"), "text/plain": "  0%|          | 0/3"}},
                 {"output_type": "stream", "name": "stderr", "text": "100%|██████████| 3/3 [00:01<00:00,  2.50it/s]"},
                 {"output_type": "stream", "name": "stdout", "text": "✔ [a] the claim held\n"},
                 {"output_type": "stream", "name": "stderr", "text": "UserWarning: something to read\n"},
             ]},
            {"cell_type": "code", "execution_count": 2, "source": "st.browse(show, seed=[0, 1])", "metadata": {},
             "outputs": [{"output_type": "display_data", "metadata": {}, "data": bundle}]},
        ],
    }


def test_clean_drops_what_changes_on_every_run_and_keeps_what_a_reader_sees():
    nb = notebook()
    original = copy.deepcopy(nb)
    assert execute.clean(nb) is nb  # in place
    assert "widgets" not in nb["metadata"] and nb["metadata"]["kernelspec"] == {"name": "python3"}
    assert all("execution" not in cell["metadata"] for cell in nb["cells"])
    assert nb["cells"][1]["metadata"] == {"tags": ["keep"]}
    outputs = nb["cells"][1]["outputs"]
    # the bare widget (a progress bar) and the text progress bar are gone; the verdict and warning stay
    assert outputs == original["cells"][1]["outputs"][2:]
    (kept,) = nb["cells"][2]["outputs"]
    assert set(kept["data"]) == {WIDGET_VIEW, "image/png", "text/plain"}
    assert kept["data"][WIDGET_VIEW] == view("browse")
    picture = Image.open(io.BytesIO(base64.b64decode(kept["data"]["image/png"])))
    assert picture.size == (20, 10)
    assert nb["cells"][0]["source"] == "# T" and nb["cells"][1]["execution_count"] == 1


def test_clean_is_idempotent_and_accepts_a_bare_notebook():
    once = execute.clean(notebook())
    assert execute.clean(copy.deepcopy(once)) == once
    assert execute.clean({}) == {}


@pytest.mark.slow  # runs a child process
def test_execute_reports_a_child_that_cannot_run(tmp_path):
    result = execute.execute(tmp_path / "missing.ipynb", timeout=30)
    assert result["notebook"] == str(tmp_path / "missing.ipynb")
    assert math.isnan(result["seconds"]) and math.isnan(result["peak_mb"])
    assert "missing.ipynb" in result["error"] or "No such file" in result["error"]


# --- the headless stall: poll slices, the watchdog, the retry -----------------------------------------

def _client():
    import nbformat

    return execute.watched_client_class()(nbformat.v4.new_notebook(), stall_seconds=5)


def test_a_message_whose_wake_up_was_missed_is_found_at_the_end_of_one_slice(monkeypatch):
    import asyncio
    import time

    monkeypatch.setattr(execute, "POLL_SLICE", 0.05)
    client = _client()
    client.cell_index = 4

    async def missed_get_msg(timeout=None):  # like pyzmq's poll that missed the wake-up: found at the timeout
        await asyncio.sleep(timeout)
        return {"msg_type": "execute_reply", "parent_header": {}}

    start = time.monotonic()
    msg = asyncio.run(client._recording("shell", missed_get_msg)(timeout=300))
    assert msg["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 1.0  # one slice, not the 300 s timeout
    assert client.missed_wakeups == [{"channel": "shell", "cell": 4, "type": "execute_reply"}]


def test_slices_still_time_out_when_nothing_comes(monkeypatch):
    import asyncio
    import time
    from queue import Empty

    monkeypatch.setattr(execute, "POLL_SLICE", 0.05)
    client = _client()

    async def nothing(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(client._recording("shell", nothing)(timeout=0.3))
    assert 0.25 < time.monotonic() - start < 1.0
    assert client.missed_wakeups == []


def test_cpu_seconds_of_a_process():
    import os

    assert execute._cpu_seconds(os.getpid()) > 0
    assert execute._cpu_seconds(None) is None and execute._cpu_seconds(2**31 - 1) is None


def _idle_notebook(tmp_path, seconds=12):
    """A notebook whose second cell sits idle and silent: to the watchdog, a stall."""
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"),
                nbformat.v4.new_code_cell("print(2)")]
    path = tmp_path / "idle.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_stalled_run_is_stopped_retried_once_and_never_timed(tmp_path):
    result = execute.execute(_idle_notebook(tmp_path), stall_seconds=3, retries=1)
    assert result["error"].startswith("stalled: cell 1 got no reply")
    assert math.isnan(result["seconds"])
    assert len(result["stalls"]) == 2  # the first try and its retry
    stall = result["stalls"][0]
    assert stall["cell"] == 1 and stall["idle_s"] >= 3 and stall["kernel_cpu_s"] < 0.5
    assert stall["request_unread"] is False  # the kernel began the request: it is busy sleeping
    assert {m["channel"] for m in stall["last_messages"]} == {"shell", "iopub"}
    assert stall["versions"]["ipykernel"] and stall["versions"]["pyzmq"]


@pytest.mark.slow
def test_pytest_retries_a_stalled_notebook_and_counts_the_stalls(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = _idle_notebook(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pytest", str(path), "--rootdir", str(tmp_path), "-o",
                           "addopts=--nbmake --nbmake-timeout=60 -p seqtips.tools.pytest_stalls -p no:cacheprovider"],
                          cwd=Path(__file__).parents[1], capture_output=True, text=True,
                          env={**os.environ, "SEQTIPS_STALL_SECONDS": "3"}, timeout=240)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "notebook stalls met: 2" in done.stdout
    assert "run again in a fresh kernel" in done.stdout and "stalled again, failed" in done.stdout
