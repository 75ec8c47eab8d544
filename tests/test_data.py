"""Synthetic tasks: the adding problem, its endless batches, and the counting task with label noise."""

import pytest
import torch

import seqtips as st
from seqtips.lessons import nb05_early_stopping as nb05


def test_adding_problem_shapes_and_markers():
    x, y = st.adding_problem(500, 11, generator=torch.Generator().manual_seed(0))
    assert x.shape == (500, 11, 2) and x.dtype == torch.float32
    assert y.shape == (500,)
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    half = 11 // 2
    assert (markers[:, :half].sum(1) == 1).all()
    assert (markers[:, half:].sum(1) == 1).all()
    assert torch.allclose((values * markers).sum(1), y)


def test_adding_problem_baseline_is_one_sixth():
    _, y = st.adding_problem(200_000, 4, generator=torch.Generator().manual_seed(1))
    assert abs(((y - 1.0) ** 2).mean().item() - st.ADDING_BASELINE_MSE) < 0.003


def test_adding_problem_reproducible_with_generator():
    a = st.adding_problem(10, 6, generator=torch.Generator().manual_seed(3))
    b = st.adding_problem(10, 6, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_adding_problem_shortest():
    x, y = st.adding_problem(3, 2)
    assert (x[:, :, 1] == 1).all()
    assert torch.allclose(x[:, :, 0].sum(1), y)


@pytest.mark.parametrize(("n", "seq_len", "error", "match"),
                         [(0, 10, ValueError, "n must"), (5, 1, ValueError, "seq_len must"),
                          (2.0, 10, TypeError, "n must"), (5, "10", TypeError, "seq_len must"),
                          (True, 10, TypeError, "n must")])
def test_adding_problem_bad_input(n, seq_len, error, match):
    with pytest.raises(error, match=match):
        st.adding_problem(n, seq_len)


def test_adding_problem_bad_generator():
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        st.adding_problem(3, 4, generator=7)


def test_adding_batches_fresh_and_reproducible():
    stream = st.adding_batches(8, 5, torch.Generator().manual_seed(0))
    a, b = next(stream), next(stream)
    assert a[0].shape == (8, 5, 2) and not torch.equal(a[0], b[0])
    again = next(st.adding_batches(8, 5, torch.Generator().manual_seed(0)))
    assert torch.equal(a[0], again[0])


def test_adding_batches_checks_its_arguments_at_the_call():
    with pytest.raises(ValueError, match="batch_size"):
        st.adding_batches(0, 5)  # no next(): a mistake shows where it was made
    with pytest.raises(TypeError, match="generator"):
        st.adding_batches(4, 5, generator=1)


def test_counting_task_labels_and_noise():
    g = torch.Generator().manual_seed(0)
    tokens, labels = nb05.counting_task(1000, seq_len=20, vocab_size=5, generator=g)
    assert tokens.shape == (1000, 20) and tokens.dtype == torch.int64
    assert tokens.min() >= 0 and tokens.max() <= 4
    truth = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).float()
    assert torch.equal(labels, truth)
    assert 0.3 < labels.mean().item() < 0.6
    g = torch.Generator().manual_seed(0)
    tokens2, noisy = nb05.counting_task(1000, seq_len=20, vocab_size=5, flip=0.25, generator=g)
    assert torch.equal(tokens, tokens2)
    assert (noisy != labels).sum().item() == 250


@pytest.mark.parametrize(("kwargs", "error", "match"),
                         [({"n": 0}, ValueError, "n must"), ({"vocab_size": 2}, ValueError, "vocab_size"),
                          ({"flip": 1.5}, ValueError, "flip"), ({"flip": -0.1}, ValueError, "flip"),
                          ({"flip": float("nan")}, ValueError, "flip"), ({"flip": "0.1"}, TypeError, "flip"),
                          ({"seq_len": 0}, ValueError, "seq_len"), ({"n": 10.0}, TypeError, "n must"),
                          ({"generator": 3}, TypeError, "generator")])
def test_counting_task_bad_input(kwargs, error, match):
    args = {"n": 10, **kwargs}
    with pytest.raises(error, match=match):
        nb05.counting_task(**args)


def test_counting_task_flips_every_label_at_one():
    g = torch.Generator().manual_seed(0)
    _, clean = nb05.counting_task(50, generator=g)
    g = torch.Generator().manual_seed(0)
    _, flipped = nb05.counting_task(50, flip=1.0, generator=g)
    assert torch.equal(flipped, 1.0 - clean)
