"""python -m seqtips.bench (seqtips/tools/bench.py): the table, the budgets, --json — with execute faked."""

import json
import math

import pytest

from seqtips.tools import bench


@pytest.fixture
def notebooks(tmp_path):
    paths = []
    for name in ("01_a.ipynb", "02_b.ipynb", "06_all_tips_together.ipynb"):
        path = tmp_path / name
        path.write_text("{}")
        paths.append(path)
    return paths


def fake_execute(results):
    calls = []

    def execute(path, env, timeout, write):
        calls.append({"path": path, "env": env, "timeout": timeout, "write": write})
        return {"notebook": str(path), "error": "", **results[path.name]}

    return execute, calls


def test_main_runs_each_notebook_and_writes_the_json(monkeypatch, notebooks, tmp_path, capsys):
    execute, calls = fake_execute({"01_a.ipynb": {"seconds": 12.34, "peak_mb": 400.4},
                                   "02_b.ipynb": {"seconds": 30.0, "peak_mb": 500.6},
                                   "06_all_tips_together.ipynb": {"seconds": 80.0, "peak_mb": 900.0}})
    monkeypatch.setattr(bench, "execute", execute)
    out = tmp_path / "bench.json"
    assert bench.main([*map(str, notebooks), "--seed", "7", "--timeout", "50", "--json", str(out)]) == 0
    assert [c["path"].name for c in calls] == ["01_a.ipynb", "02_b.ipynb", "06_all_tips_together.ipynb"]
    assert all(c["env"] == {"SEQTIPS_SEED": "7"} and c["timeout"] == 50 and c["write"] is False for c in calls)
    saved = json.loads(out.read_text())
    assert saved["notebooks"] == {"01_a.ipynb": {"seconds": 12.3, "peak_mb": 400},
                                  "02_b.ipynb": {"seconds": 30.0, "peak_mb": 501},
                                  "06_all_tips_together.ipynb": {"seconds": 80.0, "peak_mb": 900}}
    text = capsys.readouterr().out
    assert "OVER" not in text and "ERROR" not in text
    # the capstone has a budget of its own and stays out of the tip notebooks' total
    assert "total of the tip notebooks" in text and "42.3" in text


def test_main_reports_budgets_and_errors(monkeypatch, notebooks, capsys):
    execute, _ = fake_execute({"01_a.ipynb": {"seconds": 61.0, "peak_mb": 100.0},
                               "02_b.ipynb": {"seconds": 5.0, "peak_mb": 2000.0},
                               "06_all_tips_together.ipynb": {"seconds": 85.0, "peak_mb": 100.0}})
    monkeypatch.setattr(bench, "execute", execute)
    assert bench.main(list(map(str, notebooks))) == 0  # over budget is reported, not an error
    lines = capsys.readouterr().out.splitlines()
    assert "OVER > 60 s" in next(ln for ln in lines if ln.startswith("01_a"))
    assert "OVER > 1536 MB" in next(ln for ln in lines if ln.startswith("02_b"))
    assert next(ln for ln in lines if ln.startswith("06_all")).endswith("ok")  # 85 s within its own 90 s


def test_main_exits_non_zero_when_a_notebook_fails(monkeypatch, notebooks, tmp_path, capsys):
    def execute(path, env, timeout, write):
        if path.name == "02_b.ipynb":  # the child itself died: no numbers at all
            return {"notebook": str(path), "seconds": math.nan, "peak_mb": math.nan, "error": "kernel died"}
        return {"notebook": str(path), "seconds": 1.0, "peak_mb": 100.0, "error": ""}

    monkeypatch.setattr(bench, "execute", execute)
    out = tmp_path / "bench.json"
    assert bench.main([*map(str, notebooks), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert "ERROR: kernel died" in text
    assert "total of the tip notebooks" in text and text.rstrip().endswith("ok")  # 1.0 s: the dead run adds nothing
    assert json.loads(out.read_text())["notebooks"]["02_b.ipynb"] == {"seconds": None, "peak_mb": None}


def test_main_rejects_missing_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "nope.ipynb")])
    assert "does not exist" in capsys.readouterr().err


def test_main_needs_notebooks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        bench.main([])
    assert "none found in ./notebooks" in capsys.readouterr().err
