"""seqtips.EarlyStopping: where it stops, what counts as an improvement, keeping the best weights."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from seqtips.early_stopping import EarlyStopping


def run(stopper, values, model=None):
    """Feed values until the stopper says stop; return the index of the stop or None."""
    for i, v in enumerate(values):
        if stopper.step(v, model):
            return i
    return None


# --- where it stops ---------------------------------------------------------------


def test_stops_on_the_patience_th_value_without_improvement():
    values = [1.0, 0.8, 0.6, 0.7, 0.65, 0.9, 0.5]
    es = EarlyStopping(patience=3)
    assert run(es, values) == 5
    assert es.best == 0.6
    assert es.best_epoch == 2
    assert es.wait == 3
    assert es.stopped_epoch == 5
    assert es.stopped
    assert "0.6 at epoch 2" in es.stop_reason
    assert "3 epochs" in es.stop_reason


def test_an_improvement_resets_the_wait():
    es = EarlyStopping(patience=2)
    assert run(es, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.7]) is None
    assert es.best_epoch == 6
    assert es.wait == 0
    assert es.stopped_epoch is None
    assert es.stop_reason is None
    assert not es.stopped


def test_patience_zero_and_one_stop_on_the_first_non_improving_value():
    values = [1.0, 0.9, 0.95, 0.5]
    assert run(EarlyStopping(patience=0), values) == 2
    assert run(EarlyStopping(patience=1), values) == 2
    assert run(EarlyStopping(patience=2), values) is None


def test_equal_value_is_not_an_improvement():
    es = EarlyStopping(patience=2)
    assert run(es, [0.5, 0.5, 0.5]) == 2
    assert es.best_epoch == 0


def test_min_delta_needs_an_improvement_larger_than_delta():
    values = [1.0, 0.95, 0.93, 0.92, 0.91, 0.90]  # falls by 0.05, then 0.01 per epoch
    assert run(EarlyStopping(patience=3, min_delta=0.0), values) is None
    es = EarlyStopping(patience=3, min_delta=0.045)
    # 0.95 beats 1.0 by 0.05 > 0.045; 0.93, 0.92, 0.91 are within 0.045 of 0.95
    assert run(es, values) == 4
    assert es.best == 0.95
    assert es.best_epoch == 1
    # the reference is the best, not the previous value: 0.90 is only 0.01 below 0.91
    # but 0.05 below the best, so with one more epoch of patience it counts
    es4 = EarlyStopping(patience=4, min_delta=0.045)
    assert run(es4, values) is None
    assert es4.best == 0.90
    assert es4.best_epoch == 5


def test_min_delta_exactly_equal_is_not_enough():
    es = EarlyStopping(patience=1, min_delta=0.5)
    assert run(es, [2.0, 1.5]) == 1


@pytest.mark.parametrize(
    ("best", "new", "min_delta", "mode"),
    [(0.4, 0.3, 0.1, "min"), (0.3, 0.4, 0.1, "max"), (1.0, 0.9, 0.1, "min"), (0.7, 0.6, 0.1, "min"),
     (0.2, 0.3, 0.1, "max"), (1.1, 1.0, 0.1, "min")],
)
def test_a_gain_of_exactly_min_delta_is_not_an_improvement_despite_float_rounding(best, new, min_delta, mode):
    # 0.4 - 0.3 == 0.10000000000000003 > 0.1 in floating point: it must still not count
    es = EarlyStopping(patience=1, min_delta=min_delta, mode=mode)
    assert es.step(best) is False
    assert es.is_improvement(new) is False
    assert es.step(new) is True
    assert es.best == best and es.best_epoch == 0


def test_a_gain_just_above_min_delta_is_an_improvement():
    es = EarlyStopping(patience=1, min_delta=0.1)
    es.step(0.4)
    assert es.is_improvement(0.2999) is True
    assert es.step(0.2999) is False
    assert es.best == 0.2999


def test_max_mode():
    values = [0.5, 0.7, 0.8, 0.79, 0.81, 0.6, 0.6]
    es = EarlyStopping(patience=2, mode="max")
    assert run(es, values) == 6
    assert es.best == 0.81
    assert es.best_epoch == 4
    assert "validation score" in es.stop_reason
    es_delta = EarlyStopping(patience=2, mode="max", min_delta=0.05)
    assert run(es_delta, values) == 4  # 0.79 and 0.81 are not > 0.8 + 0.05
    assert es_delta.best_epoch == 2


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_value_stops_at_once(bad):
    es = EarlyStopping(patience=10)
    assert run(es, [1.0, 0.5, bad, 0.1]) == 2
    assert es.stopped_epoch == 2
    assert es.best == 0.5
    assert es.best_epoch == 1
    assert "at once" in es.stop_reason


def test_nan_as_first_value():
    es = EarlyStopping()
    assert es.step(float("nan")) is True
    assert es.best is None
    assert es.best_epoch is None
    assert es.stopped_epoch == 0


def test_max_mode_inf_also_stops():
    es = EarlyStopping(mode="max", patience=5)
    assert run(es, [0.1, float("inf")]) == 1


def test_accepts_floats_numpy_scalars_and_tensors():
    values = [
        1.0,
        np.float32(0.9),
        np.float64(0.8),
        torch.tensor(0.7),
        torch.tensor(0.6, requires_grad=True) * 1.0,
        np.array(0.5),
        torch.tensor([0.4]),
        1,
    ]
    es = EarlyStopping(patience=1)
    assert run(es, values) == 7
    assert es.best == pytest.approx(0.4)
    assert all(isinstance(v, float) for v in es.values)


@pytest.mark.parametrize("bad", ["0.5", None, [0.1, 0.2], torch.tensor([0.1, 0.2]), True])
def test_rejects_values_that_are_not_one_number(bad):
    with pytest.raises(TypeError, match="value"):
        EarlyStopping().step(bad)


def test_step_after_stop_raises_and_reset_starts_over():
    es = EarlyStopping(patience=0)
    run(es, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="already stopped at epoch 1"):
        es.step(0.1)
    assert es.values == [1.0, 2.0]  # the refused value was not recorded
    es.reset()
    assert es.best is None and es.stopped_epoch is None and es.values == []
    assert run(es, [3.0, 2.0, 2.5]) == 2
    assert es.best_epoch == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"patience": -1}, ValueError, "patience"),
        ({"patience": 2.0}, TypeError, "patience"),
        ({"patience": "3"}, TypeError, "patience"),
        ({"patience": True}, TypeError, "patience"),
        ({"min_delta": -0.1}, ValueError, "min_delta"),
        ({"min_delta": float("nan")}, ValueError, "min_delta"),
        ({"min_delta": math.inf}, ValueError, "min_delta"),
        ({"min_delta": "0"}, TypeError, "min_delta"),
        ({"mode": "minimum"}, ValueError, "mode"),
        ({"mode": None}, TypeError, "mode"),
        ({"restore_best": 1}, TypeError, "restore_best"),
        ({"monitor": 3}, TypeError, "monitor"),
    ],
)
def test_bad_arguments_raise_an_error_naming_them(kwargs, error, name):
    with pytest.raises(error, match=name):
        EarlyStopping(**kwargs)


def test_numpy_integers_and_floats_are_good_arguments():
    es = EarlyStopping(patience=np.int64(2), min_delta=np.float32(0.5))
    assert (es.patience, es.min_delta) == (2, 0.5)
    assert isinstance(es.patience, int) and isinstance(es.min_delta, float)


def test_monitor_names_the_value_in_the_stop_reason():
    es = EarlyStopping(patience=1, monitor="validation NLL")
    run(es, [1.0, 2.0])
    assert es.stop_reason.startswith("validation NLL did not improve")


def test_model_argument_must_be_a_module():
    with pytest.raises(TypeError, match="model"):
        EarlyStopping().step(0.5, model={"w": torch.zeros(1)})


# --- keeping and restoring the best weights -----------------------------------------


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))


def perturb(model, amount):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(amount)  # in place: a stored reference would change too
        model[1].running_mean.add_(amount)


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_restores_best_weights_on_stop_and_copy_is_independent():
    model = make_model()
    es = EarlyStopping(patience=2)
    losses = [1.0, 0.5, 0.7, 0.8]
    at_best = None
    for i, loss in enumerate(losses):
        perturb(model, 0.1 * (i + 1))  # "training" changes the weights in place
        if i == 1:
            at_best = state(model)
        if es.step(loss, model):
            break
    assert es.stopped_epoch == 3
    assert es.restored
    assert es.best_epoch == 1
    assert_same_state(state(model), at_best)
    # the stored copy does not follow later in-place updates of the model
    perturb(model, 5.0)
    assert_same_state(es.best_state, at_best)
    assert all(v.device.type == "cpu" for v in es.best_state.values())


def test_restore_on_demand_when_epochs_run_out():
    model = make_model()
    es = EarlyStopping(patience=10)
    at_best = None
    for i, loss in enumerate([1.0, 0.4, 0.6]):
        perturb(model, 1.0)
        if i == 1:
            at_best = state(model)
        assert not es.step(loss, model)
    last = state(model)
    assert not torch.equal(last["0.weight"], at_best["0.weight"])
    assert es.restore(model) is model
    assert_same_state(state(model), at_best)


def test_restore_into_a_fresh_model_of_the_same_shape():
    model = make_model()
    es = EarlyStopping(patience=1)
    es.step(0.3, model)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    es.restore(other)
    assert_same_state(state(other), state(model))


def test_nan_stop_restores_the_best_weights():
    model = make_model()
    es = EarlyStopping(patience=5)
    es.step(0.5, model)
    at_best = state(model)
    perturb(model, float("nan"))
    assert es.step(float("nan"), model)
    assert_same_state(state(model), at_best)


def test_restore_without_a_copy_is_a_clear_error():
    model = make_model()
    with pytest.raises(RuntimeError, match="nothing to restore: no finite value"):
        EarlyStopping().restore(model)
    es = EarlyStopping()
    es.step(0.5)  # no model given
    with pytest.raises(RuntimeError, match="no model was passed"):
        es.restore(model)
    off = EarlyStopping(restore_best=False)
    off.step(0.5, model)
    with pytest.raises(RuntimeError, match="restore_best=False"):
        off.restore(model)
    assert off.best_state is None


def test_best_without_model_drops_an_older_copy():
    model = make_model()
    es = EarlyStopping()
    es.step(1.0, model)
    es.step(0.5)  # a new best, but no weights to copy: the old copy is not the best
    with pytest.raises(RuntimeError, match="nothing to restore"):
        es.restore(model)


def test_restore_best_false_leaves_the_model_alone_on_stop():
    model = make_model()
    es = EarlyStopping(patience=0, restore_best=False)
    es.step(0.5, model)
    perturb(model, 1.0)
    after = state(model)
    assert es.step(0.9, model)
    assert not es.restored
    assert_same_state(state(model), after)


def test_repr_and_reason_are_readable():
    es = EarlyStopping(patience=1, min_delta=0.01)
    run(es, [0.412, 0.5])
    expected = "did not improve on its best (0.412 at epoch 0) by more than 0.01 for 1 epoch"
    assert expected in es.stop_reason
    assert "stopped at 1" in repr(es)
    assert math.isclose(es.best, 0.412)


@pytest.mark.parametrize("last", [0.9, float("nan")], ids=["patience", "non-finite"])
def test_a_stop_that_cannot_restore_the_best_weights_says_so(last):
    model = make_model()
    es = EarlyStopping(patience=1)
    es.step(1.0, model)
    es.step(0.5)  # the best epoch, but no model: its weights are not kept
    perturb(model, 1.0)
    after = state(model)
    with pytest.raises(RuntimeError, match=r"best weights cannot be restored .* no model was passed to step\(\) "
                                           r"at the best epoch \(1\)"):
        es.step(last, model)
    assert es.stopped and es.stopped_epoch == 2 and not es.restored  # the stop is recorded all the same
    assert_same_state(state(model), after)
    with pytest.raises(RuntimeError, match="already stopped"):
        es.step(0.1, model)


def test_a_stop_without_any_model_needs_no_restore():
    es = EarlyStopping(patience=1)
    es.step(1.0)
    assert es.step(2.0) and es.stopped and not es.restored  # nothing was asked to be restored: no error
