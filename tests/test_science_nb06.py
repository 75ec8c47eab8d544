"""Notebook 06's capacity control: a plain RNN generator can be widened to the GRU's parameter count."""

import torch

import seqtips as st
from seqtips.lessons import nb06_capstone as lesson
from seqtips.lessons import nb06_surnames


def _params(cell, hidden, n_chars=97, n_nat=10, embed=32):
    return st.count_parameters(lesson.SurnameGenerator(cell, n_chars, n_nat, embed, hidden))


def test_a_gru_generator_has_about_twice_the_parameters_of_an_rnn_of_the_same_width():
    gru, rnn = _params("gru", 96), _params("rnn", 96)
    # the recurrent layer triples (3 gates), embeddings and head stay: a ratio just under 2 here
    assert 1.8 < gru / rnn < 2.1


def test_the_widened_rnn_matches_the_gru_within_one_percent_and_is_still_an_elman_rnn():
    target = _params("gru", 96)
    matched = min(range(96, 193), key=lambda h: abs(_params("rnn", h) - target))
    assert abs(_params("rnn", matched) - target) / target < 0.01
    model = lesson.SurnameGenerator("rnn", 97, 10, 32, matched)
    assert isinstance(model.rnn, torch.nn.RNN) and model.rnn.hidden_size == matched


def test_the_uniform_baseline_counts_only_symbols_that_can_be_targets():
    data = nb06_surnames.load_surnames()
    targets = data.train.targets[data.train.targets != data.vocab.pad_index]
    symbols = set(torch.unique(targets).tolist())
    assert data.vocab.bos_index not in symbols and data.vocab.eos_index in symbols
    # every symbol but the three that are never a training target (padding, <bos>, <unk>)
    assert symbols == set(range(len(data.vocab))) - {data.vocab.pad_index, data.vocab.bos_index, data.vocab.unk_index}
