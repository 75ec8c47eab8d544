"""Argument checks shared by the command lines: they fail before any notebook runs, never after."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from ..runtime import SEED_LIMIT

#: The longest cell time accepted (a day): more is a typo, not a plan.
MAX_TIMEOUT = 86_400


def timeout(parser: argparse.ArgumentParser, value: int, flag: str = "--timeout") -> int:
    if not 1 <= value <= MAX_TIMEOUT:
        parser.error(f"{flag} must be from 1 to {MAX_TIMEOUT} seconds per cell, got {value}")
    return value


def seed(parser: argparse.ArgumentParser, value: int | None, flag: str = "--seed") -> int | None:
    if value is not None and not 0 <= value < SEED_LIMIT:
        parser.error(f"{flag} must be from 0 to {SEED_LIMIT - 1}, got {value}")
    return value


def _writable_folder(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def writable_file(parser: argparse.ArgumentParser, path: Path | None, flag: str) -> Path | None:
    """``path`` may be written (a file in an existing, writable folder): checked by writing beside it."""
    if path is None:
        return None
    path = Path(os.path.expanduser(path))
    if path.is_dir():
        parser.error(f"{flag} must be a file, got the folder {path}")
    if not path.parent.is_dir():
        parser.error(f"{flag}: the folder {path.parent} does not exist")
    if not _writable_folder(path.parent) or (path.exists() and not os.access(path, os.W_OK)):
        parser.error(f"{flag}: cannot write {path} (permission denied)")
    return path


def writable_folder(parser: argparse.ArgumentParser, path: Path, flag: str) -> Path:
    """``path`` is a folder that may be written, made (with its parents) if missing."""
    path = Path(os.path.expanduser(path))
    if path.exists() and not path.is_dir():
        parser.error(f"{flag} must be a folder, got the file {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        parser.error(f"{flag}: cannot make the folder {path} ({err.strerror})")
    if not _writable_folder(path):
        parser.error(f"{flag}: cannot write in {path} (permission denied)")
    return path
