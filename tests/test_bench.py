import nbformat
import pytest

from seqtips import bench


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_measure_reports_time_memory_and_writes(tmp_path):
    source = "import os\nblob = bytearray(200 * 2**20)\nprint(os.environ['SEQTIPS_SEED'])"
    path = _notebook(tmp_path / "tiny.ipynb", source)
    result = bench.measure(path, timeout=120, write=True, seed=42)
    assert result["errors"] == []
    assert 0 < result["seconds"] < 120
    assert result["peak_mb"] > 200  # the kernel's 200 MB allocation is seen
    executed = nbformat.read(path, as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "42"


def test_measure_reports_errors(tmp_path):
    path = _notebook(tmp_path / "broken.ipynb", "raise RuntimeError('boom')")
    result = bench.measure(path, timeout=120)
    assert result["errors"] and "boom" in result["errors"][0]


def test_main_rejects_missing_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "nope.ipynb")])
    assert "does not exist" in capsys.readouterr().err
