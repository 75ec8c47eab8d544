import random

import numpy as np
import pytest
import torch

import seqtips as st


def test_get_device_default_is_best_available(monkeypatch):
    monkeypatch.delenv("SEQTIPS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert st.get_device().type == expected


def test_get_device_name_and_env(monkeypatch):
    assert st.get_device("cpu") == torch.device("cpu")
    assert st.get_device(" CPU ") == torch.device("cpu")
    monkeypatch.setenv("SEQTIPS_DEVICE", "cpu")
    assert st.get_device() == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda:x", "", "cpu:0:1"])
def test_get_device_unknown_name(bad):
    with pytest.raises(ValueError, match="one of 'cpu'"):
        st.get_device(bad)


def test_get_device_unknown_env(monkeypatch):
    monkeypatch.setenv("SEQTIPS_DEVICE", "gpu")
    with pytest.raises(ValueError, match="SEQTIPS_DEVICE"):
        st.get_device()


def test_get_device_non_string():
    with pytest.raises(ValueError, match="name"):
        st.get_device(0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_get_device_missing_cuda_says_how_to_fall_back(monkeypatch):
    with pytest.raises(RuntimeError, match="SEQTIPS_DEVICE=cpu"):
        st.get_device("cuda")
    monkeypatch.setenv("SEQTIPS_DEVICE", "cuda:0")
    with pytest.raises(RuntimeError, match="no GPU|sees none"):
        st.get_device()


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="needs a machine without MPS")
def test_get_device_missing_mps():
    with pytest.raises(RuntimeError, match="MPS"):
        st.get_device("mps")


def test_base_seed(monkeypatch):
    monkeypatch.delenv("SEQTIPS_SEED", raising=False)
    assert st.base_seed() == 0
    monkeypatch.setenv("SEQTIPS_SEED", "1234")
    assert st.base_seed() == 1234
    assert st.seeds(3) == [1234, 1235, 1236]
    assert st.seeds(2, base=7) == [7, 8]


@pytest.mark.parametrize("bad", ["abc", "1.5", "-3"])
def test_base_seed_bad(monkeypatch, bad):
    monkeypatch.setenv("SEQTIPS_SEED", bad)
    with pytest.raises(ValueError, match="SEQTIPS_SEED"):
        st.base_seed()


@pytest.mark.parametrize("bad", [0, -1, 1.0, True])
def test_seeds_bad_n(bad):
    with pytest.raises(ValueError, match="n must"):
        st.seeds(bad, base=0)


def test_seed_everything_repeats():
    g1 = st.seed_everything(42)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g1).item())
    g2 = st.seed_everything(42)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g2).item())
    assert a == b
    st.seed_everything(43)
    assert torch.rand(1).item() != a[2]


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True])
def test_seed_everything_bad(bad):
    with pytest.raises(ValueError, match="seed"):
        st.seed_everything(bad)


def test_configure_cpu(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert st.configure_cpu(2) == 2
        monkeypatch.setenv("SEQTIPS_THREADS", "1")
        assert st.configure_cpu() == 1
        monkeypatch.setenv("SEQTIPS_THREADS", "many")
        with pytest.raises(ValueError, match="SEQTIPS_THREADS"):
            st.configure_cpu()
        with pytest.raises(ValueError, match="threads"):
            st.configure_cpu(0)
    finally:
        torch.set_num_threads(before)


def test_import_configures_one_thread_and_flushes_denormals():
    # seqtips sets one thread on import unless SEQTIPS_THREADS says otherwise.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SEQTIPS_THREADS"}
    code = (
        "import torch, seqtips; "
        "print(torch.get_num_threads(), torch.tensor([1e-42], dtype=torch.float32).mul(1.0).item())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    threads, tiny = out.stdout.split()
    assert threads == "1"
    assert float(tiny) == 0.0  # denormal flushed to zero


def test_describe_runtime_mentions_device_and_seed():
    line = st.describe_runtime(torch.device("cpu"), 5)
    assert "cpu" in line and "base seed 5" in line and torch.__version__ in line
