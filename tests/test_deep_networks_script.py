"""benchmarks/deep_networks.py on small synthetic MNIST (1 epoch per network): every row is trained and
printed, --rows and --seeds select what runs, and a row draws its random numbers as the README's table
was measured (one generator for the split, the initial weights and training). No accuracy or timing
is asserted."""

import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from mnist_utils import load_mnist
from notebook_functions import notebook_parameters


def run_script(repo_root, data_dir, *options):
    return subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "deep_networks.py"), "--data-dir", str(data_dir),
         "--epochs", "1", "--validation-size", "200", *options],
        cwd=repo_root, capture_output=True, text=True, timeout=240)


def table_rows(result):
    assert result.returncode == 0, result.stderr
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.splitlines()
            if line.startswith("| 784-")]


def by_hand(nb, data, seed, hidden, augment, **recipe):
    """Test accuracy and best validation accuracy of one row, trained step by step with one generator."""
    (images, labels), (test_images, test_labels) = data
    rng = np.random.default_rng(seed)
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(images, labels, 200, rng)
    params, history = nb.train(nb.init_network([784, *hidden, 10], rng), (fit_images, y_fit),
                               (nb.preprocess(val_images), y_val), recipe, rng, forward=nb.deep_forward,
                               backward=nb.deep_backward, augment=augment, progress=False)
    scores = nb.deep_forward(nb.preprocess(test_images), params)[0]
    return f"{nb.accuracy(scores.argmax(axis=1), test_labels):.2%}", f"{max(history['val_acc']):.2%}"


@pytest.mark.timeout(300)
def test_every_row_of_the_table_is_trained_and_printed(repo_root, synthetic_mnist_dir):
    rows = table_rows(run_script(repo_root, synthetic_mnist_dir))
    assert len(rows) == 5
    assert ["784-64-10," in rows[0][0], "784-512-256-10," in rows[3][0], "dropout 0.2" in rows[4][0]] == [True] * 3
    for cells in rows:
        assert len(cells) == 9 and cells[2] == "1"                  # one epoch each, as asked
        assert cells[4].endswith("%") and 0 <= float(cells[4][:-1]) <= 100


@pytest.mark.timeout(300)
def test_rows_and_seeds_select_what_is_run(repo_root, synthetic_mnist_dir):
    result = run_script(repo_root, synthetic_mnist_dir, "--rows", "1", "--seeds", "0", "1")
    rows = table_rows(result)
    assert result.stdout.startswith("seeds [0, 1]")
    assert len(rows) == 1 and "784-64-10," in rows[0][0]
    assert len(rows[0][5].split(",")) == 2                           # one test accuracy per seed


@pytest.mark.timeout(300)
def test_a_shifted_row_draws_everything_from_one_generator(nb, repo_root, synthetic_mnist_dir):
    settings = notebook_parameters()
    recipe = {name.lower(): settings[name] for name in ("BATCH_SIZE", "LEARNING_RATE", "SCHEDULE", "MOMENTUM",
                                                        "L2", "SHIFT", "AVERAGING")}
    expected = by_hand(nb, load_mnist(synthetic_mnist_dir), 7, [settings["HIDDEN_SIZE"]], None, epochs=1, **recipe)
    cells = table_rows(run_script(repo_root, synthetic_mnist_dir, "--rows", "1", "--seeds", "7"))[0]
    assert (cells[5], cells[6]) == expected                         # per seed (one seed), best validation


@pytest.mark.timeout(300)
def test_a_distorted_row_with_dropout_draws_everything_from_one_generator(nb, repo_root, synthetic_mnist_dir):
    s = notebook_parameters()
    recipe = {name.lower(): s[name] for name in ("BATCH_SIZE", "LEARNING_RATE", "SCHEDULE", "MOMENTUM", "AVERAGING")}
    distort = partial(nb.random_affine, max_degrees=s["DEEP_ROTATE"], max_scale=s["DEEP_SCALE"],
                      max_shift=s["DEEP_SHIFT"])
    expected = by_hand(nb, load_mnist(synthetic_mnist_dir), 7, s["DEEP_HIDDEN"], distort, epochs=1, l2=s["DEEP_L2"],
                       shift=0, dropout=0.2, **recipe)
    cells = table_rows(run_script(repo_root, synthetic_mnist_dir, "--rows", "5", "--seeds", "7"))[0]
    assert "dropout 0.2" in cells[0] and (cells[5], cells[6]) == expected
