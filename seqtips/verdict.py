"""The verdict: a claim, this run's numbers, a loud failure when it does not hold — and a record.

Every :func:`check` is kept, passed or failed, with its key numbers and the environment. When
``SEQTIPS_RECORD`` names a folder, the notebook's record is (re)written there after every check
as ``<notebook>-seed<N>.json``, so a run that fails still leaves the claim that failed. Each
rewrite goes to a temporary file in the same folder that then replaces the record
(:func:`write_atomic`): a write that fails part-way leaves the previous record whole.
``python -m seqtips.evidence`` collects such records over many seeds into a report.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import math
import operator
import os
import platform
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _check

RECORD_ENV = "SEQTIPS_RECORD"
#: What a check is: evidence for the tip (a trial: its rate over seeds is what the report measures),
#: a sanity check or a labelled illustration (they cannot fail while the code is right), or a
#: deterministic check (a seed-independent identity or constructed case: the report shows it once,
#: never as "k of N" trials).
KINDS = ("evidence", "sanity", "illustration", "deterministic")
#: The directions a claim's comparison may take (see :func:`check`'s ``compare``).
_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
DIRECTIONS = tuple(_OPERATORS)
#: What a claim's id looks like: lower case, digits and hyphens, up to 40 characters.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
#: A notebook's name as ``st.setup`` takes it: a file name without folders (it names the record file).
_NOTEBOOK = re.compile(r"[^/\\\x00-\x1f.][^/\\\x00-\x1f]{0,99}")
_run: dict[str, Any] = {"notebook": None, "environment": {}, "claims": []}


#: The tag of an exercise's code cell (see seqtips.lessons.exercises).
EXERCISE_TAG = "seqtips-exercise"


def code_hash(path: str | Path) -> str:
    """A short hash of a notebook's code cells: edits to its prose do not change it.

    Exercise cells (tagged ``seqtips-exercise``) are left out: they come after every verdict and
    only run the reader's answer through a checker, so they cannot change a recorded claim; adding
    or editing an exercise leaves the evidence report valid.
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    code = "\n# ---\n".join("".join(c["source"]).strip() for c in cells if c["cell_type"] == "code"
                             and EXERCISE_TAG not in c.get("metadata", {}).get("tags", []))
    return hashlib.sha256(code.encode()).hexdigest()[:12]


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` all at once: a temporary file in the same folder, then ``os.replace``.

    Readers see the old file or the new one, never half of one; if the write fails (a full disk,
    a size limit, a kill), the old file stays as it was and the temporary file is removed.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_notebook_name(notebook: Any) -> str | None:
    """``notebook`` if it can name a record file: a file name without ``.ipynb`` and without folders."""
    _check.instance("notebook", notebook, str, "the notebook's file name without .ipynb", optional=True)
    if notebook is not None and not _NOTEBOOK.fullmatch(notebook):
        raise ValueError("notebook must be the notebook's file name without .ipynb (up to 100 characters, no "
                         f"folders, not starting with '.'), such as '01_gated_vs_plain_rnn', got {notebook!r}")
    return notebook


def record_folder() -> Path | None:
    """The folder ``SEQTIPS_RECORD`` names (``~`` expanded, relative to where the run started), or None.

    Created when missing; a path that is a file, or a folder that cannot be written, raises
    ``ValueError`` naming ``SEQTIPS_RECORD`` (``st.setup`` asks first, before any training).
    """
    raw = os.environ.get(RECORD_ENV, "").strip()
    if not raw:
        return None
    # A relative folder means relative to where the run was started (a kernel runs in the notebook's folder).
    folder = Path(os.environ.get("PWD", ".")) / Path(raw).expanduser()
    expected = "a folder where the run's verdicts can be written"
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{RECORD_ENV} must name {expected}, but {folder} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # a file can be made there
    except OSError as err:
        raise ValueError(f"{RECORD_ENV} must name {expected}, but {folder} cannot be written "
                         f"({type(err).__name__}: {err.strerror or err})") from None
    return folder


def _version() -> str:
    """The installed seqtips's version (its package metadata), read here rather than from the package face."""
    try:
        return importlib.metadata.version("seqtips")
    except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path, never installed
        return "unknown"


def start(notebook: str | None, device: Any, seed: int) -> None:
    """Begin the record of one run of ``notebook`` (called by ``st.setup``)."""
    import numpy
    import torch

    check_notebook_name(notebook)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    source = Path(f"{notebook}.ipynb")  # notebooks run with their own folder as working directory
    _run.update(notebook=notebook, claims=[], environment={
        "seqtips": _version(), "torch": torch.__version__, "numpy": numpy.__version__,
        "python": platform.python_version(), "platform": platform.platform(),
        "device": str(device), "device_name": device_name or platform.machine(),
        "torch_threads": torch.get_num_threads(), "base_seed": seed,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "code_hash": code_hash(source) if notebook and source.is_file() else None,
    })


def record() -> dict[str, Any]:
    """This run's record so far: notebook, environment and every claim checked."""
    return {"notebook": _run["notebook"], "environment": dict(_run["environment"]),
            "claims": [dict(c) for c in _run["claims"]]}


def _write() -> Path | None:
    folder = record_folder()
    if folder is None:
        return None
    path = folder / f"{_run['notebook'] or 'notebook'}-seed{_run['environment'].get('base_seed', 0)}.json"
    return write_atomic(path, json.dumps(record(), indent=1, ensure_ascii=False))


def margin(value: float, direction: str, bound: float) -> float | None:
    """How far ``value direction bound`` was from failing, as a ratio: > 1 holds with room, < 1 fails.

    For ``<`` and ``<=`` it is ``bound / value``; for ``>`` and ``>=``, ``value / bound`` — the
    factor by which the value could move towards the bound before the claim fails (``2`` for an
    MSE of 0.05 under a threshold of 0.1). Where the two numbers are both negative the magnitudes
    swap (``-0.97 < -0.9`` has margin ``0.97 / 0.9``), so that > 1 still means "holds, with room".
    Exactly ``1`` is the boundary: it holds for ``<=`` and ``>=`` and fails for ``<`` and ``>``.
    Where no ratio measures the room — a zero, opposite signs, an infinity — the margin is
    ``inf`` when the comparison holds and ``0`` when it does not; a NaN gives ``None`` (the
    comparison could not be made).
    """
    _check.choice("direction", direction, DIRECTIONS)
    if math.isnan(value) or math.isnan(bound):
        return None
    low, high = (value, bound) if direction.startswith("<") else (bound, value)  # holds when low < high
    if low == high:
        return 1.0
    if math.isfinite(low) and math.isfinite(high) and low * high > 0:
        return high / low if low > 0 else low / high
    return math.inf if low < high else 0.0


def _comparisons(compare: Any, numbers: Mapping[str, float]) -> list[tuple[str, str, str]]:
    """``compare`` as (name, direction, name) triples naming keys of ``numbers``; errors name ``compare``."""
    def triple(c: Any) -> bool:
        return isinstance(c, (tuple, list)) and len(c) == 3 and all(isinstance(p, str) for p in c)

    triples = [compare] if triple(compare) else compare
    if not isinstance(triples, (list, tuple)) or not triples or not all(map(triple, triples)):
        raise TypeError("compare must be (name, direction, name) such as ('worst GRU MSE', '<', 'threshold'), "
                        f"or a list of such triples, got {compare!r}")
    for left, direction, right in triples:
        _check.choice("compare's direction", direction, DIRECTIONS)
        missing = next((name for name in (left, right) if name not in numbers), None)
        if missing is not None:
            raise ValueError(f"compare names {missing!r}, which is not a key of values "
                             f"({', '.join(map(repr, numbers)) or 'values is empty'})")
    return [tuple(t) for t in triples]


def _margin(id: str, holds: bool, triples: list[tuple[str, str, str]], numbers: Mapping[str, float]) -> float | str:
    """The smallest margin of the comparisons (as a record keeps numbers), once ``holds`` is seen to agree."""
    outcomes = [_OPERATORS[d](numbers[a], numbers[b]) for a, d, b in triples]
    if holds != all(outcomes):
        shown = [f"{a} = {fmt([numbers[a]])} {d} {b} = {fmt([numbers[b]])}" for a, d, b in triples]
        why = (f"holds is True, but {next(t for t, ok in zip(shown, outcomes) if not ok)} is false" if holds
               else f"holds is False, but compare's {'; '.join(shown)} hold{'s' * (len(shown) == 1)}")
        raise ValueError(f"{id!r}: {why}: the verdict line would contradict its own numbers; fix holds or compare")
    least = min(margin(numbers[a], d, numbers[b]) for a, d, b in triples)
    return least if math.isfinite(least) else str(least)


def check(
    id: str,
    claim: str,
    holds: bool,
    evidence: str = "",
    *,
    values: Mapping[str, float] | None = None,
    kind: str = "evidence",
    compare: tuple[str, str, str] | Sequence[tuple[str, str, str]] | None = None,
) -> None:
    """Print ``claim`` and its numbers when it ``holds``; raise ``AssertionError`` when not.

    ``id`` is a short stable name (``"rnn-stuck"``); ``evidence`` this run's numbers as text;
    ``values`` the key numbers compared, threshold included (``{"worst rnn MSE": 0.161,
    "threshold": 0.1}``), which the evidence report summarises over seeds — the first of them is
    the claim's effect, whose median over seeds the report gives; ``kind`` says whether the check
    is evidence for the tip (``"evidence"``), a sanity check or illustration that cannot fail while
    the code is right (``"sanity"``, ``"illustration"``), or a seed-independent identity or
    constructed case (``"deterministic"``: the report shows it once, not as a rate over seeds).
    Returns ``None``.

    ``compare`` states the comparison the claim makes, as two keys of ``values`` and a direction:
    ``compare=("worst GRU MSE", "<", "threshold")``, or a list of such triples when the claim is
    several comparisons that must all hold. The record then carries the claim's ``margin`` (see
    :func:`margin`; the smallest over the triples): how far this run was from failing, which the
    report gives for the run nearest to failing. ``holds`` must agree with the comparisons — a
    claim that holds while its numbers say otherwise (or the reverse) raises ``ValueError``, since
    its verdict line would contradict its own numbers.

    Checking an id again with the same claim (a re-run verdict cell) replaces its earlier result;
    the same id with another claim raises ``ValueError`` (two claims would share one record).
    A ``values`` entry that is NaN means the comparison could not be made: the claim is recorded
    as not holding and ``AssertionError`` says which number was NaN, whatever ``holds`` says.
    """
    _check.string("id", id, ID_PATTERN.fullmatch, "a short lower-case name such as 'rnn-stuck'")
    _check.string("claim", claim, lambda text: text.strip() != "", "a non-empty sentence")
    _check.instance("evidence", evidence, str, "a text")
    if hasattr(holds, "item") and math.prod(getattr(holds, "shape", ())) == 1:  # numpy/torch booleans
        holds = holds.item()
    holds = _check.boolean("holds", holds)
    values = _check.instance("values", values, Mapping, "a dict of name -> number", optional=True) or {}
    for k in values:
        if not isinstance(k, str):
            raise TypeError(f"values must be keyed by names (strings), got the key {k!r} ({type(k).__name__})")
    numbers = {k: _check.scalar(f"values[{k!r}]", v) for k, v in values.items()}
    kind = _check.choice("kind", kind, KINDS)
    triples = None if compare is None else _comparisons(compare, numbers)
    earlier = next((c for c in _run["claims"] if c["id"] == id), None)
    if earlier is not None and earlier["claim"] != claim.strip():
        raise ValueError(f"id {id!r} was already checked in this run with another claim ({earlier['claim']!r}); "
                         "give this claim an id of its own (st.setup() starts a new record)")
    undefined = [k for k, v in numbers.items() if math.isnan(v)]
    entry = {"id": id, "claim": claim.strip(), "kind": kind, "passed": holds and not undefined,
             "values": {k: v if math.isfinite(v) else str(v) for k, v in numbers.items()}}
    if triples is not None:  # no margin where a NaN left the comparison unmade
        entry["compare"] = [list(t) for t in triples]
        entry["margin"] = None if undefined else _margin(id, holds, triples, numbers)
    # checking an id again (a re-run verdict cell) replaces its earlier result
    _run["claims"] = [c for c in _run["claims"] if c["id"] != id]
    _run["claims"].append(entry)
    label = "" if kind == "evidence" else f" ({kind} check)"
    text = f"[{id}]{label} {claim.strip()}"
    if numbers:
        text += "\n    " + ", ".join(f"{k} = {fmt([v])}" for k, v in numbers.items())
        if triples is not None and entry["margin"] is not None:
            text += f" (margin {fmt([float(entry['margin'])])})"
    if evidence:
        text += f"\n    {evidence.strip()}"
    try:
        _write()
    except (OSError, ValueError) as err:
        outcome = "held" if entry["passed"] else "did NOT hold"
        raise RuntimeError(f"The claim {outcome} in this run, but its record could not be written ({err}): "
                           + text) from err
    if undefined:
        raise AssertionError(f"The claim did NOT hold in this run: {', '.join(f'values[{k!r}]' for k in undefined)} "
                             f"is NaN, so the comparison could not be made: " + text)
    if not holds:
        raise AssertionError("The claim did NOT hold in this run: " + text)
    print("✔ " + text)


def fmt(values: Iterable[float], digits: int = 3) -> str:
    """Format numbers for a verdict line: ``0.0012, 0.161, inf``."""
    return ", ".join(f"{float(v):.{digits}g}" if math.isfinite(float(v)) else str(float(v)) for v in values)


def per_seed(seeds: Sequence[int], values: Iterable[float], digits: int = 3) -> str:
    """``seed 0: 0.161, seed 1: 0.158`` — numbers labelled by their seed."""
    vals = list(values)
    if len(vals) != len(seeds):
        raise ValueError(f"values must have one entry per seed ({len(seeds)}), got {len(vals)}")
    return ", ".join(f"seed {s}: {fmt([v], digits)}" for s, v in zip(seeds, vals))
