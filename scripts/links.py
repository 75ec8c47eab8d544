"""Every link to where seqtips lives, rendered from one setting: `[project.urls] Repository` in pyproject.toml.

    python scripts/links.py          # rewrite the README's links block, CITATION.cff, the derived URLs
                                     # (and the notebooks' install cells, with scripts/frame_notebooks.py)
    python scripts/links.py --check  # exit 1, listing every link or field that disagrees with the setting

The README block between the `links:start` / `links:end` markers holds the Binder badge, one row per
notebook (Binder, Colab, nbviewer, measured minutes from evidence/benchmark.json) and the "last verified"
line from evidence/drift.txt; the `tips` and `exercises` blocks are the table of tips (from
scripts/catalogue.toml, which also orders every list and navigation bar) and the exercise list (from
the notebooks' exercise cells). Importable: `colab_url(name)`, `install_spec()`, … read the same setting.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from seqtips.verdict import write_atomic

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"  # the branch Colab and nbviewer read; Binder follows HEAD
START, END = "<!-- links:start -->", "<!-- links:end -->"
TIPS = ("<!-- tips:start -->", "<!-- tips:end -->")
EXERCISES = ("<!-- exercises:start -->", "<!-- exercises:end -->")
CATALOGUE = Path("scripts") / "catalogue.toml"
KINDS = ("start", "tip", "capstone")  # the reading order: the start page, the tips, then the capstone
START_PAGE = "00_start_here.ipynb"
# A link to a copy of this project somewhere: a GitHub repository, or a launcher that opens one.
LINK = re.compile(
    r"(?:github\.com|mybinder\.org/v2/gh|colab\.research\.google\.com/github|nbviewer\.org/github)"
    r"/([\w.-]+)/([\w.-]+?)(?:\.git)?(?![\w.-])"
)


def _project(root: Path = ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def repository_url(root: Path = ROOT) -> str:
    """The configured repository, e.g. ``https://github.com/seqtips/seqtips`` (no trailing slash)."""
    return _project(root)["urls"]["Repository"].rstrip("/")


def _slug(root: Path = ROOT) -> str:
    """``owner/name`` of the configured GitHub repository."""
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?", repository_url(root))
    if not m:
        raise ValueError(f"[project.urls] Repository must be a GitHub repository URL, got {repository_url(root)}")
    return f"{m.group(1)}/{m.group(2)}"


def binder_url(notebook_name: str | None = None, root: Path = ROOT) -> str:
    """Binder opening JupyterLab on one notebook (or on the notebooks folder when ``None``)."""
    path = f"notebooks/{notebook_name}" if notebook_name else "notebooks"
    return f"https://mybinder.org/v2/gh/{_slug(root)}/HEAD?urlpath=lab/tree/{path}"


def colab_url(notebook_name: str, root: Path = ROOT, folder: str = "notebooks") -> str:
    return f"https://colab.research.google.com/github/{_slug(root)}/blob/{BRANCH}/{folder}/{notebook_name}"


def nbviewer_url(notebook_name: str, root: Path = ROOT) -> str:
    return f"https://nbviewer.org/github/{_slug(root)}/blob/{BRANCH}/notebooks/{notebook_name}"


def install_spec(root: Path = ROOT) -> str:
    """The pip requirement that installs seqtips from the configured source."""
    return f"{_project(root)['name']} @ git+{repository_url(root)}"


def derived_urls(root: Path = ROOT) -> dict[str, str]:
    repo = repository_url(root)
    return {"Repository": repo, "Documentation": f"{repo}#readme", "Issues": f"{repo}/issues"}


# --- the README block -------------------------------------------------------------------------------


def catalogue(root: Path = ROOT) -> list[dict]:
    """scripts/catalogue.toml's entries in reading order, each with its ``path``; it and notebooks/ must agree."""
    entries = tomllib.loads((root / CATALOGUE).read_text(encoding="utf-8")).get("notebook", [])
    listed = [e.get("file") for e in entries]
    on_disk = {p.name for p in (root / "notebooks").glob("*.ipynb")}
    problems = [f"{name} is in notebooks/ but not in {CATALOGUE}" for name in sorted(on_disk - set(listed))]
    problems += [f"{CATALOGUE} lists {name}, which is not in notebooks/" for name in listed if name not in on_disk]
    problems += [f"{CATALOGUE} lists {name} twice" for name in sorted(set(listed)) if listed.count(name) > 1]
    for e in entries:
        if e.get("kind") not in KINDS:
            problems.append(f"{CATALOGUE}: {e.get('file')} has kind {e.get('kind')!r}, expected one of {KINDS}")
        elif e["kind"] != "start":
            problems += [f"{CATALOGUE}: {e['file']} lacks {k!r}" for k in ("tip", "see", "start_from", "not_helped")
                         if not e.get(k)]
    if problems:
        raise ValueError("; ".join(problems))
    ordered = sorted(entries, key=lambda e: (KINDS.index(e["kind"]), e["file"]))
    return [dict(e, path=root / "notebooks" / e["file"]) for e in ordered]


def exercise_titles(path: Path, word: str = "Exercise") -> list[str]:
    """The titles of a notebook's exercises, from its cells that open with ``**Exercise N — title.**``
    (``word="Упражнение"``: a Russian twin's)."""
    titles = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.match(rf"\*\*{word} (\d+) — (.+?)\.?\*\*", "".join(cell["source"]))
            titles += [m[2]] if m else []
    return titles


def render_tips(root: Path = ROOT) -> str:
    lines = [TIPS[0], "<!-- Rendered by `python scripts/links.py` from scripts/catalogue.toml. -->",
             "| tip | notebook | what you will see |", "|---|---|---|"]
    for e in catalogue(root):
        if e["kind"] != "start":
            lines.append(f"| {e['tip']} | [`notebooks/{e['file']}`](notebooks/{e['file']}) | {e['see']} |")
    return "\n".join([*lines, TIPS[1]])


def render_exercises(root: Path = ROOT) -> str:
    lines = [EXERCISES[0], "<!-- Rendered by `python scripts/links.py` from the notebooks' exercise cells. -->"]
    for e in catalogue(root):
        titles = exercise_titles(e["path"])
        if titles:
            items = "; ".join(f"{e['file'][:2]}.{i} {t}" for i, t in enumerate(titles, 1))
            lines.append(f"- [{e['file'][:2]}](notebooks/{e['file']}): {items}")
    return "\n".join([*lines, EXERCISES[1]])


def render_block_ru(root: Path = ROOT) -> str:
    """README.ru.md's launch table: the Russian twins (notebooks/ru/) on Binder, Colab and nbviewer."""
    lines = [START, "<!-- Rendered by `python scripts/links.py` from pyproject.toml and notebooks/ru/. -->",
             f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url('ru/' + START_PAGE, root)})", "",
             "| блокнот | Binder | Colab | nbviewer |", "|---|---|---|---|"]
    for e in catalogue(root):
        name, twin = e["file"], e["path"].parent / "ru" / e["file"]
        title = _title(twin) if twin.exists() else name
        lines.append(f"| [{title}](notebooks/ru/{name}) | [запустить]({binder_url('ru/' + name, root)}) "
                     f"| [открыть]({colab_url(name, root, folder='notebooks/ru')}) "
                     f"| [читать]({nbviewer_url('ru/' + name, root)}) |")
    return "\n".join([*lines, END])


def render_exercises_ru(root: Path = ROOT) -> str:
    lines = [EXERCISES[0], "<!-- Rendered by `python scripts/links.py` from the Russian notebooks' exercise cells. -->"]
    for e in catalogue(root):
        twin = e["path"].parent / "ru" / e["file"]
        titles = exercise_titles(twin, "Упражнение") if twin.exists() else []
        if titles:
            items = "; ".join(f"{e['file'][:2]}.{i} {t}" for i, t in enumerate(titles, 1))
            lines.append(f"- [{e['file'][:2]}](notebooks/ru/{e['file']}): {items}")
    return "\n".join([*lines, EXERCISES[1]])


def render_glance(root: Path = ROOT) -> str:
    """The start page's table "the tips at a glance" (a markdown cell tagged ``seqtips-tips``)."""
    lines = ["## The tips at a glance", "",
             "| tip | notebook | a setting to start from | when it did not help here |", "|---|---|---|---|"]
    for e in catalogue(root):
        if e["kind"] != "start":
            lines.append(f"| {e['tip']} | [{e['file'][:2]}]({e['file']}) | {e['start_from']} | {e['not_helped']} |")
    return "\n".join(lines)


def _title(path: Path) -> str:
    """The notebook's first markdown heading ``# …`` (its file name when it has none)."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _minutes(root: Path) -> tuple[dict[str, str], str]:
    path = root / "evidence" / "benchmark.json"
    if not path.exists():
        return {}, "Minutes: not measured yet (`taskset -c 0 python -m seqtips.bench --json evidence/benchmark.json`)."
    bench = json.loads(path.read_text())
    minutes = {name: f"{r['seconds'] / 60:.1f}" + (f" ({r['units']:.0f})" if r.get("units") else "")
               for name, r in bench.get("notebooks", {}).items() if r.get("seconds")}
    where = ", ".join(str(bench[k]) for k in ("machine", "date") if bench.get(k))
    units = ("; in brackets, the same in reference units: the notebook's time divided by that of a fixed tiny-RNN "
             "workload run on the same core just before and after it (`seqtips/tools/reference.py`), which compares "
             "across machines where seconds do not. Budgets: each tip notebook ≤ 116 units, the capstone ≤ 174, "
             "the start page ≤ 29" if any(r.get("units") for r in bench.get("notebooks", {}).values()) else "")
    return minutes, f"Minutes: wall time on one core, from `evidence/benchmark.json` ({where}){units}."


def _last_verified(root: Path) -> str:
    """evidence/drift.txt holds one line: ``DATE name=version … passed|failed``."""
    path = root / "evidence" / "drift.txt"
    words = path.read_text().split() if path.exists() else []
    if len(words) < 2:
        return "Last verified with the newest releases the ranges allow: not yet (`bash scripts/drift.sh`)."
    date, *versions, result = words
    versions = ", ".join(v.replace("=", " ") for v in versions)
    outcome = "every notebook passed" if result == "passed" else "**some notebooks failed**"
    return (
        f"Last verified with the newest releases the ranges allow: {date} — {versions} — {outcome}"
        " (`bash scripts/drift.sh`)."
    )


def render_block(root: Path = ROOT) -> str:
    notebooks = [e["path"] for e in catalogue(root)]
    start_page = START_PAGE if (root / "notebooks" / START_PAGE).exists() else None
    minutes, note = _minutes(root)
    lines = [
        START,
        "<!-- Rendered by `python scripts/links.py` from pyproject.toml, notebooks/ and evidence/. -->",
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url(start_page, root)})",
        "",
        "| notebook | Binder | Colab | nbviewer | one-core minutes (units) |",
        "|---|---|---|---|---:|",
    ]
    for nb in notebooks:
        name = nb.name
        lines.append(
            f"| [{_title(nb)}](notebooks/{name}) | [launch]({binder_url(name, root)}) "
            f"| [open]({colab_url(name, root)}) | [read]({nbviewer_url(name, root)}) | {minutes.get(name, '—')} |"
        )
    lines += ["", note, "", _last_verified(root), END]
    return "\n".join(lines)


def _replace_block(readme: str, block: str, markers: tuple[str, str] = (START, END)) -> str:
    before, sep, rest = readme.partition(markers[0])
    _, sep2, after = rest.partition(markers[1])
    if not (sep and sep2):
        raise ValueError(f"README.md has no {markers[0]} … {markers[1]} block")
    return before + block + after


# --- CITATION.cff and pyproject's derived URLs --------------------------------------------------------


def _set_field(text: str, key: str, value: str) -> str:
    return re.sub(rf"^{key}:.*$", f'{key}: "{value}"', text, flags=re.M)


def _citation(root: Path) -> str:
    text = (root / "CITATION.cff").read_text()
    text = _set_field(text, "version", _project(root)["version"])
    return _set_field(text, "repository-code", repository_url(root))


def _pyproject(root: Path) -> str:
    text = (root / "pyproject.toml").read_text()
    for key, url in derived_urls(root).items():
        text = re.sub(rf'^{key} = ".*"$', f'{key} = "{url}"', text, flags=re.M)
    return text


# --- check and write ----------------------------------------------------------------------------------


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """What each file that carries links should contain."""
    readme, readme_ru = root / "README.md", root / "README.ru.md"
    return {
        readme: _replace_block(_replace_block(_replace_block(readme.read_text(), render_block(root)),
                                              render_tips(root), TIPS), render_exercises(root), EXERCISES),
        root / "CITATION.cff": _citation(root),
        root / "pyproject.toml": _pyproject(root),
        **({readme_ru: _replace_block(_replace_block(readme_ru.read_text(), render_block_ru(root)),
                                      render_exercises_ru(root), EXERCISES)} if readme_ru.exists() else {}),
    }


def _foreign_links(root: Path) -> list[str]:
    """Links to another copy of this project: in the docs anywhere, and in the notebooks' sources."""
    slug, name = _slug(root), _project(root)["name"]
    docs = [root / "README.md", root / "README.ru.md", root / "CONTRIBUTING.md", root / "CITATION.cff"]
    texts = {p: p.read_text() for p in docs if p.exists()}
    for nb in sorted((root / "notebooks").glob("**/*.ipynb")) + sorted((root / "solutions").glob("**/*.ipynb")):
        texts[nb] = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
    problems = []
    for path, text in texts.items():
        for m in LINK.finditer(text):
            found = f"{m.group(1)}/{m.group(2)}"
            is_ours = m.group(2) == name or not m.group(0).startswith("github.com")
            if is_ours and found != slug:
                problems.append(f"{path.relative_to(root)}: link to {found}, expected {slug}: …{m.group(0)}…")
    return problems


def check(root: Path = ROOT) -> list[str]:
    """Every disagreement with the configured repository URL, one line each (empty: all agree)."""
    try:
        expected = rendered(root)
    except (ValueError, KeyError, FileNotFoundError) as err:
        return [str(err)]
    problems = []
    for path, text in expected.items():
        diff = difflib.unified_diff(path.read_text().splitlines(), text.splitlines(), lineterm="", n=0)
        for line in diff:
            if line[:1] in "-+" and not line.startswith(("---", "+++")):
                label = "has     " if line[0] == "-" else "expected"
                problems.append(f"{path.relative_to(root)}: {label} {line[1:]}")
    return problems + _foreign_links(root)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        problems = check()
        for p in problems:
            print(p)
        if problems:
            print(f"{len(problems)} disagreement(s) with {repository_url()}: run `python scripts/links.py`")
        return 1 if problems else 0
    if argv:
        print(__doc__)
        return 2
    for path, text in rendered().items():
        if path.read_text() != text:
            write_atomic(path, text)
            print(f"rewrote {path.relative_to(ROOT)}")
    frame = ROOT / "scripts" / "frame_notebooks.py"  # the notebooks' install cell and Colab links
    return subprocess.run([sys.executable, str(frame)], check=False).returncode if frame.exists() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
