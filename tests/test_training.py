"""The recording training loop and the MSE evaluator."""

import math

import pytest
import torch
from torch import nn

import seqtips as st
from seqtips.lessons import nb05_early_stopping as nb05


@pytest.fixture(autouse=True)
def as_setup_runs_it():
    """One torch thread and denormals flushed, as st.setup sets them: a tiny GRU otherwise crawls (seconds per
    run instead of a fraction) once its weights grow denormal numbers. Restored afterwards."""
    threads, flushed = torch.get_num_threads(), torch.tensor([1e-42]).mul(1.0).item() == 0.0
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    yield
    torch.set_num_threads(threads)
    torch.set_flush_denormal(flushed)


def _setup(cell="gru", seed=0, lr=1e-2):
    torch.manual_seed(seed)
    model = st.SequenceModel(cell, 2, 16)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    batches = st.adding_batches(32, 6, torch.Generator().manual_seed(seed))
    x, y = st.adding_problem(256, 6, generator=torch.Generator().manual_seed(99))
    return model, opt, batches, st.mse_evaluator(x, y)


def test_train_records_and_learns():
    model, opt, batches, ev = _setup()
    h = st.train(model, opt, batches, steps=200, evaluate=ev, eval_every=50, label="gru")
    assert h.label == "gru" and h.step == list(range(1, 201))
    assert len(h.train_loss) == len(h.grad_norm) == 200
    assert h.eval_step == [0, 50, 100, 150, 200]
    assert h.eval_loss[-1] < 0.5 * h.eval_loss[0]
    assert h.final_eval == h.eval_loss[-1]
    assert not h.diverged and h.stop_reason == "completed 200 steps"
    assert h.seconds > 0 and h.seconds_per_step() > 0
    assert h.steps_to(10.0) == 0 and h.steps_to(-1.0) is None


def test_train_is_reproducible():
    a = st.train(*_setup()[:3], steps=20)
    b = st.train(*_setup()[:3], steps=20)
    assert a.train_loss == b.train_loss and a.grad_norm == b.grad_norm


def test_grad_norm_is_the_norm_before_clipping():
    model, opt, batches, _ = _setup()
    twin, twin_opt, twin_batches, _ = _setup()
    clipped = st.train(model, opt, batches, steps=1, clip=1e-3)
    free = st.train(twin, twin_opt, twin_batches, steps=1)
    assert clipped.grad_norm[0] == pytest.approx(free.grad_norm[0])
    assert clipped.grad_norm[0] > 1e-3


def test_clipping_limits_the_update():
    model, _, batches, _ = _setup()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    st.train(model, opt, batches, steps=1, clip=1e-3)
    moved = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert moved.item() == pytest.approx(1e-3, rel=1e-3)


def test_train_stops_on_non_finite_loss():
    torch.manual_seed(0)
    model = st.SequenceModel("rnn", 2, 16)
    with torch.no_grad():
        nn.init.orthogonal_(model.rnn.weight_hh_l0, gain=3.0)
    opt = torch.optim.SGD(model.parameters(), lr=5.0)
    h = st.train(model, opt, st.adding_batches(32, 10, torch.Generator().manual_seed(0)), steps=300)
    assert h.diverged
    assert "non-finite" in h.stop_reason and "step" in h.stop_reason
    assert all(math.isfinite(v) for v in h.train_loss + h.grad_norm)
    assert h.final_eval == math.inf
    assert len(h.train_loss) < 300


def test_train_stops_on_non_finite_evaluation():
    model, opt, batches, _ = _setup()
    calls = []

    def flaky(m):
        calls.append(1)
        return 1.0 if len(calls) < 3 else float("nan")

    h = st.train(model, opt, batches, steps=100, evaluate=flaky, eval_every=10)
    assert h.diverged and "evaluation became non-finite" in h.stop_reason and "step 20" in h.stop_reason
    assert h.eval_loss == [1.0, 1.0]


def test_running_out_of_batches():
    model, opt, _, _ = _setup()
    few = [st.adding_problem(8, 6) for _ in range(3)]
    h = st.train(model, opt, few, steps=10)
    assert h.steps_done == 3 and h.stop_reason == "batches ran out after 3 steps"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"steps": 0}, ValueError, "steps"), ({"steps": 5.0}, TypeError, "steps"), ({"clip": 0}, ValueError, "clip"),
     ({"clip": -1.0}, ValueError, "clip"), ({"clip": float("inf")}, ValueError, "clip"),
     ({"clip": "1"}, TypeError, "clip"), ({"eval_every": 0}, ValueError, "eval_every"),
     ({"model": "m"}, TypeError, "model"), ({"optimizer": None}, TypeError, "optimizer"),
     ({"evaluate": 3}, TypeError, "evaluate"),
     ({"batches": torch.zeros(3, 2)}, TypeError, "batches"), ({"batches": 3}, TypeError, "batches")],
)
def test_train_bad_input(kwargs, error, match):
    model, opt, batches, _ = _setup()
    args = {"model": model, "optimizer": opt, "batches": batches, "steps": 5, **kwargs}
    with pytest.raises(error, match=match):
        st.train(**args)


def test_train_refuses_an_optimizer_over_some_of_the_trainable_parameters():
    model, _, batches, _ = _setup()
    opt = torch.optim.SGD(model.rnn.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"optimizer lacks 2 of model's trainable parameters: "
                                         r"head\.weight, head\.bias"):
        st.train(model, opt, batches, steps=2)


def test_train_refuses_a_stale_optimizer_after_the_recurrent_layer_was_replaced():
    # the order exercise 01.1 invites: optimizer first, then a new model.rnn
    model, opt, batches, _ = _setup()
    model.rnn = torch.nn.RNN(model.rnn.input_size, model.rnn.hidden_size, nonlinearity="relu", batch_first=True)
    with pytest.raises(ValueError, match=r"lacks 4 of model's trainable parameters: rnn\.weight_ih_l0, "
                                         r"rnn\.weight_hh_l0, rnn\.bias_ih_l0, rnn\.bias_hh_l0"):
        st.train(model, opt, batches, steps=2)


def test_train_trains_only_what_is_trainable_when_parameters_are_frozen():
    model, _, batches, _ = _setup()
    head_before = model.head.weight.detach().clone()
    rnn_before = model.rnn.weight_hh_l0.detach().clone()
    model.head.requires_grad_(False)
    opt = torch.optim.SGD(model.rnn.parameters(), lr=0.1)
    h = st.train(model, opt, batches, steps=2)
    assert h.steps_done == 2
    assert torch.equal(model.head.weight, head_before) and not torch.equal(model.rnn.weight_hh_l0, rnn_before)


def test_train_accepts_a_one_element_tensor_from_evaluate():
    model, opt, batches, _ = _setup()
    h = st.train(model, opt, batches, steps=2, evaluate=lambda m: torch.tensor(0.25), eval_every=1)
    assert h.eval_loss == [0.25, 0.25, 0.25] and all(isinstance(v, float) for v in h.eval_loss)


def test_train_compares_shapes_only_for_elementwise_losses():
    torch.manual_seed(0)
    model = st.SequenceModel("gru", 4, 8, output_size=2, vocab_size=5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    tokens, labels = nb05.counting_task(16, generator=torch.Generator().manual_seed(0))
    batches = [(tokens, labels.long())] * 3  # logits [16, 2] against class indices [16]
    h = st.train(model, opt, batches, steps=3, loss_fn=nn.functional.cross_entropy)
    assert h.steps_done == 3


def test_mse_evaluator():
    x, y = st.adding_problem(50, 4)
    const = nn.Module()
    const.p = nn.Parameter(torch.zeros(1))
    const.forward = lambda inp: torch.ones(len(inp)) + 0 * const.p
    assert st.mse_evaluator(x, y, batch_size=7)(const) == pytest.approx(((y - 1) ** 2).mean().item(), rel=1e-5)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [((torch.zeros(5, 2), torch.zeros(3)), ValueError, "same, non-zero number of examples"),
     ((torch.zeros(0, 2), torch.zeros(0)), ValueError, "non-zero"),
     ((torch.zeros(5, 2).tolist(), torch.zeros(5)), TypeError, "x must be a tensor"),
     ((torch.zeros(5, 2), torch.zeros(5).tolist()), TypeError, "y must be a tensor"),
     ((torch.zeros(5, 2), torch.zeros(5), 0), ValueError, "batch_size")],
)
def test_mse_evaluator_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        st.mse_evaluator(*args)


@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.L1Loss(), lambda p, y: nn.functional.mse_loss(p, y),
                                     lambda p, y: nn.functional.l1_loss(p, y, reduction="sum")],
                         ids=["MSELoss", "L1Loss", "lambda-mse", "lambda-l1"])
def test_train_refuses_a_broadcast_whatever_the_form_of_the_loss(loss_fn):
    model, opt, _, _ = _setup()
    x, _ = st.adding_problem(4, 6, generator=torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"train: the model's predictions have shape \(4,\) but the targets \(4, 1\)"):
        st.train(model, opt, [(x, torch.zeros(4, 1))], steps=1, loss_fn=loss_fn)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # not one step taken


def test_train_takes_a_lambda_loss_of_matching_shapes_and_a_loss_that_reshapes():
    model, opt, batches, _ = _setup()
    h = st.train(model, opt, batches, steps=3, loss_fn=lambda p, y: ((p - y) ** 2).mean())
    assert h.steps_done == 3
    h = st.train(model, opt, ((x, y[:, None]) for x, y in batches), steps=3,
                 loss_fn=lambda p, y: nn.functional.mse_loss(p, y.squeeze(-1)))
    assert h.steps_done == 3


def test_train_refuses_a_loss_that_is_not_callable():
    model, opt, batches, _ = _setup()
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        st.train(model, opt, batches, steps=1, loss_fn="mse")


def test_train_accepts_numpy_numbers_from_evaluate():
    import numpy as np

    model, opt, batches, _ = _setup()
    h = st.train(model, opt, batches, steps=2, evaluate=lambda m: np.float32(0.5), eval_every=1)
    assert h.eval_loss == [0.5, 0.5, 0.5]


def test_history_log_is_the_loops_guard():
    h = st.History(label="hand-written loop")
    assert h.log(1, torch.tensor(0.5), 2.0) and h.log_eval(1, 0.4)
    assert (h.step, h.train_loss, h.grad_norm, h.eval_step, h.eval_loss) == ([1], [0.5], [2.0], [1], [0.4])
    assert not h.log(2, 0.3, float("inf")) and h.diverged
    assert h.stop_reason == "gradient norm became non-finite (inf) at step 2"
    assert h.step == [1]                       # nothing recorded for the step that failed
    fresh = st.History()
    assert not fresh.log_eval(0, float("nan"))
    assert fresh.stop_reason == "evaluation became non-finite (nan) after step 0"
    with pytest.raises(TypeError, match="loss must be a single number"):
        fresh.log(1, "0.5", 1.0)


def test_history_log_without_a_measured_norm_guards_the_loss_alone():
    h = st.History()
    assert h.log(1, torch.tensor(0.5)) and h.train_loss == [0.5] and math.isnan(h.grad_norm[0])
    assert not h.log(2, float("nan")) and h.diverged
    assert h.stop_reason == "loss became non-finite (nan) at step 2" and h.step == [1]


def test_st_train_runs_the_loop_the_start_page_writes_out(clean_env):
    """Notebook 00's set-up check writes the training loop out, step by step; the solutions call st.train, whose
    body a reader has then seen once. Run the notebook's cell as it stands and st.train with the same settings:
    the same losses, norms and evaluations, number for number."""
    import json
    import math
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import seqtips as st

    cells = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "00_start_here.ipynb").read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    loop = next(source for source in code if "optimizer.step()" in source)
    loop = loop.split("\nLEARNED =")[0]  # the loop, without the cell's figure and verdict
    assert "for step, (x, y) in zip(" in loop and "history.log(step, loss, norm)" in loop
    shown = {"st": st, "torch": torch, "math": math, "time": time, "plt": plt, "device": torch.device("cpu"), "SEED": 3}
    exec(compile(loop, "00_start_here.ipynb", "exec"), shown)
    batch_gen = st.seed_everything(3)
    model = st.SequenceModel("gru", input_size=2, hidden_size=16)
    test_gen = torch.Generator().manual_seed(st.stream_seed(3, "test"))
    x, y = st.adding_problem(256, shown["LENGTH"], generator=test_gen)
    library = st.train(model, torch.optim.Adam(model.parameters(), lr=shown["LR"]),
                       st.adding_batches(shown["BATCH"], shown["LENGTH"], generator=batch_gen), shown["STEPS"],
                       evaluate=st.mse_evaluator(x, y), eval_every=shown["EVAL_EVERY"])
    notebook = shown["history"]
    assert notebook.steps_done == library.steps_done == shown["STEPS"]
    assert notebook.train_loss == library.train_loss
    assert notebook.grad_norm == library.grad_norm
    assert (notebook.eval_step, notebook.eval_loss) == (library.eval_step, library.eval_loss)
    assert notebook.stop_reason == library.stop_reason
