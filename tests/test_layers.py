"""The package's layers, read from the source: the core imports no lesson and no tool; a lesson no tool.

An import under ``if __name__ == "__main__":`` runs only as a command (the ``python -m seqtips.bench`` and
``python -m seqtips.evidence`` shims), never on import, so it does not count.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seqtips"
CORE = sorted(PACKAGE.glob("*.py"))
LESSONS = sorted((PACKAGE / "lessons").glob("*.py"))


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` — code that runs only as a command, never on import."""
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and any(getattr(c, "value", None) == "__main__" for c in test.comparators))


def imported_modules(path: Path, source: str | None = None) -> list[str]:
    """Every module ``path`` (or ``source`` placed there) imports, at any depth, as an absolute dotted name."""
    package = ["seqtips", *path.parent.relative_to(PACKAGE).parts]
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if _is_main_guard(node):
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append(module)
            found.extend(f"{module}.{alias.name}" for alias in node.names)  # from . import lessons
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path)))
    return found


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_layers_are_where_the_test_looks():
    assert {p.name for p in CORE} >= {"__init__.py", "runtime.py", "training.py", "verdict.py"}
    assert {p.name for p in LESSONS} >= {"nb01_gated.py", "nb06_capstone.py"}


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_core_imports_no_lesson_and_no_tool(path):
    bad = [m for m in imported_modules(path) if _under(m, "seqtips.lessons") or _under(m, "seqtips.tools")]
    assert not bad, f"seqtips/{path.name} imports {bad}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_imports_no_tool(path):
    bad = [m for m in imported_modules(path) if _under(m, "seqtips.tools")]
    assert not bad, f"seqtips/lessons/{path.name} imports {bad}"


@pytest.mark.parametrize(
    ("source", "where", "expected"),
    [
        ("from .lessons import nb01_gated", "core", "seqtips.lessons.nb01_gated"),
        ("from . import tools", "core", "seqtips.tools"),
        ("import seqtips.tools.evidence", "core", "seqtips.tools.evidence"),
        ("def f():\n    from .tools.execute import clean", "core", "seqtips.tools.execute"),
        ("from ..tools import bench", "lessons", "seqtips.tools.bench"),
        ("from .. import tools", "lessons", "seqtips.tools"),
    ],
)
def test_the_scan_sees_every_way_of_importing(source, where, expected):
    folder = PACKAGE if where == "core" else PACKAGE / "lessons"
    assert expected in imported_modules(folder / "_probe.py", source)  # only the location matters


def test_the_scan_skips_what_runs_only_as_a_command():
    source = 'if __name__ == "__main__":\n    from seqtips.tools.bench import main\n'
    assert imported_modules(PACKAGE / "_probe.py", source) == []

