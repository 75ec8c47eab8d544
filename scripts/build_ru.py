"""The Russian edition, built from the English notebooks: one source for code and results.

    python scripts/build_ru.py               # write notebooks/ru/*.ipynb and solutions/ru/*.ipynb
    python scripts/build_ru.py --check       # exit 1, naming each stale translation or out-of-date twin
    python scripts/build_ru.py --update-po   # bring the catalogues up to date with the English cells

Every English notebook (notebooks/NN_*.ipynb) and solutions notebook (solutions/NN_*_solutions.ipynb)
has a Russian twin in the ``ru/`` folder beside it. The twin is the executed English notebook with
its code cells and their outputs copied unchanged, each markdown cell replaced by its translation,
and its navigation bars generated in Russian (with the switch to the English notebook; the English
bars carry the switch back, see scripts/frame_notebooks.py). Relative links in the translations are
written as in the English cell and rewritten here: to the Russian twin where there is one, else to
the same file from the ``ru/`` folder.

The translations are gettext catalogues (PO files, read and written with polib), one per notebook,
in ``notebooks/ru/po/`` and ``solutions/ru/po/``: one entry per markdown cell, its context the cell's
id, its msgid the English source it translates. When an English cell changes, ``--update-po`` marks
its entry fuzzy (the old English kept as the previous msgid, the old translation as a start); a
fuzzy, missing or empty entry stops the build and fails ``--check`` and the tests, so a translation
cannot silently go stale. Code, comments and what the code prints stay English.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from frame_notebooks import NAV, SOLVED, nav_bar, notebooks, solutions, solutions_bar  # noqa: E402

from seqtips.verdict import write_atomic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RU = "ru"
#: The Russian name of each notebook in the navigation bars (by number).
LABELS = {"00": "00 с чего начать", "01": "01 шлюзовые и простые RNN", "02": "02 GRU и LSTM",
          "03": "03 Adam и SGD", "04": "04 обрезка градиентов", "05": "05 ранняя остановка",
          "06": "06 все советы вместе"}
#: A markdown link's target: ](target) — the part a translator keeps as it is.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def twin(path: Path) -> Path:
    """The Russian twin of an English notebook: the same name in the ``ru/`` folder beside it."""
    return path.parent / RU / path.name


def catalogue_path(path: Path) -> Path:
    return path.parent / RU / "po" / (path.stem + ".po")


def translatable(cell: dict) -> bool:
    return cell["cell_type"] == "markdown" and NAV not in cell.get("metadata", {}).get("tags", [])


def _text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def english_paths(root: Path = ROOT) -> list[Path]:
    return [*notebooks(root), *solutions(root)]


def _label(path: Path) -> str:
    return LABELS.get(path.name[:2], path.stem)


#: The Russian words and places of the navigation bars (see scripts/frame_notebooks.py's WORDS).
WORDS = {"home": "../../README.ru.md", "solutions": "решения", "exercises": "← упражнения", "previous": "← назад",
         "next": "далее →", "colab": "открыть в Colab", "notebooks_folder": "notebooks/ru",
         "solutions_folder": "solutions/ru", "exercises_folder": "../../notebooks/ru/",
         "switch": "[English](../{name})"}


def relink(text: str, source: Path, root: Path = ROOT) -> str:
    """``text``'s relative links, written from ``source``'s folder, rewritten for its twin's folder."""
    english = {p.resolve() for p in english_paths(root)}

    def one(m: re.Match) -> str:
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m.group(0)
        file, hash_, anchor = target.partition("#")
        full = Path(os.path.normpath(source.parent / file)).resolve()
        if full in english:
            full = twin(full)
        new = os.path.relpath(full, twin(source).parent.resolve()).replace(os.sep, "/")
        return f"]({new}{hash_}{anchor})"

    return LINK.sub(one, text)


def _catalogue(path: Path) -> polib.POFile:
    po_path = catalogue_path(path)
    if po_path.exists():
        return polib.pofile(str(po_path), wrapwidth=0)
    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Project-Id-Version": "seqtips", "Language": "ru", "MIME-Version": "1.0",
                   "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                   "Plural-Forms": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                                   "(n%100<10 || n%100>=20) ? 1 : 2);"}
    return po


def problems(path: Path, po: polib.POFile | None = None) -> list[str]:
    """Why ``path``'s translations cannot be built: each missing, empty, stale (fuzzy) or orphaned entry."""
    po = _catalogue(path) if po is None else po
    nb = json.loads(path.read_text(encoding="utf-8"))
    entries = {e.msgctxt: e for e in po if not e.obsolete}
    out, ids = [], set()
    where = catalogue_path(path).relative_to(ROOT) if catalogue_path(path).is_relative_to(ROOT) else path
    for cell in nb["cells"]:
        if not translatable(cell):
            continue
        ids.add(cell["id"])
        entry = entries.get(cell["id"])
        if entry is None:
            out.append(f"{where}: cell {cell['id']} has no entry (python scripts/build_ru.py --update-po)")
        elif entry.msgid != _text(cell) or "fuzzy" in entry.flags:
            out.append(f"{where}: cell {cell['id']}: the English changed since it was translated — re-translate "
                       "it (the entry is fuzzy after --update-po)")
        elif not entry.msgstr.strip():
            out.append(f"{where}: cell {cell['id']} is not translated")
    out += [f"{where}: entry {i} names no markdown cell of {path.name} (--update-po removes it)"
            for i in sorted(set(entries) - ids)]
    return out


def update_catalogue(path: Path) -> polib.POFile:
    """``path``'s catalogue with an entry per translatable cell: new cells added empty, changed ones fuzzy."""
    po = _catalogue(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    old = {e.msgctxt: e for e in po if not e.obsolete}
    fresh = polib.POFile(wrapwidth=0)
    fresh.metadata = po.metadata
    for index, cell in enumerate(nb["cells"]):
        if not translatable(cell):
            continue
        source, entry = _text(cell), old.get(cell["id"])
        if entry is None:
            entry = polib.POEntry(msgctxt=cell["id"], msgid=source, msgstr="")
        elif entry.msgid != source:
            entry.previous_msgid, entry.msgid = entry.msgid, source
            if "fuzzy" not in entry.flags:
                entry.flags.append("fuzzy")
        entry.occurrences = [(f"{path.parent.name}/{path.name}", str(index))]
        fresh.append(entry)
    return fresh


def build(path: Path, paths: list[Path], po: polib.POFile | None = None) -> dict:
    """The Russian twin of ``path`` (raises ValueError listing every translation that is not ready)."""
    po = _catalogue(path) if po is None else po
    missing = problems(path, po)
    if missing:
        raise ValueError("\n".join(missing))
    entries = {e.msgctxt: e.msgstr for e in po if not e.obsolete}
    nb = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    bar = (solutions_bar if path.name.endswith(SOLVED + ".ipynb") else nav_bar)(path, paths, WORDS, _label)
    for cell in nb["cells"]:
        if NAV in cell.get("metadata", {}).get("tags", []):
            cell["source"] = bar
        elif translatable(cell):
            cell["source"] = relink(entries[cell["id"]], path)
    nb.setdefault("metadata", {})["seqtips"] = {"language": "ru", "built_from": f"{path.parent.name}/{path.name}"}
    return nb


def _dump(nb: dict) -> str:
    """As nbformat writes a notebook (sources split into lines), like the English notebooks."""
    return nbformat.writes(nbformat.from_dict(nb))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true", help="only report stale translations and twins")
    what.add_argument("--update-po", action="store_true", help="add new cells, mark changed ones fuzzy")
    args = parser.parse_args(argv)
    paths, solved = notebooks(), solutions()
    if args.update_po:
        for path in paths + solved:
            target = catalogue_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, str(update_catalogue(path)))
        print("catalogues updated; translate the empty and fuzzy entries, then run python scripts/build_ru.py")
        return 0
    failures = []
    for path in paths + solved:
        try:
            text = _dump(build(path, paths if path in paths else solved))
        except ValueError as err:
            failures.append(str(err))
            continue
        target = twin(path)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            failures.append(f"{target.relative_to(ROOT)} is out of date (python scripts/build_ru.py)")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, text)
            print(f"wrote {target.relative_to(ROOT)}")
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
