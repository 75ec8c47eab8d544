"""Device, seeds and the notebooks' setup call (seqtips/runtime.py)."""

import copy
import random

import matplotlib
import numpy as np
import pytest
import torch

import seqtips as st
from seqtips import plots, runtime, verdict


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def restore_process_state(clean_env):
    """st.setup changes process-wide state: give it back after the test."""
    threads, rc, run = torch.get_num_threads(), dict(matplotlib.rcParams), copy.deepcopy(verdict._run)
    yield
    torch.set_num_threads(threads)
    torch.set_flush_denormal(False)
    matplotlib.rcParams.update(rc)
    verdict._run.clear()
    verdict._run.update(run)


# --- get_device ---------------------------------------------------------------------------------


def test_get_device_default_is_cuda_if_present_else_cpu(monkeypatch):
    monkeypatch.delenv("SEQTIPS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.get_device().type == expected


def test_get_device_uses_mps_only_when_asked(monkeypatch, no_cuda):
    monkeypatch.delenv("SEQTIPS_DEVICE", raising=False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert runtime.get_device() == torch.device("cpu")
    assert runtime.get_device("mps").type == "mps"


def test_get_device_name_and_env(monkeypatch):
    assert runtime.get_device("cpu") == torch.device("cpu")
    assert runtime.get_device(" CPU ") == torch.device("cpu")
    monkeypatch.setenv("SEQTIPS_DEVICE", "cpu")
    assert runtime.get_device() == torch.device("cpu")
    monkeypatch.setenv("SEQTIPS_DEVICE", "  ")
    assert runtime.get_device().type in ("cpu", "cuda")  # blank means unset


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda:x", "", "cpu:0:1", "cpu:0", "mps:1"])
def test_get_device_unknown_name(bad):
    with pytest.raises(ValueError, match="name must be one of 'cpu'"):
        runtime.get_device(bad)


def test_get_device_unknown_env(monkeypatch):
    monkeypatch.setenv("SEQTIPS_DEVICE", "gpu")
    with pytest.raises(ValueError, match="SEQTIPS_DEVICE must be one of"):
        runtime.get_device()


def test_get_device_non_string():
    with pytest.raises(TypeError, match="name must be a device name"):
        runtime.get_device(0)


def test_get_device_missing_cuda_says_how_to_fall_back(monkeypatch, no_cuda):
    with pytest.raises(RuntimeError, match="SEQTIPS_DEVICE=cpu"):
        runtime.get_device("cuda")
    monkeypatch.setenv("SEQTIPS_DEVICE", "cuda:0")
    with pytest.raises(RuntimeError, match="SEQTIPS_DEVICE='cuda:0' asks for a CUDA GPU.*sees none"):
        runtime.get_device()


def test_get_device_missing_gpu_index(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RuntimeError, match=r"only 1 GPU\(s\) are visible.*SEQTIPS_DEVICE=cpu"):
        runtime.get_device("cuda:3")


def test_get_device_missing_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS.*SEQTIPS_DEVICE=cpu"):
        runtime.get_device("mps")


# --- seeds --------------------------------------------------------------------------------------


def test_base_seed(monkeypatch):
    monkeypatch.delenv("SEQTIPS_SEED", raising=False)
    assert runtime.base_seed() == 0
    assert st.seeds(3) == [0, 1, 2]  # base seed 0 keeps the seeds 0, 1, 2
    monkeypatch.setenv("SEQTIPS_SEED", " 1234 ")
    assert runtime.base_seed() == 1234
    assert st.seeds(3) == [123400, 123401, 123402]  # base seed 1234's own block
    assert st.seeds(2, base=7) == [700, 701]
    monkeypatch.setenv("SEQTIPS_SEED", str(2**32 - 1))
    assert runtime.base_seed() == 2**32 - 1
    assert st.seeds(1) == [(2**32 - 1) % runtime.BLOCKS * 100]  # every base seed works; seeds stay below 2**30
    assert st.seeds(1)[0] < runtime.STREAM_SIZE


def test_base_seeds_share_no_seed():
    blocks = [set(st.seeds(100, base=b)) for b in range(0, 300)]
    assert len(set().union(*blocks)) == 300 * 100  # 300 base seeds, 30,000 distinct training seeds
    # each stream is its own quarter of torch's 32-bit seeds: no test set is drawn from a training seed
    flat = {s: {x for b in (0, 1, 4711) for x in st.seeds(5, base=b, stream=s)} for s in runtime.STREAMS}
    assert sum(len(v) for v in flat.values()) == len(set().union(*flat.values())) == 4 * 15
    assert st.stream_seed(5, "test") == 2 * 2**30 + 5 and st.stream_seed(st.stream_seed(5, "test"), "train") == 5
    assert max(st.seeds(100, base=2**32 - 1, stream="probe")) < 2**32
    with pytest.raises(ValueError, match="stream must be one of 'train', 'tuning', 'test', 'probe'"):
        st.seeds(1, stream="validation")
    with pytest.raises(ValueError, match="seed"):
        st.stream_seed(-1, "test")


@pytest.mark.parametrize("bad", ["abc", "1.5", "-3", str(2**32)])
def test_base_seed_bad(monkeypatch, bad):
    monkeypatch.setenv("SEQTIPS_SEED", bad)
    with pytest.raises(ValueError, match="SEQTIPS_SEED"):
        runtime.base_seed()


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-1, ValueError), (1.0, TypeError), (True, TypeError)])
def test_seeds_bad_n(bad, error):
    with pytest.raises(error, match="n must"):
        st.seeds(bad, base=0)


@pytest.mark.parametrize(("base", "error"), [(-1, ValueError), ("0", TypeError), (2**32, ValueError)])
def test_seeds_bad_base(base, error):
    with pytest.raises(error, match="base"):
        st.seeds(3, base=base)


def test_seed_everything_repeats():
    g1 = st.seed_everything(42)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g1).item())
    g2 = st.seed_everything(42)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g2).item())
    assert a == b
    st.seed_everything(43)
    assert torch.rand(1).item() != a[2]


def test_seed_everything_accepts_the_largest_seed():
    assert st.seed_everything(2**32 - 1).initial_seed() == 2**32 - 1


@pytest.mark.parametrize(
    ("bad", "error"),
    [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("3", TypeError), (None, TypeError), (True, TypeError)],
)
def test_seed_everything_bad(bad, error):
    with pytest.raises(error, match="seed"):
        st.seed_everything(bad)


# --- setup --------------------------------------------------------------------------------------


def test_setup_sets_threads_denormals_style_and_record(restore_process_state, capsys, monkeypatch):
    monkeypatch.setenv("SEQTIPS_SEED", "5")
    torch.set_num_threads(2)
    with matplotlib.rc_context():
        plots.use_style()
        styled = dict(matplotlib.rcParams)
    matplotlib.rcParams["axes.grid"] = not styled["axes.grid"]
    device = st.setup("my-notebook")
    assert device == runtime.get_device()
    assert torch.get_num_threads() == 1
    assert dict(matplotlib.rcParams) == styled
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    # denormals are flushed wherever the CPU can, and the line says so exactly then
    flushed = torch.tensor([1e-42]).mul(1.0).item() == 0.0
    assert flushed == ("denormals flushed to zero" in lines[0])
    assert "base seed 5" in lines[0] and torch.__version__ in lines[0] and "1 torch thread(s)" in lines[0]
    record = verdict.record()
    assert record["notebook"] == "my-notebook" and record["claims"] == []
    assert record["environment"]["base_seed"] == 5 and record["environment"]["torch_threads"] == 1


def test_setup_threads_from_argument_and_env(restore_process_state, capsys, monkeypatch):
    st.setup("x", threads=2, style=False)
    assert torch.get_num_threads() == 2
    assert "plot style" not in capsys.readouterr().out
    monkeypatch.setenv("SEQTIPS_THREADS", "3")
    st.setup("x", style=False)
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize(("threads", "error"), [(0, ValueError), (257, ValueError), (1.0, TypeError)])
def test_setup_bad_threads_argument(restore_process_state, threads, error):
    before = torch.get_num_threads()
    with pytest.raises(error, match="threads"):
        st.setup("x", threads=threads)
    assert torch.get_num_threads() == before


def test_setup_refuses_an_unusable_record_folder_before_changing_anything(restore_process_state, tmp_path,
                                                                          monkeypatch, capsys):
    (tmp_path / "records").write_text("a file, not a folder")
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path / "records"))
    monkeypatch.setenv("SEQTIPS_THREADS", "3")
    before = torch.get_num_threads()
    with pytest.raises(ValueError, match="SEQTIPS_RECORD must name a folder"):
        st.setup("01_demo")
    assert torch.get_num_threads() == before and capsys.readouterr().out == ""


@pytest.mark.parametrize("name", ["../../x", "../x", "a/b", "/tmp/x", "..", ".hidden", "a\\b", "a\nb", "x" * 101])
def test_setup_refuses_a_notebook_name_that_leaves_the_record_folder(restore_process_state, tmp_path, monkeypatch,
                                                                    name):
    monkeypatch.setenv("SEQTIPS_RECORD", str(tmp_path / "records"))
    with pytest.raises(ValueError, match="notebook must be the notebook's file name without .ipynb"):
        st.setup(name, style=False)
    assert not list(tmp_path.parent.glob("x*.json")) and not list(tmp_path.glob("**/*.json"))


@pytest.mark.parametrize("name", ["01_gated_vs_plain_rnn", "tiny", "my notebook (copy)", "x" * 100, None])
def test_setup_takes_plain_notebook_names(restore_process_state, capsys, name):
    st.setup(name, style=False)
    assert verdict.record()["notebook"] == name
