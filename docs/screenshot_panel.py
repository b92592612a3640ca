"""Screenshot the notebook's experiment panel (section 10) in a real browser, for the README.

Starts JupyterLab on 127.0.0.1 in a temporary folder holding copies of the notebook and
mnist_utils.py (so nothing in the repository is written, not even by autosave), opens the notebook
in Chromium driven by Playwright, runs all cells, trains twice from the panel (the second run with
batch size 32, so the first shows in gray beside it) and saves a picture of the panel to
docs/experiment_panel.png. Needs Debian's chromium
(`apt-get install chromium`) and `pip install playwright`; it downloads no browser of its own.

    MNIST_DATA_DIR=../shared/data/mnist python docs/screenshot_panel.py
"""

import os
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
OUTPUT = ROOT / "docs" / "experiment_panel.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 60
RUN_ALL_SECONDS = 300   # the whole notebook, including 100 epochs of training
TRAIN_SECONDS = 120     # one run from the panel


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_jupyter_lab(folder, port, token):
    # Render every cell (JupyterLab 4 leaves cells outside the window out of the page by default).
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    news = folder / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no pop-up
    environment = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(folder / ".settings"))
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"JupyterLab did not answer on port {port} within {SERVER_START_SECONDS} s")


def accept_kernel_dialog(page, seconds):
    """JupyterLab may ask which kernel to start; take the one it proposes (the notebook's python3).
    Returns whether it asked."""
    try:
        page.get_by_role("dialog").get_by_role("button", name="Select", exact=True).click(timeout=seconds * 1000)
    except PlaywrightTimeoutError:
        return False
    return True


def run_all_cells(page):
    page.locator(".jp-Notebook").wait_for(timeout=SERVER_START_SECONDS * 1000)
    accept_kernel_dialog(page, seconds=10)
    for _attempt in range(2):   # if the kernel dialog interrupts the first Run All, run again
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        if not accept_kernel_dialog(page, seconds=10):
            return


def press_train_and_wait(panel, runs_expected):
    panel.get_by_role("button", name="Train").click()
    panel.locator("table tr").nth(runs_expected).wait_for(timeout=TRAIN_SECONDS * 1000)  # header + runs


def main():
    port, token = free_port(), secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix="panel-screenshot-"))
    for name in (NOTEBOOK, "mnist_utils.py"):
        shutil.copy(ROOT / name, folder / name)
    server = start_jupyter_lab(folder, port, token)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}")
            run_all_cells(page)
            page.get_by_role("button", name="Train").wait_for(timeout=RUN_ALL_SECONDS * 1000)
            panel = page.locator(".widget-vbox", has=page.get_by_role("button", name="Train")).first
            press_train_and_wait(panel, runs_expected=1)
            panel.locator("select").first.select_option("32")          # the panel's batch-size dropdown
            press_train_and_wait(panel, runs_expected=2)
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=str(OUTPUT))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"saved {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
