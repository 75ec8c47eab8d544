"""Every notebook on one template, committed clean, and covered by an up-to-date evidence report."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqtips.tools.execute import WIDGET_VIEW
from seqtips.verdict import code_hash

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COMPANIONS = {p.stem: p.stem for p in (ROOT / "seqtips" / "lessons").glob("nb[0-9][0-9]_*.py")}
EVIDENCE = ROOT / "evidence"


def _cells(path, kind):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


def test_frame_script_finds_every_notebook_up_to_date():
    done = subprocess.run([sys.executable, "scripts/frame_notebooks.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_follows_the_template(path):
    code = _cells(path, "code")
    number = path.name[:2]
    companion = next(name for name in COMPANIONS if name.startswith(f"nb{number}_"))
    setup = next(c for c in code if "import seqtips as st" in c)
    assert f"from seqtips.lessons import {companion} as lesson" in setup
    assert re.search(rf'^device = st\.setup\("{path.stem}"\)', setup, re.M), "setup: device = st.setup(<notebook>)"
    assert "st.seeds(" in setup or "st.base_seed()" in setup
    everything = "\n".join(code)
    assert "st.get_device(" not in everything and "describe_runtime" not in everything
    assert re.findall(r'st\.check\(\s*"[a-z0-9-]+"', everything), "verdicts are st.check(id, ...)"
    nav = [c for c in json.loads(path.read_text())["cells"] if "seqtips-nav" in c["metadata"].get("tags", [])]
    assert len(nav) == 2 and nav[0]["source"] == nav[-1]["source"], "one navigation bar, top and bottom"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_clean(path):
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"], "widget state committed"
    for cell in nb["cells"]:
        assert "execution" not in cell.get("metadata", {}), "execution timestamps committed"
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                assert "image/png" in data or "text/html" in data, "a widget without its static view committed"
            assert "it/s]" not in "".join(out.get("text", "")), "a text progress bar committed"


def _report_hashes():
    text = (EVIDENCE / "README.md").read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    return {s.splitlines()[0].strip(): re.findall(r"notebook code `([0-9a-f, ]+)`", s) for s in sections}


def test_evidence_report_covers_the_committed_notebooks():
    hashes = _report_hashes()
    for path in NOTEBOOKS:
        assert path.stem in hashes, f"evidence/README.md has no section for {path.name}"
        found = hashes[path.stem][0].split(", ")
        assert found == [code_hash(path)], (
            f"evidence/README.md covers {path.name} at code {found}, but the notebook's code is now "
            f"{code_hash(path)}: rerun python -m seqtips.evidence --seeds 20 --jobs 2 --out evidence")
    records = list((EVIDENCE / "records").glob("*.json"))
    for path in NOTEBOOKS:
        mine = [json.loads(r.read_text()) for r in records if r.name.startswith(path.stem + "-seed")]
        assert len(mine) >= 20, f"{path.name}: {len(mine)} records, the report needs at least 20 base seeds"
        assert {m["run"]["code_hash"] for m in mine} == {code_hash(path)}


def test_prose_edits_do_not_change_the_code_hash(tmp_path):
    nb = json.loads(NOTEBOOKS[0].read_text())
    before = tmp_path / "a.ipynb"
    before.write_text(json.dumps(nb))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = "changed prose"
    after = tmp_path / "b.ipynb"
    after.write_text(json.dumps(nb))
    assert code_hash(before) == code_hash(after)
    next(c for c in nb["cells"] if c["cell_type"] == "code")["source"] += "\n# a code edit"
    after.write_text(json.dumps(nb))
    assert code_hash(before) != code_hash(after)


def _normalised(path):
    """Outputs with figures and the lines that report measured times masked."""
    timing = re.compile(r"\d+(\.\d+)?\s*(s|ms|seconds)\b")
    out = []
    for cell in json.loads(Path(path).read_text())["cells"]:
        for o in cell.get("outputs", []):
            data = dict(o.get("data", {}))
            if "image/png" in data:
                data["image/png"] = "<figure>"
            text = "".join(o.get("text", "")) + json.dumps(data, sort_keys=True)
            out.append("\n".join("<timing>" if timing.search(line) else line for line in text.splitlines()))
    return out


def test_reexecuting_a_notebook_changes_only_figures_and_timings(tmp_path):
    from seqtips.tools.execute import execute

    committed = ROOT / "notebooks" / "00_start_here.ipynb"
    rerun = tmp_path / committed.name
    result = execute(committed, {"SEQTIPS_SEED": "0", "SEQTIPS_RECORD": ""}, timeout=300, output=rerun)
    assert result["error"] == ""
    assert _normalised(rerun) == _normalised(committed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_each_claim_id_is_used_once_per_notebook(path):
    ids = re.findall(r'st\.check\(\s*"([a-z0-9-]+)"', "\n".join(_cells(path, "code")))
    assert ids and len(ids) == len(set(ids)), f"claim ids must be unique in a notebook: {ids}"
