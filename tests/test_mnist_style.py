"""Preparing a drawing as MNIST's digits were prepared (tutorial_widgets.mnist_style and its pieces:
resize_matrix, fit_20x20, center_of_mass), checked by hand, by the box and centre MNIST's digits have, and by
the committed 784-64-10 network (mnist_model.npz, its predictions written out in NumPy) reading the result."""

import numpy as np
import pytest

from conftest import COMMITTED_MODEL, model_arrays, plain_predictions
from mnist_utils import load_mnist
from tutorial_widgets import center_of_mass, fit_20x20, mnist_style, resize_matrix


@pytest.fixture(scope="module")
def committed_network():
    return model_arrays(COMMITTED_MODEL)


def read(network, digits):
    """The classes the committed network reads in uint8 digits (m, 28, 28)."""
    return plain_predictions(network, digits.reshape(len(digits), -1) / 255.0)


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
def test_resize_matrix_averages_so_a_flat_image_stays_flat(n_in, n_out):
    R = resize_matrix(n_in, n_out)
    assert R.shape == (n_out, n_in)
    np.testing.assert_allclose(R.sum(axis=1), 1)
    np.testing.assert_allclose(R @ np.full((n_in, n_in), 7.0) @ R.T, 7.0)


def test_resize_matrix_of_equal_sizes_is_the_identity():
    np.testing.assert_allclose(resize_matrix(20, 20), np.eye(20))


def test_resize_matrix_downsampling_by_an_integer_factor_averages_blocks():
    image = np.arange(16.0).reshape(4, 4)
    R = resize_matrix(4, 2)
    np.testing.assert_allclose(R @ image @ R.T, image.reshape(2, 2, 2, 2).mean(axis=(1, 3)))


def test_fit_20x20_crops_to_the_ink_and_pads_the_short_side_in_the_middle():
    ink = np.zeros((50, 50))
    ink[10:30, 20:25] = 1.0                  # 20 tall, 5 wide: padded to 20 × 20, the bar in columns 7 to 11
    expected = np.zeros((20, 20))
    expected[:, 7:12] = 1.0
    np.testing.assert_allclose(fit_20x20(ink), expected, atol=1e-12)


def test_center_of_mass_by_hand():
    image = np.zeros((5, 5))
    image[1, 1], image[3, 4] = 1.0, 3.0      # rows (1 + 9) / 4, columns (1 + 12) / 4
    assert center_of_mass(image) == pytest.approx((2.5, 3.25))


def test_a_blank_board_gives_a_blank_digit():
    digit = mnist_style(np.zeros((140, 140)))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8 and not digit.any()


def test_a_tall_stroke_fills_20_rows_and_keeps_its_aspect_ratio():
    board = np.zeros((140, 140))
    board[10:110, 100:125] = 255           # 100 tall, 25 wide, far to the right
    digit = mnist_style(board)
    height, width = bounding_box(digit)
    assert height == 20 and width in (5, 6, 7)   # 25/100 of 20 is 5, plus anti-aliased edges
    assert digit.max() == 255


def test_a_wide_stroke_fills_20_columns():
    board = np.zeros((140, 140))
    board[5:15, 20:120] = 200
    height, width = bounding_box(mnist_style(board))
    assert width == 20 and height in (2, 3, 4)


@pytest.mark.parametrize("top, left", [(0, 0), (60, 5), (13, 97), (110, 110)])
def test_the_centre_of_mass_ends_at_the_centre_wherever_the_drawing_was(top, left):
    board = np.zeros((140, 140))
    board[top:top + 30, left:left + 12] = 255        # a bar
    board[top:top + 8, left:left + 30] = 255         # and a flag: the centre of mass is off the box centre
    row, col = center_of_mass(mnist_style(board).astype(np.float64))
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_a_synthetic_one_drawn_anywhere_is_read_as_one_by_the_committed_network(committed_network):
    boards = []
    for top, left in [(10, 60), (70, 10), (30, 110)]:
        board = np.zeros((140, 140))
        for i in range(60):                           # a slightly slanted stroke, 10 pixels wide
            board[top + i, left + i // 8:left + i // 8 + 10] = 255
        boards.append(mnist_style(board))
    assert list(read(committed_network, np.array(boards))) == [1, 1, 1]


def test_real_digits_enlarged_and_displaced_come_out_centred_and_keep_their_class(committed_network, real_mnist_dir):
    _, (test_images, test_labels) = load_mnist(real_mnist_dir, download=False)
    rng = np.random.default_rng(0)
    count = 300
    prepared = np.empty((count, 28, 28), dtype=np.uint8)
    for i in range(count):
        scale = int(rng.integers(2, 7))               # 56 to 168 pixels: small and large drawings
        top, left = rng.integers(0, 200 - 28 * scale + 1, size=2)
        prepared[i] = mnist_style(board_with(test_images[i], scale, top, left))
    centres = np.array([center_of_mass(digit.astype(np.float64)) for digit in prepared])
    assert np.all(np.abs(centres - 14) <= 0.5)
    heights_and_widths = np.array([bounding_box(digit) for digit in prepared])
    assert np.all(heights_and_widths.max(axis=1) <= 20)   # MNIST's 20 × 20 box, then centred
    original = np.mean(read(committed_network, test_images[:count]) == test_labels[:count])
    after = np.mean(read(committed_network, prepared) == test_labels[:count])
    assert after >= original - 0.01, (original, after)
