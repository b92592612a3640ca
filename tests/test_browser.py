"""The widgets of the lesson's sections 8 and 9 in a real browser, in JupyterLab and in Notebook 7: Jupyter
started on 127.0.0.1, Debian's Chromium driven by Playwright, the notebook run with Run All, digits
drawn with mouse events on the drawing board's canvas and the prediction the page displays read
back; in Notebook 7 the experiment panel's Train button is pressed and the run read back from its log.

One Run All per front end serves all of its tests. With the real MNIST files the network is trained
on them (3 epochs, the short demonstrations 1 epoch each) and must read the drawn digits correctly; without them it is trained on the synthetic digits, and the test checks the round trip
(drawing -> kernel -> prediction on the page -> Clear) but not which class comes out.
The tests skip only when Chromium cannot start.
"""

import math
import sys

import pytest

from conftest import REPO_ROOT, find_real_mnist_dir

sys.path.insert(0, str(REPO_ROOT / "docs"))
from jupyter_browser import BrowserUnavailable, draw, notebook_page, run_all_cells, wait_for_output  # noqa: E402

RUN_ALL_SECONDS = 600   # Run All up to the drawing board: 40 to 110 s measured, 6 minutes with the cores busy elsewhere
PREDICTION_SECONDS = 60
TRAIN_SECONDS = 120      # one run of the panel (3 epochs on a few thousand images)

# strokes in fractions of the canvas, as a person would draw them
DIGIT_STROKES = {
    "1": [[(0.52, 0.15), (0.5, 0.5), (0.48, 0.85)]],
    "0": [[(0.5 + 0.22 * math.sin(2 * math.pi * t / 40), 0.5 - 0.34 * math.cos(2 * math.pi * t / 40))
           for t in range(42)]],
    "7": [[(0.25, 0.2), (0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]],
}


@pytest.fixture(scope="module", params=["lab", "notebook"])
def board_page(request):
    """The notebook run in one front end, up to a drawing board that is on the page; (page, real data?)."""
    real_dir = find_real_mnist_dir()
    real = real_dir is not None
    data_dir = real_dir if real else request.getfixturevalue("synthetic_mnist_dir")
    parameters = {"EPOCHS": 3, "DEMO_EPOCHS": 1, "VALIDATION_SIZE": 10_000 if real else 200}
    try:
        with notebook_page(parameters, {"MNIST_DATA_DIR": str(data_dir)}, front_end=request.param) as page:
            run_all_cells(page)
            wait_for_output(page, ".digit-canvas", RUN_ALL_SECONDS)
            yield page, real
    except BrowserUnavailable as error:
        pytest.skip(f"the browser cannot start: {error}")


def prediction_after_drawing(page, strokes):
    page.locator(".digit-clear").click()
    page.locator(".digit-empty").wait_for(timeout=PREDICTION_SECONDS * 1000)
    draw(page, page.locator(".digit-canvas"), strokes)
    prediction = page.locator(".digit-prediction")
    prediction.wait_for(timeout=RUN_ALL_SECONDS * 1000)   # the kernel may still be running later cells
    # the board updates while the digit is drawn: read until the answer to the whole drawing stays put
    text, previous = prediction.inner_text(), None
    while text != previous:
        page.wait_for_timeout(1000)
        text, previous = prediction.inner_text(), text
    return text


@pytest.mark.timeout(RUN_ALL_SECONDS + 300)
@pytest.mark.parametrize("digit", DIGIT_STROKES)
def test_a_digit_drawn_with_the_mouse_is_read_back_from_the_page(board_page, digit):
    page, real = board_page
    text = prediction_after_drawing(page, DIGIT_STROKES[digit])
    assert text.startswith("prediction: ")
    if real:
        assert text.split()[1] == digit, f"drew a {digit}, the page says {text!r}"


@pytest.mark.timeout(PREDICTION_SECONDS * 3)
def test_clear_wipes_the_board_and_the_prediction(board_page):
    page, _ = board_page
    prediction_after_drawing(page, DIGIT_STROKES["1"])
    page.locator(".digit-clear").click()
    page.locator(".digit-empty").wait_for(timeout=PREDICTION_SECONDS * 1000)
    assert page.locator(".digit-prediction").count() == 0
    blank = page.locator(".digit-canvas").evaluate(
        "canvas => canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.every(v => v === 0)")
    assert blank


@pytest.mark.timeout(TRAIN_SECONDS + PREDICTION_SECONDS)
@pytest.mark.parametrize("board_page", ["notebook"], indirect=True)   # once, in Notebook 7
def test_pressing_train_in_the_panel_logs_a_run(board_page):
    page, _ = board_page
    panel = page.locator(".experiment-panel")
    train = panel.get_by_role("button", name="Train")
    train.click()
    row = panel.locator(".run-log tr").nth(1)                          # the header, then the run
    row.wait_for(timeout=TRAIN_SECONDS * 1000)
    assert row.locator("td").first.inner_text() == "1" and row.inner_text().count("%") == 1
    assert train.is_enabled() and "run 1: best validation accuracy" in panel.locator(".panel-message").inner_text()
