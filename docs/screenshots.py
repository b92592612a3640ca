"""Take the README's pictures of the notebook's widgets in a real browser.

Runs the notebook in JupyterLab on 127.0.0.1 (a temporary copy: nothing in the repository is written),
driven by Debian's Chromium through Playwright (see docs/jupyter_browser.py), then
- trains twice from the experiment panel of section 10 (the second run with batch size 32, so the
  first shows in gray beside it) and saves docs/experiment_panel.png;
- draws a digit with the mouse on the drawing board of section 11 and saves docs/drawing_board.png.
The notebook runs with its default parameters except DEEP_EPOCHS = 1 (the deep network of section 12
appears in neither picture).

    MNIST_DATA_DIR=../shared/data/mnist python docs/screenshots.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jupyter_browser import ROOT, draw, notebook_page, run_all_cells  # noqa: E402

RUN_ALL_SECONDS = 600
TRAIN_SECONDS = 120     # one run from the panel
SEVEN = [[(0.25, 0.22), (0.72, 0.2), (0.58, 0.5), (0.46, 0.82)]]


def press_train_and_wait(panel, runs_expected):
    panel.get_by_role("button", name="Train").click()
    panel.locator("table tr").nth(runs_expected).wait_for(timeout=TRAIN_SECONDS * 1000)  # header + runs


def main():
    with notebook_page({"DEEP_EPOCHS": 1}) as page:
        run_all_cells(page)
        page.get_by_role("button", name="Train").wait_for(timeout=RUN_ALL_SECONDS * 1000)
        page.locator(".digit-canvas").wait_for(timeout=RUN_ALL_SECONDS * 1000)
        panel = page.locator(".widget-vbox", has=page.get_by_role("button", name="Train")).first
        press_train_and_wait(panel, runs_expected=1)
        panel.locator("select").first.select_option("32")          # the panel's batch-size dropdown
        press_train_and_wait(panel, runs_expected=2)
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(ROOT / "docs" / "experiment_panel.png"))

        draw(page, page.locator(".digit-canvas"), SEVEN)
        page.locator(".digit-prediction").wait_for(timeout=RUN_ALL_SECONDS * 1000)
        page.wait_for_timeout(2000)                                  # the answer to the finished drawing
        board = page.locator(".widget-hbox", has=page.locator(".digit-canvas")).first
        board.screenshot(path=str(ROOT / "docs" / "drawing_board.png"))
    print("saved docs/experiment_panel.png and docs/drawing_board.png")


if __name__ == "__main__":
    main()
