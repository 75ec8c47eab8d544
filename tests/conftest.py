"""What several test files share: the slow marker for notebooks, a clean environment, a fresh verdict record,
the surname data."""

import copy

import pytest
import torch

from seqtips import verdict
from seqtips.lessons.nb06_surnames import load_surnames

SEQTIPS_ENV = ("SEQTIPS_DEVICE", "SEQTIPS_SEED", "SEQTIPS_THREADS", "SEQTIPS_RECORD")


def pytest_collection_modifyitems(config, items):
    """Executing a notebook (nbmake) is slow: ``pytest -m "not slow"`` is the fast lane, unit tests only."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def clean_env(monkeypatch):
    """No SEQTIPS_* setting from the shell leaks into the test."""
    for env in SEQTIPS_ENV:
        monkeypatch.delenv(env, raising=False)
    return monkeypatch


@pytest.fixture
def fresh_record(clean_env):
    """The test is one run of a fake notebook (base seed 7); the module's run record is given back afterwards."""
    saved = copy.deepcopy(verdict._run)
    verdict.start("00_fake", torch.device("cpu"), 7)
    yield verdict._run
    verdict._run.clear()
    verdict._run.update(saved)


@pytest.fixture(scope="session")
def surnames():
    """The shipped surname data set, loaded once."""
    return load_surnames()
