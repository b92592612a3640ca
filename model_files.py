"""Saving a network's weights to an .npz file and loading them back, with everything a bad file can do refused.

`save_params` refuses weights that are not finite (a diverged run leaves no model behind) and values NumPy
could only store as a pickle, and writes through `mnist_utils.atomic_write` (a crash never leaves half a
file). `load_params` opens the file with `allow_pickle=False` and checks every name, shape, dtype and value,
so a file for another network is refused with a message saying what is wrong.
"""

import zipfile

import numpy as np

import mnist_utils


def save_params(path, params, **extra):
    """Write the weights and extra plain values (numbers, strings, numeric arrays) to an .npz file."""
    for name, value in params.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} holds {np.sum(~np.isfinite(value)):,} numbers that are nan or inf, so {path} "
                             "was not written: the training diverged. Train again with a smaller LEARNING_RATE.")
    arrays = {**params, **{key: np.asarray(value) for key, value in extra.items()}}
    for key, value in arrays.items():
        if value.dtype.hasobject:   # np.savez would pickle it, and pickles are not loaded back
            raise TypeError(f"{key}: cannot save a {type(extra.get(key, value)).__name__} as a plain array; "
                            "pass numbers, strings or numeric arrays")
    with mnist_utils.atomic_write(path) as file:
        np.savez(file, **arrays)


def load_params(path, n_in=784, n_out=10):
    """The weights W1, b1, ..., WL, bL of a network from an .npz file, with their names, shapes and values checked."""
    try:
        with np.load(path, allow_pickle=False) as data:
            params = {name: data[name] for name in data.files if name[0] in "Wb" and name[1:].isdigit()}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile) as error:   # truncated, corrupt, pickled, .npy
        raise ValueError(f"{path}: not a readable .npz model file ({error}). Save the model again.") from error
    layers = len(params) // 2
    expected = [name for l in range(1, layers + 1) for name in (f"W{l}", f"b{l}")]
    if layers == 0 or sorted(params) != sorted(expected) or any(params[f"W{l}"].ndim != 2 for l in range(1, layers + 1)):
        raise ValueError(f"{path}: holds {sorted(params) or 'no weights'}, but a model file holds a weight matrix "
                         "W1, W2, ... and a bias b1, b2, ... for every layer. Save the model again with save_params.")
    sizes = [n_in] + [params[f"W{l}"].shape[1] for l in range(1, layers)] + [n_out]
    for l in range(1, layers + 1):
        for name, shape in ((f"W{l}", (sizes[l - 1], sizes[l])), (f"b{l}", (sizes[l],))):
            if params[name].shape != shape:
                raise ValueError(f"{path}: {name} has shape {params[name].shape}, but a "
                                 f"{'-'.join(map(str, sizes))} network needs {shape}. The file is for another "
                                 "architecture: retrain, or load it with matching n_in and n_out.")
            if params[name].dtype.kind != "f" or not np.all(np.isfinite(params[name])):
                raise ValueError(f"{path}: {name} must hold finite floating-point numbers. Save the model again.")
    return params
