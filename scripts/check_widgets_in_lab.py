"""Check the notebooks' "try it" cells in a real JupyterLab, driven by headless Chromium, and in nbconvert.

A try-it cell calls ``seqtips.browse``, which sends one output holding the live widget
(``application/vnd.jupyter.widget-view+json``) and a PNG of the default view. This script checks what
readers see, for each notebook given:

1. static page, ``jupyter nbconvert --to html`` (what nbviewer renders): each try-it cell shows the committed
   PNG exactly once, no widget markup, and the PNG is not blank (one colour: ``show`` drew no figure);
2. saved notebook, opened in JupyterLab (untrusted, as a fresh reader opens it): each try-it output shows
   exactly one image, the committed PNG, and no widget;
3. after Run → Run All Cells (every code cell must run, none may raise): each try-it output shows exactly
   one figure, the widget's (the PNG fallback is not shown as well); moving the first slider, drop-down or
   check box redraws it (the figure's image and a pixel hash of the output area both change) and it stays
   one figure. A ``show`` that prints instead of drawing (a text view) must show its text once, not also
   outside the widget; a bundle without a PNG must show its text fallback once in steps 1 and 2;
4. informational (never fails; ``--no-reopen`` skips it): the notebook saved from JupyterLab after Run All
   and reopened with a new kernel. JupyterLab signs what it saves, so the reopened outputs are trusted and
   go to the widget renderer, whose models died with the old kernel: "Error displaying widget: model not
   found", with or without ``--save-widget-state`` (jupyterlab/jupyterlab#15361).

It works on copies in a temporary folder (``notebooks/`` and ``evidence/`` if present, so relative paths
work) and never writes into the repository. With ``--ref REV`` the notebooks *and* the ``seqtips`` package
come from that git revision (the kernel imports the copy), so edits in progress do not matter; without it,
the working tree's notebooks and this checkout's ``seqtips``. JupyterLab listens on 127.0.0.1 only, with a
random token, its own settings (news pop-up and update checks off, notebook windowing off so that every
cell is in the page) and a throw-away notebook trust database. Every process started is stopped at the end.

Run by CI (``.ci/run``, on notebooks 01–06). It needs Chromium and Playwright's Python API, which are not
requirements of the notebooks; CI installs both the same way::

    apt-get install -y chromium          # the browser (Debian package), launched from /usr/bin/chromium
    pip install playwright               # the Python API only; `playwright install` is not needed

    python scripts/check_widgets_in_lab.py                                     # notebooks/05_early_stopping.ipynb
    python scripts/check_widgets_in_lab.py --ref HEAD notebooks/05_early_stopping.ipynb \\
        notebooks/02_gru_vs_lstm.ipynb --out /tmp/lab-check

Prints a short report, saves screenshots under ``--out`` (default /tmp/lab-check; one folder per notebook)
and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html as html_lib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTINGS = {  # JupyterLab user settings for the test server
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# What one output area of a cell shows; run in the page. Figures are visible <img> elements; the widget
# is the ipywidgets view rendered by the widget-view renderer.
OUTPUTS_JS = """(index) => {
  const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
  const cell = cells[index];
  if (!cell) return null;
  const visible = (el) => { const r = el.getBoundingClientRect();
    return el.offsetParent !== null && r.width > 1 && r.height > 1; };
  const area = cell.querySelector('.jp-OutputArea.jp-Cell-outputArea');  // not a widget's nested one
  const children = area ? Array.from(area.querySelectorAll(':scope > .jp-OutputArea-child')) : [];
  return children.map((child) => {
    const imgs = Array.from(child.querySelectorAll('img')).filter(visible);
    const widget = child.querySelector('.widget-vbox, .widget-box, .widget-output, .jupyter-widgets');
    return {
      mime: Array.from(child.querySelectorAll('[data-mime-type]')).map((e) => e.dataset.mimeType),
      images: imgs.length,
      inWidget: imgs.filter((i) => i.closest('.widget-output, .jupyter-widgets-output-area')).length,
      srcs: imgs.map((i) => i.getAttribute('src') || ''),
      widget: !!(widget && visible(widget)),
      controls: child.querySelectorAll('.widget-slider, .widget-dropdown, .widget-checkbox').length,
      browse: !!child.querySelector('.widget-output')
        && child.querySelectorAll('.widget-slider, .widget-dropdown, .widget-checkbox').length > 0,
      text: (child.innerText || '').slice(0, 2000),
      wtext: Array.from(child.querySelectorAll('.widget-output')).map((e) => e.innerText || '').join('')
        .slice(0, 2000),
    };
  });
}"""

PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
  .map((p) => (p.innerText || '').trim())"""


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def line(self, text: str) -> None:
        print(text, flush=True)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        self.line(f"  {'OK  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
        if not ok:
            self.failures.append(what + (f": {detail}" if detail else ""))
        return ok


# --------------------------------------------------------------------------------------------- set-up


def copy_sources(tmp: Path, ref: str | None) -> Path:
    """``notebooks/`` (and ``evidence/``, ``seqtips/`` for a ref) into ``tmp``; returns the PYTHONPATH entry."""
    src = tmp / "src"
    src.mkdir()
    if ref is None:  # the kernel imports this checkout's seqtips
        shutil.copytree(ROOT / "notebooks", tmp / "notebooks")
        if (ROOT / "evidence").is_dir():
            shutil.copytree(ROOT / "evidence", tmp / "evidence")
        return ROOT
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", ref],
                             check=True, capture_output=True, text=True).stdout.split()
    wanted = [p for p in ("notebooks", "evidence", "seqtips") if p in tracked]
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, *wanted],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    shutil.move(src / "notebooks", tmp / "notebooks")
    if (src / "evidence").is_dir():
        shutil.move(src / "evidence", tmp / "evidence")
    elif (ROOT / "evidence").is_dir():  # untracked records: still the best there is
        shutil.copytree(ROOT / "evidence", tmp / "evidence")
    return src


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(tmp: Path, src: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("JUPYTER_TOKEN", "JUPYTER_PLATFORM_DIRS", "MPLBACKEND"):
        env.pop(key, None)
    env.update({
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "IPYTHONDIR": str(tmp / "ipython"),
        "PYTHONPATH": os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "SEQTIPS_THREADS": os.environ.get("SEQTIPS_THREADS", "1"),
    })
    return env


def write_settings(settings: Path, save_widget_state: bool = False) -> None:
    extra = {"@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True}}
    for name, values in {**SETTINGS, **(extra if save_widget_state else {})}.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def api(base: str, token: str, path: str, method: str = "GET") -> object:
    req = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
                                 data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def start_lab(tmp: Path, env: dict[str, str], token: str, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--IdentityProvider.token={token}",
           f"--port={port}", "--ip=127.0.0.1", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={tmp}", f"--LabApp.user_settings_dir={tmp / 'settings'}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--NotebookNotary.db_file=:memory:",
           "--ServerApp.terminals_enabled=False"]
    if os.geteuid() == 0:  # containers
        cmd.append("--allow-root")
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {tmp / 'lab.log'}")
        try:
            api(base, token, "/api/status")
            return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer within 120 s; see {tmp / 'lab.log'}")


def stop_lab(proc: subprocess.Popen, base: str, token: str, tmp: Path) -> None:
    """Shut the server down (kernels included); then end any kernel of ours still alive, by pid."""
    try:
        api(base, token, "/api/shutdown", method="POST")
        proc.wait(timeout=30)
    except Exception:  # noqa: BLE001 - fall back to signals
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    runtime = str(tmp / "runtime")
    for entry in Path("/proc").iterdir():  # kernels run in sessions of their own: find ours by their files
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if runtime in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------------------------------- the notebook


def try_it_cells(nb: dict) -> list[tuple[int, dict]]:
    """(cell index, its browse() output) for every cell whose saved outputs hold a widget view."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                found.append((i, out))
    return found


def png_of(out: dict) -> str:
    data = out["data"].get("image/png", "")
    return "".join(data) if isinstance(data, list) else data


def text_of(out: dict) -> str:
    data = out["data"].get("text/plain", "")
    return "".join(data) if isinstance(data, list) else data


def png_content(data: str) -> tuple[int, str] | None:
    """(number of colours, size) of a base64 PNG; None without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return None
    import io

    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA")
    colours = image.getcolors(maxcolors=1 << 24) or []
    return len(colours), f"{image.width}x{image.height}"


def pixel_hash(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()[:16]


def outputs(page, index: int) -> list[dict]:
    return page.evaluate(OUTPUTS_JS, index) or []


def widget_output(page, index: int) -> dict | None:
    """The cell's browse() widget: controls above an Output widget (progress bars are widgets too)."""
    return next((o for o in outputs(page, index) if o["browse"]), None)


def move_first_control(page, cell, before: dict) -> str:
    """Move the first slider / drop-down / check box of the cell's widget; return what was done."""
    control = cell.locator(".widget-slider, .widget-dropdown, .widget-checkbox").first
    control.scroll_into_view_if_needed()
    kind = control.get_attribute("class") or ""
    label = (control.locator(".widget-label").first.inner_text() if control.locator(".widget-label").count()
             else "?").strip()
    if "widget-dropdown" in kind:
        select = control.locator("select")
        values = select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
        old = select.input_value()
        new = next(v for v in values if v != old)
        select.select_option(new)
        return f"drop-down {label!r}: option {old!r} -> {new!r}"
    if "widget-checkbox" in kind:
        box = control.locator("input[type=checkbox]")
        old = box.is_checked()
        box.click()
        return f"check box {label!r}: {old} -> {not old}"
    readout = control.locator(".widget-readout")
    old = readout.inner_text().strip() if readout.count() else "?"
    handle = control.locator(".noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    new = readout.inner_text().strip() if readout.count() else "?"
    if new == old:  # keyboard did nothing (first option is the last one?): drag the handle instead
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 60, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        page.wait_for_timeout(300)
        new = readout.inner_text().strip() if readout.count() else "?"
    return f"slider {label!r}: {old} -> {new}"


def wait_until(predicate, timeout: float, step: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


HIDDEN_INPUTS_JS = "() => document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPlaceholder').length"


def expand_code(page, report: Report) -> None:
    """A collapsed code cell shows a placeholder without its ``[n]:`` prompt: expand all code (View menu)
    so that every code cell's prompt can be read; fails the check if any stays collapsed."""
    hidden = page.evaluate(HIDDEN_INPUTS_JS)
    if not hidden:
        return
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^View$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Expand All Code$")).click()
    left = wait_until(lambda: page.evaluate(HIDDEN_INPUTS_JS) == 0, 10)
    report.check(bool(left), "collapsed code cells expanded to read their prompts",
                 f"{hidden} collapsed, {page.evaluate(HIDDEN_INPUTS_JS)} still collapsed")


def run_all(page, report: Report, n_code: int, timeout: float) -> bool:
    expand_code(page, report)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    start = time.monotonic()
    # wait until every code cell has run: numbered prompts, none queued or running
    wait_until(lambda: any(p == "[*]:" for p in page.evaluate(PROMPTS_JS)), 20)
    last_print = start

    def done() -> bool:
        nonlocal last_print
        prompts = page.evaluate(PROMPTS_JS)
        if time.monotonic() - last_print > 30:
            finished = sum(bool(re.fullmatch(r"\[\d+\]:", p)) for p in prompts)
            report.line(f"  … {finished}/{n_code} code cells done after {time.monotonic() - start:.0f} s")
            last_print = time.monotonic()
        return all(re.fullmatch(r"\[\d+\]:", p) for p in prompts) or (
            "[*]:" not in prompts and time.monotonic() - start > 5)

    wait_until(done, timeout, step=1.0)
    prompts = page.evaluate(PROMPTS_JS)
    ran = sum(bool(re.fullmatch(r"\[\d+\]:", p)) for p in prompts)
    idle = wait_until(lambda: page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
                      or page.get_by_text(re.compile(r"\| Idle$")).count(), 30)
    errors = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map((e) => e.innerText).filter((t) => /Traceback|Error/.test(t)).map((t) => t.slice(-400))""")
    ok = report.check(ran == n_code and not errors,
                      "Run All Cells", f"{ran}/{n_code} code cells ran in {time.monotonic() - start:.0f} s"
                      + (f", kernel {'idle' if idle else 'not seen idle'}")
                      + (f"; errors: {errors}" if errors else ""))
    return ok


def check_live(browser, base: str, token: str, rel: str, nb: dict, cells: list[tuple[int, dict]],
               out: Path, report: Report, timeout: float, reopen: bool) -> None:
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.goto(f"{base}/lab/tree/{rel}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    wait_until(lambda: page.locator(".jp-Notebook .jp-Cell").count() == len(nb["cells"]), 60)
    report.check(page.locator(".jp-Notebook .jp-Cell").count() == len(nb["cells"]), "all cells in the page",
                 f"{page.locator('.jp-Notebook .jp-Cell').count()} of {len(nb['cells'])}")
    page.wait_for_timeout(1500)  # let renderers settle

    report.line("  saved notebook, as opened (untrusted):")
    for index, bundle in cells:
        cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        outs = outputs(page, index)
        images = sum(o["images"] for o in outs)
        widgets = sum(o["widget"] for o in outs)
        expected = sum(1 for o in nb["cells"][index].get("outputs", []) if "image/png" in o.get("data", {}))
        path = out / f"cell{index:02d}_saved.png"
        cell.locator(".jp-Cell-outputArea").screenshot(path=str(path))
        broken = [o["text"][:60] for o in outs if re.search(r"(Loading|Error displaying) widget", o["text"])]
        if png_of(bundle):
            mine = [o for o in outs if png_of(bundle) in "".join(o["srcs"])]
            report.check(len(mine) == 1 and mine[0]["images"] == 1 and images == expected and not widgets
                         and not broken, f"cell {index}: saved output shows the committed PNG once, no widget",
                         f"{images} image(s) in the cell ({expected} expected), committed PNG in {len(mine)} "
                         f"output(s), {widgets} widget(s){', ' + repr(broken) if broken else ''}; {path}")
        else:  # a text view: the bundle's fallback is its text/plain
            first = text_of(bundle).strip().splitlines()[0] if text_of(bundle).strip() else "?"
            shown = sum(o["text"].count(first) for o in outs)
            report.check(shown == 1 and images == expected and not widgets and not broken,
                         f"cell {index}: saved output shows the committed text fallback once, no widget",
                         f"{first!r} shown {shown}x, {images} image(s) ({expected} expected), {widgets} widget(s)"
                         f"{', ' + repr(broken) if broken else ''}; {path}")

    page.screenshot(path=str(out / "saved_page.png"))
    kernel_ok = wait_until(lambda: page.get_by_text(re.compile(r"\| Idle$")).count(), 120)
    report.line(f"  kernel {'started' if kernel_ok else 'not seen idle yet'}; Run → Run All Cells …")
    ran = run_all(page, report, sum(c["cell_type"] == "code" for c in nb["cells"]), timeout)
    page.wait_for_timeout(2000)

    report.line("  after Run All:")
    live = [i for i in range(len(nb["cells"])) if widget_output(page, i)]
    bars = [i for i in range(len(nb["cells"])) if i not in live and any(o["widget"] for o in outputs(page, i))]
    report.check(live == [i for i, _ in cells], "browse() widgets where the saved notebook has them",
                 f"live in cells {live}, saved widget views in cells {[i for i, _ in cells]}"
                 + (f" (other widgets, e.g. progress bars, in cells {bars})" if bars else ""))
    for index in live:
        cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()

        def drawn(index=index):  # the widget's view is drawn: one figure, or (a text view) some text
            w = widget_output(page, index)
            return w if w and (w["inWidget"] == 1 or (w["inWidget"] == 0 and w["wtext"].strip())) else None

        before = wait_until(drawn, 30) or widget_output(page, index) or {}
        page.wait_for_timeout(500)
        outs = outputs(page, index)
        shot1 = out / f"cell{index:02d}_live_before.png"
        png1 = cell.locator(".jp-Cell-outputArea").screenshot(path=str(shot1))
        others = sum(o["images"] for o in outs if not o["browse"])
        expected_others = sum(1 for o in nb["cells"][index].get("outputs", [])
                              if "image/png" in o.get("data", {}) and WIDGET_VIEW not in o["data"])
        wtext = before.get("wtext", "").strip()
        twice = [o["text"].strip() for o in outs if not o["browse"] and wtext and o["text"].strip() == wtext]
        if before.get("inWidget") == 0 and wtext:  # show() printed instead of drawing
            report.check(not twice, f"cell {index}: live widget shows its view once (a text view: no figure)",
                         f"{before.get('images')} image(s) in the widget's output; the widget's text is "
                         + (f"ALSO printed outside the widget ({len(twice)}x), so the cell shows it twice"
                            if twice else "shown once") + f"; {shot1}")
        else:
            report.check(before.get("images") == 1 and before.get("inWidget") == 1 and before.get("controls", 0) > 0,
                         f"cell {index}: live widget shows one figure (its own), no PNG fallback",
                         f"{before.get('images')} image(s) in the widget's output, {before.get('inWidget')} inside "
                         f"the widget, {before.get('controls')} control(s), mime {before.get('mime')}; {shot1}")
        report.check(others == expected_others, f"cell {index}: no other figure in the cell",
                     f"{others} image(s) outside the widget ({expected_others} expected)")
        if not before:
            continue
        try:
            moved = move_first_control(page, cell, before)
        except Exception as err:  # noqa: BLE001 - report it as a failure
            report.check(False, f"cell {index}: move the first control", repr(err))
            continue

        def redrawn(index=index, old=(before["srcs"][:1], before["wtext"])):
            w = drawn(index)
            return w if w and (w["srcs"][:1], w["wtext"]) != old else None

        after = wait_until(redrawn, 60)
        page.wait_for_timeout(800)  # let the image finish painting
        after = drawn(index) or after or widget_output(page, index) or {}
        shot2 = out / f"cell{index:02d}_live_after.png"
        png2 = cell.locator(".jp-Cell-outputArea").screenshot(path=str(shot2))
        changed = (after.get("srcs", [])[:1], after.get("wtext")) != (before["srcs"][:1], before["wtext"])
        changed_px = pixel_hash(png1) != pixel_hash(png2)
        kind = "figure" if before.get("inWidget") else "text view"
        report.check(changed and changed_px and after.get("images") == before.get("images")
                     and after.get("inWidget") == before.get("inWidget"),
                     f"cell {index}: {moved} redraws the {kind}",
                     f"{after.get('images')} figure(s) in the widget after; {kind} "
                     f"{'changed' if changed else 'UNCHANGED'}, pixels {pixel_hash(png1)} -> {pixel_hash(png2)}; "
                     f"{shot2}")
    page.screenshot(path=str(out / "after_run_page.png"), full_page=False)
    if console:
        report.line(f"  browser console errors ({len(console)}): " + "; ".join(c[:160] for c in console[:5]))
    if not ran:
        page.screenshot(path=str(out / "run_all_failed.png"))
    if reopen:  # save, as a reader may, for check_reopened
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save( Notebook)?$")).click()
        wait_until(lambda: page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, 30)
    page.close()


def check_reopened(browser, base: str, token: str, rel: str, cells: list[tuple[int, dict]], out: Path,
                   report: Report) -> None:
    """Informational: the notebook saved from JupyterLab after Run All, reopened with a fresh kernel.

    JupyterLab signs what it saves, so the reopened notebook is trusted and its widget views are given to
    the widget renderer — whose models died with the old kernel (no widget state is saved by default).
    """
    saved = api(base, token, f"/api/contents/{rel}")["content"]
    trusted = all(c["metadata"].get("trusted", False) for c in saved["cells"] if c.get("outputs"))
    page = browser.new_page()
    page.goto(f"{base}/lab/tree/{rel}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    wait_until(lambda: page.get_by_text(re.compile(r"\| Idle$")).count(), 120)
    page.wait_for_timeout(5000)  # let the widget manager restore (nothing) and re-render
    report.line(f"  saved from JupyterLab and reopened with a new kernel (informational; server trusts it: "
                f"{trusted}, widget state saved: {'widgets' in saved['metadata']}):")
    for index, _bundle in cells:
        cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        outs = outputs(page, index)
        path = out / f"cell{index:02d}_reopened.png"
        cell.locator(".jp-Cell-outputArea").screenshot(path=str(path))
        images = sum(o["images"] for o in outs)
        text = " | ".join(o["text"].strip() for o in outs if o["text"].strip())
        report.line(f"  NOTE cell {index}: {images} image(s) shown" + (f", text {text[:120]!r}" if text else "")
                    + f"; {path}")
    page.close()


# ---------------------------------------------------------------------------------------- static page


def check_static(path: Path, nb: dict, cells: list[tuple[int, dict]], out: Path, report: Report) -> None:
    html = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--stdout", str(path)],
                          check=True, capture_output=True, text=True).stdout
    (out / f"{path.stem}.html").write_text(html)
    # the lab template gives each cell a top-level div with id="cell-id=<id>"
    starts = [(m.start(), m.group(1)) for m in re.finditer(r'<div[^>]*\bid="cell-id=([^"]+)"', html)]
    chunks = {cid: html[s:(starts[k + 1][0] if k + 1 < len(starts) else len(html))]
              for k, (s, cid) in enumerate(starts)}
    report.line(f"  static page (nbconvert --to html, {len(html) // 1024} KiB: {out / (path.stem + '.html')}):")
    for index, bundle in cells:
        cell = nb["cells"][index]
        chunk = chunks.get(cell.get("id", ""), "")
        png = png_of(bundle)
        images = len(re.findall(r'<img[^>]+src="data:image/png;base64,', chunk))
        expected = sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
        if not png:  # a text view: the static fallback is the bundle's text/plain
            first = html_lib.escape(text_of(bundle).strip().splitlines()[0] if text_of(bundle).strip() else "?",
                                    quote=False)
            report.check(bool(chunk) and chunk.count(first) == 1 and images == expected and WIDGET_VIEW not in chunk,
                         f"cell {index}: static page shows the text fallback once (no PNG in the bundle), no widget",
                         f"cell found: {bool(chunk)}, first line shown {chunk.count(first)}x, {images} <img> "
                         f"({expected} expected), widget markup {WIDGET_VIEW in chunk}")
            continue
        report.check(bool(chunk) and chunk.count(png) == 1 and html.count(png) == 1 and images == expected
                     and WIDGET_VIEW not in chunk and "interactive figure" not in chunk,
                     f"cell {index}: static page shows the committed PNG once, no widget",
                     f"cell found: {bool(chunk)}, {images} <img> in the cell ({expected} expected), PNG "
                     f"{chunk.count(png)}x in the cell / {html.count(png)}x in the page, widget markup "
                     f"{WIDGET_VIEW in chunk}, text fallback {'interactive figure' in chunk}")
        if chunk.count(png):
            (out / f"cell{index:02d}_static.png").write_bytes(base64.b64decode(png))
        content = png_content(png)
        if content is not None:
            report.check(content[0] > 1, f"cell {index}: the committed PNG has content (is not blank)",
                         f"{content[1]} px, {content[0]} colour(s)"
                         + ("; show() drew no figure, so the PNG is of the empty figure plt.gcf() created"
                            if content[0] <= 1 else ""))


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", default=["notebooks/05_early_stopping.ipynb"],
                        help="notebooks to check, as paths under the repository (default: %(default)s)")
    parser.add_argument("--ref", help="take notebooks/ and seqtips/ from this git revision (e.g. HEAD) instead "
                                      "of the working tree")
    parser.add_argument("--out", type=Path, default=Path("/tmp/lab-check"), help="screenshots (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds Run All may take per notebook")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (it holds lab.log)")
    parser.add_argument("--no-reopen", dest="reopen", action="store_false",
                        help="skip the informational last step: save from JupyterLab, reopen with a new kernel")
    parser.add_argument("--save-widget-state", action="store_true",
                        help="turn on JupyterLab's 'Save Jupyter widget state in notebooks' (saveState; off by "
                             "default) to see what the reopened notebook shows then")
    parser.add_argument("--static-only", action="store_true", help="only the nbconvert check; no browser")
    args = parser.parse_args(argv)

    report = Report()
    tmp = Path(tempfile.mkdtemp(prefix="lab-check-"))
    proc = None
    base, token = "", secrets.token_hex(16)
    try:
        src = copy_sources(tmp, args.ref)
        env = server_env(tmp, src)
        where = subprocess.run([sys.executable, "-c", "import seqtips; print(seqtips.__file__)"], env=env,
                               cwd=tmp, capture_output=True, text=True).stdout.strip()
        if args.ref:
            commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.ref], check=True,
                                    capture_output=True, text=True).stdout.strip()
        report.line(f"sources: {f'git {args.ref} ({commit})' if args.ref else f'working tree {ROOT}'}; "
                    f"kernel imports {where}")
        if args.ref and not where.startswith(str(src)):
            report.check(False, "kernel imports seqtips from the copy", where)
        jobs = []
        for name in args.notebooks:
            rel = Path(name).resolve().relative_to(ROOT) if Path(name).is_absolute() else Path(name)
            if rel.parts[0] != "notebooks":
                rel = Path("notebooks") / rel.name
            path = tmp / rel
            if not path.exists():
                report.check(False, f"{rel}: not found in {'git ' + args.ref if args.ref else 'the working tree'}")
                continue
            nb = json.loads(path.read_text())
            cells = try_it_cells(nb)
            dest = args.out / path.stem
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            jobs.append((rel, path, nb, cells, dest))

        for rel, path, nb, cells, dest in jobs:
            report.line(f"\n{rel}: try-it cells {[i for i, _ in cells]}")
            report.check(bool(cells), "the notebook has try-it cells (saved outputs with a widget view)")
            check_static(path, nb, cells, dest, report)
        if args.static_only or not jobs:
            return finish(report, args.out)

        from playwright.sync_api import sync_playwright

        write_settings(tmp / "settings", args.save_widget_state)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_lab(tmp, env, token, port)
        report.line(f"\nJupyterLab on {base} (root {tmp}), Chromium {CHROMIUM}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000})
            try:
                for rel, _path, nb, cells, dest in jobs:
                    report.line(f"\n{rel} in JupyterLab:")
                    try:
                        check_live(browser, base, token, rel.as_posix(), nb, cells, dest, report, args.timeout,
                                   args.reopen)
                        if args.reopen:
                            for session in api(base, token, "/api/sessions") or []:
                                api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
                            check_reopened(browser, base, token, rel.as_posix(), cells, dest, report)
                    except Exception as err:  # noqa: BLE001 - a failure of this notebook; go on with the next
                        report.check(False, f"{rel}: the JupyterLab check stopped", f"{type(err).__name__}: {err}")
                        for page in browser.pages:
                            page.screenshot(path=str(dest / "stopped.png"))
                            page.close()
                    for session in api(base, token, "/api/sessions") or []:  # free the kernel before the next
                        api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
            finally:
                browser.close()
        return finish(report, args.out)
    finally:
        if proc is not None:
            stop_lab(proc, base, token, tmp)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def finish(report: Report, out: Path) -> int:
    report.line(f"\nscreenshots and pages: {out}")
    if report.failures:
        report.line(f"{len(report.failures)} failure(s):")
        for failure in report.failures:
            report.line(f"  - {failure}")
        return 1
    report.line("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
