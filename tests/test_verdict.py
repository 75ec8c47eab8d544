"""The verdict: st.check prints or fails loudly, and every check is recorded (and written under SEQTIPS_RECORD)."""

import json
import math
import re

import numpy as np
import pytest
import torch

import seqtips as st
from seqtips import verdict


@pytest.fixture(autouse=True)
def each_test_is_one_run(fresh_record):
    """Each test is one run of a fake notebook (conftest's fresh_record)."""


def test_check_passes_and_prints(capsys):
    assert st.check("gru-wins", "GRU beats RNN", True, "0.001 < 0.16") is None
    out = capsys.readouterr().out
    assert out.startswith("✔ [gru-wins] GRU beats RNN") and "0.001 < 0.16" in out


def test_check_prints_values_and_kind(capsys):
    st.check("sums", "the sums add up", True, values={"error": 1e-9, "threshold": 1e-6}, kind="sanity")
    out = capsys.readouterr().out
    assert "[sums] (sanity check) the sums add up" in out and "error = 1e-09, threshold = 1e-06" in out


def test_check_fails_loudly():
    with pytest.raises(AssertionError, match=r"(?s)did NOT hold.*\[gru-wins\] GRU beats RNN.*0.2 > 0.16"):
        st.check("gru-wins", "GRU beats RNN", False, "0.2 > 0.16")


def test_check_accepts_numpy_and_torch_booleans(capsys):
    st.check("numpy", "numpy", np.bool_(True))
    st.check("torch", "torch", torch.tensor(True))
    st.check("numpy-comparison", "numpy", np.float64(0.1) < 0.2)
    with pytest.raises(AssertionError):
        st.check("numpy-false", "numpy false", np.bool_(False))
    assert [c["passed"] for c in verdict.record()["claims"]] == [True, True, True, False]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("Bad Id", "ok", True), {}, ValueError, "id must be a short lower-case name"),
        (("", "ok", True), {}, ValueError, "id must be"),
        ((3, "ok", True), {}, TypeError, "id must be"),
        (("a", "", True), {}, ValueError, "claim must be a non-empty sentence"),
        (("a", None, True), {}, TypeError, "claim must be"),
        (("a", "ok", 1.0), {}, TypeError, "holds must be True or False"),
        (("a", "ok", "yes"), {}, TypeError, "holds must be True or False"),
        (("a", "ok", torch.tensor([True, True])), {}, TypeError, "holds must be True or False"),
        (("a", "ok", True, 3), {}, TypeError, "evidence must be a text"),
        (("a", "ok", True), {"values": {"x": "big"}}, TypeError, r"values\['x'\] must be a single number"),
        (("a", "ok", True), {"kind": "proof"}, ValueError, "kind must be one of"),
    ],
)
def test_check_bad_input_records_nothing(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        st.check(*args, **kwargs)
    assert verdict.record()["claims"] == []


def test_checking_an_id_again_replaces_its_result():
    # a reader re-running a verdict cell must not get an error, nor a record with the claim twice
    st.check("once", "the claim", True, values={"x": 1.0})
    with pytest.raises(AssertionError):
        st.check("once", "the claim", False, values={"x": 2.0})
    claims = verdict.record()["claims"]
    assert [(c["id"], c["claim"], c["passed"], c["values"]) for c in claims] == [
        ("once", "the claim", False, {"x": 2.0})]


def test_the_same_id_with_another_claim_is_refused_and_the_first_is_kept():
    st.check("once", "first", True, values={"x": 1.0})
    with pytest.raises(ValueError, match=r"id 'once' was already checked in this run with another claim \('first'\)"):
        st.check("once", "second", True, values={"x": 2.0})
    claims = verdict.record()["claims"]
    assert [(c["id"], c["claim"], c["values"]) for c in claims] == [("once", "first", {"x": 1.0})]
    verdict.start("00_fake", torch.device("cpu"), 7)  # a new record: the id is free again
    st.check("once", "second", True)


def test_a_nan_value_records_the_claim_as_failing(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path))
    with pytest.raises(AssertionError, match=r"values\['worst'\] is NaN, so the comparison could not be made"):
        st.check("nan-claim", "the worst run is below the line", True, values={"worst": float("nan"), "line": 0.1})
    [claim] = json.loads((tmp_path / "00_fake-seed7.json").read_text())["claims"]
    assert claim["passed"] is False and claim["values"] == {"worst": "nan", "line": 0.1}
    st.check("inf-claim", "an infinite value is a number", True, values={"worst": float("inf")})  # inf is fine


@pytest.mark.parametrize("values", [{1: 0.5, "1": 0.6}, {1: 0.5}, {("a",): 0.5}])
def test_values_must_be_keyed_by_names(values):
    with pytest.raises(TypeError, match="values must be keyed by names"):
        st.check("keys", "a claim", True, values=values)
    assert verdict.record()["claims"] == []


def test_record_keeps_every_check_with_its_numbers():
    st.check("a", "  first claim  ", True, values={"loss": np.float32(0.5), "limit": torch.tensor(1.0)})
    st.check("b", "second claim", True, values={"worst": float("inf")}, kind="illustration")
    rec = verdict.record()
    assert rec["notebook"] == "00_fake"
    assert rec["environment"]["base_seed"] == 7 and rec["environment"]["device"] == "cpu"
    assert rec["environment"]["torch"] == torch.__version__ and rec["environment"]["code_hash"] is None
    assert rec["claims"] == [
        {"id": "a", "claim": "first claim", "kind": "evidence", "passed": True, "values": {"loss": 0.5, "limit": 1.0}},
        {"id": "b", "claim": "second claim", "kind": "illustration", "passed": True, "values": {"worst": "inf"}},
    ]
    rec["claims"].clear()  # a copy: changing it changes nothing
    assert len(verdict.record()["claims"]) == 2


def test_start_begins_a_new_record():
    st.check("a", "claim", True)
    verdict.start("01_other", torch.device("cpu"), 3)
    assert verdict.record()["claims"] == []
    st.check("a", "the same id in a new run", True)
    with pytest.raises(TypeError, match="notebook"):
        verdict.start(1, torch.device("cpu"), 0)


def test_record_is_written_after_every_check_and_a_failure_is_recorded_before_it_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path / "records"))
    path = tmp_path / "records" / "00_fake-seed7.json"
    st.check("first", "holds", True, values={"x": 1.0})
    assert [c["id"] for c in json.loads(path.read_text())["claims"]] == ["first"]
    with pytest.raises(AssertionError):
        st.check("second", "does not hold", False, values={"x": 2.0, "threshold": 1.5})
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == verdict.record()
    assert written["notebook"] == "00_fake" and written["environment"]["base_seed"] == 7
    assert [(c["id"], c["passed"]) for c in written["claims"]] == [("first", True), ("second", False)]
    assert written["claims"][1]["values"] == {"x": 2.0, "threshold": 1.5}
    assert [p.name for p in (tmp_path / "records").iterdir()] == ["00_fake-seed7.json"]


def test_nothing_is_written_without_seqtips_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    st.check("a", "claim", True)
    assert list(tmp_path.iterdir()) == []


def test_start_hashes_the_notebook_in_the_working_directory(tmp_path, monkeypatch):
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "05_demo.ipynb").write_text(json.dumps(nb))
    monkeypatch.chdir(tmp_path)
    verdict.start("05_demo", torch.device("cpu"), 0)
    assert verdict.record()["environment"]["code_hash"] == verdict.code_hash(tmp_path / "05_demo.ipynb")


def test_code_hash_sees_only_code_cells(tmp_path):
    def notebook(markdown, code, outputs=()):
        cells = [{"cell_type": "markdown", "source": markdown, "metadata": {}},
                 {"cell_type": "code", "source": code, "metadata": {}, "outputs": list(outputs),
                  "execution_count": None}]
        path = tmp_path / f"nb{len(list(tmp_path.iterdir()))}.ipynb"
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        return path

    base = verdict.code_hash(notebook(["# Title"], ["x = 1\n", "y = 2"]))
    assert re.fullmatch(r"[0-9a-f]{12}", base)
    assert verdict.code_hash(notebook(["# Another title, more prose"], ["x = 1\n", "y = 2"])) == base
    assert verdict.code_hash(notebook(["# Title"], ["x = 1\ny = 2"])) == base  # split into lines or not
    assert verdict.code_hash(notebook(["# Title"], ["x = 1\n", "y = 2"], [{"output_type": "stream"}])) == base
    assert verdict.code_hash(notebook(["# Title"], ["x = 1\n", "y = 3"])) != base


def test_fmt_and_per_seed():
    assert st.fmt([0.0012345, 0.16, float("inf")]) == "0.00123, 0.16, inf"
    assert st.fmt([1 / 3], digits=5) == "0.33333"
    assert st.per_seed([0, 1], [0.5, 0.25]) == "seed 0: 0.5, seed 1: 0.25"
    with pytest.raises(ValueError, match="one entry per seed"):
        st.per_seed([0, 1], [0.5])


def test_a_relative_record_folder_is_relative_to_where_the_run_started(tmp_path, monkeypatch):
    # `SEQTIPS_RECORD=out/records pytest notebooks/...`: the kernel runs in notebooks/, the shell did not
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("SEQTIPS_RECORD", "out/records")
    st.check("a", "claim", True)
    assert (tmp_path / "out" / "records" / "00_fake-seed7.json").is_file()
    assert not (tmp_path / "notebooks" / "out").exists()


# --- records are written whole, to a folder that is checked first ------------------------------------


def test_write_atomic_keeps_the_old_file_when_the_write_fails(tmp_path):
    path = tmp_path / "record.json"
    verdict.write_atomic(path, '{"claims": ["first"]}')
    with pytest.raises(UnicodeEncodeError):
        verdict.write_atomic(path, '{"claims": ["first", "\ud800"]}')  # fails while writing
    assert json.loads(path.read_text()) == {"claims": ["first"]}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temporary file left behind


FAILING_REWRITE = """
import json, os, resource, signal, sys
import torch
import seqtips as st
from seqtips import verdict
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of a kill
verdict.start("00_fake", torch.device("cpu"), 7)
st.check("first", "a short claim", True)
path = os.path.join(os.environ["SEQTIPS_RECORD"], "00_fake-seed7.json")
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 200, resource.RLIM_INFINITY))
try:
    st.check("second", "a long claim " * 400, False)
except Exception as err:
    print(type(err).__name__, " ".join(str(err).split())[:400])
"""


@pytest.mark.slow  # runs a child process
def test_a_rewrite_that_fails_part_way_keeps_every_earlier_claim(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SEQTIPS_RECORD": str(tmp_path), "PWD": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", FAILING_REWRITE], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "00_fake-seed7.json").read_text())  # still valid JSON
    assert [c["id"] for c in saved["claims"]] == ["first"]
    # the verdict itself is not hidden behind the write's error
    last = done.stdout.splitlines()[-1]
    assert last.startswith("RuntimeError The claim did NOT hold in this run, but its record could not be written")
    assert "[second] a long claim" in last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00_fake-seed7.json"]


def test_the_record_folder_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SEQTIPS_RECORD", "~/records")
    st.check("a", "claim", True)
    assert (tmp_path / "records" / "00_fake-seed7.json").is_file()
    assert not (tmp_path / "~").exists()


def test_a_record_folder_that_is_a_file_is_refused_naming_the_variable(tmp_path, monkeypatch):
    (tmp_path / "records").write_text("a file")
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path / "records"))
    with pytest.raises(ValueError, match=r"SEQTIPS_RECORD must name a folder .* but .*records is a file"):
        verdict.record_folder()


def test_a_record_folder_that_cannot_be_made_is_refused_naming_the_variable(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("a file")
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path / "file" / "records"))
    with pytest.raises(ValueError, match=r"SEQTIPS_RECORD must name a folder .* cannot be written"):
        verdict.record_folder()


def test_a_read_only_record_folder_is_refused_naming_the_variable(tmp_path, monkeypatch):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "records"
    folder.mkdir(mode=0o500)
    monkeypatch.setenv("SEQTIPS_RECORD", str(folder))
    with pytest.raises(ValueError, match=r"SEQTIPS_RECORD must name a folder .* cannot be written"):
        verdict.record_folder()


# --- kinds, compare and margins --------------------------------------------------------------------------


def test_a_deterministic_check_is_labelled_and_recorded_with_its_kind(capsys):
    st.check("params-3-4", "GRU has 3/4 of the LSTM's parameters", True, values={"ratio": 0.75},
             kind="deterministic")
    assert "[params-3-4] (deterministic check) GRU has 3/4" in capsys.readouterr().out
    assert verdict.record()["claims"][0]["kind"] == "deterministic"
    assert verdict.KINDS == ("evidence", "sanity", "illustration", "deterministic")


@pytest.mark.parametrize(
    ("value", "direction", "bound", "expected"),
    [
        (0.05, "<", 0.1, 2.0),            # threshold / value
        (0.2, "<", 0.1, 0.5),             # fails: below 1
        (3.0, ">", 1.5, 2.0),             # value / threshold
        (1.0, ">", 4.0, 0.25),
        (-0.97, "<", -0.9, 0.97 / 0.9),   # both negative: the magnitudes swap, > 1 still holds
        (-0.5, ">", -1.0, 2.0),
        (0.1, "<=", 0.1, 1.0),            # the line: holds for <=
        (0.1, "<", 0.1, 1.0),             # ... and fails for <, at margin 1 too
        (0.0, "<", 1e-6, math.inf),       # a zero: no ratio, held
        (0.0, ">", 0.0, 1.0),
        (1e-6, "<", 0.0, 0.0),            # a zero: no ratio, failed
        (-0.001, "<", 0.001, math.inf),   # opposite signs: the order decides
        (0.001, "<", -0.001, 0.0),
        (3.0, ">", 0.0, math.inf),        # a count above zero
        (math.inf, "<", 1.0, 0.0),
        (1.0, "<", math.inf, math.inf),
        (math.inf, ">=", math.inf, 1.0),
        (math.nan, "<", 1.0, None),       # no comparison could be made
    ],
)
def test_margin_is_a_ratio_above_one_when_the_claim_holds_with_room(value, direction, bound, expected):
    got = verdict.margin(value, direction, bound)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_compare_records_the_comparison_and_its_margin(capsys):
    st.check("gru-solves", "the GRU solved it", True, values={"worst GRU MSE": 0.004, "threshold": 0.01},
             compare=("worst GRU MSE", "<", "threshold"))
    [claim] = verdict.record()["claims"]
    assert claim["compare"] == [["worst GRU MSE", "<", "threshold"]]
    assert claim["margin"] == pytest.approx(2.5)
    assert "worst GRU MSE = 0.004, threshold = 0.01 (margin 2.5)" in capsys.readouterr().out


def test_several_comparisons_give_the_smallest_margin():
    st.check("explodes", "weight_hh grew, the head did not", True,
             values={"growth": 33.6, "head": 0.85, "threshold growth": 8.0, "threshold head": 3.0},
             compare=[("growth", ">", "threshold growth"), ("head", "<", "threshold head")])
    assert verdict.record()["claims"][0]["margin"] == pytest.approx(3.0 / 0.85)
    st.check("zero-spread", "all start alike", True, values={"spread": 0.0, "threshold": 1e-6},
             compare=["spread", "<", "threshold"], kind="sanity")  # a list is a triple too
    assert verdict.record()["claims"][1]["margin"] == "inf"  # stored as records store infinities


def test_a_failing_comparison_is_recorded_with_its_margin_below_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path))
    with pytest.raises(AssertionError, match="did NOT hold"):
        st.check("too-slow", "fast enough", False, values={"steps": 400.0, "limit": 300.0},
                 compare=("steps", "<", "limit"))
    [claim] = json.loads((tmp_path / "00_fake-seed7.json").read_text())["claims"]
    assert claim["passed"] is False and claim["margin"] == pytest.approx(0.75)


def test_a_nan_with_compare_fails_and_has_no_margin():
    with pytest.raises(AssertionError, match="is NaN"):
        st.check("nan", "below the line", True, values={"x": float("nan"), "t": 1.0}, compare=("x", "<", "t"))
    [claim] = verdict.record()["claims"]
    assert claim["passed"] is False and claim["margin"] is None


@pytest.mark.parametrize(
    ("holds", "values", "compare", "error", "match"),
    [
        (True, {"x": 0.2, "t": 0.1}, ("x", "<", "t"), ValueError,
         r"'c': holds is True, but x = 0.2 < t = 0.1 is false: the verdict line would contradict"),
        (False, {"x": 0.05, "t": 0.1}, ("x", "<", "t"), ValueError, r"holds is False, but compare's x = 0.05 < t"),
        (True, {"x": 0.05, "t": 0.1, "y": 2.0}, [("x", "<", "t"), ("y", "<", "t")], ValueError,
         r"holds is True, but y = 2 < t = 0.1 is false"),
        (True, {"x": 0.05, "t": 0.1}, ("x", "<", "limit"), ValueError,
         r"compare names 'limit', which is not a key of values \('x', 't'\)"),
        (True, {}, ("x", "<", "t"), ValueError, "compare names 'x', which is not a key of values"),
        (True, {"x": 0.05, "t": 0.1}, ("x", "=<", "t"), ValueError,
         r"compare's direction must be one of '<', '<=', '>', '>=', got '=<'"),
        (True, {"x": 0.05, "t": 0.1}, ("x", "t", "<"), ValueError, "compare's direction must be one of"),
        (True, {"x": 0.05, "t": 0.1}, "x < t", TypeError, r"compare must be \(name, direction, name\)"),
        (True, {"x": 0.05, "t": 0.1}, ("x", "<"), TypeError, "compare must be"),
        (True, {"x": 0.05, "t": 0.1}, [], TypeError, "compare must be"),
        (True, {"x": 0.05, "t": 0.1}, ("x", "<", 0.1), TypeError, "compare must be"),
    ],
)
def test_a_bad_or_contradicted_compare_is_refused_and_records_nothing(holds, values, compare, error, match):
    with pytest.raises(error, match=match):
        st.check("c", "a claim", holds, values=values, compare=compare)
    assert verdict.record()["claims"] == []


def test_a_check_without_compare_records_no_margin():
    st.check("plain", "a claim", True, values={"x": 1.0, "t": 2.0})
    assert "margin" not in verdict.record()["claims"][0] and "compare" not in verdict.record()["claims"][0]


def test_the_verdict_does_not_import_the_package_face():
    # seqtips/__init__.py imports every floor: a core module that imports it back would import in a circle
    import ast
    from pathlib import Path

    tree = ast.parse(Path(verdict.__file__).read_text(encoding="utf-8"))
    face = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and ((node.level == 1 and node.module is None and any(a.name == "__version__" for a in node.names))
                 or node.module == "seqtips")]
    assert face == [], f"seqtips/verdict.py imports from the package face: {face}"
    assert verdict.record()["environment"]["seqtips"] == st.__version__  # the installed version, as the face says
