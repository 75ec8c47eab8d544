import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import seqtips as st  # noqa: E402


def test_check_passes_and_prints(capsys):
    assert st.check("GRU beats RNN", True, "0.001 < 0.16") is None
    out = capsys.readouterr().out
    assert "GRU beats RNN" in out and "0.001 < 0.16" in out


def test_check_fails_loudly():
    with pytest.raises(AssertionError, match=r"(?s)did NOT hold.*GRU beats RNN.*0.2 > 0.16"):
        st.check("GRU beats RNN", False, "0.2 > 0.16")


def test_check_accepts_numpy_and_torch_booleans(capsys):
    st.check("numpy", np.bool_(True))
    st.check("torch", torch.tensor(True))
    with pytest.raises(AssertionError):
        st.check("numpy false", np.bool_(False))


@pytest.mark.parametrize(("claim", "holds", "match"), [("", True, "claim"), ("ok", 1.0, "holds"),
                                                        ("ok", "yes", "holds")])
def test_check_bad_input(claim, holds, match):
    with pytest.raises(ValueError, match=match):
        st.check(claim, holds)


def test_fmt_and_per_seed():
    assert st.fmt([0.0012345, 0.16, float("inf")]) == "0.00123, 0.16, inf"
    assert st.per_seed([0, 1], [0.5, 0.25]) == "seed 0: 0.5, seed 1: 0.25"
    with pytest.raises(ValueError, match="one entry per seed"):
        st.per_seed([0, 1], [0.5])


def test_seed_band_ragged_runs():
    fig, ax = plt.subplots()
    st.seed_band(ax, [0, 1, 2, 3], [[1, 2, 3, 4], [2, 3], [3, 4, 5, 6]], label="x")
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == [2, 3, 4, 5]
    with pytest.raises(ValueError, match="at least one run"):
        st.seed_band(ax, [0], [])
    plt.close(fig)


def test_plots_draw_threshold_and_percentiles():
    fig, (a, b, c) = plt.subplots(1, 3)
    norms = np.geomspace(0.1, 10, 100)
    st.plot_grad_norms(a, norms, threshold=2.0)
    assert any("threshold 2" in str(line.get_label()) for line in a.get_lines())
    st.plot_norm_histogram(b, norms, threshold=1.0)
    labels = [t.get_text() for t in b.get_legend().get_texts()]
    assert any(lbl.startswith("p50") for lbl in labels) and "threshold 1" in labels
    with pytest.raises(ValueError, match="finite, positive"):
        st.plot_norm_histogram(b, [float("nan"), 0.0])
    st.plot_time_gradients(c, {"gru": [np.ones(5), np.ones(5) * 2]})
    assert c.get_yscale() == "log"
    plt.close(fig)


def test_plot_eval_curves():
    h1 = st.History(label="a", eval_step=[0, 10, 20], eval_loss=[1.0, 0.5, 0.2])
    h2 = st.History(label="a", eval_step=[0, 10], eval_loss=[1.0, 0.7])
    fig, ax = plt.subplots()
    st.plot_eval_curves(ax, {"gru": [h1, h2]}, baseline=1 / 6)
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="no history"):
        st.plot_eval_curves(ax, {"gru": []})
    plt.close(fig)


def test_browse_checks_every_combination(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append(a))
    seen = []

    def show(seed, cell):
        seen.append((seed, cell))

    st.browse(show, check="all", static=False, seed=[0, 1], cell=["gru", "lstm"])
    assert set(seen) >= {(0, "gru"), (0, "lstm"), (1, "gru"), (1, "lstm")}
    assert shown, "the widget was displayed"


def test_browse_surfaces_errors_at_defaults():
    pytest.importorskip("ipywidgets")

    def broken(seed):
        raise KeyError(seed)

    with pytest.raises(KeyError):
        st.browse(broken, seed=[3, 4])


@pytest.mark.parametrize(("args", "kwargs", "match"), [((None,), {"seed": [1]}, "show"),
                                                      ((print,), {"check": "some", "seed": [1]}, "check"),
                                                      ((print,), {}, "at least one control"),
                                                      ((print,), {"seed": []}, "control 'seed'")])
def test_browse_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        st.browse(*args, **kwargs)
