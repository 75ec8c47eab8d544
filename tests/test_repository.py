"""The repository's promises to readers: the README's commands, notebooks committed executed (the lock and
Binder: test_project_files.py)."""

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_binder_runtime_is_the_tested_python():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_readme_gives_both_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme and "pip install -r binder/requirements.txt" in readme
    assert "jupyter lab notebooks/" in readme
    assert re.search(r"^pytest$", readme, re.M)
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in readme, f"README does not link {nb.name}"


def test_pytest_runs_the_solutions_and_the_readme_says_so():
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    assert testpaths == ["tests", "notebooks", "solutions"]
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    assert solutions and all(p.name.endswith("_solutions.ipynb") for p in solutions)
    assert all((ROOT / "notebooks" / p.name.replace("_solutions", "")).exists() for p in solutions)
    assert "[`solutions/`](solutions/)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_executed(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "re-run top to bottom"
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"], "committed with an error output"
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure in the committed notebook"
    text = "".join(str(o.get("text", "")) for o in outputs)
    assert "✔" in text, "the verdict did not print"
    assert path.stat().st_size < 3_000_000


def test_package_version_matches_pyproject():
    import seqtips

    assert seqtips.__version__ == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_tools_declare_what_they_import():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["tools"]
    for name in ("nbclient", "nbformat"):
        assert any(req.startswith(name) for req in extras), f"the tools extra must declare {name}"
