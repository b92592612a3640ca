"""image_transforms: whole-pixel shifts checked against padding and cropping, dilation and erosion by hand,
bilinear sampling by hand, affine maps against shifts and quarter turns of the pixel grid, and the random
distortions against the statistics they promise."""

import numpy as np
import pytest

from conftest import synthetic_digits
from image_transforms import (affine_transform, bilinear_sample, dilate, erode, random_distortion,
                              shift_images, smooth_displacements, stroke)


def translate(image, dy, dx, margin=3):
    """`image` moved down by dy and right by dx pixels (|dy|, |dx| <= margin): pad with zeros, then crop."""
    h, w = image.shape
    padded = np.pad(image, margin)
    return padded[margin - dy:margin - dy + h, margin - dx:margin - dx + w]


def offset_of(original, shifted, max_shift):
    """The (dy, dx) with |dy|, |dx| <= max_shift that turns original into shifted, or None."""
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if np.array_equal(translate(original, dy, dx), shifted):
                return dy, dx
    return None


def full_ink_images(count, seed=0):
    """uint8 images with no zero pixel, so that every translation is told apart from the others."""
    return np.random.default_rng(seed).integers(1, 256, size=(count, 28, 28), dtype=np.uint8)


class HighestValues:
    """Stands in for a NumPy generator whose uniform() always returns the top of the range."""

    def uniform(self, low, high, size):
        return np.full(size, float(high))


@pytest.fixture(scope="module")
def digits():
    """8 synthetic digits with a blank border of 3 pixels, so that a shift of up to 3 loses no ink."""
    images, _ = synthetic_digits(8, np.random.default_rng(3))
    images[:, :3, :] = images[:, -3:, :] = images[:, :, :3] = images[:, :, -3:] = 0
    return images


# --- shifts by whole pixels ----------------------------------------------------------------------

def test_shift_by_zero_leaves_images_unchanged():
    images = full_ink_images(20)
    np.testing.assert_array_equal(shift_images(images, 0, 0), images)


@pytest.mark.parametrize("dy, dx", [(dy, dx) for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2)])
def test_shift_moves_every_image_by_exactly_dy_dx_and_fills_with_zero(dy, dx):
    images = full_ink_images(5)
    shifted = shift_images(images, dy, dx)
    assert all(offset_of(original, out, 2) == (dy, dx) for original, out in zip(images, shifted))


def test_shift_down_right_by_one_moves_a_single_pixel_by_hand():
    image = np.zeros((1, 4, 4), dtype=np.uint8)
    image[0, 1, 2] = 200
    shifted = shift_images(image, 1, 1)
    assert shifted[0, 2, 3] == 200 and shifted.sum() == 200


def test_shift_never_increases_total_ink():
    images, _ = synthetic_digits(100, np.random.default_rng(0), max_shift=3)
    ink_before = images.sum(axis=(1, 2), dtype=np.int64)
    for dy, dx in [(2, 2), (-2, 1), (0, -2)]:
        assert np.all(shift_images(images, dy, dx).sum(axis=(1, 2), dtype=np.int64) <= ink_before)


def test_shift_keeps_uint8_shape_and_leaves_its_input_alone():
    images = full_ink_images(10)
    before = images.copy()
    shifted = shift_images(images, 1, -1)
    assert shifted.dtype == np.uint8 and shifted.shape == images.shape
    np.testing.assert_array_equal(images, before)


# --- thicker and thinner strokes -------------------------------------------------------------------

def test_dilation_grows_a_pixel_into_a_3x3_block_and_erosion_shrinks_it_back():
    image = np.zeros((1, 7, 7), dtype=np.uint8)
    image[0, 3, 3] = 200
    block = np.zeros_like(image)
    block[0, 2:5, 2:5] = 200
    np.testing.assert_array_equal(dilate(image), block)
    np.testing.assert_array_equal(erode(block), image)
    np.testing.assert_array_equal(stroke(image, 1), block)
    np.testing.assert_array_equal(stroke(block, -1), image)
    np.testing.assert_array_equal(stroke(image, 0), image)


def test_two_rounds_of_stroke_are_two_dilations_or_two_erosions():
    image = np.zeros((1, 9, 9), dtype=np.uint8)
    image[0, 4, 4] = 90
    big = np.zeros_like(image)
    big[0, 2:7, 2:7] = 90
    np.testing.assert_array_equal(stroke(image, 2), big)
    np.testing.assert_array_equal(stroke(big, -2), image)


# --- bilinear sampling and affine maps -------------------------------------------------------------

def test_bilinear_sample_interpolates_between_pixels_and_reads_zero_outside():
    image = np.array([[[0, 10], [20, 30]]], dtype=np.float32)
    y = np.array([[[0.5, 0.0], [-5.0, 1.0]]], dtype=np.float32)
    x = np.array([[[0.5, 0.25], [0.0, 9.0]]], dtype=np.float32)
    np.testing.assert_allclose(bilinear_sample(image, y, x), [[[15, 2.5], [0, 0]]], atol=1e-5)


def test_bilinear_sample_in_chunks_gives_what_one_chunk_gives(digits):
    rng = np.random.default_rng(0)
    y, x = rng.uniform(-2, 30, (2, 8, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(bilinear_sample(digits, y, x, chunk_size=3), bilinear_sample(digits, y, x))


def test_affine_transform_by_plain_numbers_moves_every_image_alike(digits):
    np.testing.assert_allclose(affine_transform(digits, 0, 1, 0, 0), digits, atol=1e-4)
    np.testing.assert_allclose(affine_transform(digits, 0, 1, -1, 2), shift_images(digits, -1, 2), atol=1e-3)
    turned = affine_transform(digits, np.pi / 2, 1, 0, 0)
    assert any(np.allclose(turned, np.rot90(digits, k, axes=(1, 2)), atol=1e-3) for k in (1, -1))


# --- random distortions ----------------------------------------------------------------------------

def test_random_distortion_without_distortion_returns_the_images(digits):
    out = random_distortion(digits, np.random.default_rng(0), 0, 0, 0, 0)
    assert out.dtype == np.float32 and out.shape == digits.shape
    np.testing.assert_array_equal(out, digits)


def test_random_distortion_by_whole_pixels_is_the_shift_of_section_5(digits):
    out = random_distortion(digits, HighestValues(), 0, 0, 2, 0)
    np.testing.assert_allclose(out, shift_images(digits, 2, 2), atol=1e-3)


def test_random_distortion_by_a_quarter_turn_is_a_rotation_of_the_pixel_grid(digits):
    out = random_distortion(digits, HighestValues(), 90, 0, 0, 0)
    assert any(np.allclose(out, np.rot90(digits, k, axes=(1, 2)), atol=1e-3) for k in (1, -1))


@pytest.mark.parametrize("points", [4, 6])
def test_smooth_displacements_move_each_pixel_by_about_one_pixel_and_vary_smoothly(points):
    fields = smooth_displacements(np.random.default_rng(0), 2000, 28, points)
    assert fields.shape == (2000, 2, 28, 28)
    np.testing.assert_allclose(fields.std(axis=0), 1, atol=0.1)         # every pixel, both directions
    neighbours = np.corrcoef(fields[:, 0, 10, 10], fields[:, 0, 10, 11])[0, 1]
    far = np.corrcoef(fields[:, 0, 2, 2], fields[:, 0, 25, 25])[0, 1]
    assert neighbours > 0.9 and abs(far) < 0.1


def test_random_distortion_gives_each_image_its_own_distortion_and_keeps_the_ink(digits):
    same = np.repeat(digits[:1], 8, axis=0)
    for rotate, scale, shift, elastic in ((12, 0.1, 2, 0), (0, 0, 0, 1.5), (12, 0.1, 2, 1.5)):
        out = random_distortion(same, np.random.default_rng(0), rotate, scale, shift, elastic)
        assert len({image.tobytes() for image in out}) == 8
        ink = out.sum(axis=(1, 2)) / same[0].sum(dtype=np.float64)
        assert np.all((ink > 0.7) & (ink < 1.35))        # scaling by ±10 % changes the area by about ±20 %


def test_random_distortion_with_the_same_seed_is_the_same(digits):
    first = random_distortion(digits, np.random.default_rng(5), 12, 0.1, 2, 1.5)
    np.testing.assert_array_equal(first, random_distortion(digits, np.random.default_rng(5), 12, 0.1, 2, 1.5))
