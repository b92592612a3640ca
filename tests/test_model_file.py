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

CONTRACT_SHAPES = {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}


def read_idx_gz(path, magic, header_bytes):
    """The payload of a gzip-compressed MNIST IDX file, checked against its magic number."""
    data = gzip.decompress(path.read_bytes())
    assert int.from_bytes(data[:4], "big") == magic
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes)


@pytest.fixture(scope="module")
def model_path(repo_root):
    path = repo_root / "mnist_model.npz"
    if not path.exists():
        pytest.skip("mnist_model.npz not committed yet")
    return path


@pytest.fixture(scope="module")
def model_arrays(model_path):
    with np.load(model_path, allow_pickle=False) as data:  # raises for any pickled (object) array
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def deep_model_arrays(repo_root):
    path = repo_root / "mnist_deep_model.npz"
    if not path.exists():
        pytest.skip("mnist_deep_model.npz not committed yet")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def real_test_set(real_mnist_dir):
    """The real test images as rows of 784 numbers in [0, 1], and their labels."""
    images = read_idx_gz(real_mnist_dir / "t10k-images-idx3-ubyte.gz", 2051, 16).reshape(10000, 784)
    labels = read_idx_gz(real_mnist_dir / "t10k-labels-idx1-ubyte.gz", 2049, 8)
    return images / 255.0, labels


def test_committed_model_loads_with_the_notebooks_load_params(model_path, nb):
    params = nb.load_params(model_path)
    assert {name: value.shape for name, value in params.items()} == CONTRACT_SHAPES
    assert all(value.dtype in (np.float32, np.float64) for value in params.values())


def test_committed_model_holds_the_contract_arrays_and_no_object_arrays(model_arrays):
    assert {name: model_arrays[name].shape for name in CONTRACT_SHAPES} == CONTRACT_SHAPES
    assert all(model_arrays[name].dtype in (np.float32, np.float64) for name in CONTRACT_SHAPES)
    assert [key for key, value in model_arrays.items() if value.dtype.hasobject] == []


@pytest.mark.timeout(120)
def test_committed_model_scores_at_least_98_5_percent_on_the_real_test_set(model_arrays, real_test_set):
    x, labels = real_test_set
    W1, b1, W2, b2 = (model_arrays[name].astype(np.float64) for name in CONTRACT_SHAPES)
    predicted = np.argmax(np.maximum(x @ W1 + b1, 0) @ W2 + b2, axis=1)
    assert np.mean(predicted == labels) >= 0.985


def test_committed_deep_model_loads_with_the_notebooks_load_params_in_its_layer_sizes(repo_root, deep_model_arrays, nb):
    params = nb.load_params(repo_root / "mnist_deep_model.npz")
    sizes = [int(n) for n in deep_model_arrays["layer_sizes"]]
    assert sizes[0] == 784 and sizes[-1] == 10 and len(params) == 2 * (len(sizes) - 1)
    assert [params[f"W{l}"].shape for l in range(1, len(sizes))] == list(zip(sizes[:-1], sizes[1:]))
    assert [key for key, value in deep_model_arrays.items() if value.dtype.hasobject] == []


@pytest.mark.timeout(120)
def test_committed_deep_model_scores_at_least_99_3_percent_on_the_real_test_set(deep_model_arrays, real_test_set):
    A, labels = real_test_set
    layers = len([key for key in deep_model_arrays if key[0] == "W" and key[1:].isdigit()])
    for l in range(1, layers + 1):
        Z = A @ deep_model_arrays[f"W{l}"].astype(np.float64) + deep_model_arrays[f"b{l}"]
        A = np.maximum(Z, 0)
    assert np.mean(Z.argmax(axis=1) == labels) >= 0.993
