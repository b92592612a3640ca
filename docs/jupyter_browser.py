"""Drive the notebook in a real browser: JupyterLab or Notebook 7 on 127.0.0.1, Debian's Chromium
through Playwright.

Used by the browser test (tests/test_browser.py) and by the README's screenshots (docs/screenshots.py).
Jupyter serves a temporary folder holding copies of the notebook and of the modules it imports, so
nothing in the repository is written, not even by autosave. Needs `chromium` (`apt-get install
chromium`) and the `playwright` package; Playwright's own browser downloads are not used.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "neural_network_from_scratch.ipynb"
# What the notebook imports: every module at the repository's root, and the drawing board's script and style.
MODULES = (*sorted(path.name for path in ROOT.glob("*.py")), "tutorial_widgets.js", "tutorial_widgets.css",
           *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.png")))   # plots.picture shows these
# The two front ends: the command a learner types to start each, and where it opens a notebook.
FRONT_ENDS = {"lab": ("lab", "lab/tree"), "notebook": ("notebook", "notebooks")}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 60


class BrowserUnavailable(RuntimeError):
    """Chromium could not be started (not installed, or it cannot run on this machine)."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_notebook(folder, parameters=None):
    """Copy the notebook and its modules into folder; `parameters` (a dict) override the notebook's
    defaults by assignments appended to the cell tagged `parameters`."""
    notebook = json.loads((ROOT / NOTEBOOK).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = "".join(cell["source"]) + "".join(
                f"\n{name} = {value!r}" for name, value in (parameters or {}).items())
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None   # start from a clean notebook
    (folder / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
    for name in MODULES:
        (folder / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, folder / name)


def start_jupyter(folder, port, token, environment, command="lab"):
    """Start `jupyter lab` or `jupyter notebook` serving folder; returns the server process once it answers."""
    # Render every cell (JupyterLab 4 and Notebook 7 leave cells outside the window out of the page by default).
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    news = folder / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no pop-up
    environment = dict(os.environ, **environment, JUPYTERLAB_SETTINGS_DIR=str(folder / ".settings"))
    if "MNIST_DATA_DIR" in environment:   # the kernel runs in the temporary folder
        environment["MNIST_DATA_DIR"] = str(Path(environment["MNIST_DATA_DIR"]).resolve())
    argv = [sys.executable, "-m", "jupyter", command, "--no-browser", "--allow-root", "--ip=127.0.0.1",
            f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"]
    with open(folder / "jupyter.log", "wb") as log:   # the server keeps its own copy of the file
        server = subprocess.Popen(argv, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"jupyter {command} did not answer on port {port} within {SERVER_START_SECONDS} s; "
                       f"its log: {(folder / 'jupyter.log').read_text(errors='replace')[-2000:]}")


@contextlib.contextmanager
def notebook_page(parameters=None, environment=None, viewport=(1400, 1000), front_end="lab"):
    """Yield a Playwright page showing a fresh copy of the notebook (nothing run yet) in JupyterLab
    (front_end="lab") or Notebook 7 (front_end="notebook")."""
    command, url_path = FRONT_ENDS[front_end]
    folder = Path(tempfile.mkdtemp(prefix="notebook-browser-"))
    try:
        copy_notebook(folder, parameters)
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            except Exception as error:  # Playwright raises its own Error for a missing or broken browser
                raise BrowserUnavailable(f"cannot start Chromium at {CHROMIUM}: {error}".splitlines()[0]) from error
            port, token = free_port(), secrets.token_hex(16)
            server = start_jupyter(folder, port, token, environment or {}, command)
            try:
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                page.goto(f"http://127.0.0.1:{port}/{url_path}/{NOTEBOOK}?token={token}")
                yield page
            finally:
                browser.close()
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_kernel(page, seconds):
    """Wait until the notebook's kernel has started and is idle, as the server sees it (its sessions API),
    and the page shows it idle too. (Before the kernel starts the page also shows "idle", and a Run All
    clicked then is lost.)"""
    sessions = "async () => (await (await fetch('/api/sessions', {cache: 'no-store'})).json())" \
               ".map(session => session.kernel && session.kernel.execution_state)"
    deadline = time.monotonic() + seconds
    while "idle" not in page.evaluate(sessions):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the notebook's kernel was not idle within {seconds} s")
        page.wait_for_timeout(200)
    # the kernel's status circle, in the notebook's toolbar in both front ends
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=seconds * 1000)


def run_all_cells(page, start_seconds=30):
    """Run All, once the notebook's kernel has started (so Jupyter has no kernel to ask about) and is idle;
    retried if no cell has started within start_seconds."""
    page.locator(".jp-Notebook").wait_for(timeout=SERVER_START_SECONDS * 1000)
    wait_for_kernel(page, SERVER_START_SECONDS)
    started = page.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[(\*|\d+)\]")).first
    for _attempt in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            started.wait_for(timeout=start_seconds * 1000)
            return
        except PlaywrightTimeoutError:
            continue
    raise RuntimeError("Run All did not start any cell")


def wait_for_output(page, selector, seconds):
    """Wait until the running notebook shows `selector`; a traceback in a cell's output ends the wait
    with a RuntimeError that quotes it."""
    traceback = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]', has_text="Traceback")
    page.locator(selector).or_(traceback).first.wait_for(timeout=seconds * 1000)
    if traceback.count():
        raise RuntimeError(f"a cell failed before {selector} appeared:\n{traceback.first.inner_text()[-3000:]}")


def draw(page, canvas, strokes):
    """Draw on a canvas element with the mouse; strokes are lists of (x, y) in 0..1 of its size."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)        # the canvas draws a straight line from the last point
        page.mouse.up()
