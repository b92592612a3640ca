"""The committed model file mnist_model.npz at the repository root.

Its contract (notebook section 8): arrays W1 (784, 64), b1 (64,), W2 (64, 10), b2 (10,), nothing
that needs pickle to read, and the prediction argmax(relu(x @ W1 + b1) @ W2 + b2) for x = the
flattened image / 255. The accuracy is computed here with plain NumPy, from the raw files.
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


def test_committed_model_loads_with_the_notebooks_load_params(model_path, nb):
    params = nb.load_params(model_path)
    assert {name: value.shape for name, value in params.items()} == CONTRACT_SHAPES
    assert all(value.dtype in (np.float32, np.float64) for value in params.values())


def test_committed_model_holds_the_contract_arrays_and_no_object_arrays(model_arrays):
    assert {name: model_arrays[name].shape for name in CONTRACT_SHAPES} == CONTRACT_SHAPES
    assert all(model_arrays[name].dtype in (np.float32, np.float64) for name in CONTRACT_SHAPES)
    assert [key for key, value in model_arrays.items() if value.dtype.hasobject] == []


@pytest.mark.timeout(120)
def test_committed_model_scores_at_least_98_5_percent_on_the_real_test_set(model_arrays, real_mnist_dir):
    images = read_idx_gz(real_mnist_dir / "t10k-images-idx3-ubyte.gz", 2051, 16).reshape(10000, 784)
    labels = read_idx_gz(real_mnist_dir / "t10k-labels-idx1-ubyte.gz", 2049, 8)
    W1, b1, W2, b2 = (model_arrays[name].astype(np.float64) for name in CONTRACT_SHAPES)
    x = images / 255.0
    predicted = np.argmax(np.maximum(x @ W1 + b1, 0) @ W2 + b2, axis=1)
    assert np.mean(predicted == labels) >= 0.985
