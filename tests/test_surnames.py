"""The surname data, its loader and vocabulary, batching, the generator, NLL and sampling."""

import math
from collections import Counter

import pytest
import torch

from seqtips.surnames import (
    DATA_FILE,
    SurnameFileError,
    SurnameGenerator,
    Vocabulary,
    char_nll,
    copy_fraction,
    evaluate_nll,
    length_batches,
    load_surnames,
    perplexity,
    read_surname_rows,
    sample_names,
)


@pytest.fixture(scope="module")
def data():
    return load_surnames()


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped file --------------------------------------------------------------------

def test_shipped_file_sizes_and_nationalities(data):
    assert DATA_FILE.is_file() and DATA_FILE.stat().st_size < 300_000
    assert (len(data.train), len(data.val), len(data.test)) == (5471, 1172, 1172)
    assert len(data.nationalities) == 10
    counts = Counter(data.nationalities[i] for i in data.train.nationality.tolist())
    assert min(counts.values()) >= 100  # every nationality has a few hundred names in all


def test_split_is_stratified(data):
    total = len(data.train) + len(data.val) + len(data.test)
    for i, _ in enumerate(data.nationalities):
        n = {s: int((data.split(s).nationality == i).sum()) for s in ("train", "val", "test")}
        share = sum(n.values()) / total
        for s in ("val", "test"):
            assert abs(n[s] / len(data.split(s)) - share) < 0.005
        assert abs(n["val"] - n["test"]) <= 1


def test_names_are_unique_latin_and_short(data):
    rows = read_surname_rows()
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))  # one nationality per name, one split per name
    assert max(map(len, names)) <= 20
    assert all(c.isalpha() or c in " ',-" for name in names for c in name)
    assert all(ord(c) < 0x250 for name in names for c in name)  # Latin script


# --- vocabulary --------------------------------------------------------------------------

def test_vocabulary_round_trip(data):
    vocab = data.vocab
    for name in data.train.names[:200] + ["Ó Fionáin", "van der Plas", "O'Brien"]:
        ids = vocab.encode(name, bos=True, eos=True)
        assert ids[0] == vocab.bos_index and ids[-1] == vocab.eos_index
        assert vocab.decode(ids) == name


def test_vocabulary_specials_and_unknown_characters():
    vocab = Vocabulary.from_names(["abc", "cab"])
    assert len(vocab) == 4 + 3
    assert vocab.tokens[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert (vocab.pad_index, vocab.bos_index, vocab.eos_index, vocab.unk_index) == (0, 1, 2, 3)
    assert vocab.encode("abz") == [vocab.index["a"], vocab.index["b"], vocab.unk_index]
    assert vocab.decode(vocab.encode("abz")) == "ab?"
    assert vocab.decode([vocab.pad_index, vocab.index["a"], vocab.eos_index, vocab.index["b"]]) == "a"
    assert "a" in vocab and "z" not in vocab
    with pytest.raises(ValueError, match="ids"):
        vocab.decode([99])
    with pytest.raises(ValueError, match="name"):
        vocab.encode(3)


def test_vocabulary_is_built_from_training_names_only(data):
    train_chars = {c for name in data.train.names for c in name}
    assert len(data.vocab) == len(train_chars) + 4
    unseen = [c for name in data.test.names for c in name if c not in train_chars]
    assert int((data.test.targets == data.vocab.unk_index).sum()) == len(unseen)


# --- tensors -----------------------------------------------------------------------------

def test_split_tensors_shift_by_one(data):
    split, vocab = data.train, data.vocab
    for i in (0, 17, len(split) - 1):
        n = len(split.names[i])
        assert int(split.lengths[i]) == n + 1
        assert split.inputs[i, 0] == vocab.bos_index
        assert torch.equal(split.inputs[i, 1 : n + 1], split.targets[i, :n])
        assert split.targets[i, n] == vocab.eos_index
        assert (split.targets[i, n + 1 :] == vocab.pad_index).all()
        assert vocab.decode(split.inputs[i].tolist()) == split.names[i]
    assert split.n_chars == sum(len(n) + 1 for n in split.names)


def test_batch_is_cut_to_its_longest_name(data):
    index = torch.tensor([0, 1, 2])
    x, y, nat = data.train.batch(index)
    assert x.shape == y.shape == (3, int(data.train.lengths[index].max()))
    assert nat.shape == (3,)
    with pytest.raises(ValueError, match="index"):
        data.train.batch(torch.tensor([], dtype=torch.long))


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
    with pytest.raises(ValueError, match="batch_size"):
        length_batches(lengths, 0)


# --- malformed or missing files ----------------------------------------------------------

def test_missing_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="python scripts/build_surnames.py"):
        load_surnames(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "header"),
        ("name,label,split\nAb,X,train\n", "header"),
        ("name,nationality,split\nAb,X,train\nCd,X,dev\n", "line 3"),
        ("name,nationality,split\nAb,X,train\n,X,val\n", "line 3"),
        ("name,nationality,split\nAb,X\n", "line 2"),
        ("name,nationality,split\nAb,X,train\nCd,X,val\n", "test"),
    ],
)
def test_malformed_file_says_how_to_rebuild(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(SurnameFileError, match=match) as err:
        load_surnames(path)
    assert "python scripts/build_surnames.py" in str(err.value)


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,nationality,split\nMüller,German,train\n".encode("latin-1"))
    with pytest.raises(SurnameFileError, match="UTF-8"):
        load_surnames(path)


def test_small_file_loads(tmp_path):
    text = "name,nationality,split\nAb,X,train\nBa,Y,train\nAbc,X,val\nÉ,Y,test\n"
    d = load_surnames(write(tmp_path, text))
    assert d.nationalities == ["X", "Y"]
    assert (len(d.train), len(d.val), len(d.test)) == (2, 1, 1)
    assert d.test.targets[0, 0] == d.vocab.unk_index  # É never seen in training
    assert d.nationality_index("Y") == 1
    with pytest.raises(ValueError, match="nationality"):
        d.nationality_index("Z")
    with pytest.raises(ValueError, match="name"):
        d.split("dev")


# --- model, NLL, sampling ----------------------------------------------------------------

@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_generator_shapes_and_nationality_as_initial_state(data, cell):
    torch.manual_seed(0)
    model = SurnameGenerator(cell, len(data.vocab), len(data.nationalities), 8, 16)
    x, y, nat = data.train.batch(torch.arange(5))
    logits = model(x, nat)
    assert logits.shape == (*x.shape, len(data.vocab))
    other = model(x, (nat + 1) % len(data.nationalities))
    assert not torch.allclose(logits[:, 0], other[:, 0])  # the nationality changes the first step


def test_generator_validates_arguments():
    with pytest.raises(ValueError, match="cell"):
        SurnameGenerator("transformer", 10, 2)
    with pytest.raises(ValueError, match="hidden_size"):
        SurnameGenerator("gru", 10, 2, hidden_size=0)
    model = SurnameGenerator("gru", 10, 2, 4, 8)
    with pytest.raises(ValueError, match="nationality"):
        model(torch.zeros(3, 4, dtype=torch.long), torch.zeros(2, dtype=torch.long))


def test_evaluate_nll_of_an_uninformed_model_is_log_vocab(data):
    model = SurnameGenerator("gru", len(data.vocab), len(data.nationalities), 8, 16)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    nll = evaluate_nll(model, data.val)
    assert nll == pytest.approx(math.log(len(data.vocab)), rel=1e-5)
    assert perplexity(nll) == pytest.approx(len(data.vocab), rel=1e-4)
    assert model.training  # evaluation gave the mode back


def test_char_nll_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    full = char_nll(logits, targets, reduction="sum")
    manual = -sum(
        torch.log_softmax(logits[b, t], -1)[targets[b, t]] for b, t in [(0, 0), (0, 1), (1, 0)]
    )
    assert full == pytest.approx(float(manual), rel=1e-5)
    assert char_nll(logits, targets) == pytest.approx(float(manual) / 3, rel=1e-5)


def test_sampling_is_reproducible_and_clean(data):
    torch.manual_seed(0)
    model = SurnameGenerator("gru", len(data.vocab), len(data.nationalities), 8, 16)
    a = sample_names(model, data.vocab, 2, n=6, temperature=0.8, generator=torch.Generator().manual_seed(1))
    b = sample_names(model, data.vocab, 2, n=6, temperature=0.8, generator=torch.Generator().manual_seed(1))
    assert a == b and len(a) == 6
    assert all(len(s) <= 20 and "?" not in s for s in a)
    with pytest.raises(ValueError, match="temperature"):
        sample_names(model, data.vocab, 0, temperature=0)
    with pytest.raises(ValueError, match="nationality"):
        sample_names(model, data.vocab, 10)


def test_copy_fraction():
    assert copy_fraction(["Ab", "Cd", "Ab", "Ef"], {"Ab", "Ef"}) == 0.75
    with pytest.raises(ValueError, match="samples"):
        copy_fraction([], {"Ab"})
