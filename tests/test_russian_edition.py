"""The Russian edition: built from the English notebooks, nothing but the prose translated, never stale."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_ru  # noqa: E402
from frame_notebooks import NAV  # noqa: E402

ENGLISH = build_ru.english_paths(ROOT)
GLOSSARY = ROOT / "notebooks" / "ru" / "glossary.md"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _prose(cell: dict) -> str:
    """A markdown cell's words: code, math, links' targets, HTML, verdict tags, URLs, titles in italics and
    bibliography (the section «Литература», list items with a year: authors and titles stay in their
    language) taken out."""
    text = _text(cell)
    text = re.sub(r"^#+ Литература.*?(?=^#|\Z)", " ", text, flags=re.M | re.S)  # the reference list
    text = re.sub(r"^\s*[-*] .*\b(19|20)\d\d\b.*$", " ", text, flags=re.M)
    text = re.sub(r"(?<![*\w])\*(?!\*)[^*\n]+\*(?!\*)", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"\[verdict: [\w-]+\]", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+|<[^>]+>", " ", text)
    return text


def english_words(cell: dict) -> int:
    """How many letters of the cell's prose are Latin, once Cyrillic prose is the rest (0 if mostly Russian)."""
    prose = _prose(cell)
    latin, cyrillic = len(re.findall(r"[A-Za-z]", prose)), len(re.findall(r"[А-Яа-яЁё]", prose))
    return latin if latin >= 40 and latin > cyrillic else 0


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_every_notebook_has_a_russian_twin_built_from_the_current_english_and_catalogue(path):
    assert build_ru.problems(path) == [], "translations missing or stale: python scripts/build_ru.py --update-po"
    paths = build_ru.notebooks(ROOT) if path.parent.name == "notebooks" else build_ru.solutions(ROOT)
    twin = build_ru.twin(path)
    assert twin.exists(), f"{twin.relative_to(ROOT)} is missing: python scripts/build_ru.py"
    assert twin.read_text(encoding="utf-8") == build_ru._dump(build_ru.build(path, paths)), (
        f"{twin.relative_to(ROOT)} is not what scripts/build_ru.py builds from {path.name}: rerun it")


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_a_twin_keeps_every_code_cell_and_output_and_changes_only_prose(path):
    english, russian = _cells(path), _cells(build_ru.twin(path))
    assert [(c["cell_type"], c.get("id")) for c in english] == [(c["cell_type"], c.get("id")) for c in russian]
    for en, ru in zip(english, russian):
        if en["cell_type"] == "code":
            assert (en["source"], en.get("outputs"), en.get("execution_count")) == \
                   (ru["source"], ru.get("outputs"), ru.get("execution_count")), f"code cell {en.get('id')}"
        else:
            assert _text(en) != _text(ru), f"markdown cell {en.get('id')} of {path.name} is not translated"
    meta = json.loads(build_ru.twin(path).read_text(encoding="utf-8"))["metadata"]
    assert meta["kernelspec"]["name"] == "python3" and meta["seqtips"]["language"] == "ru"


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_no_markdown_cell_of_a_twin_is_left_in_english(path):
    left = [c.get("id") for c in _cells(build_ru.twin(path)) if c["cell_type"] == "markdown"
            and NAV not in c.get("metadata", {}).get("tags", []) and english_words(c)]
    assert left == [], f"{build_ru.twin(path).name}: cells still in English: {left}"


def test_the_english_detector_flags_english_and_passes_russian_with_code_and_links():
    english = {"cell_type": "markdown", "source": "The plain RNN did not learn the task within the budget, on a seed."}
    russian = {"cell_type": "markdown", "source": "Простая RNN не выучила задачу за отведённый бюджет "
               "(`st.SequenceModel(\"rnn\", input_size=2, hidden_size=66)`, [отчёт](../../evidence/README.md)) "
               "<sub>[verdict: rnn-stuck]</sub>; см. Bengio, Simard & Frasconi (1994)."}
    assert english_words(english) > 0
    assert english_words(russian) == 0


def test_an_english_edit_makes_its_translation_stale_until_it_is_translated_again(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "notebooks" / "ru" / "po").mkdir(parents=True)
    source = build_ru.notebooks(ROOT)[1]
    copy = root / "notebooks" / source.name
    shutil.copy(source, copy)
    shutil.copy(build_ru.catalogue_path(source), build_ru.catalogue_path(copy))
    monkeypatch.setattr(build_ru, "ROOT", root)
    assert build_ru.problems(copy) == []
    nb = json.loads(copy.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if build_ru.translatable(c))
    cell["source"] = _text(cell) + "\n\nA sentence added to the English."
    copy.write_text(json.dumps(nb), encoding="utf-8")
    stale = build_ru.problems(copy)
    assert len(stale) == 1 and cell["id"] in stale[0] and "English changed" in stale[0]
    with pytest.raises(ValueError, match="English changed"):
        build_ru.build(copy, [copy])
    updated = build_ru.update_catalogue(copy)  # --update-po: fuzzy, the old English kept beside the new
    entry = next(e for e in updated if e.msgctxt == cell["id"])
    assert "fuzzy" in entry.flags and entry.previous_msgid and entry.msgid == _text(cell) and entry.msgstr
    assert any("English changed" in p for p in build_ru.problems(copy, updated))
    entry.flags.remove("fuzzy")  # re-translated
    assert build_ru.problems(copy, updated) == []


def test_relative_links_point_to_the_twins_or_to_the_same_file_from_the_ru_folder():
    source = ROOT / "notebooks" / "04_gradient_clipping.ipynb"
    text = ("[05](05_early_stopping.ipynb) [отчёт](../evidence/README.md#04_gradient_clipping) "
            "[решения](../solutions/04_gradient_clipping_solutions.ipynb) [сайт](https://pytorch.org) [выше](#top)")
    assert build_ru.relink(text, source, ROOT) == (
        "[05](05_early_stopping.ipynb) [отчёт](../../evidence/README.md#04_gradient_clipping) "
        "[решения](../../solutions/ru/04_gradient_clipping_solutions.ipynb) [сайт](https://pytorch.org) [выше](#top)")


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_the_two_editions_link_to_each_other(path):
    twin = build_ru.twin(path)
    english_bar = _text(next(c for c in _cells(path) if NAV in c.get("metadata", {}).get("tags", [])))
    russian_bar = _text(next(c for c in _cells(twin) if NAV in c.get("metadata", {}).get("tags", [])))
    assert f"[Русский](ru/{path.name})" in english_bar
    assert f"[English](../{path.name})" in russian_bar
    for target in re.findall(r"\]\(([^)#]+)", russian_bar):
        if not target.startswith("http"):
            assert (twin.parent / target).exists(), f"{twin.name}'s bar links to a missing {target}"


def _glossary() -> list[tuple[str, str, list[str], str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"\d\d", cells[3]):
            rows.append((cells[0], cells[1], cells[2].split(), cells[3]))
    return rows


def test_the_glossary_has_the_russian_editions_terms():
    terms = {en: ru for en, ru, _, _ in _glossary()}
    assert len(terms) >= 25
    for english, russian in [("gradient clipping", "обрезка градиентов"), ("early stopping", "ранняя остановка"),
                             ("validation set", "проверочный набор данных"), ("gated RNN, gated variants", "шлюзов"),
                             ("stochastic gradient descent (SGD)", "стохастический градиентный спуск")]:
        assert russian in terms[english]


@pytest.mark.parametrize("row", _glossary(), ids=lambda r: r[0])
def test_the_russian_prose_uses_the_glossarys_terms(row):
    english, russian, stems, number = row
    twin = next(build_ru.twin(p) for p in build_ru.notebooks(ROOT) if p.name.startswith(number))
    prose = " ".join(_prose(c) for c in _cells(twin) if c["cell_type"] == "markdown").lower()
    missing = [s for s in stems if s.lower() not in prose]
    assert not missing, f"{twin.name} never says «{russian}» for {english!r} (stems not found: {missing})"


def test_the_russian_readme_has_the_set_up_commands_and_links_to_the_english():
    text = (ROOT / "README.ru.md").read_text(encoding="utf-8")
    assert "[English](README.md)" in text and "[Русский](README.ru.md)" in (ROOT / "README.md").read_text()
    assert "pip install -r binder/requirements.txt && jupyter lab notebooks/ru/" in text
    assert "\npytest\n" in text and "notebooks/ru/glossary.md" in text
    for name in (p.name for p in build_ru.notebooks(ROOT)):
        assert f"(notebooks/ru/{name})" in text
