"""The repository's promises to readers: pinned installs agree, notebooks are committed executed."""

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_root_requirements_are_pinned_and_install_the_package():
    lines = [ln.split("#", 1)[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    assert "-e ." in lines
    for line in lines:
        if line != "-e .":
            assert "==" in line, f"requirements.txt must pin exact versions, got {line!r}"
    pins = _pins(ROOT / "requirements.txt")
    assert pins["torch"] == "2.13.0"
    for name in ("jupyterlab", "ipykernel", "ipywidgets", "matplotlib", "tqdm", "pytest", "nbmake", "ruff"):
        assert name in pins, f"{name} missing from requirements.txt"


def test_binder_requirements_match_root_with_cpu_torch():
    root, binder = _pins(ROOT / "requirements.txt"), _pins(ROOT / "binder" / "requirements.txt")
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in text
    assert binder.pop("torch") == root.pop("torch") + "+cpu"
    assert binder == root
    assert re.search(r"^-e \.(\s|$)", text, re.M), "binder must install the seqtips package"


def test_binder_runtime_is_the_tested_python():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_readme_gives_both_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme
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


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install" in ci and "requirements.txt" in ci
    assert re.search(r"^pytest$", ci, re.M)


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
