"""Surnames of eleven nationalities, shipped with the package: :func:`load_surnames`.

The file ``seqtips/datasets/surnames.csv`` (built by ``scripts/build_surnames.py`` from
Faker's per-locale lists, MIT; see ``seqtips/datasets/README.md``) holds each surname with its
nationality and a fixed train/val/test split. It is checked on loading: a malformed file says
which line is wrong and how to rebuild it.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import _check

#: The shipped data file.
DATA_FILE = Path(__file__).resolve().parents[1] / "datasets" / "surnames.csv"
#: The three splits stored in the file, in this order.
SPLITS = ("train", "val", "test")
_COLUMNS = ["name", "nationality", "split"]
_REBUILD = (
    "Rebuild it from the repository root with `python scripts/build_surnames.py` "
    "(needs `pip install faker`)."
)

#: The nationalities the shipped file holds.
#: The longest name read (the shipped file's longest has 21 characters): every row is padded to the
#: longest name, so one absurd line must not cost gigabytes.
MAX_NAME_LENGTH = 64
NATIONALITIES = ("Czech", "Dutch", "English", "Finnish", "French", "German", "Irish", "Italian", "Russian",
                 "Spanish", "Swedish")


class SurnameFileError(ValueError):
    """The surname file exists but cannot be used as it is."""


def read_surname_rows(path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """Read and check the CSV: return its rows ``(name, nationality, split)``.

    A missing file raises ``FileNotFoundError``; a malformed one (wrong header, empty field,
    unknown split, a split with no rows) raises :class:`SurnameFileError`. Both messages say
    how to rebuild the file.
    """
    _check.instance("path", path, (str, Path), "a file path", optional=True)
    path = DATA_FILE if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"surname file not found: {path}. {_REBUILD}")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            table = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as err:
        raise SurnameFileError(f"cannot read {path} as UTF-8 CSV ({err}). {_REBUILD}") from None
    if not table or table[0] != _COLUMNS:
        found = table[0] if table else "an empty file"
        raise SurnameFileError(
            f"{path} must start with the header {','.join(_COLUMNS)}, found {found}. {_REBUILD}"
        )
    rows: list[tuple[str, str, str]] = []
    split_of: dict[str, tuple[str, int]] = {}
    for line, row in enumerate(table[1:], start=2):
        problem = None
        if len(row) != 3 or not row[0].strip() or row[2] not in SPLITS:
            problem = f"expected name,nationality,split with split one of {', '.join(SPLITS)}, got {row!r}"
        elif row[1] not in NATIONALITIES:
            problem = f"nationality must be one of {', '.join(NATIONALITIES)}, got {row[1]!r}"
        elif len(row[0]) > MAX_NAME_LENGTH:
            problem = f"a name of {len(row[0]):,} characters ({row[0][:20]!r}…): at most {MAX_NAME_LENGTH} are read"
        elif any(unicodedata.category(c).startswith("C") for c in row[0]):
            problem = f"the name {row[0]!r} holds a control or invisible character"
        elif row[0] in split_of and split_of[row[0]][0] != row[2]:
            first_split, first_line = split_of[row[0]]
            problem = f"the name {row[0]!r} is in split {row[2]} and also in {first_split} (line {first_line})"
        if problem:
            raise SurnameFileError(f"{path}, line {line}: {problem}. {_REBUILD}")
        split_of.setdefault(row[0], (row[2], line))
        rows.append((row[0], row[1], row[2]))
    missing = [s for s in SPLITS if not any(r[2] == s for r in rows)]
    if missing:
        raise SurnameFileError(f"{path} has no rows in split(s) {', '.join(missing)}. {_REBUILD}")
    untrained = sorted({r[1] for r in rows} - {r[1] for r in rows if r[2] == "train"})
    if untrained:  # its names could not be learned, and the other nationalities' numbers would shift
        raise SurnameFileError(f"{path}: nationality {', '.join(untrained)} has names in val/test but none in "
                               f"train. {_REBUILD}")
    return rows


class Vocabulary:
    """Characters ↔ indices, with four special symbols at fixed places.

    ``<pad>`` (0) fills short names in a batch, ``<bos>`` (1) starts every name, ``<eos>``
    (2) ends it, and ``<unk>`` (3) stands for any character the vocabulary was not built with.
    """

    PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
    SPECIALS = (PAD, BOS, EOS, UNK)

    def __init__(self, characters: Iterable[str]) -> None:
        chars = sorted(set(characters))
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"characters must be single-character strings, got {bad[:3]!r}")
        self.tokens: list[str] = [*self.SPECIALS, *chars]
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        self.pad_index, self.bos_index, self.eos_index, self.unk_index = 0, 1, 2, 3

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Vocabulary:
        """The vocabulary of every character that occurs in ``names``."""
        return cls(c for name in names for c in name)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and char in self.index

    def encode(self, name: str, bos: bool = False, eos: bool = False) -> list[int]:
        """Indices of the characters of ``name`` (unknown ones → ``<unk>``), optionally framed."""
        _check.instance("name", name, str, "a str")
        ids = [self.index.get(c, self.unk_index) for c in name]
        return [self.bos_index] * bos + ids + [self.eos_index] * eos

    def decode(self, ids: Iterable[int], unknown: str = "?") -> str:
        """The string of ``ids``: stops at ``<eos>``, skips ``<pad>``/``<bos>``, ``<unk>`` → ``unknown``."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"ids must lie in [0, {len(self.tokens)}), got {i}")
            if i == self.eos_index:
                break
            if i in (self.pad_index, self.bos_index):
                continue
            out.append(unknown if i == self.unk_index else self.tokens[i])
        return "".join(out)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.tokens) - len(self.SPECIALS)} characters + 4 specials)"


@dataclass
class SurnameSplit:
    """One split as tensors: row ``i`` is ``<bos> name`` (inputs) and ``name <eos>`` (targets).

    ``inputs``/``targets`` are ``[n, max_len + 1]`` padded with ``<pad>``; ``nationality`` is
    ``[n]``; ``lengths`` counts the real positions of each row (``len(name) + 1``).
    """

    names: list[str]
    inputs: torch.Tensor
    targets: torch.Tensor
    nationality: torch.Tensor
    lengths: torch.Tensor

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_chars(self) -> int:
        """Number of predicted characters (``<eos>`` included): the denominator of the NLL."""
        return int(self.lengths.sum())

    def batch(
        self, index: torch.Tensor, device: torch.device | str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rows ``index`` as ``(inputs, targets, nationality)``, cut to their longest name."""
        _check.instance("index", index, torch.Tensor, "a 1-D tensor of row numbers")
        if index.dim() != 1 or len(index) == 0:
            raise ValueError(f"index must be a non-empty 1-D tensor of row numbers, got shape {tuple(index.shape)}")
        width = int(self.lengths[index].max())
        x, y, nat = self.inputs[index, :width], self.targets[index, :width], self.nationality[index]
        if device is not None:
            x, y, nat = x.to(device), y.to(device), nat.to(device)
        return x, y, nat


@dataclass
class SurnameData:
    """The surname data set: vocabulary, nationality names and the three splits."""

    vocab: Vocabulary
    nationalities: list[str]
    train: SurnameSplit
    val: SurnameSplit
    test: SurnameSplit

    def nationality_index(self, nationality: str) -> int:
        """The index of ``nationality`` (e.g. ``"Irish"``)."""
        if nationality not in self.nationalities:
            raise ValueError(
                f"nationality must be one of {', '.join(self.nationalities)}, got {nationality!r}"
            )
        return self.nationalities.index(nationality)

    def summary(self) -> str:
        """A few lines: sizes of the splits and names per nationality."""
        counts = {n: int((self.train.nationality == i).sum()) for i, n in enumerate(self.nationalities)}
        total = len(self.train) + len(self.val) + len(self.test)
        lines = [
            f"{total} surnames, {len(self.nationalities)} nationalities, "
            f"{len(self.vocab)} symbols ({len(self.vocab) - 4} characters + 4 specials)",
            f"train {len(self.train)} / val {len(self.val)} / test {len(self.test)}",
            "train names per nationality: " + ", ".join(f"{n} {c}" for n, c in counts.items()),
        ]
        return "\n".join(lines)


def _encode_split(
    rows: Sequence[tuple[str, str]], vocab: Vocabulary, nationalities: list[str], width: int
) -> SurnameSplit:
    n = len(rows)
    inputs = torch.full((n, width), vocab.pad_index, dtype=torch.long)
    targets = torch.full((n, width), vocab.pad_index, dtype=torch.long)
    lengths = torch.empty(n, dtype=torch.long)
    for i, (name, _) in enumerate(rows):
        ids = vocab.encode(name, bos=True, eos=True)
        inputs[i, : len(ids) - 1] = torch.tensor(ids[:-1])
        targets[i, : len(ids) - 1] = torch.tensor(ids[1:])
        lengths[i] = len(ids) - 1
    nat = torch.tensor([nationalities.index(nat) for _, nat in rows], dtype=torch.long)
    return SurnameSplit([name for name, _ in rows], inputs, targets, nat, lengths)


def load_surnames(path: str | Path | None = None) -> SurnameData:
    """Load the surname file (default: the shipped one) into tensors.

    The vocabulary is built from the training names only: a character seen only in
    validation or test becomes ``<unk>``, as it would for any new name.
    """
    rows = read_surname_rows(path)
    nationalities = sorted({nat for _, nat, _ in rows})
    train_names = [name for name, _, split in rows if split == "train"]
    vocab = Vocabulary.from_names(train_names)
    width = max(len(name) for name, _, _ in rows) + 1
    splits = {
        s: _encode_split([(n, nat) for n, nat, split in rows if split == s], vocab, nationalities, width)
        for s in SPLITS
    }
    return SurnameData(vocab, nationalities, splits["train"], splits["val"], splits["test"])
