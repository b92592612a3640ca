"""model_files: save_params writes weights and plain extras through atomic_write and refuses what it must not
write; load_params reads them back with allow_pickle=False and refuses, with a message naming the problem,
files that are for another network, damaged, pickled or not a model at all."""

import os
import zipfile

import numpy as np
import pytest

import model_files
from conftest import model_arrays
from model_files import load_params, save_params

PARAM_SHAPES = {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}


def network_params(sizes, seed=0):
    """float32 weights W1, b1, ..., WL, bL of a network with these layer sizes, every bias non-zero."""
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32)
        params[f"b{l}"] = rng.uniform(0.1, 0.5, n_out).astype(np.float32)   # so that a lost bias would show
    return params


@pytest.fixture
def params():
    return network_params([784, 64, 10])


def save_raw(path, params, **changes):
    """Write an .npz with np.savez directly (not save_params), with some arrays replaced or removed (None)."""
    arrays = {**params, **changes}
    np.savez(path, **{name: value for name, value in arrays.items() if value is not None})
    return path


# --- saving ---------------------------------------------------------------------------------------

def test_saved_params_load_back_equal_as_float32(params, tmp_path):
    save_params(tmp_path / "model.npz", params)
    loaded = load_params(tmp_path / "model.npz")
    assert sorted(loaded) == sorted(PARAM_SHAPES)
    for name in params:
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], params[name])


def test_saved_extras_are_plain_arrays_readable_without_pickle(params, tmp_path):
    extras = dict(hidden_size=64, l2=2e-4, dataset="mnist", test_accuracy=np.float64(0.986),
                  history_val_acc=[0.9, 0.95, 0.97], history_epoch=[1.0, 2.0, 3.0])
    save_params(tmp_path / "model.npz", params, **extras)
    data = model_arrays(tmp_path / "model.npz")
    assert sorted(data) == sorted([*params, *extras])
    assert data["dataset"] == "mnist" and data["hidden_size"] == 64 and data["l2"] == 2e-4
    np.testing.assert_array_equal(data["history_val_acc"], extras["history_val_acc"])


@pytest.mark.parametrize("extra", [dict(note=None), dict(settings={"epochs": 100}), dict(unsaveable=lambda: None)])
def test_save_params_refuses_values_that_would_need_pickle_and_writes_nothing(params, tmp_path, extra):
    with pytest.raises(TypeError, match=f"^{next(iter(extra))}: cannot save a"):
        save_params(tmp_path / "model.npz", params, **extra)   # np.savez would store them as pickles
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_save_params_refuses_non_finite_weights_and_writes_nothing(params, tmp_path, bad_value):
    params["W2"][3, 4] = bad_value
    with pytest.raises(ValueError, match=r"W2 holds 1 numbers that are nan or inf.*model.npz was not written"):
        save_params(tmp_path / "model.npz", params)
    assert os.listdir(tmp_path) == []


def test_refusing_non_finite_weights_keeps_the_file_saved_before(params, tmp_path):
    save_params(tmp_path / "model.npz", params)
    with pytest.raises(ValueError):
        save_params(tmp_path / "model.npz", dict(params, b1=np.full_like(params["b1"], np.nan)))
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load_params(tmp_path / "model.npz")["b1"], params["b1"])


def test_save_params_leaves_no_temporary_file(params, tmp_path):
    save_params(tmp_path / "model.npz", params, epochs=3)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert zipfile.is_zipfile(tmp_path / "model.npz")


def test_save_params_creates_missing_folders(params, tmp_path):
    save_params(tmp_path / "a" / "b" / "model.npz", params)
    np.testing.assert_array_equal(load_params(tmp_path / "a" / "b" / "model.npz")["W1"], params["W1"])


def test_failed_save_keeps_the_existing_file_and_leaves_no_temporary_file(params, tmp_path):
    path = tmp_path / "model.npz"
    save_params(path, params)
    with pytest.raises(TypeError):
        save_params(path, {name: value + 1 for name, value in params.items()}, unsaveable=lambda: None)
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load_params(path)["W1"], params["W1"])


def test_a_save_that_fails_while_writing_keeps_the_existing_file_and_leaves_no_temporary_file(params, tmp_path,
                                                                                             monkeypatch):
    path = tmp_path / "model.npz"
    save_params(path, params)

    def writes_half_then_fails(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(model_files.np, "savez", writes_half_then_fails)
    with pytest.raises(OSError, match="No space left"):
        save_params(path, {name: value + 1 for name, value in params.items()})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load_params(path)["W1"], params["W1"])


def test_saving_to_a_directory_path_fails_and_leaves_no_file(params, tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(OSError):
        save_params(tmp_path / "model.npz", params)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert os.listdir(tmp_path / "model.npz") == []


# --- loading: files for another network ---------------------------------------------------------------

def test_wrong_shape_is_rejected_naming_the_array_and_both_shapes(params, tmp_path):
    path = save_raw(tmp_path / "model.npz", params, b1=np.zeros(63, dtype=np.float32))
    with pytest.raises(ValueError, match=r"model.npz: b1 has shape \(63,\), but a 784-64-10 network needs \(64,\)"):
        load_params(path)


def test_other_output_size_is_rejected_naming_the_array_and_both_shapes(tmp_path):
    path = save_raw(tmp_path / "model.npz", network_params([784, 64, 5]))
    with pytest.raises(ValueError, match=r"W2 has shape \(64, 5\), but a 784-64-10 network needs \(64, 10\)"):
        load_params(path)


def test_other_sizes_load_when_n_in_and_n_out_say_so(tmp_path):
    path = save_raw(tmp_path / "model.npz", network_params([12, 7, 5]))
    assert {name: value.shape for name, value in load_params(path, n_in=12, n_out=5).items()} == {
        "W1": (12, 7), "b1": (7,), "W2": (7, 5), "b2": (5,)}


def test_zero_dimensional_weights_are_rejected_with_value_error(params, tmp_path):
    path = save_raw(tmp_path / "model.npz", params, W1=np.float32(1.0))
    with pytest.raises(ValueError, match="model.npz"):
        load_params(path)


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_missing_array_is_rejected_listing_the_arrays_the_file_holds(params, tmp_path, name):
    path = save_raw(tmp_path / "model.npz", params, **{name: None})
    with pytest.raises(ValueError) as error:
        load_params(path)
    assert f"holds {sorted(set(params) - {name})}" in str(error.value)


def test_a_deep_network_loads_back_in_its_layer_sizes(tmp_path):
    params = network_params([784, 32, 16, 10])
    save_params(tmp_path / "deep.npz", params, layer_sizes=[784, 32, 16, 10], batch_norm=True)
    loaded = load_params(tmp_path / "deep.npz")
    assert list(loaded) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert all(np.array_equal(loaded[name], params[name]) for name in params)


def test_a_deep_file_whose_layers_do_not_chain_is_rejected_naming_the_array(tmp_path):
    params = network_params([784, 32, 16, 10])
    params["W2"] = np.zeros((31, 16), dtype=np.float32)   # layer 1 gives 32 values, layer 2 takes 31
    with pytest.raises(ValueError, match=r"W2 has shape \(31, 16\).*784-32-16-10.*\(32, 16\)"):
        load_params(save_raw(tmp_path / "deep.npz", params))


def test_a_deep_file_with_a_missing_bias_is_rejected_listing_what_it_holds(tmp_path):
    path = save_raw(tmp_path / "deep.npz", network_params([784, 32, 16, 10]), b3=None)
    with pytest.raises(ValueError, match=r"holds \['W1', 'W2', 'W3', 'b1', 'b2'\], but a model file holds"):
        load_params(path)


def test_a_file_without_any_weights_is_rejected(tmp_path):
    np.savez(tmp_path / "empty.npz", epochs=np.array(3))
    with pytest.raises(ValueError, match="holds no weights"):
        load_params(tmp_path / "empty.npz")


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected(params, tmp_path, bad_value):
    params["W2"][3, 4] = bad_value
    with pytest.raises(ValueError, match="W2 must hold finite floating-point numbers"):
        load_params(save_raw(tmp_path / "model.npz", params))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.complex64])
def test_non_float_weights_are_rejected(params, tmp_path, dtype):
    path = save_raw(tmp_path / "model.npz", params, W1=params["W1"].astype(dtype))
    with pytest.raises(ValueError, match="W1 must hold finite floating-point numbers"):
        load_params(path)


# --- loading: files that are not a readable model ---------------------------------------------------

def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_params(tmp_path / "no_such_model.npz")


def test_truncated_file_is_rejected(params, tmp_path):
    path = tmp_path / "model.npz"
    save_params(path, params)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(ValueError, match="model.npz: not a readable .npz model file"):
        load_params(path)


def test_corrupted_bytes_inside_the_file_are_rejected(params, tmp_path):
    path = tmp_path / "model.npz"
    save_params(path, params)
    data = bytearray(path.read_bytes())
    data[len(data) // 3:len(data) // 3 + 16] = bytes(16)  # inside W1's numbers: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.npz: not a readable .npz model file"):
        load_params(path)


def test_file_of_random_bytes_is_rejected(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match="model.npz: not a readable .npz model file"):
        load_params(path)


def test_npy_file_instead_of_npz_is_rejected(params, tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as file:
        np.save(file, params["W1"])  # a single array: np.load returns an ndarray, not an NpzFile
    with pytest.raises(ValueError, match="model.npz: not a readable .npz model file"):
        load_params(path)


class _CreatesFileWhenUnpickled:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):  # unpickling calls open(marker, "w"), which creates the marker file
        return open, (self.marker, "w")


@pytest.mark.parametrize("name", ["W1", "b2"])
def test_object_array_is_rejected_without_being_unpickled(params, tmp_path, name):
    marker = tmp_path / "unpickled"
    path = save_raw(tmp_path / "model.npz", params, **{name: np.array([_CreatesFileWhenUnpickled(marker)])})
    with pytest.raises(ValueError, match="model.npz: not a readable .npz model file"):
        load_params(path)
    assert not marker.exists()


def test_model_arrays_refuses_an_object_array_without_unpickling_it(params, tmp_path):
    marker = tmp_path / "unpickled"          # the tests' helper, which the committed model files are read with
    path = save_raw(tmp_path / "model.npz", params, note=np.array([_CreatesFileWhenUnpickled(marker)]))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        model_arrays(path)
    assert not marker.exists()
