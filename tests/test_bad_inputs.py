"""The hardened public API, one bad input per row: the exception's type, and a message that names the culprit.

A wrong type raises TypeError, a wrong value ValueError (a malformed surname file SurnameFileError, a
ValueError), a device this machine lacks RuntimeError; every message names the argument or the environment
variable at fault, so a reader knows what to change.
"""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

import seqtips as st
from seqtips import runtime
from seqtips.lessons import nb05_early_stopping as nb05
from seqtips.lessons.nb02_gru_lstm import time_calls
from seqtips.lessons.nb06_surnames import SurnameFileError, read_surname_rows
from seqtips.unrolled import hidden_state_gradients


@pytest.fixture
def ctx(tmp_path, clean_env, fresh_record):
    """What a row may use: a scratch folder, the environment, and a fresh verdict record."""
    return SimpleNamespace(tmp_path=tmp_path, monkeypatch=clean_env)


def _model(seed=0):
    torch.manual_seed(seed)
    return st.SequenceModel("gru", 2, 4)


def _train(batches=None, model=None, optimizer=None, **kwargs):
    model = model or _model()
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.1)
    if batches is None:
        batches = st.adding_batches(4, 5, torch.Generator().manual_seed(0))
    return st.train(model, optimizer, batches, steps=2, **kwargs)


def _x(n=4, seq_len=5):
    return st.adding_problem(n, seq_len, generator=torch.Generator().manual_seed(0))[0]


def _setup_with_threads(ctx, value):
    ctx.monkeypatch.setenv("SEQTIPS_THREADS", value)
    before = torch.get_num_threads()
    try:
        st.setup("00_bad_inputs")
    finally:
        assert torch.get_num_threads() == before  # refused before anything changed


def _base_seed_from(ctx, value):
    ctx.monkeypatch.setenv("SEQTIPS_SEED", value)
    runtime.base_seed()


def _surnames(ctx, rows):
    path = ctx.tmp_path / "bad_surnames.csv"
    path.write_text("name,nationality,split\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    read_surname_rows(path)


def _cuda_on_a_cpu_only_machine(ctx):
    ctx.monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ctx.monkeypatch.setenv("SEQTIPS_DEVICE", "cuda")
    runtime.get_device()


SURNAME_FILE = ["bad_surnames.csv", "line", "build_surnames.py"]

CASES = [
    # training: what broadcasting or a stale notebook cell would otherwise hide
    ("train-prediction-4-vs-target-4x1", ValueError, ["train", "predictions", "(4,)", "targets", "(4, 1)"],
     lambda c: _train(batches=[(_x(), torch.zeros(4, 1))])),
    ("train-optimizer-of-another-model", ValueError, ["optimizer", "model"],
     lambda c: _train(optimizer=torch.optim.SGD(_model(1).parameters(), lr=0.1))),
    ("train-batch-is-one-tensor", TypeError, ["batches", "(inputs, targets) pairs"],
     lambda c: _train(batches=[_x()])),
    ("train-batch-is-a-triple", TypeError, ["batches", "(inputs, targets) pairs"],
     lambda c: _train(batches=[(_x(), torch.zeros(4), torch.zeros(4))])),
    ("train-batch-of-non-tensors", TypeError, ["batches", "(inputs, targets) pairs"],
     lambda c: _train(batches=[(_x().tolist(), [0.0] * 4)])),
    ("train-model-without-parameters", ValueError, ["model", "no parameters"],
     lambda c: _train(model=nn.Identity(), optimizer=torch.optim.SGD(_model().parameters(), lr=0.1))),
    ("train-evaluate-returns-a-string", TypeError, ["evaluate", "number", "str"],
     lambda c: _train(evaluate=lambda model: "0.5")),
    ("mse_evaluator-shape-mismatch", ValueError, ["mse_evaluator", "predictions", "targets", "(4, 1)"],
     lambda c: st.mse_evaluator(_x(), torch.zeros(4, 1))(_model())),
    ("hidden_state_gradients-shape-mismatch", ValueError, ["hidden_state_gradients", "targets", "(4, 1)"],
     lambda c: hidden_state_gradients(_model(), _x(), torch.zeros(4, 1))),
    # the environment
    *[(f"SEQTIPS_THREADS={v}", ValueError, ["SEQTIPS_THREADS", v], lambda c, v=v: _setup_with_threads(c, v))
      for v in ("0", "-1", "x", "1.5", "99999")],
    *[(f"SEQTIPS_SEED={v}", ValueError, ["SEQTIPS_SEED", v], lambda c, v=v: _base_seed_from(c, v))
      for v in ("-1", str(2**32), str(2**64), "abc")],
    ("seed_everything-2**32", ValueError, ["seed", str(2**32)], lambda c: st.seed_everything(2**32)),
    ("seeds-base-2**32", ValueError, ["base", str(2**32)], lambda c: st.seeds(2, base=2**32)),
    # unbounded work: refused at the door, before any allocation
    ("make_model-num_layers-10**5", ValueError, ["num_layers", "<= 64", "100000"],
     lambda c: st.SequenceModel("gru", 2, 4, num_layers=10**5)),
    ("seeds-10**9", ValueError, ["n", "<= 100", str(10**9)], lambda c: st.seeds(10**9)),
    ("time_calls-repeats-10**7", ValueError, ["repeats", "<= 10000", str(10**7)],
     lambda c: time_calls({"noop": lambda: None}, repeats=10**7)),
    ("plot_norm_histogram-bins-10**9", ValueError, ["bins", "<= 1000", str(10**9)],
     lambda c: st.plot_norm_histogram(None, [1.0, 2.0], bins=10**9)),
    ("get_device-tpu", ValueError, ["name", "'tpu'", "'cpu'"], lambda c: runtime.get_device("tpu")),
    ("SEQTIPS_DEVICE=cuda-without-cuda", RuntimeError, ["SEQTIPS_DEVICE", "sees none", "SEQTIPS_DEVICE=cpu"],
     _cuda_on_a_cpu_only_machine),
    # the model
    ("forget_bias-nan", ValueError, ["forget_bias", "finite"],
     lambda c: st.SequenceModel("lstm", 2, 4, forget_bias=float("nan"))),
    ("forget_bias-inf", ValueError, ["forget_bias", "finite"],
     lambda c: st.SequenceModel("lstm", 2, 4, forget_bias=float("inf"))),
    ("forget_bias-string", TypeError, ["forget_bias", "str"],
     lambda c: st.SequenceModel("lstm", 2, 4, forget_bias="1")),
    # the data: checked at the call, before any next()
    ("adding_batches-batch_size-0", ValueError, ["batch_size", "0"], lambda c: st.adding_batches(0, 10)),
    ("adding_batches-seq_len-1", ValueError, ["seq_len", "1"], lambda c: st.adding_batches(4, 1)),
    ("adding_batches-generator-1", TypeError, ["generator", "int"], lambda c: st.adding_batches(4, 10, generator=1)),
    ("counting_task-flip-1.5", ValueError, ["flip", "1.5"], lambda c: nb05.counting_task(10, flip=1.5)),
    # early stopping
    ("EarlyStopping-patience--1", ValueError, ["patience", "-1"], lambda c: st.EarlyStopping(patience=-1)),
    ("EarlyStopping-patience-1.5", TypeError, ["patience", "1.5"], lambda c: st.EarlyStopping(patience=1.5)),
    ("EarlyStopping-patience-'3'", TypeError, ["patience", "'3'"], lambda c: st.EarlyStopping(patience="3")),
    ("EarlyStopping-min_delta-nan", ValueError, ["min_delta", "nan"],
     lambda c: st.EarlyStopping(min_delta=float("nan"))),
    ("EarlyStopping-mode-up", ValueError, ["mode", "'up'", "'min'"], lambda c: st.EarlyStopping(mode="up")),
    # the verdict
    ("check-bad-id", ValueError, ["id", "'Rnn Stuck'"], lambda c: st.check("Rnn Stuck", "a claim", True)),
    ("check-holds-not-a-bool", TypeError, ["holds", "'yes'"], lambda c: st.check("a", "a claim", "yes")),
    ("check-value-not-a-number", TypeError, ["values['loss']", "str"],
     lambda c: st.check("a", "a claim", True, values={"loss": "low"})),
    # the surname file
    ("surnames-unknown-nationality", SurnameFileError, [*SURNAME_FILE, "line 3", "nationality", "'Klingon'"],
     lambda c: _surnames(c, ["Ab,Irish,train", "Cd,Klingon,val", "Ef,Dutch,test"])),
    ("surnames-name-in-two-splits", SurnameFileError, [*SURNAME_FILE, "line 4", "'Ab'", "train", "test"],
     lambda c: _surnames(c, ["Ab,Irish,train", "Cd,Dutch,val", "Ab,Irish,test"])),
    ("surnames-name-too-long", SurnameFileError, [*SURNAME_FILE, "line 3", "130,000 characters", "at most 64"],
     lambda c: _surnames(c, ["Ab,Irish,train", "X" * 130_000 + ",Dutch,val", "Ef,Dutch,test"])),
    ("surnames-nationality-not-in-train", SurnameFileError, ["bad_surnames.csv", "nationality Dutch", "none in train"],
     lambda c: _surnames(c, ["Ab,Irish,train", "Cd,Dutch,val", "Ef,Irish,test"])),
    ("surnames-control-character", SurnameFileError, [*SURNAME_FILE, "line 2", "control"],
     lambda c: _surnames(c, ["A\x07b,Irish,train", "Cd,Dutch,val", "Ef,Dutch,test"])),
]


@pytest.mark.parametrize(("error", "names", "call"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_bad_input_raises_the_right_error_naming_the_culprit(ctx, error, names, call):
    with pytest.raises(Exception) as caught:  # noqa: B017 - the exact type is checked below
        call(ctx)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value)
    for name in names:
        assert name in message, f"{name!r} not in the message: {message}"

