"""Every notebook on one template, committed clean, and covered by an up-to-date evidence report."""

import ast
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
COMPANIONS = {p.stem for p in (ROOT / "seqtips" / "lessons").glob("nb[0-9][0-9]_*.py")}
EVIDENCE = ROOT / "evidence"


def imports_its_companion(setup: str, number: str) -> None:
    """The set-up cell imports notebook ``number``'s companion as ``lesson``, and that companion exists."""
    found = re.search(r"^from seqtips\.lessons import (nb\d\d_\w+) as lesson$", setup, re.M)
    assert found, "the set-up cell must import the notebook's companion: from seqtips.lessons import nbNN_… as lesson"
    assert found[1].startswith(f"nb{number}_"), f"notebook {number} imports another notebook's companion, {found[1]}"
    assert found[1] in COMPANIONS, (f"no companion seqtips/lessons/{found[1]}.py; notebook {number}'s are "
                                    f"{sorted(c for c in COMPANIONS if c.startswith(f'nb{number}_')) or 'missing'}")


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
    setup = next((c for c in code if "import seqtips as st" in c), "")
    imports_its_companion(setup, number)
    assert re.search(rf'^device = st\.setup\("{path.stem}"\)', setup, re.M), "setup: device = st.setup(<notebook>)"
    assert "st.seeds(" in setup, "the set-up cell draws the run's seeds: SEEDS = st.seeds(n)"
    everything = "\n".join(code)
    assert "get_device(" not in everything and "describe_runtime" not in everything
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
            f"{code_hash(path)}: rerun python -m seqtips.evidence --range calibration --jobs 2 --out evidence")
    records = list((EVIDENCE / "records").glob("*.json"))
    for path in NOTEBOOKS:
        mine = [json.loads(r.read_text()) for r in records if r.name.startswith(path.stem + "-seed")]
        assert len(mine) >= 20, f"{path.name}: {len(mine)} records, the report needs at least 20 base seeds"
        assert {m["run"]["code_hash"] for m in mine} == {code_hash(path)}
    from seqtips.tools import evidence

    assert evidence.summary_problems(EVIDENCE, NOTEBOOKS) == []  # the start page's table reads summary.json
    # the confirmation records (base seeds in evidence.CONFIRMATION) ran the current code, as frozen
    assert evidence.confirmation_problems(EVIDENCE, NOTEBOOKS) == []


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


@pytest.mark.slow  # runs a child process
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


# --- exercises and their solutions ----------------------------------------------------------------

EXERCISE = "seqtips-exercise"
SOLUTIONS = sorted((ROOT / "solutions").glob("*_solutions.ipynb"))
WITH_EXERCISES = [p for p in NOTEBOOKS if any(EXERCISE in c["metadata"].get("tags", [])
                                              for c in json.loads(p.read_text())["cells"])]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def test_some_notebooks_have_exercises_and_each_has_its_solutions():
    assert WITH_EXERCISES, "no notebook has exercise cells"
    assert [p.stem for p in WITH_EXERCISES] == [p.stem.removesuffix("_solutions") for p in SOLUTIONS]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.name for p in WITH_EXERCISES])
def test_exercises_come_after_every_verdict(path):
    cells = json.loads(path.read_text())["cells"]
    code = [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    exercises = [i for i, c in enumerate(cells) if EXERCISE in _tags(c)]
    assert len(exercises) == 2, "two exercises per notebook"
    assert all(cells[i]["cell_type"] == "code" for i in exercises)
    last_verdict = max(i for i, src in code if "st.check(" in src)
    assert min(exercises) > last_verdict, "an exercise cell before a verdict could change what it checks"
    for number, i in enumerate(exercises, 1):
        source = "".join(cells[i]["source"])
        assert "st.check(" not in source
        assert re.match(r"result = None\b", source), "the placeholder comes first: the cell runs headless"
        assert f"exercises.check({number}, result)" in source
        assert cells[i - 1]["cell_type"] == "markdown", "each exercise's task is the markdown cell above it"
        text = "".join(cells[i]["outputs"][0].get("data", {}).get("text/plain", "")) if cells[i]["outputs"] else ""
        assert "not attempted" in text, "committed with the placeholder, the checker says 'not attempted'"


def test_the_code_hash_ignores_exercise_cells_only(tmp_path):
    nb = json.loads(WITH_EXERCISES[0].read_text())
    before = tmp_path / "a.ipynb"
    before.write_text(json.dumps(nb))
    after = tmp_path / "b.ipynb"
    for cell in nb["cells"]:
        if EXERCISE in _tags(cell):
            cell["source"] = "result = 42\nexercises.check(1, result)"
    nb["cells"].append({"cell_type": "code", "metadata": {"tags": [EXERCISE]}, "source": "x = 1", "outputs": []})
    after.write_text(json.dumps(nb))
    assert code_hash(before) == code_hash(after)
    other = next(c for c in nb["cells"] if c["cell_type"] == "code" and EXERCISE not in _tags(c))
    other["source"] = "".join(other["source"]) + "\n# a code edit"
    after.write_text(json.dumps(nb))
    assert code_hash(before) != code_hash(after)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solutions_follow_the_template(path):
    nb = json.loads(path.read_text())
    code = _cells(path, "code")
    number = path.name[:2]
    setup = next((c for c in code if "import seqtips as st" in c), "")
    assert f"from seqtips.exercises import nb{number} as exercises" in setup, "a solution runs its exercises' checker"
    if "lesson." in "\n".join(code):  # what it takes from its notebook's companion, it takes from that one
        imports_its_companion(setup, number)
    assert re.search(rf'^device = st\.setup\("{path.stem}"\)', setup, re.M)
    everything = "\n".join(code)
    for n in (1, 2):
        assert f"exercises.check({n}, result, strict=True)" in everything, "a solution must be able to fail"
    assert "st.check(" not in everything, "solutions hold no verdicts of their own"
    nav = [c for c in nb["cells"] if "seqtips-nav" in _tags(c)]
    assert len(nav) == 2 and nav[0]["source"] == nav[-1]["source"]
    assert f"../notebooks/{path.name.replace('_solutions', '')}" in "".join(nav[0]["source"]), "a link back"
    assert any("seqtips-install" in _tags(c) for c in nb["cells"])


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solutions_committed_executed_and_clean(path):
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "re-run top to bottom"
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    for n in (1, 2):
        assert f"✔ Exercise {path.name[:2]}.{n}: shows the effect." in shown


def test_a_missing_or_foreign_companion_is_named():
    with pytest.raises(AssertionError, match="no companion seqtips/lessons/nb07_gone.py; notebook 07's are missing"):
        imports_its_companion("from seqtips.lessons import nb07_gone as lesson", "07")
    with pytest.raises(AssertionError, match="imports another notebook's companion, nb01_gated"):
        imports_its_companion("from seqtips.lessons import nb01_gated as lesson", "04")
    with pytest.raises(AssertionError, match="must import the notebook's companion"):
        imports_its_companion("import seqtips as st", "04")
    imports_its_companion("from seqtips.lessons import nb06_capstone as lesson", "06")  # the real one passes


def setup_constants(path: Path) -> dict[str, str]:
    """Upper-case names a notebook assigns at the top level of a code cell (``A = 1``, ``A, B = 1, 2``), as source."""
    found: dict[str, str] = {}
    for source in _cells(path, "code"):
        source = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.parse(source).body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target, value = node.targets[0], node.value
            pairs = (zip(target.elts, value.elts) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                     and len(target.elts) == len(value.elts) else [(target, value)])
            found.update({t.id: ast.unparse(v) for t, v in pairs if isinstance(t, ast.Name) and t.id.isupper()})
    return found


#: Where a solution deliberately differs from its notebook, and why.
DECLARED = {("06", "SEEDS"): "two seeds: both recipes on three would not fit the solutions' minute on one core"}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_a_solution_uses_its_notebooks_constants(path):
    notebook = ROOT / "notebooks" / path.name.replace("_solutions", "")
    theirs, mine = setup_constants(notebook), setup_constants(path)
    shared = sorted(set(theirs) & set(mine))
    assert shared, "a solution works on its notebook's set-up: it names the same constants"
    differ = {k: (theirs[k], mine[k]) for k in shared if theirs[k] != mine[k] and (path.name[:2], k) not in DECLARED
              and _literal(theirs[k]) and _literal(mine[k])}
    assert not differ, f"{path.name} gives its notebook's constants other values (notebook, solution): {differ}"


def _literal(source: str) -> bool:
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return False
    return True


def test_the_constants_check_sees_a_drift(tmp_path):
    def notebook(name, code):
        path = tmp_path / name
        path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": code}]}))
        return path

    a = setup_constants(notebook("a.ipynb", "SEQ_LEN, BATCH = 30, 64\nHIDDEN = {'rnn': 66}\nx = 1"))
    b = setup_constants(notebook("b.ipynb", "SEQ_LEN, BATCH = 30, 64\nHIDDEN = 66"))
    assert a == {"SEQ_LEN": "30", "BATCH": "64", "HIDDEN": "{'rnn': 66}"}
    assert {k for k in set(a) & set(b) if a[k] != b[k]} == {"HIDDEN"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_takeaway_cites_a_checked_verdict_and_every_evidence_claim_is_cited(path):
    """The claims ledger on every committed notebook: each tag names a verdict the notebook checks and the
    committed evidence summary reports; each evidence claim is cited by some markdown cell."""
    from seqtips.tools import ledger

    summary = json.loads((EVIDENCE / "summary.json").read_text(encoding="utf-8"))
    assert ledger.problems(path, summary) == []


def test_figures_draw_with_the_colour_blind_safe_palette_only():
    """Matplotlib's default cycle puts red beside green: figures take colours from st.PALETTE (Okabe-Ito)."""
    sources = {p.relative_to(ROOT): p.read_text(encoding="utf-8") for p in (ROOT / "seqtips").rglob("*.py")}
    for path in NOTEBOOKS + SOLUTIONS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources[path.relative_to(ROOT)] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    offenders = {str(path): sorted(set(re.findall(r"tab:[a-z]+|\bC[0-9]\b(?=['\"])", text)))
                 for path, text in sources.items() if re.search(r"tab:[a-z]+|['\"]C[0-9]['\"]", text)}
    assert offenders == {}, f"colours outside st.PALETTE: {offenders}"
