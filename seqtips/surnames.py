"""Surnames of ten nationalities, and a character-level generator conditioned on nationality.

The data (``seqtips/datasets/surnames.csv``, built by ``scripts/build_surnames.py``) holds
7,815 surnames with a nationality and a fixed train/val/test split. This module is the
plumbing around it, so that a notebook can keep the training loop in plain sight:

- :func:`load_surnames` reads the file into padded tensors with a :class:`Vocabulary`;
- :func:`length_batches` groups names of similar length, so a batch carries little padding;
- :class:`SurnameGenerator` is the book's conditioned model (chapter 7): the nationality's
  embedding is the initial hidden state, and the model predicts each next character;
- :func:`evaluate_nll` scores a model in nats per character, :func:`sample_names` draws names
  and :func:`copy_fraction` says how many of them are copies of training names.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data import _check_generator, _check_int
from .models import CELLS, _check_cell

#: The shipped data file.
DATA_FILE = Path(__file__).resolve().parent / "datasets" / "surnames.csv"
#: The three splits stored in the file, in this order.
SPLITS = ("train", "val", "test")
_COLUMNS = ["name", "nationality", "split"]
_REBUILD = (
    "Rebuild it from the repository root with `python scripts/build_surnames.py` "
    "(needs `pip install faker`)."
)

#: Recurrent cells the generator accepts (the same as :class:`seqtips.SequenceModel`'s).
GENERATOR_CELLS = CELLS


class SurnameFileError(ValueError):
    """The surname file exists but cannot be used as it is."""


def read_surname_rows(path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """Read and check the CSV: return its rows ``(name, nationality, split)``.

    A missing file raises ``FileNotFoundError``; a malformed one (wrong header, empty field,
    unknown split, a split with no rows) raises :class:`SurnameFileError`. Both messages say
    how to rebuild the file.
    """
    if path is not None and not isinstance(path, (str, Path)):
        raise ValueError(f"path must be a str, a Path or None, got {type(path).__name__}")
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
    for line, row in enumerate(table[1:], start=2):
        if len(row) != 3 or not row[0].strip() or not row[1].strip() or row[2] not in SPLITS:
            raise SurnameFileError(
                f"{path}, line {line}: expected name,nationality,split with split one of "
                f"{', '.join(SPLITS)}, got {row!r}. {_REBUILD}"
            )
        rows.append((row[0], row[1], row[2]))
    missing = [s for s in SPLITS if not any(r[2] == s for r in rows)]
    if missing:
        raise SurnameFileError(f"{path} has no rows in split(s) {', '.join(missing)}. {_REBUILD}")
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
        if not isinstance(name, str):
            raise ValueError(f"name must be a str, got {type(name).__name__}")
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
        if not isinstance(index, torch.Tensor) or index.dim() != 1 or len(index) == 0:
            raise ValueError("index must be a non-empty 1-D tensor of row numbers")
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

    def split(self, name: str) -> SurnameSplit:
        """The split called ``name`` (``"train"``, ``"val"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ValueError(f"name must be one of {', '.join(SPLITS)}, got {name!r}")
        return getattr(self, name)

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


def length_batches(
    lengths: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    shuffle: bool = True,
) -> list[torch.Tensor]:
    """Split row numbers into batches of names of similar length.

    The rows are shuffled (with ``generator``), sorted by length (ties stay shuffled), cut into
    batches of ``batch_size``, and the batches are shuffled again. Every batch then needs
    little padding, which is what makes an epoch cheaper. ``shuffle=False`` keeps the order of
    the lengths (for evaluation).
    """
    if not isinstance(lengths, torch.Tensor) or lengths.dim() != 1 or len(lengths) == 0:
        raise ValueError("lengths must be a non-empty 1-D tensor")
    _check_int("batch_size", batch_size, 1)
    _check_generator(generator)
    order = torch.randperm(len(lengths), generator=generator) if shuffle else torch.arange(len(lengths))
    order = order[torch.sort(lengths[order], stable=True).indices]
    batches = list(torch.split(order, batch_size))
    if shuffle:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator)]
    return batches


class SurnameGenerator(nn.Module):
    """A character-level language model of surnames, conditioned on nationality.

    The nationality's embedding (``hidden_size`` wide) is the recurrent layer's initial hidden
    state; each step reads one character's embedding and predicts the next character.
    ``cell`` is ``"rnn"`` (Elman), ``"gru"`` or ``"lstm"`` (the nationality sets ``h0``, ``c0``
    starts at zero).
    """

    def __init__(
        self,
        cell: str,
        n_chars: int,
        n_nationalities: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        pad_index: int = 0,
    ) -> None:
        super().__init__()
        _check_cell(cell)
        for name, value in (
            ("n_chars", n_chars),
            ("n_nationalities", n_nationalities),
            ("embedding_dim", embedding_dim),
            ("hidden_size", hidden_size),
        ):
            _check_int(name, value, 1)
        _check_int("pad_index", pad_index, 0)
        if pad_index >= n_chars:
            raise ValueError(f"pad_index must be < n_chars ({n_chars}), got {pad_index}")
        self.cell = cell.lower()
        self.char_embedding = nn.Embedding(n_chars, embedding_dim, padding_idx=pad_index)
        self.nationality_embedding = nn.Embedding(n_nationalities, hidden_size)
        self.rnn = GENERATOR_CELLS[self.cell](embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_chars)

    def initial_state(self, nationality: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The recurrent state before the first character, from the nationality indices."""
        h0 = self.nationality_embedding(nationality).unsqueeze(0)
        return (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0

    def forward(
        self,
        x: torch.Tensor,
        nationality: torch.Tensor,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
        return_state: bool = False,
    ):
        """Logits ``[batch, time, n_chars]`` for the next character after each of ``x``.

        ``x`` holds character ids ``[batch, time]``; ``nationality`` ids ``[batch]``.
        Pass ``state`` (and ``return_state=True``) to continue a sequence step by step.
        """
        if x.dim() != 2:
            raise ValueError(f"x must be [batch, time] character ids, got shape {tuple(x.shape)}")
        if nationality.shape != x.shape[:1]:
            raise ValueError(
                f"nationality must be [batch] = [{x.shape[0]}], got shape {tuple(nationality.shape)}"
            )
        if state is None:
            state = self.initial_state(nationality)
        out, state = self.rnn(self.char_embedding(x), state)
        logits = self.head(out)
        return (logits, state) if return_state else logits


def char_nll(logits: torch.Tensor, targets: torch.Tensor, pad_index: int = 0, reduction: str = "mean") -> torch.Tensor:
    """Negative log-likelihood of ``targets`` in nats, over the real (non-``<pad>``) positions.

    ``reduction="mean"`` gives nats per character (the training loss), ``"sum"`` the total.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits [batch, time, vocab] and targets [batch, time] disagree: "
            f"{tuple(logits.shape)} vs {tuple(targets.shape)}"
        )
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad_index, reduction=reduction
    )


@torch.no_grad()
def evaluate_nll(model: SurnameGenerator, split: SurnameSplit, batch_size: int = 256) -> float:
    """Mean negative log-likelihood per character (nats) of ``model`` on ``split``.

    Every character and the final ``<eos>`` count once; perplexity is ``exp`` of this value.
    The model is put in eval mode and back into the mode it was in.
    """
    if not isinstance(model, SurnameGenerator):
        raise ValueError(f"model must be a SurnameGenerator, got {type(model).__name__}")
    if not isinstance(split, SurnameSplit):
        raise ValueError(f"split must be a SurnameSplit, got {type(split).__name__}")
    _check_int("batch_size", batch_size, 1)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pad = model.char_embedding.padding_idx
    total = 0.0
    for index in length_batches(split.lengths, batch_size, shuffle=False):
        x, y, nat = split.batch(index, device)
        total += float(char_nll(model(x, nat), y, pad, reduction="sum"))
    model.train(was_training)
    return total / split.n_chars


def perplexity(nll: float) -> float:
    """Perplexity ``exp(nll)`` of a per-character NLL in nats."""
    if not isinstance(nll, (int, float)) or not math.isfinite(nll) or nll < 0:
        raise ValueError(f"nll must be a finite non-negative number, got {nll!r}")
    return math.exp(nll)


@torch.no_grad()
def sample_names(
    model: SurnameGenerator,
    vocab: Vocabulary,
    nationality: int,
    n: int = 5,
    temperature: float = 1.0,
    max_len: int = 20,
    generator: torch.Generator | None = None,
) -> list[str]:
    """Draw ``n`` surnames of nationality index ``nationality`` from ``model``.

    Each step samples from ``softmax(logits / temperature)``: below 1 the model plays safe,
    above 1 it takes risks. ``<pad>``, ``<bos>`` and ``<unk>`` are never drawn; a name ends at
    ``<eos>`` or after ``max_len`` characters.
    """
    if not isinstance(model, SurnameGenerator):
        raise ValueError(f"model must be a SurnameGenerator, got {type(model).__name__}")
    if not isinstance(vocab, Vocabulary):
        raise ValueError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
    n_nat = model.nationality_embedding.num_embeddings
    if isinstance(nationality, bool) or not isinstance(nationality, int) or not 0 <= nationality < n_nat:
        raise ValueError(f"nationality must be an index in [0, {n_nat}), got {nationality!r}")
    _check_int("n", n, 1)
    _check_int("max_len", max_len, 1)
    if not isinstance(temperature, (int, float)) or not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    _check_generator(generator)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    nat = torch.full((n,), nationality, dtype=torch.long, device=device)
    x = torch.full((n, 1), vocab.bos_index, dtype=torch.long, device=device)
    state = None
    banned = [vocab.pad_index, vocab.bos_index, vocab.unk_index]
    rows: list[list[int]] = [[] for _ in range(n)]
    done = torch.zeros(n, dtype=torch.bool)
    for _ in range(max_len):
        logits, state = model(x, nat, state, return_state=True)
        logits = logits[:, -1].float().cpu() / temperature
        logits[:, banned] = -math.inf
        nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)
        for i in range(n):
            if not done[i]:
                rows[i].append(int(nxt[i]))
        done |= nxt == vocab.eos_index
        if bool(done.all()):
            break
        x = nxt.unsqueeze(1).to(device)
    model.train(was_training)
    return [vocab.decode(r) for r in rows]


def copy_fraction(samples: Iterable[str], known: Iterable[str]) -> float:
    """Fraction of ``samples`` that occur verbatim in ``known`` (e.g. the training names)."""
    samples = list(samples)
    if not samples:
        raise ValueError("samples must not be empty")
    known = set(known)
    return sum(s in known for s in samples) / len(samples)
