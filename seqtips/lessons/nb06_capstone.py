"""Companion of notebook 06 (the tips together): a surname generator conditioned on nationality.

- :func:`length_batches` groups names of similar length, so a batch carries little padding;
- :class:`SurnameGenerator` is the book's conditioned model (chapter 7): the nationality's
  embedding is the initial hidden state, and the model predicts each next character;
- :func:`evaluate_nll` scores a model in nats per character, :func:`sample_names` draws names
  and :func:`copy_fraction` says how many of them are copies of training names;
- :class:`BookTrainState` is the book's chapter-7 checkpoint and early-stopping rule, as its code runs;
- :func:`pooled_sd` and :func:`classify` are the ablation's noise estimate and its fixed reading rule;
- the recipe's sizes and budgets (``EMBED`` … ``BOOK``), shared by the notebook and its solutions.

The data comes from the core: ``seqtips.load_surnames()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .. import _check
from ..models import CELLS, check_cell
from .nb06_surnames import (
    SurnameSplit,
    Vocabulary,
    load_surnames,  # noqa: F401  (the notebook's data, through its lesson)
)

#: Character embedding and hidden state (= nationality embedding) of every generator.
EMBED, HIDDEN = 32, 64
#: Names per batch: the book's chapter-7 batch size, for every arm.
BATCH = 128
#: The epoch budget of every reported run (the book's code allows 100: scaled to the notebook's time budget).
EPOCHS = 6
#: Every tuning run: the first TUNE_EPOCHS epochs on the tuning seed, scored on validation data.
TUNE_EPOCHS = 3
#: Early stopping (tip 5): epochs without a new best validation NLL before stopping.
PATIENCE = 2
#: Unclipped steps whose gradient norms choose the clipping threshold (its 90th percentile, notebook 04's rule).
WARMUP_STEPS = 40
#: The learning rates every arm is tuned on, by optimizer (four log-spaced; ``st.tune`` extends an edge winner).
RATES = {"adam": (4.64e-3, 1e-2, 2.15e-2, 4.64e-2), "sgd": (0.646, 1.39, 3.0, 6.46)}
#: The book's chapter-7 recipe as its code sets it (surname generation, conditioned model): Adam at 1e-3,
#: ReduceLROnPlateau(mode="min", factor=0.5, patience=1) on the validation loss, early_stopping_criteria=5,
#: batch_size=128, no clipping.
BOOK = {"lr": 1e-3, "factor": 0.5, "scheduler_patience": 1, "early_stopping_criteria": 5}
#: The sampling temperature of the names shown.
TEMPERATURE = 0.7


class BookTrainState:
    """The book's chapter-7 ``update_train_state``, as its code runs (not as its comments say).

    After each epoch's validation loss: the first epoch's weights are saved; from the second on, a
    loss at or above the *previous epoch's* counts one more epoch "without improvement", a lower one
    resets that count to 0 and, if it is also below the best saved so far, saves the weights.
    Training stops once the count reaches ``criteria``. So a slow upward drift that dips once
    restarts the count, and the weights handed back are the best of the epochs that improved on
    their predecessor (or the first epoch's). ``step(loss, model)`` returns True to stop;
    ``restore(model)`` loads the saved weights.
    """

    def __init__(self, criteria: int) -> None:
        self.criteria = _check.integer("criteria", criteria, 1)
        self.losses: list[float] = []
        self.count = 0
        self.best = 1e8  # the book's initial "early_stopping_best_val"
        self.saved: dict | None = None
        self.saved_epoch: int | None = None
        self.stop = False

    def _save(self, model: nn.Module) -> None:
        self.saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.saved_epoch = len(self.losses) - 1

    def step(self, loss: float, model: nn.Module) -> bool:
        self.losses.append(float(loss))
        if len(self.losses) == 1:
            self._save(model)
        else:
            if self.losses[-1] >= self.losses[-2]:
                self.count += 1
            else:
                if self.losses[-1] < self.best:
                    self._save(model)
                    self.best = self.losses[-1]
                self.count = 0
            self.stop = self.count >= self.criteria
        return self.stop

    def restore(self, model: nn.Module) -> nn.Module:
        if self.saved is None:
            raise RuntimeError("nothing saved yet: call step() after an epoch first")
        model.load_state_dict(self.saved)
        return model


def pooled_sd(groups: Iterable[Iterable[float]]) -> tuple[float, int]:
    """The pooled standard deviation of several groups (each its own mean) and its degrees of freedom.

    ``sqrt(sum over groups of sum (x - group mean)^2 / sum (n_group - 1))``: one estimate of the
    spread that several arms share, steadier than any one arm's range over a few seeds.
    """
    groups = [[float(x) for x in g] for g in groups]
    dof = sum(len(g) - 1 for g in groups if len(g) > 1)
    if dof < 1:
        raise ValueError("pooled_sd needs at least one group with two or more values")
    ss = sum(sum((x - sum(g) / len(g)) ** 2 for x in g) for g in groups if len(g) > 1)
    return math.sqrt(ss / dof), dof


#: The ablation's reading rule, fixed before the run: a change beyond this many noise units is a reading.
READING_Z = 2.0


def classify(change: float, noise: float, z: float = READING_Z) -> str:
    """Read one change in test NLL (ablation minus full recipe) against its noise (a standard deviation).

    ``"helped"`` (removing the tip made things worse by more than ``z`` noise units), ``"hurt"`` (better
    by more than that) or ``"within noise"``.
    """
    _check.number("noise", noise, positive=True)
    if change > z * noise:
        return "helped"
    if change < -z * noise:
        return "hurt"
    return "within noise"


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
    _check.instance("lengths", lengths, torch.Tensor, "a 1-D tensor of name lengths")
    if lengths.dim() != 1 or len(lengths) == 0:
        raise ValueError(f"lengths must be a non-empty 1-D tensor, got shape {tuple(lengths.shape)}")
    _check.integer("batch_size", batch_size, 1)
    _check.generator(generator)
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
        check_cell(cell)
        for name, value in (
            ("n_chars", n_chars),
            ("n_nationalities", n_nationalities),
            ("embedding_dim", embedding_dim),
            ("hidden_size", hidden_size),
        ):
            _check.integer(name, value, 1)
        _check.integer("pad_index", pad_index, 0)
        if pad_index >= n_chars:
            raise ValueError(f"pad_index must be < n_chars ({n_chars}), got {pad_index}")
        self.cell = cell.lower()
        self.char_embedding = nn.Embedding(n_chars, embedding_dim, padding_idx=pad_index)
        self.nationality_embedding = nn.Embedding(n_nationalities, hidden_size)
        self.rnn = CELLS[self.cell](embedding_dim, hidden_size, batch_first=True)
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
        raise TypeError(f"model must be a SurnameGenerator, got {type(model).__name__}")
    if not isinstance(split, SurnameSplit):
        raise TypeError(f"split must be a SurnameSplit, got {type(split).__name__}")
    _check.integer("batch_size", batch_size, 1)
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
        raise TypeError(f"model must be a SurnameGenerator, got {type(model).__name__}")
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
    n_nat = model.nationality_embedding.num_embeddings
    if not _check.is_integer(nationality):
        raise TypeError(f"nationality must be an integer index in [0, {n_nat}), got {type(nationality).__name__}")
    nationality = int(nationality)
    if not 0 <= nationality < n_nat:
        raise ValueError(f"nationality must be an index in [0, {n_nat}), got {nationality}")
    _check.integer("n", n, 1)
    _check.integer("max_len", max_len, 1)
    _check.number("temperature", temperature, positive=True)
    _check.generator(generator)
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
