"""The exercises' checkers: a passing and a failing result for each, the placeholder, strict mode, bad inputs."""

import math

import pytest
import torch

import seqtips as st
from seqtips.exercises import _common as exercises
from seqtips.exercises import nb01, nb02, nb03, nb04, nb05, nb06

COMPANIONS = {"01": nb01, "02": nb02, "03": nb03, "04": nb04, "05": nb05, "06": nb06}


# --- notebook 01: an IRNN, and the plain RNN at several lengths ---------------------------------

def _irnn():
    model = st.SequenceModel("rnn", 2, 8)
    model.rnn = torch.nn.RNN(2, 8, nonlinearity="relu", batch_first=True)
    return model


IRNN = {"model": _irnn(), "final_mse": [0.007, 0.009, 0.005], "tanh_final_mse": [0.15, 0.16, 0.17]}
IRNN_PART = dict(IRNN, final_mse=[0.02, 0.03, 0.04])   # not solved, but below 1/24: it uses the first value
LENGTHS = {"lengths": [5, 10, 20], "final_mse": [[0.017, 0.018, 0.027], [0.16, 0.03, 0.038], [0.168, 0.17, 0.19]]}

# --- notebook 02: timings per hidden size -------------------------------------------------------

SIZES = [32, 64, 128, 256]
FUSED = {"hidden": SIZES, "gru_ms": [5.0, 7.5, 14.4, 28.8], "lstm_ms": [2.7, 5.1, 10.9, 24.5], "crossing": None}
CROSSES = {"hidden": SIZES, "gru_ms": [5.0, 7.5, 10.0, 20.0], "lstm_ms": [2.7, 5.1, 10.9, 24.5], "crossing": 128}
UNFUSED = {"hidden": SIZES, "gru_ms": [3.0, 4.4, 12.6, 22.4], "lstm_ms": [3.2, 5.3, 16.8, 32.4], "crossing": 32,
           "fused_ratio": [1.87, 1.48, 1.32, 1.18]}

# --- notebook 03 --------------------------------------------------------------------------------

DECAY = {"adam_mse": [0.164, 0.182, 0.175], "adamw_mse": [0.0017, 0.0012, 0.0009],
         "adam_shrink": [0.0097, 0.0039, 0.0015], "adamw_shrink": [0.77, 0.69, 0.74]}
LRS = [1e-4 * (3e4 ** (t / 99)) for t in range(100)]
LOSSES = [1.7 - 1.68 * t / 79 for t in range(80)] + [0.02 + 0.05 * t for t in range(20)]
RANGE = {"lrs": LRS, "losses": LOSSES, "suggested_lr": 0.03, "final_mse": [0.001, 0.0005, 0.0005]}

# --- notebook 05: two hand-made validation curves and their test curves -------------------------

VAL = [[1.0, 0.8, 0.7, 0.72, 0.69, 0.68, 0.75, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3],
       [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]]
TEST = [[0.9, 0.7, 0.6, 0.61, 0.58, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2],
        [0.9, 0.6, 0.5, 0.52, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]]
GL5 = {"alpha": 5, "val_loss": VAL, "test_loss": TEST, "stop_epoch": [6, 3]}
SLOW = {"fast_epochs": [11, 14, 10], "slow_epochs": [26, 29, 25], "fast_test": [0.385, 0.399, 0.49],
        "slow_test": [0.385, 0.399, 0.49]}

# --- notebook 04: the 99th percentile, and a lower learning rate -------------------------------

MEAN = {"threshold": 2.5, "end_mse": [0.057, 0.076, 0.08], "fraction_clipped": [0.34, 0.41, 0.3],
        "chosen_fraction_clipped": [0.1, 0.1, 0.13]}
LOWER = {"lr": 0.01, "end_mse": [0.048, 0.078, 0.078], "clipped_end_mse": [0.038, 0.061, 0.058]}

# --- notebook 06: the LSTM in the recipe, and the sampling temperature ---------------------------

LSTM = {"gru_test": [1.784, 1.788, 1.79], "lstm_test": [1.787, 1.782, 1.793], "gru_params": 50913,
        "lstm_params": 63393}
TEMPERATURE = {"temperatures": [0.3, 0.7, 1.2], "copied": [0.114, 0.044, 0.008], "distinct": [0.71, 0.98, 1.0]}

PASSING = [("01", 1, IRNN), ("01", 1, IRNN_PART), ("01", 2, LENGTHS), ("04", 1, MEAN), ("04", 2, LOWER),
           ("06", 1, LSTM), ("06", 2, TEMPERATURE), ("02", 1, FUSED), ("02", 1, CROSSES), ("02", 2, UNFUSED),
           ("03", 1, DECAY), ("03", 2, RANGE), ("05", 1, GL5), ("05", 2, SLOW)]
FAILING = [
    ("01", 1, dict(IRNN, model=st.SequenceModel("rnn", 2, 8)), "nonlinearity='relu'"),  # still tanh
    ("01", 1, dict(IRNN, model=st.SequenceModel("gru", 2, 8)), "nonlinearity='relu'"),  # not a plain RNN
    ("01", 1, dict(IRNN, final_mse=[0.007, 0.164, 0.005]), "small steps"),             # stuck on one seed
    ("01", 1, dict(IRNN, tanh_final_mse=[0.15, 0.05, 0.17]), "IRNN's rate"),  # the rate alone helped
    ("01", 1, dict(IRNN, final_mse=[0.02, 0.045, 0.03]), "small steps"),   # one seed above ESCAPE (1/24)
    ("01", 2, dict(LENGTHS, final_mse=[[0.017, 0.1, 0.027], *LENGTHS["final_mse"][1:]]), "few steps apart"),
    ("01", 2, dict(LENGTHS, final_mse=[*LENGTHS["final_mse"][:2], [0.168, 0.05, 0.19]]), "as long as"),
    ("04", 1, dict(MEAN, end_mse=[0.057, math.inf, 0.08]), "test curves"),                # one run blew up
    ("04", 1, dict(MEAN, fraction_clipped=[0.34, 0.05, 0.3]), "method='mean'"),           # clipped fewer
    ("04", 2, dict(LOWER, end_mse=[0.048, math.inf, 0.078]), "how much smaller"),          # blew up anyway
    ("04", 2, dict(LOWER, end_mse=[0.048, 0.16, 0.078]), "barely moves"),                 # finite, learned nothing
    ("06", 1, dict(LSTM, lstm_test=[1.85, 1.85, 1.85]), "whole recipe"),                  # not close
    ("06", 1, dict(LSTM, gru_params=60000), "count_parameters"),                           # not fewer parameters
    ("06", 2, dict(TEMPERATURE, copied=[0.05, 0.044, 0.04]), "wide range"),               # no trend
    ("06", 2, dict(TEMPERATURE, distinct=[1.0, 0.98, 0.9]), "wide range"),                 # less distinct when hot
    ("02", 1, dict(FUSED, crossing=64), "64"),                              # the GRU is slower there
    ("02", 1, dict(CROSSES, crossing=None), "None"),                        # a crossing was measured
    ("02", 1, dict(CROSSES, crossing=256), "smallest"),                     # a smaller size crosses too
    ("02", 2, dict(UNFUSED, fused_ratio=[0.5, 0.5, 0.5, 0.5]), "mkldnn"),   # the switch made no difference
    ("03", 1, dict(DECAY, adamw_mse=[0.02, 0.001, 0.001]), "weight_decay"),  # AdamW did not solve it
    ("03", 1, dict(DECAY, adam_shrink=[0.9, 0.9, 0.9]), "weight_hh_l0"),    # L2 did not shrink more
    ("03", 1, dict(DECAY, adam_mse=[0.002, 0.002, 0.002]), "running scale"),  # L2 did not leave it worse
    ("03", 2, dict(RANGE, lrs=LRS[:80], losses=LOSSES[:80]), "turns upwards"),  # the test stopped too soon
    ("03", 2, dict(RANGE, suggested_lr=1.0), "step back"),                  # the rate is past the lowest point
    ("03", 2, dict(RANGE, final_mse=[0.001, 0.05, 0.001]), "fall fastest"),  # the rate did not solve the task
    ("05", 1, dict(GL5, stop_epoch=[7, 3]), "E_opt"),                        # not GL's stop
    ("05", 1, dict(GL5, alpha=100, stop_epoch=[None, 10]), "large"),         # trains longer than patience
    ("05", 1, dict(GL5, alpha=1, stop_epoch=[3, 3]), "bump"),               # stops on an early bump
    ("05", 2, dict(SLOW, slow_epochs=[12, 15, 11]), "larger patience"),     # no cost
    ("05", 2, dict(SLOW, slow_test=[0.3, 0.3, 0.3]), "validation loss alone"),  # too large a gain
]


@pytest.mark.parametrize("nb, n, result", PASSING, ids=[f"{nb}.{n}-{i}" for i, (nb, n, _) in enumerate(PASSING)])
def test_a_result_that_shows_the_effect(nb, n, result):
    outcome = COMPANIONS[nb].check(n, result)
    assert outcome.status == exercises.SHOWS and outcome.shows_effect and outcome.hint == ""
    assert str(outcome).startswith(f"✔ Exercise {nb}.{n}: shows the effect.")
    assert outcome.values and all(isinstance(v, float | int) for v in outcome.values.values())
    assert COMPANIONS[nb].check(n, result, strict=True) == outcome


@pytest.mark.parametrize("nb, n, result, hint", FAILING, ids=[f"{nb}.{n}-{h}" for nb, n, _, h in FAILING])
def test_a_result_that_does_not_show_it_gets_numbers_and_a_hint(nb, n, result, hint):
    outcome = COMPANIONS[nb].check(n, result)
    assert outcome.status == exercises.NOT_YET and not outcome.shows_effect
    assert hint in outcome.hint or hint in outcome.message
    assert "Hint: " in str(outcome) and any(ch.isdigit() for ch in outcome.message)
    with pytest.raises(AssertionError, match="did NOT happen"):
        COMPANIONS[nb].check(n, result, strict=True)


def test_05_checker_knows_gl():
    assert nb05.generalization_loss_stop(VAL[0], 5) == 6
    assert nb05.generalization_loss_stop(VAL[0], 1) == 3
    assert nb05.generalization_loss_stop([1.0, 0.9, 0.8], 5) is None


@pytest.mark.parametrize("nb", COMPANIONS)
@pytest.mark.parametrize("n", [1, 2])
def test_the_placeholder_reports_not_attempted_and_strict_refuses_it(nb, n):
    outcome = COMPANIONS[nb].check(n, None)
    assert outcome.status == exercises.NOT_ATTEMPTED and outcome.exercise == f"{nb}.{n}"
    assert "not attempted" in repr(outcome) and "None" in str(outcome)
    with pytest.raises(AssertionError, match="not attempted"):
        COMPANIONS[nb].check(n, None, strict=True)


@pytest.mark.parametrize("nb", COMPANIONS)
@pytest.mark.parametrize("n, error", [(0, ValueError), (3, ValueError), ("1", TypeError), (True, TypeError),
                                      (1.0, TypeError)])
def test_bad_exercise_numbers(nb, n, error):
    with pytest.raises(error, match=r"^n must"):
        COMPANIONS[nb].check(n, None)


def test_strict_must_be_a_boolean():
    with pytest.raises(TypeError, match="strict"):
        nb02.check(1, None, strict="yes")


BAD = [
    ("01", 1, dict(IRNN, model="rnn"), TypeError, r"result\['model'\]"),
    ("01", 1, dict(IRNN, final_mse=[0.01]), ValueError, r"result\['final_mse'\] must have at least 2"),
    ("01", 1, {k: v for k, v in IRNN.items() if k != "tanh_final_mse"}, ValueError, r"missing 'tanh_final_mse'"),
    ("01", 1, dict(IRNN, tanh_final_mse=[0.15, 0.16]), ValueError, r"result\['tanh_final_mse'\]"),
    ("01", 2, dict(LENGTHS, lengths=[5, 20, 10]), ValueError, r"result\['lengths'\] must hold at least 3 increasing"),
    ("01", 2, dict(LENGTHS, final_mse=LENGTHS["final_mse"][:2]), ValueError, r"one list per length"),
    ("04", 1, dict(MEAN, end_mse=[0.05, math.nan, 0.08]), ValueError, r"result\['end_mse'\]\[1\]"),
    ("04", 1, dict(MEAN, fraction_clipped=[0.1, 1.5, 0.1]), ValueError, r"between 0 and 1"),
    ("04", 2, dict(LOWER, lr=-1), ValueError, r"result\['lr'\]"),
    ("04", 2, dict(LOWER, clipped_end_mse=[0.03]), ValueError, r"result\['clipped_end_mse'\] must have 3"),
    ("06", 1, dict(LSTM, gru_params=5.5), TypeError, r"result\['gru_params'\]"),
    ("06", 1, dict(LSTM, lstm_test=[1.7]), ValueError, r"result\['lstm_test'\] must have 3"),
    ("06", 2, dict(TEMPERATURE, temperatures=[1.2, 0.7, 0.3]), ValueError, r"must increase"),
    ("06", 2, dict(TEMPERATURE, copied=[1.1, 0.4, 0.1]), ValueError, r"between 0 and 1"),
    ("02", 1, [1, 2, 3], TypeError, r"result must be a dict"),
    ("02", 1, {"hidden": SIZES}, ValueError, r"result is missing 'gru_ms'"),
    ("02", 1, dict(FUSED, hidden=[32, 64]), ValueError, r"result\['hidden'\] must have at least 3"),
    ("02", 1, dict(FUSED, hidden=[64, 32, 128, 256]), ValueError, r"result\['hidden'\] must be increasing"),
    ("02", 1, dict(FUSED, hidden=[32.5, 64, 128, 256]), TypeError, r"result\['hidden'\]\[0\]"),
    ("02", 1, dict(FUSED, gru_ms=[1.0, 2.0]), ValueError, r"result\['gru_ms'\] must have 4"),
    ("02", 1, dict(FUSED, lstm_ms=[1.0, -2.0, 1.0, 1.0]), ValueError, r"result\['lstm_ms'\]\[1\]"),
    ("02", 1, dict(FUSED, crossing=100), ValueError, r"result\['crossing'\]"),
    ("02", 2, FUSED, ValueError, r"'fused_ratio'"),
    ("03", 1, dict(DECAY, adamw_mse="0.1"), TypeError, r"result\['adamw_mse'\]"),
    ("03", 1, dict(DECAY, adam_shrink=[0.1, math.nan, 0.1]), ValueError, r"result\['adam_shrink'\]\[1\]"),
    ("03", 2, dict(RANGE, lrs=LRS[::-1]), ValueError, r"result\['lrs'\] must increase"),
    ("03", 2, dict(RANGE, suggested_lr=0), ValueError, r"result\['suggested_lr'\]"),
    ("03", 2, dict(RANGE, losses=LOSSES[:50]), ValueError, r"result\['losses'\] must have 100"),
    ("05", 1, dict(GL5, stop_epoch=[6]), ValueError, r"result\['stop_epoch'\]"),
    ("05", 1, dict(GL5, stop_epoch=[60, 3]), ValueError, r"result\['stop_epoch'\]\[0\]"),
    ("05", 1, dict(GL5, stop_epoch=6), TypeError, r"result\['stop_epoch'\]"),
    ("05", 1, dict(GL5, test_loss=TEST[:1]), ValueError, r"result\['test_loss'\]"),
    ("05", 1, dict(GL5, val_loss="curves"), TypeError, r"result\['val_loss'\]"),
    ("05", 2, dict(SLOW, slow_test=[0.3]), ValueError, r"result\['slow_test'\]"),
    # impossible numbers: an MSE, a loss or a norm ratio below 0, a NaN
    ("01", 1, dict(IRNN, final_mse=[0.007, -0.2, 0.005]), ValueError, r"result\['final_mse'\]\[1\] must be >= 0"),
    ("01", 1, dict(IRNN, final_mse=[0.007, math.nan, 0.005]), ValueError,
     r"result\['final_mse'\]\[1\] must be a finite"),
    ("01", 2, dict(LENGTHS, final_mse=[[-0.1, 0.018, 0.027], *LENGTHS["final_mse"][1:]]), ValueError,
     r"result\['final_mse'\]\[0\]\[0\] must be >= 0"),
    ("03", 1, dict(DECAY, adam_mse=[-0.164, 0.182, 0.175]), ValueError, r"result\['adam_mse'\]\[0\] must be >= 0"),
    ("03", 1, dict(DECAY, adamw_mse=[0.0017, -0.0012, 0.0009]), ValueError, r"result\['adamw_mse'\]\[1\] must be >= 0"),
    ("03", 1, dict(DECAY, adam_shrink=[-0.0097, 0.0039, 0.0015]), ValueError,
     r"result\['adam_shrink'\]\[0\] must be >= 0"),
    ("03", 2, dict(RANGE, losses=[-1.0, *LOSSES[1:]]), ValueError, r"result\['losses'\]\[0\] must be >= 0"),
    ("03", 2, dict(RANGE, final_mse=[0.001, -0.0005, 0.0005]), ValueError, r"result\['final_mse'\]\[1\] must be >= 0"),
    ("05", 1, dict(GL5, val_loss=[[-1.0, *VAL[0][1:]], VAL[1]]), ValueError,
     r"result\['val_loss'\]\[0\]\[0\] must be >= 0"),
    ("05", 1, dict(GL5, test_loss=[TEST[0], [*TEST[1][:-1], math.nan]]), ValueError,
     r"result\['test_loss'\]\[1\]\[12\] must be a finite"),
    # a list longer than the curves it belongs to
    ("05", 1, dict(GL5, stop_epoch=[6, 3, 3]), ValueError,
     r"result\['stop_epoch'\] must have one entry per curve \(2\)"),
    ("01", 1, dict(IRNN, final_mse=[0.01] * 100_001), ValueError, r"result\['final_mse'\] must have at most 100,000"),
]


@pytest.mark.parametrize("nb, n, result, error, match", BAD, ids=[f"{b[0]}.{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_results_of_the_wrong_shape_name_what_is_wrong(nb, n, result, error, match):
    with pytest.raises(error, match=match):
        COMPANIONS[nb].check(n, result)


def test_outcome_prints_clearly():
    outcome = exercises.not_yet("07.1", "x was 3.", "look at y", {"x": 3.0})
    assert str(outcome) == repr(outcome) == "✘ Exercise 07.1: does not show it yet. x was 3.\n  Hint: look at y"
    assert str(exercises.shows("07.2", "x was 1.")) == "✔ Exercise 07.2: shows the effect. x was 1."


def test_check_runs_the_numbered_checker():
    seen = []
    checkers = {1: lambda r: seen.append(r) or exercises.shows("07.1", "ok"),
                2: lambda r: exercises.not_yet("07.2", "no", "hint")}
    assert exercises.check("07", 1, {"a": 1}, checkers).shows_effect and seen == [{"a": 1}]
    assert exercises.check("07", 2, {"a": 1}, checkers).status == exercises.NOT_YET
    with pytest.raises(AssertionError, match="Exercise 07.2"):
        exercises.check("07", 2, {"a": 1}, checkers, strict=True)


def test_01_2_a_longest_length_exactly_at_the_stuck_line_counts_as_not_learned():
    at_line = dict(LENGTHS, final_mse=[*LENGTHS["final_mse"][:2], [nb01.STUCK, 0.17, 0.19]])
    outcome = nb01.check(2, at_line)  # not below STUCK: did not learn, as the previous test says
    assert outcome.shows_effect and "from T = 20 on" in outcome.message


def test_05_1_a_validation_loss_of_exactly_zero_is_a_loss_like_any_other():
    perfect = [[0.5, 0.0, 0.0, 0.1, 0.2], [0.5, 0.3, 0.2, 0.25, 0.3]]
    stops = [nb05.generalization_loss_stop(curve, 5) for curve in perfect]
    assert stops == [3, 3]  # after a loss of 0, any loss above it is infinitely far above the best
    result = {"alpha": 5, "val_loss": perfect, "test_loss": perfect, "stop_epoch": stops}
    assert nb05.check(1, result).status in (exercises.SHOWS, exercises.NOT_YET)
    wrong = nb05.check(1, dict(result, stop_epoch=[2, 3]))
    assert wrong.status == exercises.NOT_YET and "at index 2, where GL = 0.0" in wrong.message
