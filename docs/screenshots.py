"""Take the pictures of the notebook's widgets (docs/experiment_panel.png, docs/drawing_board.png) in a
real browser.

Runs the notebook in JupyterLab on 127.0.0.1 (a temporary copy: nothing in the repository is written),
driven by Debian's Chromium through Playwright (see docs/jupyter_browser.py), then
- trains twice from the experiment panel of section 8, with its default settings and then with batch
  size 32, so that the first run shows in the legend beside the second, and saves experiment_panel.png;
- draws a 7 with the mouse on the drawing board of section 9 and saves drawing_board.png.
The notebook runs with its default parameters.

    MNIST_DATA_DIR=../shared/data/mnist python docs/screenshots.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jupyter_browser import ROOT, draw, notebook_page, run_all_cells, wait_for_output  # noqa: E402

RUN_ALL_SECONDS = 1200
TRAIN_SECONDS = 600     # one run from the panel, with the notebook's recipe
PREDICTION_SECONDS = 60
SEVEN = [[(0.25, 0.22), (0.72, 0.2), (0.58, 0.5), (0.46, 0.82)]]


def press_train_and_wait(panel, runs_expected):
    panel.get_by_role("button", name="Train").click()
    panel.locator(".run-log tr").nth(runs_expected).wait_for(timeout=TRAIN_SECONDS * 1000)   # header + runs


def main():
    with notebook_page() as page:
        run_all_cells(page)
        wait_for_output(page, ".digit-canvas", RUN_ALL_SECONDS)
        panel = page.locator(".experiment-panel")
        press_train_and_wait(panel, runs_expected=1)
        panel.locator(".widget-dropdown", has_text="batch size").locator("select").select_option("32")
        press_train_and_wait(panel, runs_expected=2)
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(ROOT / "docs" / "experiment_panel.png"))

        draw(page, page.locator(".digit-canvas"), SEVEN)
        page.locator(".digit-prediction").wait_for(timeout=PREDICTION_SECONDS * 1000)
        page.wait_for_timeout(2000)                                  # the answer to the finished drawing
        page.locator(".drawing-board").screenshot(path=str(ROOT / "docs" / "drawing_board.png"))
    print("saved docs/experiment_panel.png and docs/drawing_board.png")


if __name__ == "__main__":
    main()
