"""read_idx checked against IDX bytes built by hand with struct, and load_mnist on small
synthetic files with the standard names."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idx_fixtures import NUMPY_TYPES, idx_bytes, mnist_like_idx, write_idx
from mnist_utils import load_mnist, read_idx, resolve_data_dir

INTEGER_RANGES = {0x08: (0, 255), 0x09: (-128, 127),
                  0x0B: (-(2**15), 2**15 - 1), 0x0C: (-(2**31), 2**31 - 1)}
SHAPES = [(5,), (2, 3), (2, 3, 4), (1, 2, 1, 3)]


def sample_values(type_code, count):
    """Values covering the type's extremes and signs, so byte order matters."""
    if type_code in INTEGER_RANGES:
        low, high = INTEGER_RANGES[type_code]
        return [high if i % 2 else low + i for i in range(count)]
    return [(-1) ** i * (i + 0.5) * 1000 for i in range(count)]


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# --- Well-formed files ----------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("type_code", NUMPY_TYPES, ids=hex)
def test_hand_built_idx_is_read_with_its_type_shape_and_values(tmp_path, type_code, shape,
                                                               compress):
    values = sample_values(type_code, int(np.prod(shape)))
    name = "a.idx.gz" if compress else "a.idx"
    path = write(tmp_path / name, idx_bytes(type_code, shape, values), compress)

    array = read_idx(path)

    assert array.dtype == NUMPY_TYPES[type_code] and array.dtype.isnative
    assert array.shape == shape
    np.testing.assert_array_equal(array.ravel(), np.array(values, dtype=NUMPY_TYPES[type_code]))


@pytest.mark.parametrize("type_code", NUMPY_TYPES, ids=hex)
def test_write_idx_fixture_produces_the_hand_built_bytes(tmp_path, type_code):
    values = sample_values(type_code, 6)
    array = np.array(values, dtype=NUMPY_TYPES[type_code]).reshape(2, 3)

    write_idx(tmp_path / "a.idx", array)
    write_idx(tmp_path / "a.idx.gz", array)

    expected = idx_bytes(type_code, (2, 3), values)
    assert (tmp_path / "a.idx").read_bytes() == expected
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes()) == expected


def test_gzip_is_recognised_by_its_content_not_its_name(tmp_path):
    data = idx_bytes(0x08, (3,), [1, 2, 3])
    path = write(tmp_path / "no-extension", data, compress=True)

    np.testing.assert_array_equal(read_idx(path), [1, 2, 3])


def test_empty_dimension_gives_an_empty_array(tmp_path):
    path = write(tmp_path / "a.idx", idx_bytes(0x08, (0, 28, 28), []))

    array = read_idx(path)

    assert array.shape == (0, 28, 28) and array.dtype == np.uint8


# --- Malformed files: each one is a ValueError naming the file and the problem ---

GZIP = gzip.compress(idx_bytes(0x08, (5000,), [i % 256 for i in range(5000)]))
MALFORMED = {  # case: (file name, bytes, compress them?, what the message says)
    "empty": ("a.idx", b"", False, "only 0 bytes"),
    "wrong-magic": ("a.idx", b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x07", False, "zero bytes"),
    "html-page": ("a.idx", b"<!DOCTYPE html><html>Forbidden</html>", False, "HTML page"),
    "unknown-type": ("a.idx", b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x07", False, "0x0A"),
    "zero-dimensions": ("a.idx", b"\x00\x00\x08\x00\x07", False, "0 dimensions"),
    "truncated-header": ("a.idx", b"\x00\x00\x08\x03" + struct.pack(">2I", 2, 2), False, "header"),
    "truncated-raw": ("a.idx", idx_bytes(0x0C, (2, 3), [1, 2, 3, 4, 5, 6])[:-1], False, "truncated"),
    "truncated-gz": ("a.idx", idx_bytes(0x0C, (2, 3), [1, 2, 3, 4, 5, 6])[:-1], True, "truncated"),
    "trailing-raw": ("a.idx", idx_bytes(0x08, (3,), [1, 2, 3]) + b"\x00", False, "extra bytes"),
    "trailing-gz": ("a.idx", idx_bytes(0x08, (3,), [1, 2, 3]) + b"\x00", True, "extra bytes"),
    "gz-name-not-gzip": ("a.idx.gz", idx_bytes(0x08, (3,), [1, 2, 3]), False, "not gzip"),
    "cut-off-gzip": ("a.idx.gz", GZIP[:len(GZIP) // 2], False, "damaged gzip"),
    # IDX allows 255 dimensions, NumPy at most 64.
    "too-many-dimensions": ("a.idx", idx_bytes(0x08, (1,) * 65, [7]), False, "NumPy cannot make"),
}


@pytest.mark.parametrize("name, data, compress, problem", MALFORMED.values(), ids=MALFORMED)
def test_malformed_file_is_a_value_error_naming_the_file_and_the_problem(tmp_path, name, data,
                                                                         compress, problem):
    path = write(tmp_path / name, data, compress)

    with pytest.raises(ValueError, match=problem) as error:
        read_idx(path)

    assert str(path) in str(error.value)


def test_corrupt_gzip_stream_is_a_value_error(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, 5000).tolist()
    compressed = bytearray(gzip.compress(idx_bytes(0x08, (5000,), pixels)))
    compressed[len(compressed) // 2] ^= 0xFF
    path = write(tmp_path / "a.idx.gz", bytes(compressed))

    with pytest.raises(ValueError, match="damaged|truncated|extra bytes"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_header_claiming_a_billion_items_is_rejected_without_allocating_them(tmp_path, compress):
    path = write(tmp_path / "a.idx", idx_bytes(0x08, (10**9,), [7] * 1000), compress)

    tracemalloc.start()
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak_bytes < 20 * 2**20  # the claim is 1 GB


@st.composite
def idx_like_bytes(draw):
    """Bytes that begin like an IDX header, so parsing goes past the first checks."""
    type_code = draw(st.sampled_from([*NUMPY_TYPES, 0x0A]))
    shape = draw(st.lists(st.integers(0, 4), max_size=3))
    data = bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    data += draw(st.binary(max_size=80))
    return gzip.compress(data, mtime=0) if draw(st.booleans()) else data


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=64) | idx_like_bytes(), name=st.sampled_from(["a.idx", "a.idx.gz"]))
def test_any_bytes_give_an_array_or_a_value_error(tmp_path, data, name):
    path = write(tmp_path / name, data)
    try:
        array = read_idx(path)
    except ValueError:
        return
    assert isinstance(array, np.ndarray) and array.dtype.isnative


# --- load_mnist on small synthetic files ----------------------------------


def put_files(folder, files, compress=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write(folder / (name + ".gz" if compress else name), data, compress)
    return folder


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_load_mnist_returns_uint8_arrays_in_keras_layout(tmp_path, compress):
    files = mnist_like_idx(n_train=500, n_test=100)
    folder = put_files(tmp_path, files, compress)

    (x_train, y_train), (x_test, y_test) = load_mnist(folder, download=False)

    shapes = [x_train.shape, y_train.shape, x_test.shape, y_test.shape]
    assert shapes == [(500, 28, 28), (500,), (100, 28, 28), (100,)]
    assert {x_train.dtype, y_train.dtype, x_test.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    test_pixels = np.frombuffer(files["t10k-images-idx3-ubyte"], np.uint8, offset=16)
    np.testing.assert_array_equal(x_test, test_pixels.reshape(100, 28, 28))
    train_labels = np.frombuffer(files["train-labels-idx1-ubyte"], np.uint8, offset=8)
    np.testing.assert_array_equal(y_train, train_labels)


def test_load_mnist_reads_the_folder_named_by_mnist_data_dir(tmp_path, monkeypatch):
    folder = put_files(tmp_path / "elsewhere", mnist_like_idx(n_train=30))
    monkeypatch.setenv("MNIST_DATA_DIR", str(folder))

    (x_train, _), _ = load_mnist(download=False)

    assert len(x_train) == 30


def test_default_folder_is_data_in_the_current_directory_at_call_time(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    put_files(tmp_path / "data", mnist_like_idx(n_train=40))

    (x_train, _), _ = load_mnist(download=False)

    assert len(x_train) == 40
    # Fashion-MNIST's files have the same names, so by default they get their own folder.
    assert resolve_data_dir(dataset="fashion") == tmp_path / "data" / "fashion"


def test_fashion_mnist_is_loaded_by_the_same_code(tmp_path):
    folder = put_files(tmp_path, mnist_like_idx(n_train=20))

    (x_train, _), _ = load_mnist(folder, dataset="fashion", download=False)


    assert x_train.shape == (20, 28, 28)


def test_missing_files_without_download_name_the_files_the_folder_and_the_fix(tmp_path):
    files = mnist_like_idx()
    del files["t10k-labels-idx1-ubyte"]

    with pytest.raises(FileNotFoundError) as error:
        load_mnist(put_files(tmp_path, files), download=False)

    message = str(error.value)
    what_is_missing = message.splitlines()[0]
    assert "t10k-labels-idx1-ubyte" in what_is_missing and "train-images" not in what_is_missing
    assert str(tmp_path) in message and "python -m mnist_utils download" in message


def test_images_and_labels_of_different_counts_are_rejected(tmp_path):
    files = mnist_like_idx(n_train=500)
    files["train-labels-idx1-ubyte"] = idx_bytes(0x08, (499,), [1] * 499)

    with pytest.raises(ValueError, match="500 images but .* 499 labels"):
        load_mnist(put_files(tmp_path, files), download=False)


@pytest.mark.parametrize("name, replacement", [
    ("train-images-idx3-ubyte", idx_bytes(0x08, (500, 784), [0] * 500 * 784)),  # flattened images
    ("t10k-labels-idx1-ubyte", idx_bytes(0x0C, (100,), [0] * 100)),  # int32 labels
])
def test_images_must_be_3d_uint8_and_labels_1d_uint8(tmp_path, name, replacement):
    files = mnist_like_idx(n_train=500, n_test=100)
    files[name] = replacement

    with pytest.raises(ValueError, match=name):
        load_mnist(put_files(tmp_path, files), download=False)


def test_unknown_dataset_is_rejected_with_the_choices(tmp_path):
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path, dataset="kmnist", download=False)

    assert "'kmnist'" in str(error.value) and "mnist, fashion" in str(error.value)
