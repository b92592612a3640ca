"""The drawing board of section 11 in a real browser: JupyterLab started on 127.0.0.1, Debian's
Chromium driven by Playwright, the notebook run with Run All, digits drawn with mouse events on the
canvas, and the prediction the page displays read back.

With the real MNIST files the network is trained on them (3 epochs) and must read the drawn digits
correctly; without them it is trained on the synthetic digits, and the test checks the round trip
(drawing -> kernel -> prediction on the page -> Clear) but not which class comes out.
The test skips only when Chromium cannot start.
"""

import math
import sys

import pytest

from conftest import REAL_MNIST_DIR, REPO_ROOT
from idx_fixtures import GZ_NAMES

sys.path.insert(0, str(REPO_ROOT / "docs"))
from jupyter_browser import BrowserUnavailable, draw, notebook_page, run_all_cells  # noqa: E402

RUN_ALL_SECONDS = 420
PREDICTION_SECONDS = 60

# strokes in fractions of the canvas, as a person would draw them
DIGIT_STROKES = {
    "1": [[(0.52, 0.15), (0.5, 0.5), (0.48, 0.85)]],
    "0": [[(0.5 + 0.22 * math.sin(2 * math.pi * t / 40), 0.5 - 0.34 * math.cos(2 * math.pi * t / 40))
           for t in range(42)]],
    "7": [[(0.25, 0.2), (0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]],
}


@pytest.fixture(scope="module")
def board_page(request):
    real = all((REAL_MNIST_DIR / name).is_file() for name in GZ_NAMES)
    data_dir = REAL_MNIST_DIR if real else request.getfixturevalue("synthetic_mnist_dir")
    parameters = {"EPOCHS": 3, "DEEP_EPOCHS": 1, "VALIDATION_SIZE": 10_000 if real else 200}
    try:
        with notebook_page(parameters, environment={"MNIST_DATA_DIR": str(data_dir)}) as page:
            run_all_cells(page)
            page.locator(".digit-canvas").wait_for(timeout=RUN_ALL_SECONDS * 1000)
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
