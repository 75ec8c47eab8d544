"""Give every notebook the same frame: a navigation bar at the top and bottom, and the install cell.

    python scripts/frame_notebooks.py           # rewrite the generated cells of notebooks/ and solutions/
    python scripts/frame_notebooks.py --check   # exit 1 and name every notebook that is out of date

The notebook list and its order come from scripts/catalogue.toml (the start page, the tips, then the
capstone, whatever their numbers): a new notebook is one file, one catalogue entry and a rerun of this
script. The start page's table "the tips at a glance" (the markdown cell tagged ``seqtips-tips``) is
rendered from the same catalogue. The solutions, solutions/NN_name_solutions.ipynb, get a bar of their own: back to the
notebook whose exercises they solve, and on to the other solutions. Only the generated cells
change (markdown cells tagged ``seqtips-nav``, the code cell tagged ``seqtips-install``); outputs
and everything else stay as they are.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from links import catalogue, colab_url, install_spec, render_glance  # noqa: E402  (one source for both scripts)

from seqtips.verdict import write_atomic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAV, INSTALL, GLANCE = "seqtips-nav", "seqtips-install", "seqtips-tips"


SOLVED = "_solutions"  # solutions/<notebook's stem>_solutions.ipynb


def notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks in reading order (scripts/catalogue.toml): the start page, the tips, the capstone."""
    return [e["path"] for e in catalogue(root)]


def solutions(root: Path = ROOT) -> list[Path]:
    return sorted((root / "solutions").glob(f"*{SOLVED}.ipynb"))


def label(path: Path) -> str:
    number, _, rest = path.stem.removesuffix(SOLVED).partition("_")
    return f"{number} {rest.replace('_', ' ')}"


#: The words and places of the bars: English here; the Russian edition (scripts/build_ru.py) passes its own.
WORDS = {"home": "../README.md", "solutions": "solutions", "exercises": "← the exercises", "previous": "← previous",
         "next": "next →", "colab": "open in Colab", "notebooks_folder": "notebooks", "solutions_folder": "solutions",
         "exercises_folder": "../notebooks/", "switch": "[Русский](ru/{name})"}


def _items(path: Path, paths: list[Path], name) -> str:
    return " · ".join(f"**{name(p)}**" if p == path else f"[{name(p)}]({p.name})" for p in paths)


def solutions_bar(path: Path, paths: list[Path], words: dict = WORDS, name=label) -> str:
    """The bar of a solutions notebook: the other solutions, and back to the exercises it solves."""
    exercises = path.stem.removesuffix(SOLVED) + ".ipynb"
    return (f"[seqtips]({words['home']}) · {words['solutions']}: {_items(path, paths, name)}  \n"
            f"[{words['exercises']}: {name(path)}]({words['exercises_folder']}{exercises}) · "
            f"[{words['colab']}]({colab_url(path.name, folder=words['solutions_folder'])}) · "
            f"{words['switch'].format(name=path.name)}")


def nav_bar(path: Path, paths: list[Path], words: dict = WORDS, name=label) -> str:
    i = paths.index(path)
    prev = f"[{words['previous']}]({paths[i - 1].name})" if i > 0 else words["previous"]
    nxt = f"[{words['next']}]({paths[i + 1].name})" if i + 1 < len(paths) else words["next"]
    return (f"[seqtips]({words['home']}) · {_items(path, paths, name)}  \n{prev} · {nxt} · "
            f"[{words['colab']}]({colab_url(path.name, folder=words['notebooks_folder'])}) · "
            f"{words['switch'].format(name=path.name)}")


def install_source() -> str:
    return "\n".join([
        "# Colab and other fresh environments: install seqtips if it is missing (a no-op locally and on",
        "# Binder). It brings its own data; the torch already installed is kept as it is.",
        "import importlib.util",
        "import subprocess",
        "import sys",
        "",
        'if importlib.util.find_spec("seqtips") is None:',
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "{install_spec()}"], check=True)',
    ])


def _tagged(cell: dict, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def framed(nb: dict, path: Path, paths: list[Path], bar: str | None = None) -> dict:
    """``nb`` with its generated cells replaced by the current ones (``bar``: default, the notebooks' bar)."""
    bar = nav_bar(path, paths) if bar is None else bar
    nb = copy.deepcopy(nb)  # the caller compares the result with what it gave
    nav = {"cell_type": "markdown", "id": "seqtips-nav-top", "metadata": {"tags": [NAV]}, "source": bar}
    cells = [c for c in nb["cells"] if not _tagged(c, NAV)]
    installs = [c for c in cells if _tagged(c, INSTALL)]
    install = installs[0] if installs else {"cell_type": "code", "execution_count": None, "id": INSTALL,
                                            "metadata": {"tags": [INSTALL]}, "outputs": []}
    install["source"] = install_source()
    cells = [c for c in cells if not _tagged(c, INSTALL)]
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(first_code, install)
    for cell in cells:  # the start page's table of the tips, rendered from the catalogue
        if _tagged(cell, GLANCE):
            cell["source"] = render_glance(path.parents[1])
    out = dict(nb)
    out["cells"] = [nav, *cells, dict(nav, id="seqtips-nav-bottom", metadata={"tags": [NAV]})]
    return out


def _text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _normal(nb: dict) -> str:
    return json.dumps([(c["cell_type"], c.get("id"), _text(c)) for c in nb["cells"]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    paths, solved = notebooks(), solutions()
    stale = []
    for path in paths + solved:
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = framed(nb, path, paths) if path in paths else framed(nb, path, solved, solutions_bar(path, solved))
        if _normal(new) != _normal(nb):
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                for cell in new["cells"]:  # lines, as Jupyter and nbformat save them: diffs stay per line
                    cell["source"] = _text(cell).splitlines(keepends=True)
                write_atomic(path, json.dumps(new, indent=1, ensure_ascii=False) + "\n")
    if args.check and stale:
        print("out of date (run python scripts/frame_notebooks.py):", ", ".join(stale))
        return 1
    print(("rewrote: " + ", ".join(stale)) if stale else "every notebook's frame is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
