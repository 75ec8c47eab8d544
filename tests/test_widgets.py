"""st.browse: one output (the live widget and a picture of its default view), errors surfaced at the defaults."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import seqtips as st  # noqa: E402

pytest.importorskip("ipywidgets")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def displayed(monkeypatch):
    """What browse sends to the notebook, call by call."""
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)))
    return calls


def draw(seed, cell):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, seed + 1], color="tab:red" if cell == "rnn" else "tab:blue")


def pixels(png: bytes):
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def rendered(**values) -> bytes:
    draw(**values)
    buffer = io.BytesIO()
    plt.gcf().savefig(buffer, format="png", bbox_inches="tight")
    plt.close("all")
    return buffer.getvalue()


def test_browse_sends_one_bundle_with_the_widget_and_a_picture_of_the_default_view(displayed):
    assert st.browse(draw, seed=[0, 1], cell=["rnn", "gru"]) is None
    assert len(displayed) == 1, "one output: GitHub and JupyterLab readers see one figure"
    (bundle,), kwargs = displayed[0]
    assert kwargs == {"raw": True}
    assert WIDGET_VIEW in bundle and "model_id" in bundle[WIDGET_VIEW]
    assert "JupyterLab" in bundle["text/plain"]
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    assert (pixels(png) == pixels(rendered(seed=0, cell="rnn"))).all()  # the default: first options
    other = pixels(rendered(seed=1, cell="gru"))
    assert other.shape != pixels(png).shape or not (other == pixels(png)).all()


def test_browse_checks_every_combination_only_when_asked(displayed):
    seen = []

    def show(seed, cell):
        seen.append((seed, cell))

    st.browse(show, seed=[0, 1], cell=["gru", "lstm"])
    assert set(seen) == {(0, "gru")}
    seen.clear()
    st.browse(show, check="all", seed=[0, 1], cell=["gru", "lstm"])
    assert set(seen) == {(0, "gru"), (0, "lstm"), (1, "gru"), (1, "lstm")}
    assert len(displayed) == 2


def test_browse_surfaces_errors_at_defaults(displayed):
    def broken(seed):
        raise KeyError(seed)

    with pytest.raises(KeyError):
        st.browse(broken, seed=[3, 4])
    assert displayed == []


def test_browse_surfaces_errors_at_any_combination_with_check_all(displayed):
    def broken_at_one(seed):
        if seed == 4:
            raise KeyError(seed)

    st.browse(broken_at_one, seed=[3, 4])  # the default view works
    with pytest.raises(KeyError):
        st.browse(broken_at_one, check="all", seed=[3, 4])


def test_browse_takes_a_ready_widget():
    import ipywidgets

    slider = ipywidgets.IntSlider(value=2, min=0, max=3)
    seen = []
    st.browse(lambda n: seen.append(n), n=slider)
    assert seen[0] == 2


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [((None,), {"seed": [1]}, TypeError, "show must be callable"),
     ((print,), {"check": "some", "seed": [1]}, ValueError, "check must be one of"),
     ((print,), {"check": None, "seed": [1]}, TypeError, "check must be one of"),
     ((print,), {}, ValueError, "at least one control"),
     ((print,), {"seed": []}, TypeError, "control 'seed'")],
)
def test_browse_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        st.browse(*args, **kwargs)


def test_a_text_view_is_sent_once_as_text_not_as_a_blank_picture(displayed):
    def show_counts(hidden):
        print(f"GRU parameters at H = {hidden}: {3 * hidden * (2 + hidden + 2)}")

    st.browse(show_counts, check="all", hidden=[32, 64])
    (bundle,), _ = displayed[0]
    assert "image/png" not in bundle, "no blank picture for a view that draws nothing"
    assert bundle["text/html"] == f"<pre>GRU parameters at H = 32: {3 * 32 * 36}</pre>"
    assert bundle["text/plain"] == f"GRU parameters at H = 32: {3 * 32 * 36}"
