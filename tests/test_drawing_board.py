"""The drawing board of the lesson's section 9 (tutorial_widgets.drawing_board) from Python, with the notebook's
network functions and the committed network: its update and Clear logic and what it sends to the browser;
and the canvas's script run by Node.js on pointer events (the page in a real browser is tests/test_browser.py;
the preparation of a drawing, mnist_style, is tests/test_mnist_style.py's)."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

import tutorial_widgets
from conftest import COMMITTED_MODEL, PNG_SIGNATURE
from model_files import load_params
from tutorial_widgets import mnist_style

CANVAS_HARNESS = Path(__file__).with_name("canvas_harness.mjs")


@pytest.fixture(scope="module")
def params():
    return load_params(COMMITTED_MODEL)


def test_probability_bars_name_the_most_likely_class_and_draw_one_bar_per_class():
    probabilities = np.array([0.01, 0.02, 0.6, 0.3, 0.01, 0.01, 0.02, 0.01, 0.01, 0.01])
    html = tutorial_widgets.probability_bars_html(probabilities, [str(d) for d in range(10)])
    assert "prediction: <b>2</b> (60%)" in html
    assert html.count("width:96px") == 1 and html.count("width:48px") == 1   # 160 px × p
    assert html.count("%</span></div>") == 10


@pytest.fixture
def board(nb, params):
    """The board as the notebook builds it, with the committed network."""
    return tutorial_widgets.drawing_board(
        prepare=mnist_style, classify=lambda digit: nb.softmax(nb.forward(nb.preprocess(digit[None]), params)[0])[0],
        class_names=[str(d) for d in range(10)])


def drawn_one():
    ink = np.zeros((140, 140))
    ink[20:120, 65:77] = 255                           # a one
    return ink.astype(int).ravel().tolist()           # as the browser sends it


def test_the_board_answers_every_change_of_the_drawing(board):
    blank_png = board.seen.value
    assert "digit-empty" in board.bars.value           # building it predicts nothing
    board.canvas.ink = drawn_one()
    assert "prediction: <b>1</b>" in board.bars.value
    assert board.seen.value != blank_png and board.seen.value[:8] == PNG_SIGNATURE


def test_clear_and_a_blank_drawing_empty_the_board(board):
    blank_png = board.seen.value
    board.canvas.ink = drawn_one()
    board.canvas.ink = []                              # what Clear sends
    assert "digit-empty" in board.bars.value and board.seen.value == blank_png
    board.canvas.ink = drawn_one()
    board.canvas.ink = [0] * (140 * 140)               # a blank board is not a drawing either
    assert "digit-empty" in board.bars.value and board.seen.value == blank_png


def test_the_board_classifies_the_prepared_drawing_and_shows_it():
    received = []
    board = tutorial_widgets.drawing_board(prepare=mnist_style, class_names=list("abcdefghij"),
                                           classify=lambda digit: received.append(digit) or np.eye(10)[3])
    board.canvas.ink = drawn_one()
    [digit] = received
    np.testing.assert_array_equal(digit, mnist_style(np.array(drawn_one()).reshape(140, 140)))
    assert board.seen.value == tutorial_widgets.image_png(digit) and "prediction: <b>d</b>" in board.bars.value


def test_the_boards_plain_text_is_a_sentence_and_jupyter_still_gets_the_widget(board):
    data, _ = DisplayFormatter().format(board)
    assert data["text/plain"] == "Drawing board: run this notebook in Jupyter to draw a digit."
    assert repr(board) == data["text/plain"] and "object at 0x" not in data["text/plain"]
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id


def canvas_run(events, tmp_path):
    """What the canvas's script, as the widget sends it to the browser, does for these pointer events
    ([type, x, y], in canvas pixels), run by Node.js: {"lines": [[x0, y0, x1, y1], ...], "sent": [total ink, ...]}."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed, so the canvas's script cannot be run outside a browser "
                    "(on Debian or Ubuntu: apt-get install nodejs)")
    script = tmp_path / "tutorial_widgets.mjs"
    script.write_text(tutorial_widgets.DigitCanvas()._esm, encoding="utf-8")
    result = subprocess.run([node, str(CANVAS_HARNESS), str(script), json.dumps(events)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


STROKE = [["pointerdown", 10, 10], ["pointermove", 50, 50]]
STROKE_LINES = [[10, 10, 10, 10], [10, 10, 50, 50]]


def test_while_the_pointer_is_down_every_move_draws(tmp_path):
    run = canvas_run(STROKE + [["pointermove", 200, 200]], tmp_path)
    assert run["lines"] == STROKE_LINES + [[50, 50, 200, 200]]
    assert len(run["sent"]) == 1 and run["sent"][0] > 0           # one update, 100 ms into the stroke


@pytest.mark.parametrize("end", ["pointerup", "pointercancel"])
def test_lifting_or_cancelling_the_pointer_ends_the_stroke_and_sends_the_ink_once(tmp_path, end):
    run = canvas_run(STROKE + [[end, 50, 50], ["pointermove", 200, 200]], tmp_path)
    assert run["lines"] == STROKE_LINES                           # the move after the end draws nothing
    assert len(run["sent"]) == 1 and run["sent"][0] > 0           # sent when the stroke ended, then not again
