"""python -m seqtips.evidence (seqtips/tools/evidence.py) on synthetic records, plus one real run of a tiny notebook."""

import json
import re
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
    text = evidence.report(evidence.summarise_ranges(records()), out="evidence")
    lines = text.splitlines()
    assert lines[0] == "# Evidence: how often each verdict held"
    assert ("Regenerate: calibration `python -m seqtips.evidence --base 0 --seeds 3 --jobs 2 --out evidence`; "
            "one notebook: add `--notebooks NN`; this report alone, from the records: add `--report-only`.") in lines
    assert "3 runs, base seeds 0–2; wall time per run median 20 s, max 30 s" in text
    assert "torch 2.9.9 on cpu (x86_64), 1 thread(s), Linux-test; notebook code `aaaaaaaaaaaa`" in text
    # 2 of 3 with its 95 % Clopper-Pearson interval; 3 runs are too few for an interval for the median
    assert ("| **a** — claim A | evidence | 2 of 3 (0.0943–0.992) | — | x: 1.5 (no 95 % interval from 3 runs: "
            "6 are needed) | x: 1.5 (1 – 5); threshold: 2 (2 – 2) |") in lines
    assert ("| **b** — claim B | sanity | 2 of 3 (0.0943–0.992); 1 not reached | — | y: inf (no 95 % interval from "
            "2 runs: 6 are needed) | y: 0.5 (0.5 – 0.5), 1 non-finite |") in lines
    assert "- seed 2: **a** did not hold — x = 5, threshold = 2" in lines
    assert "- seed 0: the notebook stopped with an error — RuntimeError: boom" in lines
    assert text.count("did not hold") == 1  # seed 2's error is the failed claim, not a second entry
    assert "## 02_other" in lines and "1 runs, base seeds 0–0; wall time per run median nan s" in text


def test_report_says_when_the_notebook_code_changed_since_the_runs(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(nb, path)
    text = evidence.report(evidence.summarise_ranges(records()), notebooks=[path])
    assert f"notebook code `aaaaaaaaaaaa` (current: `{verdict.code_hash(path)}`)" in text
    same = [rec("01_demo", 0, [], code=verdict.code_hash(path))]
    assert "current:" not in evidence.report(evidence.summarise_ranges(same), notebooks=[path])


def test_a_claim_with_a_pipe_does_not_break_the_table():
    text = evidence.report(evidence.summarise_ranges([rec("01_demo", 0, [claim("a", True, {"p | q": 1.0},
                                                                                 text="p | q")])]))
    assert "| **a** — p / q | evidence | 1 of 1 (0.025–1) | — | p / q: 1 (no 95 % interval" in text
    assert "| p / q: 1 (1 – 1) |" in text


def test_reader_summary_is_a_block_to_paste():
    text = evidence.reader_summary(evidence.summarise_ranges(records()))
    lines = text.splitlines()
    assert lines[0] == "```" and lines[-1] == "```"
    assert "01_demo (calibration): 3 seeds on cpu (x86_64), torch 2.9.9, seqtips 0.2.0" in lines
    assert "  a: held 2/3 (95 % interval 0.0943–0.992)" in lines
    assert "  b: held 2/3 (95 % interval 0.0943–0.992)" in lines
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
    assert ("## 01_demo\n\n### Calibration: thresholds may have been chosen on these\n\n2 runs, base seeds"
            in evidence.report(evidence.summarise_ranges(loaded)))


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
        (["--range", "everything"], "argument --range: invalid choice: 'everything'"),
        (["--range", "calibration", "--base", "3"], "--range calibration sets the base seeds itself"),
        (["--range", "confirmation", "--seeds", "3"], "--range confirmation sets the base seeds itself"),
        (["--freeze", "--report-only"], "--freeze and --report-only each run nothing: choose one"),
        (["--freeze", "--seeds", "3"], "--freeze runs nothing: leave out --range, --base and --seeds"),
        (["--report-only", "--range", "calibration"], "--report-only runs nothing"),
        (["--report-only"], "--report-only: no records in evidence-run/records"),
        (["--range", "confirmation"], "--range confirmation: the confirmation may not start"),
        (["--base", "1010", "--seeds", "20"], "--base/--seeds (confirmation seeds): the confirmation may not start"),
        (["--range", "confirmation", "--frozen", "notes.txt"], "--frozen: notes.txt is not readable JSON"),
        (["--freeze", "--frozen", "nowhere/frozen.json"], "--frozen: the folder nowhere does not exist"),
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
    assert "| **a** — claim A | evidence | 1 of 2 (0.0126–0.987) | — | x: 5.5 (no 95 % interval" in report
    assert "| x: 5.5 (5 – 6) |" in report
    assert "- seed 6: **a** did not hold — x = 6" in report
    # seeds 5 and 6 lie in the calibration range: their runs are calibration runs, however they were asked for
    assert "Regenerate: calibration `python -m seqtips.evidence --base 5 --seeds 2 --jobs 2 --out out`" in report
    summary = json.loads((repo / "out" / "summary.json").read_text())
    assert summary["notebooks"]["01_demo"]["calibration"]["claims"]["a"]["held"] == 1
    out = capsys.readouterr().out
    assert "01_demo seed 6: claim a did not hold" in out
    assert "01_demo (calibration): 2 seeds on cpu" in out and "  a: held 1/2 (95 % interval 0.0126–0.987)" in out
    assert "report: out/README.md" in out


def test_main_reports_only_the_chosen_notebooks_to_the_reader(repo, monkeypatch, capsys):
    def fake_run_one(notebook, seed, records, timeout, *rest):
        record = rec(notebook.stem, seed, [claim("a", True)])
        evidence.record_path(records, notebook, seed).write_text(json.dumps(record))
        return record

    monkeypatch.setattr(evidence, "run_one", fake_run_one)
    evidence.main(["--notebooks", "2", "--seeds", "1", "--out", "out"])
    out = capsys.readouterr().out
    assert "02_other (calibration): 1 seeds" in out and "01_demo" not in out


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
    text = evidence.report(evidence.summarise_ranges([stalled, quiet]))
    assert "stalls met: 1" in text and "max 14 s; median 26 reference units;" in text
    assert "- seed 4: cell 7, idle 30.2 s" in text
    evidence.write_benchmark([stalled, quiet], tmp_path / "benchmark.json")
    saved = json.loads((tmp_path / "benchmark.json").read_text())["notebooks"]["01_demo.ipynb"]
    assert saved == {"seconds": 13.0, "units": 26.0, "peak_mb": 300, "runs": 2, "stalls": 1}


def test_the_start_page_summary_renders_summary_json_from_the_confirmation_first(tmp_path):
    from seqtips.lessons import nb00_start_here

    (tmp_path / "records").mkdir()
    for r in ranged_records() + [rec("02_other", 1, [claim("s", True, {"y": 2.0}, kind="sanity")]),
                                 rec("00_start", 0, [claim("s", True, {"y": 2.0}, kind="sanity")])]:
        path = evidence.record_path(tmp_path / "records", tmp_path / f"{r['notebook']}.ipynb",
                                    r["environment"]["base_seed"])
        path.write_text(json.dumps(r))
    (tmp_path / "records" / "01_demo-seed9.json").write_text("{")
    with pytest.warns(UserWarning, match="01_demo-seed9.json"):  # the tool skips a bad record and names it
        evidence.write_reports(tmp_path, evidence.load_records(tmp_path / "records"), [], None)
    lines = nb00_start_here.evidence_summary(tmp_path).splitlines()
    assert lines[0] == ("From the **confirmation** runs (base seeds 1000–1019: run after the thresholds were frozen) "
                        "for 01_demo; the **calibration** runs (base seeds 0–19: thresholds may have been chosen on "
                        "these) for 02_other.")
    assert lines[2] == ("| notebook | verdict | held in (95 % interval for the rate) | closest run: room to its "
                        "threshold (×; < 1 failed) | measured value: median over runs (95 % interval) |")
    assert lines[4:] == [
        "| 01_demo | `a` | 2 of 2 (0.158–1) | 2.5 (seed 1000) | x: 4 (no 95 % interval from 2 runs: 6 are needed) |",
        "| 02_other | `a` | 1 of 2 (0.0126–0.987); 1 not reached | — | y: 1 (no 95 % interval from 1 run: 6 are "
        "needed) |"]  # the confirmation's numbers for 01 (not its calibration's), no sanity check, no 00_start


def test_the_start_page_summary_says_when_there_is_no_confirmation_or_no_summary(tmp_path):
    from seqtips.lessons import nb00_start_here

    evidence.write_reports(tmp_path, records(), [], None)
    first = nb00_start_here.evidence_summary(tmp_path).splitlines()[0]
    assert first.startswith("From the **calibration** runs (base seeds 0–19: thresholds may have been chosen")
    assert first.endswith("No confirmation run yet: read these as how the claims were set, not as a test of them.")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert nb00_start_here.evidence_summary(empty).startswith(f"No evidence found in `{empty}` (no `summary.json`)")
    (empty / "summary.json").write_text('{"notebooks": {"01_demo": {"calibration": {"claims": {"a": {}}}}}}')
    with pytest.warns(UserWarning, match="not a seqtips evidence summary"):
        assert nb00_start_here.evidence_summary(empty).startswith("No evidence found")
    (empty / "summary.json").write_text("{")
    with pytest.warns(UserWarning, match="summary.json: not readable JSON"):
        assert nb00_start_here.evidence_summary(empty).startswith("No evidence found")

# --- ranges, intervals, margins and effects ------------------------------------------------------------------


def compared(id, value, threshold, passed=None, kind="evidence"):
    """A claim `value < threshold` as st.check(..., compare=...) records it, with its margin."""
    holds = value < threshold if passed is None else passed
    return {**claim(id, holds, {"x": value, "threshold": threshold}, kind=kind),
            "compare": [["x", "<", "threshold"]], "margin": verdict.margin(value, "<", threshold)}


def test_the_named_ranges_are_disjoint_and_name_every_base_seed():
    assert evidence.CALIBRATION.step == evidence.CONFIRMATION.step == 1
    assert not set(evidence.CALIBRATION) & set(evidence.CONFIRMATION)
    assert [evidence.range_of(s) for s in (0, 19, 20, 999, 1000, 1019, 1020, None)] == [
        "calibration", "calibration", "ad hoc", "ad hoc", "confirmation", "confirmation", "ad hoc", "ad hoc"]


def test_summarise_gives_each_claim_its_interval_closest_run_and_effect():
    runs = [rec("01_demo", 1000 + i, [compared("a", float(i + 1), 10.0)]) for i in range(8)]
    runs.append(rec("01_demo", 1008, [{**compared("a", 1.0, 10.0), "values": {"x": "nan", "threshold": 10.0},
                                       "passed": False, "margin": None}]))
    a = evidence.summarise(runs)["01_demo"]["claims"]["a"]
    assert a["passed"] == 8 and a["interval"] == pytest.approx([0.5175, 0.9972], abs=1e-4)  # 8 of 9
    assert a["closest"] == {"seed": 1007, "margin": pytest.approx(1.25)}  # x = 8 under 10: nearest to failing
    assert a["not_comparable"] == 1  # the NaN run: no margin, and it failed
    # the median of x over the 8 runs that measured it, with its order-statistic interval [x(1), x(8)]
    assert a["effect"] == {"name": "x", "median": 4.5, "low": 1.0, "high": 8.0, "runs": 8, "min": 1.0, "max": 8.0}
    text = evidence.report(evidence.summarise_ranges(runs))
    assert ("| **a** — claim A | evidence | 8 of 9 (0.518–0.997) | 1.25 (seed 1007); 1 run not comparable (NaN) "
            "| x: 4.5 (1 – 8) |") in text


def test_the_closest_margin_says_when_the_nearest_run_failed():
    runs = [rec("01_demo", 0, [compared("a", 5.0, 10.0)]), rec("01_demo", 1, [compared("a", 20.0, 10.0)])]
    tally = evidence.summarise(runs)["01_demo"]["claims"]["a"]
    assert evidence.margin_text(tally) == "0.5 (seed 1) — failed"
    assert "- seed 1: **a** did not hold — x = 20, threshold = 10" in evidence.report(evidence.summarise_ranges(runs))


def test_an_identity_on_its_line_reads_as_held_exactly_and_an_evidence_claim_there_as_on_the_line():
    def on_line(kind):
        claim = {**compared("e", 0.75, 0.75, passed=True, kind=kind), "compare": [["x", "<=", "threshold"]],
                 "margin": verdict.margin(0.75, "<=", 0.75)}
        return evidence.summarise([rec("01_demo", 0, [claim])])["01_demo"]["claims"]["e"]

    assert evidence.margin_text(on_line("deterministic")) == "1 (seed 0) — an equality, held exactly"
    assert evidence.margin_text(on_line("evidence")) == "1 (seed 0) — on the line"


def test_a_deterministic_check_is_shown_once_never_as_k_of_n():
    runs = [rec("01_demo", s, [claim("d", True, {"ratio": 0.75}, kind="deterministic")]) for s in range(20)]
    text = evidence.report(evidence.summarise_ranges(runs))
    assert ("| **d** — claim D | deterministic | deterministic: held on every run (checked once per run; not a "
            "trial) | — | ratio: 0.75 | ratio: 0.75 (0.75 – 0.75) |") in text
    table = text.split("## 01_demo")[1]
    assert "20 of 20" not in table and "0.832" not in table
    assert evidence.summarise(runs)["01_demo"]["claims"]["d"]["interval"] is None
    runs[3] = rec("01_demo", 3, [claim("d", False, {"ratio": 0.7}, kind="deterministic")])
    tally = evidence.summarise(runs)["01_demo"]["claims"]["d"]
    assert evidence.held_text(tally, 20) == ("deterministic: did NOT hold on 1 of 20 runs (seed 3); it must hold on "
                                             "every run")
    assert evidence.effect_text(tally) == "ratio: 0.75 (varies: 0.7 – 0.75)"


def ranged_records():
    """01_demo: calibration seeds 0-1 at code `cal...` and confirmation seeds 1000-1001 at code `conf...`;
    02_other: calibration only."""
    out = [rec("01_demo", s, [compared("a", 2.0, 10.0)], code="ca1ca1ca1ca1") for s in (0, 1)]
    out += [rec("01_demo", s, [compared("a", 4.0, 10.0)], code="c0ffc0ffc0ff") for s in (1000, 1001)]
    for r in out[2:]:
        r["run"]["commit"] = "abcdef1234567890"
    return out + [rec("02_other", 0, [claim("a", True, {"y": 1.0})])]


FROZEN = {"notebooks": {"01_demo": {"code_hash": "c0ffc0ffc0ff", "commit": "1234567890abcdef", "date": "2026-12-01"}}}


def test_the_report_leads_with_the_confirmation_and_labels_the_calibration():
    text = evidence.report(evidence.summarise_ranges(ranged_records()), frozen=FROZEN)
    lines = text.splitlines()
    assert "| 01_demo | confirmation | **a** | 2 of 2 (0.158–1) | 2.5 (seed 1000) | x: 4 (no 95 % interval" in text
    assert "| 02_other | calibration | **a** | 1 of 1 (0.025–1) | — |" in text
    assert "> **No confirmation run yet for 02_other**: their headline is their calibration" in text
    demo = text.split("## 01_demo")[1].split("## 02_other")[0]
    confirmation = demo.index("### Confirmation: run after the thresholds were frozen")
    assert confirmation < demo.index("### Calibration: thresholds may have been chosen on these")
    # the first code hash of a notebook's section is its headline's (the repository's staleness test reads it)
    assert re.findall(r"notebook code `([0-9a-f, ]+)`", demo)[0] == "c0ffc0ffc0ff"
    assert ("Thresholds frozen at commit `1234567890ab` with code hash `c0ffc0ffc0ff` (2026-12-01); these runs were "
            "made at commit `abcdef123456`.") in lines
    assert "Thresholds frozen in `frozen.json` at commit `1234567890ab`" in text
    assert lines.index("## Headline") < lines.index("## 01_demo")
    other = FROZEN | {"notebooks": {"01_demo": {**FROZEN["notebooks"]["01_demo"], "code_hash": "0123456789ab"}}}
    assert "They ran other code than was frozen" in evidence.report(evidence.summarise_ranges(ranged_records()),
                                                                      frozen=other)


def test_without_confirmation_runs_the_report_says_so_at_the_top():
    text = evidence.report(evidence.summarise_ranges(records()))
    top = text.split("## ")[0]
    assert "> **No confirmation run yet.** Every number in this report comes from base seeds on which the " \
           "thresholds may have been chosen" in top
    assert "No thresholds are frozen yet (`frozen.json` is missing)" in top
    assert "No confirmation run yet" not in evidence.report(evidence.summarise_ranges(ranged_records()[:4]))


def test_summary_json_holds_per_notebook_range_and_claim_the_reports_numbers(tmp_path):
    ranges = evidence.write_reports(tmp_path, ranged_records(), [], FROZEN)
    text = (tmp_path / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"summary.json is not strict JSON: {c}"))
    assert summary["headline"] == {"01_demo": "confirmation", "02_other": "calibration"}
    assert summary["ranges"]["confirmation"] == {"base_seeds": [1000, 1019],
                                                 "note": "run after the thresholds were frozen"}
    assert summary["frozen"] == FROZEN
    demo = summary["notebooks"]["01_demo"]
    assert list(demo) == ["confirmation", "calibration"]
    assert demo["confirmation"]["code_hashes"] == ["c0ffc0ffc0ff"]
    assert demo["confirmation"]["base_seeds"] == [1000, 1001]
    a = demo["confirmation"]["claims"]["a"]
    assert (a["kind"], a["held"], a["runs"], a["reached"]) == ("evidence", 2, 2, 2)
    assert a["interval"] == pytest.approx([0.1581, 1.0], abs=1e-4)
    assert a["closest_margin"] == {"seed": 1000, "margin": 2.5} and a["failures"] == []
    assert a["effect"] == {"name": "x", "median": 4.0, "low": None, "high": None, "runs": 2, "min": 4.0, "max": 4.0}
    assert a["text"] == {"held": "2 of 2 (0.158–1)", "closest_margin": "2.5 (seed 1000)",
                         "effect": "x: 4 (no 95 % interval from 2 runs: 6 are needed)"}
    assert (tmp_path / "README.md").read_text() == evidence.report(ranges, (), tmp_path.as_posix(), FROZEN)


def test_summary_json_keeps_infinities_as_text(tmp_path):
    runs = [rec("01_demo", s, [compared("a", 0.0, 1.0)]) for s in range(6)]
    evidence.write_reports(tmp_path, runs, [], None)
    a = json.loads((tmp_path / "summary.json").read_text())["notebooks"]["01_demo"]["calibration"]["claims"]["a"]
    assert a["closest_margin"] == {"seed": 0, "margin": "inf"}


# --- frozen thresholds and the confirmation ---------------------------------------------------------------


def fake_runs(ran):
    def fake_run_one(notebook, seed, records, timeout, *rest):
        ran.append((notebook.stem, seed))
        record = rec(notebook.stem, seed, [compared("a", 1.0 + seed % 7, 10.0)], code=verdict.code_hash(notebook))
        record["run"]["commit"] = rest[1]
        evidence.record_path(records, notebook, seed).write_text(json.dumps(record))
        return record
    return fake_run_one


@pytest.fixture
def committed(repo, monkeypatch):
    """The repository of `repo`, with an evidence folder, at a known commit without changes."""
    (repo / "evidence").mkdir()
    monkeypatch.setattr(evidence, "git_commit", lambda: "f00d" * 10)
    monkeypatch.setattr(evidence, "git_changes", lambda paths: False)
    return repo


def test_freeze_writes_the_commit_and_each_notebooks_code_hash(committed, monkeypatch, capsys):
    monkeypatch.setattr(evidence, "run_one", lambda *a, **k: pytest.fail("freezing runs nothing"))
    assert evidence.main(["--freeze"]) == 0
    assert "froze 2 notebook(s) at commit f00df00df00d: evidence/frozen.json" in capsys.readouterr().out
    frozen = json.loads((committed / "evidence" / "frozen.json").read_text())
    nbs = committed / "notebooks"
    assert frozen["commit"] == "f00d" * 10
    assert {name: (e["code_hash"], e["commit"], e["uncommitted_changes"]) for name, e in frozen["notebooks"].items()} \
        == {"01_demo": (verdict.code_hash(nbs / "01_demo.ipynb"), "f00d" * 10, False),
            "02_other": (verdict.code_hash(nbs / "02_other.ipynb"), "f00d" * 10, False)}
    assert frozen["ranges"] == {"confirmation": [1000, 1019], "calibration": [0, 19]}
    # re-freezing one notebook after a change keeps the others as they were frozen
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# changed")]), nbs / "02_other.ipynb")
    monkeypatch.setattr(evidence, "git_commit", lambda: "beef" * 10)
    assert evidence.main(["--freeze", "--notebooks", "02"]) == 0
    again = json.loads((committed / "evidence" / "frozen.json").read_text())
    assert again["notebooks"]["01_demo"] == frozen["notebooks"]["01_demo"]
    assert again["notebooks"]["02_other"]["code_hash"] == verdict.code_hash(nbs / "02_other.ipynb")
    assert again["notebooks"]["02_other"]["commit"] == "beef" * 10


def test_a_confirmation_refuses_to_start_without_frozen_thresholds_or_after_a_change(committed, monkeypatch, capsys):
    monkeypatch.setattr(evidence, "run_one", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(SystemExit):
        evidence.main(["--range", "confirmation"])
    assert "evidence/frozen.json is missing: freeze the thresholds first" in capsys.readouterr().err
    evidence.main(["--freeze"])
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# changed")]),
                   committed / "notebooks" / "02_other.ipynb")
    for argv in (["--range", "confirmation"], ["--base", "1019", "--seeds", "1"]):
        with pytest.raises(SystemExit) as exit:
            evidence.main(argv)
        assert exit.value.code == 2
        err = capsys.readouterr().err
        assert "02_other changed since its thresholds were frozen" in err and "--freeze --notebooks 02" in err
        assert "01_demo" not in err
    assert not (committed / "evidence-run").exists()
    # only the notebooks asked for are checked: 01 is as frozen, so its confirmation may run
    ran = []
    monkeypatch.setattr(evidence, "run_one", fake_runs(ran))
    assert evidence.main(["--range", "confirmation", "--notebooks", "01", "--out", "out"]) == 0
    assert ran == [("01_demo", s) for s in evidence.CONFIRMATION]


def test_a_confirmation_of_frozen_notebooks_is_the_headline_and_stays_current(committed, monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(evidence, "run_one", fake_runs(ran))
    evidence.main(["--freeze"])
    assert evidence.main(["--range", "calibration", "--out", "evidence"]) == 0
    capsys.readouterr()
    assert evidence.main(["--range", "confirmation", "--out", "evidence", "--jobs", "2"]) == 0
    assert sorted(ran) == sorted((nb, s) for nb in ("01_demo", "02_other")
                                 for s in (*evidence.CALIBRATION, *evidence.CONFIRMATION))
    out = capsys.readouterr().out  # the reader's block: the runs just made, not the calibration before them
    assert "01_demo (confirmation): 20 seeds" in out and "(calibration)" not in out
    report = (committed / "evidence" / "README.md").read_text()
    assert "No confirmation run yet" not in report
    # x = 1 + seed % 7: x = 7 first at seed 1000 (margin 10 / 7); sorted, x(6) = 2 and x(15) = 5
    assert "| 01_demo | confirmation | **a** | 20 of 20 (0.832–1) | 1.43 (seed 1000) | x: 4 (2 – 5) |" in report
    assert "Regenerate: confirmation `python -m seqtips.evidence --range confirmation --jobs 2 --out evidence`; " \
           "calibration `python -m seqtips.evidence --range calibration --jobs 2 --out evidence`" in report
    summary = json.loads((committed / "evidence" / "summary.json").read_text())
    assert summary["headline"] == {"01_demo": "confirmation", "02_other": "confirmation"}
    assert summary["notebooks"]["01_demo"]["confirmation"]["commits"] == ["f00d" * 10]
    notebooks = evidence.find_notebooks(None)
    assert evidence.confirmation_problems(committed / "evidence", notebooks) == []
    # a notebook changed after its confirmation: its records, the frozen hash and the summary are stale
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# changed")]),
                   committed / "notebooks" / "01_demo.ipynb")
    problems = evidence.confirmation_problems(committed / "evidence", notebooks)
    assert len([p for p in problems if "the confirmation record of base seed" in p]) == 20
    assert any("01_demo changed since its thresholds were frozen" in p for p in problems)
    assert any("summary.json gives the confirmation at code" in p for p in problems)
    assert not any("02_other" in p for p in problems)


def test_confirmation_problems_without_confirmation_records_is_empty(tmp_path):
    (tmp_path / "records").mkdir()
    for r in records():  # calibration seeds only, at another code than any notebook has
        (tmp_path / "records" / f"{r['notebook']}-seed{r['environment']['base_seed']}.json").write_text(json.dumps(r))
    assert evidence.confirmation_problems(tmp_path, []) == []


def test_report_only_rewrites_the_report_and_summary_from_the_records(committed, monkeypatch, capsys):
    monkeypatch.setattr(evidence, "run_one", lambda *a, **k: pytest.fail("nothing may run"))
    (committed / "evidence" / "records").mkdir()
    for r in ranged_records():
        path = committed / "evidence" / "records" / f"{r['notebook']}-seed{r['environment']['base_seed']}.json"
        path.write_text(json.dumps(r))
    assert evidence.main(["--report-only", "--out", "evidence"]) == 0
    assert "report: evidence/README.md, evidence/summary.json" in capsys.readouterr().out
    assert "## Headline" in (committed / "evidence" / "README.md").read_text()
    assert json.loads((committed / "evidence" / "summary.json").read_text())["headline"]["01_demo"] == "confirmation"
    assert not (committed / "evidence" / "benchmark.json").exists()  # the benchmark's date stays the runs'


def test_git_commit_outside_a_checkout_is_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert evidence.git_commit() == "unknown" and evidence.git_changes([tmp_path]) is None


def test_summary_problems_name_a_missing_summary_a_missing_notebook_and_stale_code(tmp_path):
    nb = tmp_path / "01_demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), nb)
    other = tmp_path / "02_other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y = 2")]), other)
    assert evidence.summary_problems(tmp_path, [nb]) == [
        f"{tmp_path}/summary.json is missing: python -m seqtips.evidence --report-only --out {tmp_path.as_posix()} "
        "writes it from the records"]
    runs = [rec("01_demo", s, [claim("a", True)], code=verdict.code_hash(nb)) for s in (0, 1000)]
    runs.append(rec("01_demo", 1, [claim("a", True)], code="0123456789ab"))  # an old calibration run: not headline
    evidence.write_reports(tmp_path, runs, [], None)
    assert evidence.summary_problems(tmp_path, [nb]) == []
    assert evidence.summary_problems(tmp_path, [other]) == [f"{tmp_path}/summary.json has no runs of 02_other"]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 2")]), nb)
    [stale] = evidence.summary_problems(tmp_path, [nb])
    assert "gives 01_demo's confirmation runs at code" in stale and verdict.code_hash(nb) in stale


def test_the_start_page_time_table_reads_the_benchmark(tmp_path):
    from seqtips.lessons import nb00_start_here

    (tmp_path / "benchmark.json").write_text(json.dumps({"machine": "test box", "notebooks": {
        "00_start_here.ipynb": {"seconds": 4.0, "units": 11.0}, "01_x.ipynb": {"seconds": 116.0, "units": 100.0}}}))
    lines = nb00_start_here.time_table(tmp_path).splitlines()
    assert "about **2 min**" in lines[0] and "test box" in lines[0]
    assert lines[-2:] == ["| 00_start_here | 4 s | 11 |", "| 01_x | 116 s | 100 |"]
    assert nb00_start_here.time_table(tmp_path / "nowhere").startswith("No benchmark found")
