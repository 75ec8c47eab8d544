"""Browse results that a notebook already computed, with sliders and drop-downs.

Widget callbacks only *show* precomputed results: exceptions raised inside a callback are
swallowed into the widget's output area, where a headless run (nbmake) never sees them. So
:func:`browse` draws the default view outside the widget first, where an error fails the cell.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt

from . import _check


def _control(name: str, spec: Any):
    import ipywidgets as widgets

    if isinstance(spec, widgets.ValueWidget):
        return spec
    if isinstance(spec, (list, tuple)) and spec:
        options = list(spec)
        if all(_check.is_number(o) for o in options):
            return widgets.SelectionSlider(options=options, value=options[0], description=name,
                                           continuous_update=False)
        return widgets.Dropdown(options=options, value=options[0], description=name)
    raise TypeError(f"control {name!r} must be a non-empty list of options or an ipywidgets control, got {spec!r}")


def _values(control) -> Sequence[Any]:
    options = getattr(control, "options", None)
    if options is None:
        return [control.value]
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in options]


def browse(show: Callable[..., None], check: str = "default", **controls: Any) -> None:
    """Display ``show(**values)`` with one control per keyword argument.

    Each control is a list of options (numbers → a selection slider, anything else → a
    drop-down; the first option is the default) or a ready ``ipywidgets`` control. The default
    view is drawn outside the widget first — an error there fails the cell — and sent in one
    output together with the live widget: JupyterLab renders the widget, GitHub and nbviewer
    the picture, so every reader sees one figure. ``check="all"`` also calls ``show`` at every
    combination of options (silently), so that no combination fails only in a reader's hands.
    Returns ``None`` so that no stray repr is printed under the widget.
    """
    if not callable(show):
        raise TypeError(f"show must be callable, got {show!r}")
    _check.choice("check", check, ("default", "all"))
    if not controls:
        raise ValueError("browse needs at least one control, e.g. browse(show, seed=[0, 1, 2])")
    import ipywidgets as widgets
    from IPython.display import display

    made = {name: _control(name, spec) for name, spec in controls.items()}
    if check == "all":
        for combo in itertools.product(*map(_values, made.values())):
            with plt.ioff(), contextlib.redirect_stdout(io.StringIO()):
                show(**dict(zip(made, combo)))
            plt.close("all")
    # the default view, for readers without a kernel: what show() prints goes into the bundle (not into
    # the cell, where JupyterLab would show it beside the widget's own copy), and a picture only if it drew
    printed, picture = io.StringIO(), io.BytesIO()
    with plt.ioff(), contextlib.redirect_stdout(printed):
        show(**{name: c.value for name, c in made.items()})
        if plt.get_fignums():
            plt.gcf().savefig(picture, format="png", bbox_inches="tight")
    plt.close("all")

    def _draw(**values: Any) -> None:
        show(**values)
        plt.show()

    out = widgets.interactive_output(_draw, made)
    box = widgets.VBox([widgets.HBox(list(made.values()), layout={"flex_flow": "row wrap"}), out])
    bundle = dict(box._repr_mimebundle_())
    text = printed.getvalue().rstrip()
    if picture.tell():
        bundle["image/png"] = base64.b64encode(picture.getvalue()).decode()
    elif text:  # a text view: static pages show the printed text (and clean() keeps the output)
        bundle["text/html"] = f"<pre>{html.escape(text)}</pre>"
    bundle["text/plain"] = text or "(interactive figure: run the notebook in JupyterLab to use the controls)"
    display(bundle, raw=True)
