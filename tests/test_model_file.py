"""The committed model files mnist_model.npz and mnist_deep_model.npz at the repository root.

The contract of mnist_model.npz (notebook section 8): arrays W1 (784, 64), b1 (64,), W2 (64, 10),
b2 (10,), nothing that needs pickle to read, and the prediction argmax(relu(x @ W1 + b1) @ W2 + b2)
for x = the flattened image / 255; mnist_deep_model.npz (section 12) holds W1, b1, ..., WL, bL of
the layer sizes it stores as layer_sizes, with ReLU between its layers. The accuracies are computed
here with plain NumPy, from the raw files; without the real MNIST files those tests are skipped.
"""

import gzip

import numpy as np
import pytest

from conftest import COMMITTED_DEEP_MODEL, COMMITTED_MODEL, model_arrays, plain_predictions
from model_files import load_params

CONTRACT_SHAPES = {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}


def read_idx_gz(path, magic, header_bytes):
    """The payload of a gzip-compressed MNIST IDX file, checked against its magic number."""
    data = gzip.decompress(path.read_bytes())
    assert int.from_bytes(data[:4], "big") == magic
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes)


@pytest.fixture(scope="module")
def real_test_set(real_mnist_dir):
    """The real test images as rows of 784 numbers in [0, 1], and their labels."""
    images = read_idx_gz(real_mnist_dir / "t10k-images-idx3-ubyte.gz", 2051, 16).reshape(10000, 784)
    labels = read_idx_gz(real_mnist_dir / "t10k-labels-idx1-ubyte.gz", 2049, 8)
    return images / 255.0, labels


def test_committed_model_loads_with_load_params_in_the_contract_shapes_and_every_array_without_pickle():
    params = load_params(COMMITTED_MODEL)
    assert {name: value.shape for name, value in params.items()} == CONTRACT_SHAPES
    assert all(value.dtype in (np.float32, np.float64) for value in params.values())
    assert set(CONTRACT_SHAPES) < set(model_arrays(COMMITTED_MODEL))   # and the settings and history, all without pickle


@pytest.mark.timeout(120)
def test_committed_model_scores_at_least_98_5_percent_on_the_real_test_set(real_test_set):
    x, labels = real_test_set
    assert np.mean(plain_predictions(model_arrays(COMMITTED_MODEL), x) == labels) >= 0.985


def test_committed_deep_model_is_read_without_pickle_and_loads_in_its_layer_sizes():
    sizes = [int(n) for n in model_arrays(COMMITTED_DEEP_MODEL)["layer_sizes"]]
    params = load_params(COMMITTED_DEEP_MODEL)
    assert sizes[0] == 784 and sizes[-1] == 10 and len(params) == 2 * (len(sizes) - 1)
    assert [params[f"W{l}"].shape for l in range(1, len(sizes))] == list(zip(sizes[:-1], sizes[1:]))


@pytest.mark.timeout(120)
def test_committed_deep_model_scores_at_least_99_3_percent_on_the_real_test_set(real_test_set):
    x, labels = real_test_set
    assert np.mean(plain_predictions(model_arrays(COMMITTED_DEEP_MODEL), x) == labels) >= 0.993
