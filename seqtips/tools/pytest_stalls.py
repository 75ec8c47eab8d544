"""A pytest plugin: notebook runs (nbmake) watched for the headless stall, retried once, and counted.

pyproject.toml loads it for every ``pytest`` (``-p seqtips.tools.pytest_stalls`` in addopts).

nbmake executes each notebook with nbclient's ``NotebookClient``; here it gets seqtips's watched
client instead (:func:`seqtips.tools.execute.watched_client_class`): a cell whose request sits
unread while the kernel is idle and silent for 30 s stops as a stall, instead of waiting out the
cell timeout. A notebook that stalls is run once more in a fresh kernel; every stall is listed at
the end of the run ("notebook stalls met: N"), so CI's output says how many it met.
"""

from __future__ import annotations

STALLS: list[str] = []

try:
    import nbmake.nb_run as _nb_run
except ImportError:  # pytest without the notebook extras: nothing to watch
    _nb_run = None

if _nb_run is not None:
    from seqtips.tools.execute import watched_client_class

    _nb_run.NotebookClient = watched_client_class()  # nbmake builds its client through this name
    _execute = _nb_run.NotebookRun.execute

    def _execute_with_retry(self):
        result = _execute(self)
        if result.error is not None and result.error.summary.startswith("stalled"):
            STALLS.append(f"{self.filename.name}: {result.error.summary} — run again in a fresh kernel")
            result = _execute(self)
            if result.error is not None and result.error.summary.startswith("stalled"):
                STALLS.append(f"{self.filename.name}: {result.error.summary} — stalled again, failed")
        return result

    _nb_run.NotebookRun.execute = _execute_with_retry


def pytest_terminal_summary(terminalreporter):
    if _nb_run is None:
        return
    terminalreporter.write_line(f"notebook stalls met: {len(STALLS)}")
    for line in STALLS:
        terminalreporter.write_line(f"  {line}")
