"""The real MNIST files ($MNIST_DATA_DIR, or shared/data/mnist beside the project) and the real
Fashion-MNIST files (shared/data/fashion, or Debian's /usr/share/datasets/fashion-mnist), where present.

The expected MNIST label counts are the published ones (5,923 zeros in the training set ...);
Fashion-MNIST has 6,000 training and 1,000 test images of each of its 10 classes. The pinned SHA-256 of
mnist_utils are computed here again from the files' decompressed bytes, with hashlib and gzip only.
"""

import gzip
import hashlib

import numpy as np
import pytest

from idx_fixtures import FILE_NAMES, GZ_NAMES
from mnist_utils import FASHION_MNIST_SHA256, MNIST_SHA256, download_mnist, load_mnist, verify_mnist

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def real_mnist(real_mnist_dir):
    return load_mnist(real_mnist_dir, download=False)


def test_real_mnist_has_the_keras_shapes_and_uint8(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist

    shapes = [x_train.shape, y_train.shape, x_test.shape, y_test.shape]
    assert shapes == [(60000, 28, 28), (60000,), (10000, 28, 28), (10000,)]
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}


def test_real_mnist_label_counts_are_the_published_ones(real_mnist):
    (_, y_train), (_, y_test) = real_mnist

    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_LABEL_COUNTS


def test_real_mnist_pixels_use_the_whole_byte_range(real_mnist):
    (x_train, _), (x_test, _) = real_mnist

    for images in (x_train, x_test):
        assert (images.min(), images.max()) == (0, 255)


def sha256_of_the_decompressed_files(folder):
    return {name: hashlib.sha256(gzip.decompress((folder / f"{name}.gz").read_bytes())).hexdigest()
            for name in FILE_NAMES}


def test_the_mnist_pins_are_the_sha256_of_the_real_files_decompressed_bytes(real_mnist_dir):
    assert sha256_of_the_decompressed_files(real_mnist_dir) == MNIST_SHA256


def test_verify_mnist_finds_the_real_files_ok(real_mnist_dir):
    checks = verify_mnist(real_mnist_dir)

    assert [check.status for check in checks.values()] == ["ok"] * 4, checks
    assert [check.path.name for check in checks.values()] == list(GZ_NAMES)  # re-compressed files


@pytest.mark.timeout(60)
def test_recompressed_mirror_is_accepted_through_the_decompressed_pins(real_mnist_dir, tmp_path,
                                                                        httpserver):
    for name in GZ_NAMES:
        data = (real_mnist_dir / name).read_bytes()
        httpserver.expect_request("/mnist/" + name).respond_with_data(data)

    paths = download_mnist(tmp_path, mirrors=[httpserver.url_for("/mnist/")])

    for path in paths.values():
        assert path.read_bytes() == (real_mnist_dir / path.name).read_bytes()


@pytest.fixture(scope="module")
def real_fashion(real_fashion_dir):
    return load_mnist(real_fashion_dir, dataset="fashion", download=False)


def test_real_fashion_mnist_has_the_mnist_shapes_and_balanced_classes(real_fashion):
    (x_train, y_train), (x_test, y_test) = real_fashion

    assert [x_train.shape, y_train.shape, x_test.shape, y_test.shape] == [
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,)]
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10


def test_the_fashion_pins_are_the_sha256_of_the_real_files_decompressed_bytes(real_fashion_dir):
    assert sha256_of_the_decompressed_files(real_fashion_dir) == FASHION_MNIST_SHA256


def test_verify_mnist_finds_the_real_fashion_files_ok(real_fashion_dir):
    checks = verify_mnist(real_fashion_dir, dataset="fashion")

    assert [check.status for check in checks.values()] == ["ok"] * 4, checks
    assert [check.path.name for check in checks.values()] == list(GZ_NAMES)
