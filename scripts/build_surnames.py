"""Build ``seqtips/datasets/surnames.csv`` from the surname lists that Faker ships.

Run from the repository root::

    pip install faker==40.63.0
    python scripts/build_surnames.py

Faker is needed only here, to rebuild the file; the notebooks read the shipped CSV.
The build is deterministic: the same Faker version gives the same file, byte for byte
(another version may change its lists, and the script says so).

Design (documented in ``seqtips/datasets/README.md``):

* ten Latin-script locales, each labelled with one nationality, and Russian (``ru_RU``): its male
  surnames (Faker lists each Russian surname in a male and a female form) transliterated from
  Cyrillic to Latin with the fixed table ``CYRILLIC_TO_LATIN`` (a simplified BGN/PCGN scheme), as
  the book's surname data write Russian names in Latin letters;
* a surname listed under two or more of them is dropped, because its label would be a coin flip;
* surnames longer than ``MAX_LEN`` characters are dropped (a handful of compound names);
* every nationality is split 70/15/15 into train/val/test with a fixed seed (stratified split).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import random
import unicodedata
from collections import Counter
from pathlib import Path

from seqtips.verdict import write_atomic

LOCALES: dict[str, str] = {
    "cs_CZ": "Czech",
    "de_DE": "German",
    "en_GB": "English",
    "es_ES": "Spanish",
    "fi_FI": "Finnish",
    "fr_FR": "French",
    "ga_IE": "Irish",
    "it_IT": "Italian",
    "nl_NL": "Dutch",
    "ru_RU": "Russian",
    "sv_SE": "Swedish",
}
#: Locales written in Cyrillic: their male surnames are read and transliterated to Latin.
TRANSLITERATED = {"ru_RU"}
#: Cyrillic -> Latin, one fixed table (simplified BGN/PCGN: е/ё -> e everywhere, й and ы -> y, the
#: soft and hard signs dropped), so that Russian names share the other classes' alphabet.
CYRILLIC_TO_LATIN = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def transliterate(name: str) -> str:
    """A Cyrillic name in Latin letters with ``CYRILLIC_TO_LATIN`` (``Соловьев`` -> ``Solovev``)."""
    out = []
    for c in name:
        latin = CYRILLIC_TO_LATIN.get(c.lower(), c)
        out.append(latin.capitalize() if c.isupper() else latin)
    return "".join(out)
FAKER_VERSION = "40.63.0"  # the version the shipped file was built with
MAX_LEN = 20
SEED = 1234
FRACTIONS = {"val": 0.15, "test": 0.15}  # the rest is train

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "seqtips" / "datasets" / "surnames.csv"


def faker_surnames(locale: str) -> list[str]:
    """Return the distinct surnames of one Faker locale, NFC-normalised and sorted."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if locale in TRANSLITERATED:  # the male forms only: the female ones add "-a" and nothing else to learn
        names = {transliterate(unicodedata.normalize("NFC", str(n)).strip()) for n in provider.last_names_male}
    else:
        names = {unicodedata.normalize("NFC", str(n)).strip() for n in provider.last_names}
    return sorted(n for n in names if n)


def build_rows(seed: int = SEED) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """Return the CSV rows ``(name, nationality, split)`` and counts of what was dropped."""
    per_locale = {loc: faker_surnames(loc) for loc in LOCALES}
    owners = Counter(name for names in per_locale.values() for name in names)
    shared = {name for name, k in owners.items() if k > 1}
    dropped = {"under two or more nationalities": len(shared), f"longer than {MAX_LEN} chars": 0}

    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    for loc, nationality in sorted(LOCALES.items(), key=lambda kv: kv[1]):
        names = [n for n in per_locale[loc] if n not in shared]
        long = [n for n in names if len(n) > MAX_LEN]
        dropped[f"longer than {MAX_LEN} chars"] += len(long)
        names = [n for n in names if len(n) <= MAX_LEN]
        rng.shuffle(names)
        n_val = round(FRACTIONS["val"] * len(names))
        n_test = round(FRACTIONS["test"] * len(names))
        splits = ["val"] * n_val + ["test"] * n_test + ["train"] * (len(names) - n_val - n_test)
        rows.extend(
            sorted(
                zip(names, [nationality] * len(names), splits, strict=True),
                key=lambda r: (r[2] != "train", r[2], r[0]),
            )
        )
    return rows, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the split")
    args = parser.parse_args()

    import faker

    if faker.VERSION != FAKER_VERSION:
        print(f"note: Faker {faker.VERSION} installed; the shipped file was built with {FAKER_VERSION}")
    rows, dropped = build_rows(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["name", "nationality", "split"])
    writer.writerows(rows)
    write_atomic(args.out, text.getvalue())

    by_nat = Counter(r[1] for r in rows)
    by_split = Counter(r[2] for r in rows)
    symbols = sorted({c for r in rows for c in r[0]})
    print(f"Faker {faker.VERSION}: wrote {len(rows)} names to {args.out}")
    print("dropped:", ", ".join(f"{k}: {v}" for k, v in dropped.items()))
    print("splits:", ", ".join(f"{s} {by_split[s]}" for s in ("train", "val", "test")))
    print("nationalities:", ", ".join(f"{k} {v}" for k, v in sorted(by_nat.items())))
    print(f"{len(symbols)} distinct characters")


if __name__ == "__main__":
    main()
