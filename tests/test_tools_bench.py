"""python -m seqtips.bench (seqtips/tools/bench.py): the table in seconds and reference units, the budgets,
stalls, --json — with execute and the reference workload faked."""

import json
import math

import pytest

from seqtips.tools import bench, reference


@pytest.fixture
def notebooks(tmp_path):
    paths = []
    for name in ("00_start_here.ipynb", "01_a.ipynb", "06_all_tips_together.ipynb"):
        path = tmp_path / name
        path.write_text("{}")
        paths.append(path)
    return paths


@pytest.fixture
def reference_half_second(monkeypatch):
    """The reference workload takes 0.4 s before and 0.6 s after every notebook: 0.5 s a unit."""
    times = iter([0.4, 0.6] * 10)
    calls = []

    def measure(cpu=None):
        calls.append(cpu)
        return next(times)

    monkeypatch.setattr(reference, "measure", measure)
    return calls


def fake_execute(results):
    calls = []

    def execute(path, env, timeout, write, cpu=None):
        calls.append({"path": path, "env": env, "timeout": timeout, "write": write, "cpu": cpu})
        return {"notebook": str(path), "error": "", "stalls": [], **results[path.name]}

    return execute, calls


def test_main_runs_each_notebook_between_two_references_and_writes_the_json(
        monkeypatch, notebooks, tmp_path, capsys, reference_half_second):
    execute, calls = fake_execute({"00_start_here.ipynb": {"seconds": 5.0, "peak_mb": 300.0},
                                   "01_a.ipynb": {"seconds": 12.34, "peak_mb": 400.4},
                                   "06_all_tips_together.ipynb": {"seconds": 80.0, "peak_mb": 900.0}})
    monkeypatch.setattr(bench, "execute", execute)
    out = tmp_path / "bench.json"
    assert bench.main([*map(str, notebooks), "--seed", "7", "--timeout", "50", "--json", str(out)]) == 0
    assert [c["path"].name for c in calls] == ["00_start_here.ipynb", "01_a.ipynb", "06_all_tips_together.ipynb"]
    assert all(c["env"] == {"SEQTIPS_SEED": "7", "SEQTIPS_THREADS": "1"} and c["timeout"] == 50
               and c["write"] is False for c in calls)
    assert len(reference_half_second) == 6  # before and after each notebook
    saved = json.loads(out.read_text())["notebooks"]
    assert saved["01_a.ipynb"] == {"seconds": 12.3, "units": 24.7, "reference_s": [0.4, 0.6], "peak_mb": 400,
                                   "stalls": 0}
    assert saved["06_all_tips_together.ipynb"]["units"] == 160.0
    text = capsys.readouterr().out
    assert "OVER" not in text and "ERROR" not in text and "stalls met: 0" in text


def test_budgets_are_in_reference_units(monkeypatch, notebooks, capsys, reference_half_second):
    # 00: 15 s = 30 units (> 29); 01: 58 s = 116 units (at its budget); 06: 88 s = 176 units (> 174)
    execute, _ = fake_execute({"00_start_here.ipynb": {"seconds": 15.0, "peak_mb": 100.0},
                               "01_a.ipynb": {"seconds": 58.0, "peak_mb": 2000.0},
                               "06_all_tips_together.ipynb": {"seconds": 88.0, "peak_mb": 100.0}})
    monkeypatch.setattr(bench, "execute", execute)
    assert bench.main(list(map(str, notebooks))) == 0  # over budget is reported, not an error
    lines = capsys.readouterr().out.splitlines()
    assert "OVER > 29 units" in next(ln for ln in lines if ln.startswith("00_"))
    row = next(ln for ln in lines if ln.startswith("01_a"))
    assert "> 116 units" not in row and "OVER > 1536 MB" in row
    assert "OVER > 174 units" in next(ln for ln in lines if ln.startswith("06_all"))


def test_a_stalled_run_is_reported_and_timed_on_its_retry(monkeypatch, notebooks, tmp_path, capsys,
                                                          reference_half_second):
    execute, _ = fake_execute({"00_start_here.ipynb": {"seconds": 5.0, "peak_mb": 100.0},
                               "01_a.ipynb": {"seconds": 20.0, "peak_mb": 100.0, "stalls": [{"cell": 3}]},
                               "06_all_tips_together.ipynb": {"seconds": 50.0, "peak_mb": 100.0}})
    monkeypatch.setattr(bench, "execute", execute)
    out = tmp_path / "bench.json"
    assert bench.main([*map(str, notebooks), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "stalled 1x, timed on the retry" in next(ln for ln in text.splitlines() if ln.startswith("01_a"))
    assert "stalls met: 1" in text
    assert json.loads(out.read_text())["notebooks"]["01_a.ipynb"]["stalls"] == 1


def test_main_exits_non_zero_when_a_notebook_fails(monkeypatch, notebooks, tmp_path, capsys, reference_half_second):
    def execute(path, env, timeout, write, cpu=None):
        if path.name == "01_a.ipynb":  # the child itself died, or every try stalled: no numbers at all
            return {"notebook": str(path), "seconds": math.nan, "peak_mb": math.nan, "error": "kernel died",
                    "stalls": []}
        return {"notebook": str(path), "seconds": 1.0, "peak_mb": 100.0, "error": "", "stalls": []}

    monkeypatch.setattr(bench, "execute", execute)
    out = tmp_path / "bench.json"
    assert bench.main([*map(str, notebooks), "--json", str(out)]) == 1
    assert "ERROR: kernel died" in capsys.readouterr().out
    saved = json.loads(out.read_text())["notebooks"]["01_a.ipynb"]
    assert saved["seconds"] is None and saved["units"] is None and saved["peak_mb"] is None


def test_main_rejects_missing_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "nope.ipynb")])
    assert "does not exist" in capsys.readouterr().err


def test_main_rejects_a_cpu_it_cannot_use(notebooks, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(notebooks[0]), "--cpu", "4096"])
    assert "--cpu must be one of" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    (["--timeout", "0"], "--timeout must be from 1 to 86400 seconds per cell, got 0"),
    (["--timeout", "-5"], "--timeout must be from 1 to 86400"),
    (["--seed", "-1"], "--seed must be from 0 to 4294967295, got -1"),
    (["--seed", str(2**32)], "--seed must be from 0 to 4294967295"),
    (["--json", "{tmp}/no/such/folder/b.json"], "--json: the folder {tmp}/no/such/folder does not exist"),
    (["--json", "{tmp}"], "--json must be a file, got the folder {tmp}"),
])
def test_main_refuses_bad_arguments_before_running_anything(monkeypatch, notebooks, tmp_path, capsys, extra, message):
    monkeypatch.setattr(bench, "execute", lambda *a, **k: pytest.fail("nothing may run"))
    monkeypatch.setattr(bench.reference, "measure", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(SystemExit) as exit:
        bench.main([str(notebooks[0]), *(a.format(tmp=tmp_path) for a in extra)])
    assert exit.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


def test_main_needs_notebooks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        bench.main([])
    assert "none found in ./notebooks" in capsys.readouterr().err


@pytest.mark.slow  # runs a child process
def test_reference_units_and_the_workload_itself():
    assert reference.units(10.0, 0.4, 0.6) == 20.0
    assert math.isnan(reference.units(10.0, 0.0, 0.0))
    seconds = reference.measure()  # the real workload, in a child process: well under a few seconds
    assert 0.01 < seconds < 30
