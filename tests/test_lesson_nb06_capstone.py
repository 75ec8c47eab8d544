"""Companion of notebook 06 (the tips together): length batches, the conditioned generator, NLL and sampling."""

import math

import pytest
import torch

from seqtips.lessons.nb06_capstone import (
    BookTrainState,
    SurnameGenerator,
    char_nll,
    classify,
    copy_fraction,
    evaluate_nll,
    length_batches,
    pooled_sd,
    sample_names,
)


@pytest.fixture
def data(surnames):
    return surnames


def test_length_batches_cover_every_row_once_with_little_padding(data):
    lengths = data.train.lengths
    batches = length_batches(lengths, 64, torch.Generator().manual_seed(0))
    rows = torch.cat(batches)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    assert padded / int(lengths.sum()) < 1.05
    again = length_batches(lengths, 64, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))
    fixed = length_batches(lengths, 64, shuffle=False)
    assert torch.equal(lengths[torch.cat(fixed)], torch.sort(lengths).values)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((torch.tensor([3, 4]), 0), {}, ValueError, "batch_size"),
        ((torch.tensor([3, 4]), 2.0), {}, TypeError, "batch_size"),
        (([3, 4], 2), {}, TypeError, "lengths"),
        ((torch.tensor([]), 2), {}, ValueError, "lengths must be a non-empty 1-D"),
        ((torch.tensor([3, 4]), 2), {"generator": 0}, TypeError, "generator"),
    ],
)
def test_length_batches_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        length_batches(*args, **kwargs)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_generator_shapes_and_nationality_as_initial_state(data, cell):
    torch.manual_seed(0)
    model = SurnameGenerator(cell, len(data.vocab), len(data.nationalities), 8, 16)
    x, y, nat = data.train.batch(torch.arange(5))
    logits = model(x, nat)
    assert logits.shape == (*x.shape, len(data.vocab))
    other = model(x, (nat + 1) % len(data.nationalities))
    assert not torch.allclose(logits[:, 0], other[:, 0])  # the nationality changes the first step


def test_generator_continues_step_by_step_like_the_whole_sequence(data):
    torch.manual_seed(0)
    model = SurnameGenerator("lstm", len(data.vocab), len(data.nationalities), 8, 16)
    x, _, nat = data.train.batch(torch.arange(3))
    whole = model(x, nat)
    state, steps = None, []
    for t in range(x.shape[1]):
        logits, state = model(x[:, t : t + 1], nat, state, return_state=True)
        steps.append(logits)
    assert torch.allclose(torch.cat(steps, dim=1), whole, atol=1e-5)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("transformer", 10, 2), {}, ValueError, "cell must be one of"),
        ((3, 10, 2), {}, TypeError, "cell"),
        (("gru", 10, 2), {"hidden_size": 0}, ValueError, "hidden_size"),
        (("gru", 10.0, 2), {}, TypeError, "n_chars"),
        (("gru", 10, 2), {"pad_index": 10}, ValueError, "pad_index must be < n_chars"),
    ],
)
def test_generator_validates_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        SurnameGenerator(*args, **kwargs)


def test_generator_validates_its_inputs():
    model = SurnameGenerator("gru", 10, 2, 4, 8)
    with pytest.raises(ValueError, match="nationality must be"):
        model(torch.zeros(3, 4, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"x must be \[batch, time\]"):
        model(torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long))


def test_evaluate_nll_of_an_uninformed_model_is_log_vocab(data):
    model = SurnameGenerator("gru", len(data.vocab), len(data.nationalities), 8, 16)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    nll = evaluate_nll(model, data.val)
    assert nll == pytest.approx(math.log(len(data.vocab)), rel=1e-5)
    assert model.training  # evaluation gave the mode back
    model.eval()
    evaluate_nll(model, data.val)
    assert not model.training
    with pytest.raises(TypeError, match="split must be a SurnameSplit"):
        evaluate_nll(model, data)
    with pytest.raises(TypeError, match="model must be a SurnameGenerator"):
        evaluate_nll(torch.nn.Linear(2, 2), data.val)


def test_char_nll_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    full = char_nll(logits, targets, reduction="sum")
    manual = -sum(
        torch.log_softmax(logits[b, t], -1)[targets[b, t]] for b, t in [(0, 0), (0, 1), (1, 0)]
    )
    assert full == pytest.approx(float(manual), rel=1e-5)
    assert char_nll(logits, targets) == pytest.approx(float(manual) / 3, rel=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        char_nll(logits, targets, reduction="none")
    with pytest.raises(ValueError, match="disagree"):
        char_nll(logits, targets[:, :2])


def test_sampling_is_reproducible_and_clean(data):
    torch.manual_seed(0)
    model = SurnameGenerator("gru", len(data.vocab), len(data.nationalities), 8, 16)
    a = sample_names(model, data.vocab, 2, n=6, temperature=0.8, generator=torch.Generator().manual_seed(1))
    b = sample_names(model, data.vocab, 2, n=6, temperature=0.8, generator=torch.Generator().manual_seed(1))
    assert a == b and len(a) == 6
    assert all(len(s) <= 20 and "?" not in s for s in a)
    assert all(len(s) <= 3 for s in sample_names(model, data.vocab, 0, n=4, max_len=3))
    with pytest.raises(ValueError, match="temperature"):
        sample_names(model, data.vocab, 0, temperature=0)
    with pytest.raises(ValueError, match="nationality"):
        sample_names(model, data.vocab, len(data.nationalities))
    with pytest.raises(TypeError, match="vocab must be a Vocabulary"):
        sample_names(model, "abc", 0)


def test_copy_fraction():
    assert copy_fraction(["Ab", "Cd", "Ab", "Ef"], {"Ab", "Ef"}) == 0.75
    with pytest.raises(ValueError, match="samples"):
        copy_fraction([], {"Ab"})


# --- the book's train state, the pooled noise and the reading rule ---------------------------------------------

def _book_run(losses, criteria=5):
    model = torch.nn.Linear(1, 1, bias=False)
    state = BookTrainState(criteria)
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # the weights name the epoch they belong to
        if state.step(loss, model):
            break
    state.restore(model)
    return state, int(model.weight.item())


def test_the_books_rule_compares_with_the_previous_epoch_not_the_best():
    # a slow upward drift with one dip: the dip restarts the count, so the book's rule runs on ...
    state, saved = _book_run([1.0, 0.9, 0.95, 0.97, 0.96, 0.98, 0.99, 1.0, 1.01, 1.02], criteria=3)
    assert saved == 1 and state.stop and len(state.losses) == 8  # ... where "no new best for 3" stops at epoch 5
    # a dip that is not a new best is not saved
    state, saved = _book_run([1.0, 0.8, 0.9, 0.85, 0.95], criteria=5)
    assert saved == 1 and not state.stop


def test_the_books_rule_saves_the_first_epoch_and_stops_after_criteria_rises():
    state, saved = _book_run([1.0, 1.1, 1.2, 1.3], criteria=3)
    assert saved == 0 and state.stop and len(state.losses) == 4
    with pytest.raises(RuntimeError, match="nothing saved"):
        BookTrainState(2).restore(torch.nn.Linear(1, 1))


def test_pooled_sd_pools_each_group_around_its_own_mean():
    sd, dof = pooled_sd([[1.0, 2.0, 3.0], [10.0, 12.0, 14.0]])
    assert dof == 4 and sd == pytest.approx(((2 + 8) / 4) ** 0.5)
    assert pooled_sd([[5.0, 5.0], [7.0]]) == (0.0, 1)
    with pytest.raises(ValueError, match="two or more"):
        pooled_sd([[1.0], [2.0]])


def test_classify_reads_a_change_against_its_noise():
    assert classify(0.05, 0.02) == "helped" and classify(-0.05, 0.02) == "hurt"
    assert classify(0.039, 0.02) == "within noise" and classify(0.0, 0.02) == "within noise"
    assert classify(0.05, 0.02, z=3) == "within noise"
    with pytest.raises(ValueError):
        classify(0.1, 0.0)
