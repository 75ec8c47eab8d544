"""python -m seqtips.evidence (seqtips/tools/evidence.py) on synthetic records, plus one real run of a tiny notebook."""

import json
from pathlib import Path

import nbformat
import pytest

from seqtips import verdict
from seqtips.tools import evidence

ENVIRONMENT = {"seqtips": "0.2.0", "torch": "2.9.9", "device": "cpu", "device_name": "x86_64",
               "torch_threads": 1, "platform": "Linux-test", "code_hash": "aaaaaaaaaaaa"}


def claim(id, passed, values=None, text=None, kind="evidence"):
    return {"id": id, "claim": text or f"claim {id.upper()}", "kind": kind, "passed": passed, "values": values or {}}


def rec(notebook, seed, claims, error="", seconds=10.0, code="aaaaaaaaaaaa"):
    return {"notebook": notebook, "environment": {**ENVIRONMENT, "base_seed": seed}, "claims": claims,
            "run": {"seconds": seconds, "peak_mb": 300.0, "error": error, "code_hash": code}}


def records():
    """01_demo: claim a holds on seeds 0 and 1 and fails on seed 2, where the notebook stops, so b is not reached
    there; 02_other: the notebook stops with an error before any check."""
    return [
        rec("01_demo", 2, [claim("a", False, {"x": 5.0, "threshold": 2.0})],
            error="AssertionError: The claim did NOT hold in this run: [a] claim A", seconds=30.0),
        rec("01_demo", 0, [claim("a", True, {"x": 1.0, "threshold": 2.0}),
                           claim("b", True, {"y": 0.5}, kind="sanity")], seconds=10.0),
        rec("01_demo", 1, [claim("a", True, {"x": 1.5, "threshold": 2.0}),
                           claim("b", True, {"y": "inf"}, kind="sanity")], seconds=20.0),
        rec("02_other", 0, [], error="RuntimeError: boom", seconds=float("nan")),
    ]


# --- summarise, report, reader_summary -------------------------------------------------------------


def test_summarise_tallies_claims_per_notebook():
    summary = evidence.summarise(records())
    assert list(summary) == ["01_demo", "02_other"]
    demo = summary["01_demo"]
    assert demo["runs"] == 3 and demo["seeds"] == [0, 1, 2] and demo["seconds"] == [10.0, 20.0, 30.0]
    assert demo["hashes"] == {"aaaaaaaaaaaa"}
    a, b = demo["claims"]["a"], demo["claims"]["b"]
    assert (a["passed"], a["runs"], b["passed"], b["runs"]) == (2, 3, 2, 2)
    assert a["values"] == {"x": [1.0, 1.5, 5.0], "threshold": [2.0, 2.0, 2.0]}
    assert b["values"] == {"y": [0.5, "inf"]} and b["kind"] == "sanity"
    assert a["failures"] == [{"seed": 2, "values": {"x": 5.0, "threshold": 2.0}}] and b["failures"] == []
    assert demo["errors"] == []  # the run's error is the failed claim, listed once, as the claim
    other = summary["02_other"]
    assert other["runs"] == 1 and other["claims"] == {} and other["seconds"] == []
    assert other["errors"] == [{"seed": 0, "error": "RuntimeError: boom"}]


def test_report_gives_counts_statistics_failures_and_errors(tmp_path):
    text = evidence.report(evidence.summarise(records()), out="evidence")
    lines = text.splitlines()
    assert lines[0] == "# Evidence: how often each verdict held"
    assert ("Regenerate all of it: `python -m seqtips.evidence --base 0 --seeds 3 --jobs 2 --out evidence`; "
            "one notebook: add `--notebooks NN`.") in lines
    assert "3 runs, base seeds 0–2; wall time per run median 20 s, max 30 s" in text
    assert "torch 2.9.9 on cpu (x86_64), 1 thread(s), Linux-test; notebook code `aaaaaaaaaaaa`" in text
    assert "| **a** — claim A | evidence | 2 of 3 | x: 1.5 (1 – 5); threshold: 2 (2 – 2) |" in lines
    assert "| **b** — claim B | sanity | 2 of 3 (1 not reached) | y: 0.5 (0.5 – 0.5), 1 non-finite |" in lines
    assert "- seed 2: **a** did not hold — x = 5, threshold = 2" in lines
    assert "- seed 0: the notebook stopped with an error — RuntimeError: boom" in lines
    assert text.count("did not hold") == 1  # seed 2's error is the failed claim, not a second entry
    assert "## 02_other" in lines and "1 runs, base seeds 0–0; wall time per run median nan s" in text


def test_report_says_when_the_notebook_code_changed_since_the_runs(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(nb, path)
    text = evidence.report(evidence.summarise(records()), notebooks=[path])
    assert f"notebook code `aaaaaaaaaaaa` (current: `{verdict.code_hash(path)}`)" in text
    same = [rec("01_demo", 0, [], code=verdict.code_hash(path))]
    assert "current:" not in evidence.report(evidence.summarise(same), notebooks=[path])


def test_a_claim_with_a_pipe_does_not_break_the_table():
    text = evidence.report(evidence.summarise([rec("01_demo", 0, [claim("a", True, text="p | q")])]))
    assert "| **a** — p / q | evidence | 1 of 1 |" in text


def test_reader_summary_is_a_block_to_paste():
    text = evidence.reader_summary(evidence.summarise(records()))
    lines = text.splitlines()
    assert lines[0] == "```" and lines[-1] == "```"
    assert "01_demo: 3 seeds on cpu (x86_64), torch 2.9.9, seqtips 0.2.0" in lines
    assert "  a: held 2/3" in lines and "  b: held 2/3" in lines
    assert "  error on seed 0: RuntimeError: boom" in lines


def test_load_records_reads_every_record_of_a_folder(tmp_path):
    for r in records():
        path = evidence.record_path(tmp_path, tmp_path / f"{r['notebook']}.ipynb", r["environment"]["base_seed"])
        path.write_text(json.dumps(r))
    (tmp_path / "README.md").write_text("not a record")
    loaded = evidence.load_records(tmp_path)
    assert sorted((r["notebook"], r["environment"]["base_seed"]) for r in loaded) == [
        ("01_demo", 0), ("01_demo", 1), ("01_demo", 2), ("02_other", 0)]



def test_a_truncated_or_foreign_record_is_skipped_and_named(tmp_path):
    for r in records():
        path = evidence.record_path(tmp_path, tmp_path / f"{r['notebook']}.ipynb", r["environment"]["base_seed"])
        path.write_text(json.dumps(r))
    whole = (tmp_path / "01_demo-seed1.json").read_text()
    (tmp_path / "01_demo-seed1.json").write_text(whole[: len(whole) // 2])  # a write killed half-way
    (tmp_path / "03_x-seed0.json").write_text(json.dumps({"notebook": "03_x", "claims": [{"id": "a"}]}))
    (tmp_path / "04_y-seed0.json").write_bytes(b"\xff\xfe not text")
    with pytest.warns(UserWarning) as caught:
        loaded = evidence.load_records(tmp_path)
    named = sorted(Path(str(w.message).split(":")[0].removeprefix("skipped ")).name for w in caught)
    assert named == ["01_demo-seed1.json", "03_x-seed0.json", "04_y-seed0.json"]
    assert sorted((r["notebook"], r["environment"]["base_seed"]) for r in loaded) == [
        ("01_demo", 0), ("01_demo", 2), ("02_other", 0)]
    assert "## 01_demo\n\n2 runs, base seeds" in evidence.report(evidence.summarise(loaded))


def test_run_one_keeps_its_run_when_the_notebook_left_half_a_record(tmp_path, monkeypatch):
    records = tmp_path / "records"
    records.mkdir()
    notebook = tmp_path / "01_demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)

    def half_written(path, env, timeout, cpu=None):
        Path(env["SEQTIPS_RECORD"], "01_demo-seed5.json").write_text('{"notebook": "01_demo", "clai')
        return {"seconds": 2.0, "peak_mb": 10.0, "error": "", "stalls": [], "missed_wakeups": []}

    monkeypatch.setattr(evidence, "execute", half_written)
    monkeypatch.setattr(evidence.reference, "measure", lambda cpu=None: 0.5)
    with pytest.warns(UserWarning, match="01_demo-seed5.json"):
        record = evidence.run_one(notebook, 5, records, 60)
    assert record["claims"] == [] and record["environment"] == {"base_seed": 5}
    assert record["run"]["seconds"] == 2.0 and record["run"]["units"] == 4.0
    assert json.loads((records / "01_demo-seed5.json").read_text()) == record  # whole again

# --- main: argument errors, and the whole sweep with run_one faked ---------------------------------


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A working directory with notebooks 01 and 02 (what main looks for, from the repository root)."""
    (tmp_path / "notebooks").mkdir()
    for name in ("01_demo", "02_other"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {name}")])
        nbformat.write(nb, tmp_path / "notebooks" / f"{name}.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--notebooks", "07"], "no notebook numbered 07; choose from 01, 02"),
        (["--notebooks", "01", "99"], "no notebook numbered 99"),
        (["--notebooks", "one"], "--notebooks takes notebook numbers such as 01 04"),
        (["--seeds", "0"], "--seeds must be at least 1, got 0"),
        (["--seeds", "-3"], "--seeds must be at least 1"),
        (["--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["--base", "-1"], "--base must be from 0"),
        (["--base", str(2**32 - 1), "--seeds", "2"], "--base must be from 0 to 4294967294 for 2 seeds"),
        (["--seeds", "many"], "invalid int value: 'many'"),
        (["--timeout", "0"], "--timeout must be from 1 to 86400 seconds per cell, got 0"),
        (["--timeout", "-5"], "--timeout must be from 1 to 86400"),
        (["--out", "notes.txt"], "--out must be a folder, got the file notes.txt"),
    ],
)
def test_main_refuses_bad_arguments_before_running_anything(repo, monkeypatch, capsys, argv, message):
    (repo / "notes.txt").write_text("a file where the report folder was asked for")
    monkeypatch.setattr(evidence, "run_one", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(SystemExit) as exit:
        evidence.main(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
    assert not (repo / "evidence-run").exists()


def test_main_without_notebooks_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        evidence.main(["--seeds", "1"])
    assert "no notebooks found in notebooks/ (run from the repository root)" in capsys.readouterr().err


def test_main_runs_every_notebook_and_seed_and_writes_the_report(repo, monkeypatch, capsys):
    runs = []

    def fake_run_one(notebook, seed, records, timeout, *rest):
        runs.append((notebook.name, seed, timeout))
        passed = not (notebook.stem == "01_demo" and seed == 6)
        record = rec(notebook.stem, seed, [claim("a", passed, {"x": float(seed)})],
                     error="" if passed else "AssertionError: [a]")
        evidence.record_path(records, notebook, seed).write_text(json.dumps(record))
        return record

    monkeypatch.setattr(evidence, "run_one", fake_run_one)
    assert evidence.main(["--seeds", "2", "--base", "5", "--out", "out", "--timeout", "30"]) == 0
    assert sorted(runs) == [("01_demo.ipynb", 5, 30), ("01_demo.ipynb", 6, 30),
                            ("02_other.ipynb", 5, 30), ("02_other.ipynb", 6, 30)]
    report = (repo / "out" / "README.md").read_text()
    assert "| **a** — claim A | evidence | 1 of 2 | x: 5.5 (5 – 6) |" in report
    assert "- seed 6: **a** did not hold — x = 6" in report
    assert "Regenerate all of it: `python -m seqtips.evidence --base 5 --seeds 2 --jobs 2 --out out`" in report
    out = capsys.readouterr().out
    assert "01_demo seed 6: claim a did not hold" in out
    assert "01_demo: 2 seeds on cpu" in out and "  a: held 1/2" in out
    assert "report: out/README.md" in out


def test_main_reports_only_the_chosen_notebooks_to_the_reader(repo, monkeypatch, capsys):
    def fake_run_one(notebook, seed, records, timeout, *rest):
        record = rec(notebook.stem, seed, [claim("a", True)])
        evidence.record_path(records, notebook, seed).write_text(json.dumps(record))
        return record

    monkeypatch.setattr(evidence, "run_one", fake_run_one)
    evidence.main(["--notebooks", "2", "--seeds", "1", "--out", "out"])
    out = capsys.readouterr().out
    assert "02_other: 1 seeds" in out and "01_demo" not in out


# --- one real run -------------------------------------------------------------------------------------


@pytest.mark.slow  # runs a child process
def test_run_one_executes_a_tiny_notebook_and_completes_its_record(tmp_path):
    source = 'import seqtips as st\nst.setup("tiny")\nst.check("a", "claim", True, values={"x": 1.0})'
    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tiny"), nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    records = tmp_path / "records"
    records.mkdir()
    record = evidence.run_one(path, 3, records, 60)
    assert record["run"]["error"] == ""
    assert record == json.loads((records / "tiny-seed3.json").read_text())
    assert record["notebook"] == "tiny"
    assert record["claims"] == [{"id": "a", "claim": "claim", "kind": "evidence", "passed": True,
                                 "values": {"x": 1.0}}]
    env = record["environment"]
    assert env["base_seed"] == 3 and env["torch_threads"] == 1 and env["device"] in ("cpu", "cuda")
    assert record["run"]["code_hash"] == env["code_hash"] == verdict.code_hash(path)
    assert 0 < record["run"]["seconds"] < 60 and record["run"]["peak_mb"] > 0


def test_stalls_are_reported_as_stalls_and_their_time_never_counts(tmp_path):
    stalled = rec("01_demo", 4, [claim("a", True, {"x": 1.0})], seconds=12.0)
    stalled["run"].update(units=24.0, one_core=True, stalls=[{"cell": 7, "idle_s": 30.2, "request_unread": False}])
    quiet = rec("01_demo", 5, [claim("a", True, {"x": 1.2})], seconds=14.0)
    quiet["run"].update(units=28.0, one_core=True, stalls=[])
    summary = evidence.summarise([stalled, quiet])
    assert summary["01_demo"]["stalls"] == [{"seed": 4, "cell": 7, "idle_s": 30.2, "request_unread": False}]
    assert summary["01_demo"]["seconds"] == [12.0, 14.0]  # each the time of the run that finished (the retry)
    text = evidence.report(summary)
    assert "stalls met: 1" in text and "max 14 s; median 26 reference units;" in text
    assert "- seed 4: cell 7, idle 30.2 s" in text
    evidence.write_benchmark([stalled, quiet], tmp_path / "benchmark.json")
    saved = json.loads((tmp_path / "benchmark.json").read_text())["notebooks"]["01_demo.ipynb"]
    assert saved == {"seconds": 13.0, "units": 26.0, "peak_mb": 300, "runs": 2, "stalls": 1}


def test_the_start_page_summary_skips_a_bad_record_and_names_it(tmp_path):
    from seqtips.lessons import nb00_start_here

    (tmp_path / "records").mkdir()
    for r in records():
        path = evidence.record_path(tmp_path / "records", tmp_path / f"{r['notebook']}.ipynb",
                                    r["environment"]["base_seed"])
        path.write_text(json.dumps(r))
    (tmp_path / "records" / "01_demo-seed9.json").write_text("{")
    with pytest.warns(UserWarning, match="01_demo-seed9.json"):
        table = nb00_start_here.evidence_summary(tmp_path)
    assert "| 01_demo | `a` | 2 of 3 | x: 1.5 (1 – 5) |" in table
