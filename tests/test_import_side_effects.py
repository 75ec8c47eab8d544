"""Importing seqtips changes no process state; st.setup() does, visibly. Each check runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Snapshot what a notebook's process-wide state is made of: torch's threads and denormal handling,
# Matplotlib's settings, and the three random generators (drawing from them would change them too).
SNAPSHOT = textwrap.dedent("""
    import hashlib, json, pickle, random, sys
    import matplotlib, numpy, torch

    torch.set_num_threads(2)  # not 1, so that setup's one thread shows

    def snapshot():
        return {
            "threads": torch.get_num_threads(),
            "denormal": torch.tensor([1e-42], dtype=torch.float32).mul(1.0).item(),
            "rcparams": {k: repr(v) for k, v in matplotlib.rcParams.items()},
            "random": hashlib.sha256(pickle.dumps(random.getstate())).hexdigest(),
            "numpy": hashlib.sha256(pickle.dumps(numpy.random.get_state())).hexdigest(),
            "torch": hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest(),
        }
""")


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEQTIPS_") and k != "MPLBACKEND"}
    done = subprocess.run([sys.executable, "-c", SNAPSHOT + textwrap.dedent(code)], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow  # runs a child process
def test_importing_seqtips_and_every_submodule_changes_no_process_state():
    done = run("""
        import importlib, pkgutil
        before = snapshot()
        import seqtips
        core_only = sorted(m for m in sys.modules if m.startswith("seqtips"))
        names = ["seqtips.lessons", "seqtips.tools"]
        names += [m.name for m in pkgutil.walk_packages(seqtips.__path__, "seqtips.")]
        for name in names:
            importlib.import_module(name)
        after = snapshot()
        print(json.dumps({"before": before, "after": after, "core_only": core_only,
                          "imported": sorted(m for m in sys.modules if m.startswith("seqtips"))}))
    """, SEQTIPS_THREADS="1")  # set, to show that importing does not read it
    result = json.loads(done.stdout.splitlines()[-1])
    before, after = result["before"], result["after"]
    assert before["threads"] == 2 and before["denormal"] != 0.0  # the snapshot can see a change
    for key in before:
        assert after[key] == before[key], f"importing seqtips changed {key}"
    # every submodule was imported...
    imported = set(result["imported"])
    for name in ("seqtips.lessons.nb01_gated", "seqtips.lessons.nb06_capstone", "seqtips.tools.bench",
                 "seqtips.tools.evidence", "seqtips.tools.execute", "seqtips.bench", "seqtips.evidence"):
        assert name in imported
    # ...but `import seqtips` alone loads neither a lesson nor a tool
    assert not [m for m in result["core_only"] if m.startswith(("seqtips.lessons", "seqtips.tools"))]
    assert done.stdout.count("\n") == 1, "importing prints nothing"


@pytest.mark.slow  # runs a child process
def test_setup_changes_threads_denormals_and_style_and_prints_one_line():
    done = run("""
        import seqtips as st
        from seqtips import plots
        with matplotlib.rc_context():  # what the style alone sets, given back at once
            plots.use_style()
            styled = snapshot()["rcparams"]
        before = snapshot()
        print("--- setup ---")
        st.setup("00_side_effects")
        print("--- done ---")
        print(json.dumps({"before": before, "after": snapshot(), "styled": styled}))
    """)
    lines = done.stdout.splitlines()
    said = lines[lines.index("--- setup ---") + 1 : lines.index("--- done ---")]
    assert len(said) == 1 and said[0].startswith("seqtips on ")
    result = json.loads(lines[-1])
    before, after = result["before"], result["after"]
    assert (before["threads"], after["threads"]) == (2, 1)
    assert after["denormal"] == 0.0 and "denormals flushed to zero" in said[0]
    assert after["rcparams"] != before["rcparams"] and after["rcparams"] == result["styled"]
    assert after["random"] == before["random"] and after["torch"] == before["torch"]  # setup seeds nothing
