"""Browse results that a notebook already computed, with sliders and drop-downs.

Widget callbacks only *show* precomputed results: exceptions raised inside a callback are
swallowed into the widget's output area, where a headless run (nbmake) never sees them. So
:func:`browse` first draws the default view as a plain output — any error there fails the cell,
and readers of the static notebook (GitHub) see that view too — and then the live controls.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt


def _control(name: str, spec: Any):
    import ipywidgets as widgets

    if isinstance(spec, widgets.ValueWidget):
        return spec
    if isinstance(spec, (list, tuple)) and spec:
        options = list(spec)
        if all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options):
            return widgets.SelectionSlider(options=options, value=options[0], description=name,
                                           continuous_update=False)
        return widgets.Dropdown(options=options, value=options[0], description=name)
    raise ValueError(
        f"control {name!r} must be a non-empty list of options or an ipywidgets control, got {spec!r}"
    )


def _values(control) -> Sequence[Any]:
    options = getattr(control, "options", None)
    if options is None:
        return [control.value]
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in options]


def browse(show: Callable[..., None], check: str = "default", static: bool = True, **controls: Any) -> None:
    """Display ``show(**values)`` with one control per keyword argument.

    Each control is a list of options (numbers → a selection slider, anything else → a
    drop-down; the first option is the default) or a ready ``ipywidgets`` control. ``check``:
    ``"default"`` calls ``show`` once at the defaults outside the widget, so that errors surface;
    ``"all"`` also calls it (silently) at every combination of options; ``"none"`` skips that.
    ``static`` keeps the default view as a plain output (GitHub shows it; the widget is not
    rendered there). Returns ``None`` so that no stray repr is printed under the widget.
    """
    if not callable(show):
        raise ValueError(f"show must be callable, got {show!r}")
    if check not in ("default", "all", "none"):
        raise ValueError(f"check must be 'default', 'all' or 'none', got {check!r}")
    if not controls:
        raise ValueError("browse needs at least one control, e.g. browse(show, seed=[0, 1, 2])")
    import ipywidgets as widgets
    from IPython.display import display

    made = {name: _control(name, spec) for name, spec in controls.items()}
    defaults = {name: c.value for name, c in made.items()}
    if check == "all":
        names = list(made)
        for combo in itertools.product(*(_values(made[n]) for n in names)):
            with plt.ioff():
                show(**dict(zip(names, combo)))
            plt.close("all")
    if static:
        show(**defaults)
        plt.show()
    elif check != "none":
        with plt.ioff():
            show(**defaults)
        plt.close("all")

    def _draw(**values: Any) -> None:
        show(**values)
        plt.show()

    out = widgets.interactive_output(_draw, made)
    display(widgets.VBox([widgets.HBox(list(made.values()), layout={"flex_flow": "row wrap"}), out]))
