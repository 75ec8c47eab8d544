"""The files around the package: links from one setting, the lock, Binder, packaging, citation, CI."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
URL = PROJECT["urls"]["Repository"]
PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^\s=]+")

_spec = importlib.util.spec_from_file_location("links", ROOT / "scripts" / "links.py")
links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(links)


def _requirements(path: Path) -> list[str]:
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    return [ln for ln in lines if ln]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The files the links are rendered from and into, in a scratch directory."""
    for name in ("pyproject.toml", "README.md", "CITATION.cff", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "catalogue.toml", tmp_path / "scripts" / "catalogue.toml")
    if (ROOT / "evidence").exists():
        shutil.copytree(ROOT / "evidence", tmp_path / "evidence")
    return tmp_path


# --- links ------------------------------------------------------------------------------------------


def test_links_agree_with_the_configured_repository():
    assert links.check() == []


def test_links_come_from_the_setting():
    assert links.repository_url() == URL
    assert links.install_spec() == f"seqtips @ git+{URL}"
    name = "01_gated_vs_plain_rnn.ipynb"
    for url in (links.binder_url(name), links.colab_url(name), links.nbviewer_url(name)):
        assert url.endswith(name) and "/seqtips/seqtips/" in url
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert links.colab_url(nb.name) in readme and links.binder_url(nb.name) in readme


def test_a_wrong_url_in_the_readme_block_is_detected(copy):
    readme = copy / "README.md"
    readme.write_text(
        readme.read_text()
        .replace("colab.research.google.com/github/seqtips/", "x", 1)
        .replace("nbviewer.org/github/seqtips/seqtips", "nbviewer.org/github/someone/seqtips", 1)
    )
    problems = links.check(copy)
    assert any("README.md" in p and "someone/seqtips" in p for p in problems)
    assert len(problems) >= 2


def test_a_stray_link_to_another_copy_is_detected(copy):
    stray = "[launch](https://mybinder.org/v2/gh/someone/seqtips/HEAD)\n"
    (copy / "CONTRIBUTING.md").write_text((copy / "CONTRIBUTING.md").read_text() + stray)
    assert any("CONTRIBUTING.md" in p and "someone/seqtips" in p for p in links.check(copy))


def test_changing_the_setting_is_detected_then_rendered(copy):
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'Repository = "{URL}"', 'Repository = "https://github.com/else/tips"')
    )
    problems = links.check(copy)
    assert any(p.startswith("README.md") for p in problems)
    assert any(p.startswith("CITATION.cff") for p in problems)
    for path, text in links.rendered(copy).items():
        path.write_text(text)
    # What is left is in the notebooks, whose install cells scripts/frame_notebooks.py renders.
    assert all(p.startswith("notebooks/") for p in links.check(copy))
    assert "https://mybinder.org/v2/gh/else/tips/HEAD" in (copy / "README.md").read_text()
    assert links.install_spec(copy) == "seqtips @ git+https://github.com/else/tips"


def test_readme_block_renders_the_evidence(copy):
    (copy / "evidence").mkdir(exist_ok=True)
    (copy / "evidence" / "benchmark.json").write_text(
        json.dumps(
            {
                "machine": "2-core test box",
                "date": "2025-01-02",
                "notebooks": {"01_gated_vs_plain_rnn.ipynb": {"seconds": 41.0}},
            }
        )
    )
    (copy / "evidence" / "drift.txt").write_text("2025-01-03 numpy=9.9 torch=2.13.0 passed\n")
    block = links.render_block(copy)
    assert re.search(r"01_gated_vs_plain_rnn\.ipynb\) \| 0\.7 \|", block)
    assert "| — |" in block, "a notebook without a measurement shows a dash"
    assert "2-core test box" in block
    assert re.search(r"^Last verified .*2025-01-03 — numpy 9\.9, torch 2\.13\.0 — every notebook passed", block, re.M)


def test_the_catalogue_orders_tips_before_the_capstone_whatever_their_number(copy):
    shutil.copy(copy / "notebooks" / "05_early_stopping.ipynb", copy / "notebooks" / "07_new_tip.ipynb")
    with pytest.raises(ValueError, match=r"07_new_tip.ipynb is in notebooks/ but not in scripts/catalogue.toml"):
        links.catalogue(copy)
    with (copy / "scripts" / "catalogue.toml").open("a") as f:
        f.write('\n[[notebook]]\nfile = "07_new_tip.ipynb"\nkind = "tip"\ntip = "6. A new tip"\nsee = "x"\n'
                'start_from = "y"\nnot_helped = "z"\n')
    order = [e["file"][:2] for e in links.catalogue(copy)]
    assert order == ["00", "01", "02", "03", "04", "05", "07", "06"]
    assert "| 6. A new tip | [`notebooks/07_new_tip.ipynb`]" in links.render_tips(copy)
    assert links.render_glance(copy).splitlines()[-2].startswith("| 6. A new tip | [07](07_new_tip.ipynb) | y | z |")
    (copy / "scripts" / "catalogue.toml").write_text(
        (copy / "scripts" / "catalogue.toml").read_text().replace('kind = "tip"\ntip = "6. A new tip"', 'kind = "tip"'))
    with pytest.raises(ValueError, match="07_new_tip.ipynb lacks 'tip'"):
        links.catalogue(copy)


def test_the_exercise_list_is_read_from_the_notebooks():
    block = links.render_exercises()
    for e in links.catalogue():
        for i, title in enumerate(links.exercise_titles(e["path"]), 1):
            assert f"{e['file'][:2]}.{i} {title}" in block
    assert block.count("\n- [") == 6 and "02.2 how much of the gap is the implementation?" in block
    assert "99th percentile" not in block  # exercise 04.1 is Pascanu's average norm
    assert links.render_exercises() in (ROOT / "README.md").read_text()


def _headline_claims(notebook: str) -> dict:
    """A notebook's claims over its headline runs in the evidence summary: confirmation where there is one."""
    ranges = json.loads((ROOT / "evidence" / "summary.json").read_text())["notebooks"][notebook]
    return next(ranges[r]["claims"] for r in ("confirmation", "calibration") if r in ranges)


def test_the_glance_table_cites_only_verdicts_its_notebook_checks_and_that_held():
    """A row of the start page's table that reports a result names its verdict (verdict `id`); that verdict is an
    evidence claim of the row's notebook and held on every headline run of the report that reached it (where some
    stopped before it, the row says how many held), so the row cannot outlive the result it reports."""
    cited = 0
    for e in links.catalogue():
        if e["kind"] == "start":
            continue
        claims = _headline_claims(e["path"].stem)
        for cid in re.findall(r"verdicts? `([a-z0-9-]+)`", e["start_from"] + " " + e["not_helped"]):
            cited += 1
            assert cid in claims, f"catalogue.toml: {e['file']}'s row cites {cid}, which that notebook does not check"
            claim = claims[cid]
            assert claim["kind"] == "evidence", f"{e['file']}: {cid} is a {claim['kind']} check, not evidence"
            assert not claim["failures"] and claim["held"] == claim["reached"], (
                f"{e['file']}'s row cites {cid}, which did not hold on {claim['reached'] - claim['held']} of the "
                f"{claim['reached']} runs that reached it: correct the row")
            if claim["held"] < claim["runs"]:  # some runs stopped before it: the row says how many held
                assert f"{claim['held']} of {claim['runs']}" in e["start_from"] + " " + e["not_helped"], (
                    f"{e['file']}'s row cites {cid}, which held on {claim['held']} of {claim['runs']} headline runs "
                    f"(the others stopped before it): the row must say '{claim['held']} of {claim['runs']}'")
    assert cited >= 4, "the rows that report a result cite their verdicts"


def test_no_placeholder_in_any_tracked_file():
    placeholder = re.compile(r"\b" + "OWN" + r"ER\b|YOUR[_-](USER|NAME|ORG|ACCOUNT)")
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    hits = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        hits += [f"{name}: {m.group(0)}" for m in placeholder.finditer(text)]
    assert hits == []


# --- the lock and Binder ----------------------------------------------------------------------------


def test_lock_pins_everything_exactly():
    lines = _requirements(ROOT / "requirements.txt")
    assert lines.count("-e .") == 1
    loose = [ln for ln in lines if ln != "-e ." and not PIN.fullmatch(ln)]
    assert loose == [], "requirements.txt is the lock: `python scripts/lock.py`"
    names = {ln.split("==")[0].lower() for ln in lines if "==" in ln}
    assert not {n for n in names if n.startswith("nvidia-") or n == "triton"}, "CUDA packages in the lock"
    assert "torch==2.13.0" in lines
    direct = {
        "torch",
        "numpy",
        "matplotlib",
        "tqdm",
        "ipywidgets",
        "ipykernel",
        "jupyterlab",
        "pytest",
        "pytest-xdist",
        "nbmake",
        "nbclient",
        "nbformat",
        "ruff",
    }
    assert direct <= names
    assert len(names) > len(direct), "the lock holds the transitive dependencies too"


def test_lock_is_compiled_from_requirements_in():
    text = (ROOT / "requirements.txt").read_text()
    assert "python scripts/lock.py" in text
    assert _requirements(ROOT / "requirements.in")[0] == "-e .[test,notebooks]"
    assert "/opt/" not in text and "--find-links" not in text and "--index-url" not in text


def test_binder_lock_is_the_lock_with_cpu_torch():
    lock = [ln for ln in _requirements(ROOT / "requirements.txt")]
    binder = _requirements(ROOT / "binder" / "requirements.txt")
    assert binder[0] == "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert binder[1:] == [("torch==2.13.0+cpu" if ln == "torch==2.13.0" else ln) for ln in lock]


def test_binder_turns_off_jupyterlab_news(tmp_path):
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    setting = overrides["@jupyterlab/apputils-extension:notification"]
    assert setting == {"fetchNews": "false", "checkForUpdates": False}
    schema = Path(sys.prefix, "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json")
    if schema.exists():  # the installed JupyterLab knows these keys and values
        props = json.loads(schema.read_text())["properties"]
        assert "false" in [c["const"] for c in props["fetchNews"]["oneOf"]]
        assert props["checkForUpdates"]["type"] == "boolean"
    # postBuild puts it where JupyterLab reads overrides: <sys.prefix>/share/jupyter/lab/settings/.
    shim = tmp_path / "bin" / "python"
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\necho {tmp_path / 'env'}\n")
    shim.chmod(0o755)
    env = {"PATH": f"{shim.parent}:/usr/bin:/bin"}
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], env=env, check=True)
    copied = tmp_path / "env" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(copied.read_text()) == overrides


def test_binder_opens_the_start_page():
    readme = (ROOT / "README.md").read_text()
    start = "notebooks/00_start_here.ipynb" if (ROOT / "notebooks/00_start_here.ipynb").exists() else "notebooks)"
    assert (
        f"[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/seqtips/seqtips/HEAD?urlpath=lab/tree/{start}"
        in readme
    )


# --- packaging, citation, CI ------------------------------------------------------------------------


def test_the_wheel_declares_the_surname_data():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["seqtips"]
    data = ROOT / "seqtips" / "datasets" / "surnames.csv"
    assert data.stat().st_size > 10_000
    assert any(data.relative_to(ROOT / "seqtips").match(p) for p in patterns)
    assert PROJECT["readme"] == "README.md" and PROJECT["license"] == "MIT" and PROJECT["classifiers"]


def test_citation_matches_pyproject():
    cff = (ROOT / "CITATION.cff").read_text()
    field = dict(re.findall(r'^([\w-]+): "?([^"\n]*)"?$', cff, re.M))
    assert field["cff-version"] == "1.2.0"
    assert field["title"] == "seqtips" and field["license"] == "MIT"
    assert field["version"] == PROJECT["version"]
    assert field["repository-code"] == URL
    assert '- name: "The seqtips authors"' in cff and "message" in field


def test_ci_installs_the_lock_and_checks_everything():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -r requirements.txt" in ci
    assert "ruff check seqtips tests scripts notebooks solutions" in ci
    assert "python scripts/links.py --check" in ci
    assert "python scripts/check_widgets_in_lab.py notebooks/0[1-6]_*.ipynb" in ci  # the browser check runs
    assert "apt-get install -y -q chromium" in ci and '"playwright==' in ci
    assert ci.rstrip().splitlines()[-1] == "pytest"


def test_workflow_runs_ci_weekly_and_the_drift_check():
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    for needed in ("push:", "pull_request:", "schedule:", "cron:", "run: bash .ci/run", "run: bash scripts/drift.sh"):
        assert needed in workflow


def test_drift_script_pins_torch_and_records_its_result():
    script = (ROOT / "scripts" / "drift.sh").read_text()
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "drift.sh")], check=True)
    assert '"torch==2.13.0"' in script and "--upgrade-strategy eager" in script
    assert "pytest notebooks" in script and "evidence/drift.txt" in script and "scripts/links.py" in script
