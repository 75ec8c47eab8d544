"""The claims ledger: does a notebook's prose cite its verdicts, and does every citation name one?

    python -m seqtips.tools.ledger notebooks/*.ipynb
    python -m seqtips.tools.ledger notebooks/*.ipynb --summary evidence/summary.json

A markdown cell cites the verdict that backs a sentence with a tag right after it::

    The plain RNN learns nothing here. <sub>[verdict: rnn-stuck]</sub>
    Both gated cells learn it. <sub>[verdicts: gated-solves, reach-sustained]</sub>

The exact syntax: ``[verdict: ID]`` or ``[verdicts: ID, ID, ...]`` (the ``s`` is optional either
way), where each ID is a claim id as ``st.check`` takes it (lower case, digits and hyphens) and ids
are separated by commas; spaces around them do not matter. ``<sub>…</sub>`` is only a suggestion
for rendering the tag small; the ledger reads the bracket alone.

The ids a notebook checks are read from its code cells with :mod:`ast`: every call
``st.check("ID", ...)`` (or ``seqtips.check``), its id the first positional argument, its kind the
``kind=`` keyword (``"evidence"`` when left out). Lines of IPython magics and shell escapes (starting
with ``%`` or ``!``) are skipped; a cell magic (``%%``) whose body is not Python is skipped whole.

:func:`problems` lists, per notebook: tags citing an id that no ``st.check`` of that notebook
checks; evidence claims no tag cites; ids it cannot read (not a literal string); and, given the
evidence summary (``summary.json`` of ``python -m seqtips.evidence``), cited ids that the summary
has no record of for that notebook. The command exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..verdict import ID_PATTERN

#: A verdict tag in a markdown cell: ``[verdict: id]`` or ``[verdicts: id-a, id-b]``.
TAG = re.compile(r"\[verdicts?:([^\]]*)\]")
#: The names ``st.check`` is called by in a notebook.
CALLERS = ("st", "seqtips")


@dataclass
class Ledger:
    """What one notebook cites (id -> cells) and checks (id -> (cell, kind)), and what could not be read."""

    notebook: str
    cited: dict[str, list[int]] = field(default_factory=dict)
    checked: dict[str, tuple[int, str]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def python_of(source: str) -> str | None:
    """A code cell's source with magic and shell lines made ``pass`` (same lines); None for a non-Python cell magic."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines = ["pass", *lines[1:]]
        cell_magic = True
    else:
        cell_magic = False
    kept = [line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
            for line in lines]
    text = "\n".join(kept)
    if cell_magic:
        try:
            ast.parse(text)
        except SyntaxError:
            return None
    return text


def _is_check(node: ast.AST) -> bool:
    func = getattr(node, "func", None)
    return (isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and func.attr == "check"
            and isinstance(func.value, ast.Name) and func.value.id in CALLERS)


def _read_checks(ledger: Ledger, index: int, source: str) -> None:
    text = python_of(source)
    if text is None:
        return
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        ledger.unreadable.append(f"cell {index}: not Python the ledger can parse ({err.msg}, line {err.lineno})")
        return
    for node in ast.walk(tree):
        if not _is_check(node):
            continue
        first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "id"), None)
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            ledger.unreadable.append(f"cell {index}, line {node.lineno}: st.check's id is not a literal string, "
                                     "so no tag can be matched with it")
            continue
        kind_node = next((k.value for k in node.keywords if k.arg == "kind"), None)
        if kind_node is None:
            kind = "evidence"
        elif isinstance(kind_node, ast.Constant) and isinstance(kind_node.value, str):
            kind = kind_node.value
        else:
            ledger.unreadable.append(f"cell {index}, line {node.lineno}: the kind of {first.value!r} is not a literal "
                                     "string; the ledger takes it for evidence")
            kind = "evidence"
        ledger.checked.setdefault(first.value, (index, kind))


def _read_tags(ledger: Ledger, index: int, source: str) -> None:
    for match in TAG.finditer(source):
        ids = [part.strip() for part in match.group(1).split(",")]
        for cid in ids:
            if not ID_PATTERN.fullmatch(cid):
                ledger.unreadable.append(f"cell {index}: the tag {match.group(0)} names {cid!r}, which is not a "
                                         "claim id (lower case, digits and hyphens, separated by commas)")
            else:
                ledger.cited.setdefault(cid, []).append(index)


def read(path: str | Path) -> Ledger:
    """The ledger of the notebook at ``path``: its tags, its checks, and what could not be read."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
    if not isinstance(cells, list):
        raise ValueError(f"{path} is not a notebook (no list of cells)")
    ledger = Ledger(path.stem)
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "markdown":
            _read_tags(ledger, index, _source(cell))
        elif cell.get("cell_type") == "code":
            _read_checks(ledger, index, _source(cell))
    return ledger


def _reported(summary: dict, notebook: str) -> set[str] | None:
    """The claim ids the evidence summary has for ``notebook`` in any range, or None when it has no such notebook."""
    ranges = summary.get("notebooks", {}).get(notebook)
    if not isinstance(ranges, dict):
        return None
    return {cid for r in ranges.values() if isinstance(r, dict) for cid in r.get("claims", {})}


def problems(path: str | Path, summary: dict | None = None) -> list[str]:
    """What is wrong with the ledger of the notebook at ``path`` (see the module's text); empty when nothing is."""
    ledger = read(path)
    found = list(ledger.unreadable)
    for cid, cells in ledger.cited.items():
        if cid not in ledger.checked:
            found += [f"cell {cell}: [verdict: {cid}] cites {cid}, which no st.check in this notebook checks"
                      for cell in cells]
    for cid, (cell, kind) in ledger.checked.items():
        if kind == "evidence" and cid not in ledger.cited:
            found.append(f"{cid} (evidence, checked in cell {cell}) is cited by no markdown cell: add "
                         f"<sub>[verdict: {cid}]</sub> after the sentence it backs")
    if summary is not None and ledger.cited:
        reported = _reported(summary, ledger.notebook)
        if reported is None:
            found.append(f"the evidence summary has no runs of {ledger.notebook}, so none of its citations is backed "
                         "by the report: rerun the evidence")
        else:
            found += [f"cell {cells[0]}: [verdict: {cid}] cites {cid}, which the evidence summary has no record of "
                      f"for {ledger.notebook}: rerun the evidence" for cid, cells in ledger.cited.items()
                      if cid not in reported and cid in ledger.checked]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqtips.tools.ledger", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the notebooks to read (.ipynb)")
    parser.add_argument("--summary", type=Path, help="the evidence summary (summary.json) the citations must be in")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"notebooks: {path} is not a notebook file (.ipynb)")
    summary = None
    if args.summary is not None:
        try:
            summary = json.loads(args.summary.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            parser.error(f"--summary: cannot read {args.summary} ({err})")
        if not isinstance(summary, dict) or not isinstance(summary.get("notebooks"), dict):
            parser.error(f"--summary: {args.summary} is not an evidence summary (python -m seqtips.evidence writes "
                         "summary.json)")
    total = 0
    for path in args.notebooks:
        try:
            found = problems(path, summary)
        except (OSError, UnicodeDecodeError, ValueError) as err:  # json.JSONDecodeError is a ValueError
            parser.error(f"notebooks: cannot read {path} ({err})")
        total += len(found)
        for problem in found:
            print(f"{path}: {problem}")
    if total:
        print(f"ledger: {total} problem{'s' * (total > 1)} in {len(args.notebooks)} notebook(s)", file=sys.stderr)
        return 1
    print(f"ledger: {len(args.notebooks)} notebook(s): every evidence claim cited, every citation checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
