"""The surname data in the core: the shipped file, its checked loader, the vocabulary and split tensors."""

from collections import Counter

import pytest
import torch

from seqtips.lessons.nb06_surnames import (
    DATA_FILE,
    NATIONALITIES,
    SurnameFileError,
    Vocabulary,
    load_surnames,
    read_surname_rows,
)


@pytest.fixture
def data(surnames):
    return surnames


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped file --------------------------------------------------------------------

def test_shipped_file_sizes_and_nationalities(data):
    assert DATA_FILE.is_file() and DATA_FILE.stat().st_size < 300_000
    assert (len(data.train), len(data.val), len(data.test)) == (5645, 1209, 1209)
    assert data.nationalities == sorted(NATIONALITIES)
    counts = Counter(data.nationalities[i] for i in data.train.nationality.tolist())
    assert min(counts.values()) >= 100  # every nationality has a few hundred names in all


def test_split_is_stratified(data):
    total = len(data.train) + len(data.val) + len(data.test)
    for i, _ in enumerate(data.nationalities):
        n = {s: int((getattr(data, s).nationality == i).sum()) for s in ("train", "val", "test")}
        share = sum(n.values()) / total
        for s in ("val", "test"):
            assert abs(n[s] / len(getattr(data, s)) - share) < 0.005
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
    with pytest.raises(TypeError, match="name must be a str"):
        vocab.encode(3)
    with pytest.raises(ValueError, match="single-character"):
        Vocabulary(["ab"])


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


# --- malformed or missing files ----------------------------------------------------------

def test_missing_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="python scripts/build_surnames.py"):
        load_surnames(tmp_path / "nope.csv")


HEADER = "name,nationality,split\n"


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "header"),
        ("name,label,split\nAb,Irish,train\n", "header"),
        (HEADER + "Ab,Irish,train\nCd,Irish,dev\n", "line 3: expected name,nationality,split"),
        (HEADER + "Ab,Irish,train\n,Irish,val\n", "line 3: expected"),
        (HEADER + "Ab,Irish\n", "line 2: expected"),
        (HEADER + "Ab,Irish,train\nCd,Irish,val\n", "no rows in split.s. test"),
        (HEADER + "Ab,Irish,train\nCd,Martian,val\n", "line 3: nationality must be one of Czech"),
        (HEADER + "Ab,Irish,train\nCd,irish,val\n", "line 3: nationality"),
        (HEADER + "Ab,Irish,train\nCd,Dutch,val\nAb,Irish,test\n", "line 4: the name 'Ab' is in split test and also "
                                                                    "in train .line 2."),
        (HEADER + "Ab,Irish,train\nC\td,Dutch,val\n", r"line 3: the name 'C\\td' holds a control"),
        (HEADER + "Ab,Irish,train\nC\u200bd,Dutch,val\n", "line 3: the name .* holds a control or invisible"),
    ],
)
def test_malformed_file_says_where_and_how_to_rebuild(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(SurnameFileError, match=match) as err:
        load_surnames(path)
    assert str(path) in str(err.value)
    assert "python scripts/build_surnames.py" in str(err.value)


def test_a_name_may_repeat_within_one_split(tmp_path):
    text = HEADER + "Ab,Irish,train\nAb,Dutch,train\nCd,Irish,val\nEf,Dutch,test\n"
    rows = read_surname_rows(write(tmp_path, text))
    assert rows[:2] == [("Ab", "Irish", "train"), ("Ab", "Dutch", "train")]


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,nationality,split\nMüller,German,train\n".encode("latin-1"))
    with pytest.raises(SurnameFileError, match="UTF-8"):
        load_surnames(path)


def test_small_file_loads(tmp_path):
    text = HEADER + "Ab,Irish,train\nBa,Dutch,train\nAbc,Irish,val\nÉ,Dutch,test\n"
    d = load_surnames(write(tmp_path, text))
    assert d.nationalities == ["Dutch", "Irish"]
    assert (len(d.train), len(d.val), len(d.test)) == (2, 1, 1)
    assert d.train.nationality.tolist() == [1, 0]
    assert d.test.targets[0, 0] == d.vocab.unk_index  # É never seen in training
    assert d.nationality_index("Irish") == 1
    assert "4 surnames, 2 nationalities" in d.summary()
    with pytest.raises(ValueError, match="nationality"):
        d.nationality_index("Czech")


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="path must be a file path"):
        read_surname_rows(3)


def test_russian_class_is_transliterated_male_forms(data):
    import importlib.util
    import sys

    script = DATA_FILE.parents[2] / "scripts" / "build_surnames.py"
    spec = importlib.util.spec_from_file_location("build_surnames", script)
    build = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_surnames", build)
    spec.loader.exec_module(build)
    assert build.transliterate("Соловьев") == "Solovev" and build.transliterate("Щукин") == "Shchukin"
    russian = [r[0] for r in read_surname_rows() if r[1] == "Russian"]
    assert 200 <= len(russian) <= 250  # Faker's 250 male forms, less any name another class lists too
    assert all(ord(c) < 0x80 for name in russian for c in name)  # transliterated, no Cyrillic left
    assert sum(name.endswith(("ov", "ev", "in")) for name in russian) > 0.8 * len(russian)  # male forms
