"""The drawing board of section 11, from Python: the notebook's MNIST-style preparation of a drawing,
and the widget (tutorial_widgets.drawing_board) built from the notebook's functions: its update and
Clear logic and what it sends to the browser (the browser side itself is tests/test_browser.py)."""

import re

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

import tutorial_widgets
from conftest import REPO_ROOT
from mnist_utils import load_mnist

MODEL = REPO_ROOT / "mnist_model.npz"   # the committed 784-64-10 network


@pytest.fixture(scope="module")
def params(nb):
    return nb.load_params(MODEL)


def bounding_box(image):
    rows, cols = np.nonzero(image.sum(axis=1))[0], np.nonzero(image.sum(axis=0))[0]
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def board_with(image, scale, top, left, size=200):
    """A size × size drawing board with `image` enlarged `scale` times, its corner at (top, left)."""
    board = np.zeros((size, size))
    enlarged = np.kron(image.astype(np.float64), np.ones((scale, scale)))
    board[top:top + enlarged.shape[0], left:left + enlarged.shape[1]] = enlarged
    return board


@pytest.mark.parametrize("n_in, n_out", [(140, 20), (20, 20), (7, 20), (33, 20)])
def test_resize_matrix_averages_so_a_flat_image_stays_flat(nb, n_in, n_out):
    R = nb.resize_matrix(n_in, n_out)
    assert R.shape == (n_out, n_in)
    np.testing.assert_allclose(R.sum(axis=1), 1)
    np.testing.assert_allclose(R @ np.full((n_in, n_in), 7.0) @ R.T, 7.0)


def test_resize_matrix_of_equal_sizes_is_the_identity(nb):
    np.testing.assert_allclose(nb.resize_matrix(20, 20), np.eye(20))


def test_resize_matrix_downsampling_by_an_integer_factor_averages_blocks(nb):
    image = np.arange(16.0).reshape(4, 4)
    R = nb.resize_matrix(4, 2)
    np.testing.assert_allclose(R @ image @ R.T, image.reshape(2, 2, 2, 2).mean(axis=(1, 3)))


def test_a_blank_board_gives_a_blank_digit(nb):
    digit = nb.mnist_style(np.zeros((140, 140)))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8 and not digit.any()


def test_a_tall_stroke_fills_20_rows_and_keeps_its_aspect_ratio(nb):
    board = np.zeros((140, 140))
    board[10:110, 100:125] = 255           # 100 tall, 25 wide, far to the right
    digit = nb.mnist_style(board)
    height, width = bounding_box(digit)
    assert height == 20 and width in (5, 6, 7)   # 25/100 of 20 is 5, plus anti-aliased edges
    assert digit.max() == 255


def test_a_wide_stroke_fills_20_columns(nb):
    board = np.zeros((140, 140))
    board[5:15, 20:120] = 200
    height, width = bounding_box(nb.mnist_style(board))
    assert width == 20 and height in (2, 3, 4)


@pytest.mark.parametrize("top, left", [(0, 0), (60, 5), (13, 97), (110, 110)])
def test_the_centre_of_mass_ends_at_the_centre_wherever_the_drawing_was(nb, top, left):
    board = np.zeros((140, 140))
    board[top:top + 30, left:left + 12] = 255        # a bar
    board[top:top + 8, left:left + 30] = 255         # and a flag: the centre of mass is off the box centre
    digit = nb.mnist_style(board)
    row, col = nb.center_of_mass(digit.astype(np.float64))
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_a_synthetic_one_drawn_anywhere_is_read_as_one_by_the_committed_network(nb, params):
    for top, left in [(10, 60), (70, 10), (30, 110)]:
        board = np.zeros((140, 140))
        for i in range(60):                           # a slightly slanted stroke, 10 pixels wide
            board[top + i, left + i // 8:left + i // 8 + 10] = 255
        assert nb.predict(nb.preprocess(nb.mnist_style(board)[None]), params)[0] == 1


def test_real_digits_enlarged_and_displaced_come_out_centred_and_keep_their_class(nb, params, real_mnist_dir):
    _, (test_images, test_labels) = load_mnist(real_mnist_dir)
    rng = np.random.default_rng(0)
    count = 300
    prepared = np.empty((count, 28, 28), dtype=np.uint8)
    for i in range(count):
        scale = int(rng.integers(2, 7))               # 56 to 168 pixels: small and large drawings
        top, left = rng.integers(0, 200 - 28 * scale + 1, size=2)
        prepared[i] = nb.mnist_style(board_with(test_images[i], scale, top, left))
    centres = np.array([nb.center_of_mass(digit.astype(np.float64)) for digit in prepared])
    assert np.all(np.abs(centres - 14) <= 0.5)
    heights_and_widths = np.array([bounding_box(digit) for digit in prepared])
    assert np.all(heights_and_widths.max(axis=1) <= 20)   # MNIST's 20 × 20 box, then centred
    original = nb.accuracy(nb.predict(nb.preprocess(test_images[:count]), params), test_labels[:count])
    after = nb.accuracy(nb.predict(nb.preprocess(prepared), params), test_labels[:count])
    assert after >= original - 0.01, (original, after)


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
        prepare=nb.mnist_style, classify=lambda digit: nb.softmax(nb.forward(nb.preprocess(digit[None]), params)[0])[0],
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
    assert board.seen.value != blank_png and board.seen.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_clear_and_a_blank_drawing_empty_the_board(board):
    blank_png = board.seen.value
    board.canvas.ink = drawn_one()
    board.canvas.ink = []                              # what Clear sends
    assert "digit-empty" in board.bars.value and board.seen.value == blank_png
    board.canvas.ink = drawn_one()
    board.canvas.ink = [0] * (140 * 140)               # a blank board is not a drawing either
    assert "digit-empty" in board.bars.value and board.seen.value == blank_png


def test_the_board_classifies_the_prepared_drawing_and_shows_it(nb):
    received = []
    board = tutorial_widgets.drawing_board(prepare=nb.mnist_style, class_names=list("abcdefghij"),
                                           classify=lambda digit: received.append(digit) or np.eye(10)[3])
    board.canvas.ink = drawn_one()
    [digit] = received
    np.testing.assert_array_equal(digit, nb.mnist_style(np.array(drawn_one()).reshape(140, 140)))
    assert board.seen.value == tutorial_widgets.image_png(digit) and "prediction: <b>d</b>" in board.bars.value


def test_the_boards_plain_text_is_a_sentence_and_jupyter_still_gets_the_widget(board):
    data, _ = DisplayFormatter().format(board)
    assert data["text/plain"] == "Drawing board: run this notebook in Jupyter to draw a digit."
    assert repr(board) == data["text/plain"] and "object at 0x" not in data["text/plain"]
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id


def test_the_canvas_sends_its_script_and_a_cancelled_pointer_ends_the_stroke_like_pointerup():
    script = tutorial_widgets.DigitCanvas()._esm       # the JavaScript the browser receives
    assert script == (tutorial_widgets.HERE / "tutorial_widgets.js").read_text(encoding="utf-8")
    assert re.search(r'addEventListener\("pointerup", endStroke\)', script)
    assert re.search(r'addEventListener\("pointercancel", endStroke\)', script)
    assert ".digit-canvas" in tutorial_widgets.DigitCanvas()._css
