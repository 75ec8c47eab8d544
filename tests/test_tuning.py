"""The shared tuning procedure: the grid, the choice, the extension off an edge, and its refusals."""

import math

import pytest

import seqtips as st


def test_log_grid_is_log_spaced_and_rounded():
    assert st.log_grid(1e-3, 1e-1) == [1e-3, 0.00316, 0.01, 0.0316, 0.1]
    assert st.log_grid(1e-3, 1e-1, per_decade=1) == [1e-3, 0.01, 0.1]
    with pytest.raises(ValueError, match="high must be above low"):
        st.log_grid(1e-2, 1e-3)


def test_tune_picks_the_lowest_median_and_counts_its_cost():
    calls = []

    def run(lr, seed):
        calls.append((lr, seed))
        return (math.log10(lr) + 2) ** 2 + 0.01 * seed   # best at 1e-2

    tuned = st.tune("arm", run, st.log_grid(1e-3, 1e-1, 1) + [1.0], seeds=[0, 1])
    assert tuned.lr == 0.01 and not tuned.at_edge and tuned.extended == 0
    assert tuned.runs == len(calls) == 8
    assert "chosen lr 0.01, inside the grid" in str(tuned) and "8 runs" in str(tuned)


def test_tune_extends_a_grid_whose_winner_sits_at_its_edge():
    tuned = st.tune("arm", lambda lr, seed: abs(math.log10(lr) + 4), [1e-3, 1e-2, 1e-1, 1.0], seeds=[0])
    assert tuned.rates[:3] == [1e-5, 1e-4, 1e-3] and tuned.lr == 1e-4 and tuned.extended == 2 and tuned.at_edge is False
    stuck = st.tune("arm", lambda lr, seed: lr, [1e-3, 1e-2, 1e-1, 1.0], seeds=[0], extend=1)
    assert stuck.at_edge and stuck.lr == 1e-4 and "at the grid's edge" in str(stuck)


def test_a_diverged_run_loses():
    def run(lr, seed):
        return math.nan if lr >= 0.1 else 1 / lr

    tuned = st.tune("arm", run, [1e-3, 1e-2, 1e-1, 1.0], seeds=[0], extend=0)
    assert tuned.lr == 0.01 and tuned.scores[1.0] == [math.inf]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(rates=[1e-3, 1e-2, 1e-1]), ValueError, "at least 4"),
    (dict(rates=[1e-1, 1e-2, 1e-3, 1e-4]), ValueError, "ascending"),
    (dict(seeds=[]), ValueError, "at least one tuning seed"),
    (dict(run="fast"), TypeError, "run must be a function"),
])
def test_tune_refuses_bad_arguments(kwargs, error, match):
    args = dict(name="arm", run=lambda lr, seed: lr, rates=[1e-3, 1e-2, 1e-1, 1.0], seeds=[0]) | kwargs
    with pytest.raises(error, match=match):
        st.tune(**args)


def test_matched_size_finds_the_closest_parameter_count():
    lstm = st.count_parameters(st.SequenceModel("lstm", 2, 32))
    h = st.matched_size(lambda h: st.count_parameters(st.SequenceModel("rnn", 2, h)), lstm, range(32, 129))
    assert h == 66 and abs(st.count_parameters(st.SequenceModel("rnn", 2, h)) - lstm) / lstm < 0.02
    with pytest.raises(ValueError, match="at least one size"):
        st.matched_size(lambda h: h, 10, [])
