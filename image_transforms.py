"""Image transformations for augmentation and robustness tests: shifts, affine maps by bilinear sampling,
erosion and dilation of strokes, and elastic distortions. Images are arrays (m, h, w), one per image."""

import numpy as np


def shift_images(images, dy, dx):
    """Move images (m, h, w) down by dy and right by dx whole pixels (negative: up, left), filling with 0."""
    m, h, w = images.shape
    shifted = np.zeros_like(images)
    # output pixel (i, j) is input pixel (i - dy, j - dx), where that pixel exists
    shifted[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return shifted


def affine_source(shape, angle, scale, dy, dx):
    """Where each output pixel (y, x) of an image of shape (h, w) reads the input when the image is rotated by
    `angle` radians, scaled by `scale` and moved by (dy, dx) pixels about its centre. Each of angle, scale, dy,
    dx is a number or an (m, 1, 1) array, one per image."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y, x = y - np.float32((h - 1) / 2), x - np.float32((w - 1) / 2)        # counted from the centre
    cos, sin = np.float32(np.cos(angle) / scale), np.float32(np.sin(angle) / scale)
    # undo the shift, the scaling and the rotation
    source_y = cos * y - sin * x + np.float32((h - 1) / 2) - np.float32(dy)
    source_x = sin * y + cos * x + np.float32((w - 1) / 2) - np.float32(dx)
    return source_y, source_x


def bilinear_sample(images, source_y, source_x, chunk_size=64):
    """Images (m, h, w) read at the points (source_y, source_x) by bilinear interpolation; outside the image, 0.

    Each point falls between four pixels, which are mixed in proportion to the distances. chunk_size images
    at a time: their arrays then stay in the CPU's cache, which makes it about twice as fast."""
    m, h, w = images.shape
    source_y, source_x = np.broadcast_to(source_y, images.shape), np.broadcast_to(source_x, images.shape)
    out = np.empty(images.shape, dtype=np.float32)
    for start in range(0, m, chunk_size):
        part = slice(start, start + chunk_size)
        n = len(images[part])
        padded = np.zeros((n, h + 3, w + 3), dtype=np.float32)   # a frame of 0s: 1 pixel before, 2 after
        padded[:, 1:h + 1, 1:w + 1] = images[part]
        y = np.clip(source_y[part] + 1, 0, h + 1)                 # in the padded frame; outside reads 0s
        x = np.clip(source_x[part] + 1, 0, w + 1)
        y0, x0 = np.floor(y), np.floor(x)
        wy, wx = y - y0, x - x0                                    # how far the point is from its top-left neighbour
        i = y0.astype(np.intp) * (w + 3) + x0.astype(np.intp)
        i += np.arange(0, n * (h + 3) * (w + 3), (h + 3) * (w + 3))[:, None, None]   # flat index of the top-left one
        flat = padded.ravel()
        top_left, top_right, bottom_left, bottom_right = flat[i], flat[1:][i], flat[w + 3:][i], flat[w + 4:][i]
        top = top_left + wx * (top_right - top_left)
        bottom = bottom_left + wx * (bottom_right - bottom_left)
        out[part] = top + wy * (bottom - top)
    return out


def affine_transform(images, angle, scale, dy, dx):
    """Rotate images (m, h, w) by `angle` radians, scale them by `scale` and move them by (dy, dx) pixels."""
    return bilinear_sample(images, *affine_source(images.shape[1:], angle, scale, dy, dx))


def _neighbourhoods(images):
    """The 9 images of each pixel's 3×3 neighbours (outside the image: 0), stacked: (9, m, h, w)."""
    m, h, w = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return np.stack([padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)])


def dilate(images):
    """Each pixel becomes the largest of the 3×3 pixels around it: thicker strokes."""
    return _neighbourhoods(images).max(axis=0)


def erode(images):
    """Each pixel becomes the smallest of the 3×3 pixels around it: thinner strokes."""
    return _neighbourhoods(images).min(axis=0)


def stroke(images, rounds):
    """`rounds` > 0 dilations, or -`rounds` erosions."""
    for _ in range(abs(rounds)):
        images = dilate(images) if rounds > 0 else erode(images)
    return images


def smooth_displacements(rng, m, size, points=6):
    """m random smooth displacement fields (m, 2, size, size), each pixel's displacement of standard deviation 1:
    Gaussian noise at points × points places, spread over the image by Gaussian weights U (size, points)."""
    centres = np.linspace(0, size - 1, points)
    width = (size - 1) / (points - 1)                       # the Gaussian's width: the spacing of the points
    U = np.exp(-(np.arange(size)[:, None] - centres) ** 2 / (2 * width ** 2)).astype(np.float32)
    U /= np.sqrt((U ** 2).sum(axis=1, keepdims=True))       # so that every pixel's variance is 1
    noise = rng.standard_normal((m, 2, points, points), dtype=np.float32)
    return U @ noise @ U.T


def random_distortion(images, rng, max_degrees, max_scale, max_shift, elastic):
    """Rotate (up to max_degrees), scale (up to ±max_scale), shift (up to max_shift pixels) and elastically
    distort (each pixel moved by about `elastic` pixels, smoothly) every image (m, h, w) by its own amounts."""
    m, h, w = images.shape
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, (m, 1, 1))).astype(np.float32)
    scale = (1 + rng.uniform(-max_scale, max_scale, (m, 1, 1))).astype(np.float32)
    dy, dx = rng.uniform(-max_shift, max_shift, (2, m, 1, 1)).astype(np.float32)
    source_y, source_x = affine_source((h, w), angle, scale, dy, dx)
    if elastic:
        field = elastic * smooth_displacements(rng, m, h)
        source_y, source_x = source_y + field[:, 0], source_x + field[:, 1]
    return bilinear_sample(images, source_y, source_x)
