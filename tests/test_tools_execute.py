"""seqtips/tools/execute.py: clean() on a hand-made notebook, and a child that cannot run reports why."""

import base64
import copy
import io
import math

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


def test_execute_reports_a_child_that_cannot_run(tmp_path):
    result = execute.execute(tmp_path / "missing.ipynb", timeout=30)
    assert result["notebook"] == str(tmp_path / "missing.ipynb")
    assert math.isnan(result["seconds"]) and math.isnan(result["peak_mb"])
    assert "missing.ipynb" in result["error"] or "No such file" in result["error"]
