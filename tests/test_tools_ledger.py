"""The claims ledger (seqtips/tools/ledger.py) on small synthetic notebooks."""

import json

import nbformat
import pytest

from seqtips.tools import ledger

SETUP = "import seqtips as st\nst.setup('01_demo')"


def notebook(tmp_path, *cells, name="01_demo"):
    """A notebook of ("md", text) and ("code", text) cells; cell i is the i-th given."""
    made = [nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
            for kind, text in cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=made), path)
    return path


def test_a_notebook_whose_claims_are_all_cited_has_no_problems(tmp_path):
    path = notebook(
        tmp_path,
        ("code", SETUP),
        ("md", "The plain RNN learns nothing. <sub>[verdict: rnn-stuck]</sub>"),
        ("code", 'st.check("rnn-stuck", "stuck", worst > 0.1, values={"worst": worst, "threshold": 0.1})'),
        ("md", "Both learn it <sub>[verdicts: gated-solves,reach-sustained ]</sub>; the sums add up."),
        ("code", 'st.check("gated-solves", "solves", True)\nst.check(\n    "reach-sustained", "kept", True,\n)'),
        ("code", 'st.check("sums", "the sums add up", True, kind="sanity")'),  # not evidence: need not be cited
    )
    book = ledger.read(path)
    assert book.cited == {"rnn-stuck": [1], "gated-solves": [3], "reach-sustained": [3]}
    assert book.checked == {"rnn-stuck": (2, "evidence"), "gated-solves": (4, "evidence"),
                            "reach-sustained": (4, "evidence"), "sums": (5, "sanity")}
    assert ledger.problems(path) == []


def test_a_tag_citing_an_unchecked_id_and_an_uncited_evidence_claim_are_problems(tmp_path):
    path = notebook(
        tmp_path,
        ("md", "It is stuck. [verdict: rnn-stuk]"),  # a typo
        ("code", 'st.check("rnn-stuck", "stuck", True)'),
        ("code", 'st.check("det", "3/4 exactly", True, kind="deterministic")'),
    )
    assert ledger.problems(path) == [
        "cell 0: [verdict: rnn-stuk] cites rnn-stuk, which no st.check in this notebook checks",
        "rnn-stuck (evidence, checked in cell 1) is cited by no markdown cell: add <sub>[verdict: rnn-stuck]</sub> "
        "after the sentence it backs",
    ]


def test_magics_and_shell_lines_are_skipped_and_code_that_does_not_parse_is_named(tmp_path):
    path = notebook(
        tmp_path,
        ("md", "[verdict: a] [verdict: b]"),
        ("code", '%matplotlib inline\n!pip list\nfor i in range(2):\n    %time x = i\nst.check("a", "claim", True)'),
        ("code", '%%time\nst.check("b", "claim", True)'),
        ("code", "%%bash\necho this is not python ("),  # a cell magic of another language: skipped whole
        ("code", "def broken(:\n    pass"),
    )
    book = ledger.read(path)
    assert set(book.checked) == {"a", "b"}
    assert ledger.problems(path) == ["cell 4: not Python the ledger can parse (invalid syntax, line 1)"]


def test_ids_and_kinds_the_ledger_cannot_read_are_named(tmp_path):
    path = notebook(
        tmp_path,
        ("md", "[verdict: Not An Id] [verdicts: ] [verdict: a]"),
        ("code", 'name = "a"\nst.check(name, "claim", True)\nst.check("a", "claim", True, kind=KIND)'),
    )
    found = ledger.problems(path)
    assert "cell 0: the tag [verdict: Not An Id] names 'Not An Id', which is not a claim id" in found[0]
    assert "cell 0: the tag [verdicts: ] names ''" in found[1]
    assert found[2] == "cell 1, line 2: st.check's id is not a literal string, so no tag can be matched with it"
    assert found[3] == "cell 1, line 3: the kind of 'a' is not a literal string; the ledger takes it for evidence"
    assert len(found) == 4  # 'a' is checked and cited


def test_with_the_evidence_summary_a_citation_must_be_in_the_report(tmp_path):
    checks = 'st.check("a", "A", True)\nst.check("b", "B", True)'
    path = notebook(tmp_path, ("md", "[verdicts: a, b]"), ("code", checks))
    summary = {"notebooks": {"01_demo": {"calibration": {"claims": {"a": {}}}}}}
    assert ledger.problems(path, summary) == [
        "cell 0: [verdict: b] cites b, which the evidence summary has no record of for 01_demo: rerun the evidence"]
    summary["notebooks"]["01_demo"]["confirmation"] = {"claims": {"b": {}}}  # any range counts
    assert ledger.problems(path, summary) == []
    assert ledger.problems(path, {"notebooks": {}}) == [
        "the evidence summary has no runs of 01_demo, so none of its citations is backed by the report: rerun the "
        "evidence"]


def test_the_command_exits_non_zero_on_problems_and_names_the_notebook(tmp_path, capsys):
    good = notebook(tmp_path, ("md", "[verdict: a]"), ("code", 'st.check("a", "A", True)'), name="01_good")
    bad = notebook(tmp_path, ("md", "no tags"), ("code", 'st.check("a", "A", True)'), name="02_bad")
    assert ledger.main([str(good)]) == 0
    assert "ledger: 1 notebook(s): every evidence claim cited, every citation checked" in capsys.readouterr().out
    assert ledger.main([str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}: a (evidence, checked in cell 1) is cited by no markdown cell" in captured.out
    assert "ledger: 1 problem in 2 notebook(s)" in captured.err
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"notebooks": {"01_good": {"calibration": {"claims": {"a": {}}}}}}))
    assert ledger.main([str(good), "--summary", str(summary)]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.ipynb"], "notebooks: missing.ipynb is not a notebook file (.ipynb)"),
        (["notes.txt"], "notebooks: notes.txt is not a notebook file"),
        (["broken.ipynb"], "notebooks: cannot read broken.ipynb"),
        (["good.ipynb", "--summary", "nowhere.json"], "--summary: cannot read nowhere.json"),
        (["good.ipynb", "--summary", "notes.txt"], "--summary: cannot read notes.txt"),
        (["good.ipynb", "--summary", "list.json"], "--summary: list.json is not an evidence summary"),
    ],
)
def test_the_command_refuses_bad_input_naming_the_argument(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    notebook(tmp_path, ("code", "x = 1"), name="good")
    (tmp_path / "notes.txt").write_text("not json")
    (tmp_path / "broken.ipynb").write_text("{")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(SystemExit) as exit:
        ledger.main(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
