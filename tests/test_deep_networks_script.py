"""benchmarks/deep_networks.py on small synthetic MNIST (1 epoch per network): every row is trained and
printed, --rows and --seeds select what runs, and a row draws its random numbers as going_further.ipynb
does (the split from [seed, 1]; the deep network and its training from [seed, 14]), so that the table's
row for that notebook's recipe is the notebook's own run. With one epoch on 1,000 images the accuracies are
near chance: they are checked against the notebook's training written out by hand, and no timing is asserted."""

import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from conftest import GOING_FURTHER
from mnist_utils import load_mnist
from notebook_functions import notebook_parameters


NOTEBOOK_UNDER_TEST = GOING_FURTHER     # conftest's `nb`: its functions


def run_script(repo_root, data_dir, *options):
    return subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "deep_networks.py"), "--data-dir", str(data_dir),
         "--epochs", "1", "--validation-size", "200", *options],
        cwd=repo_root, capture_output=True, text=True, timeout=240)


def table_rows(result):
    assert result.returncode == 0, result.stderr
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.splitlines()
            if line.startswith("| 784-")]


def going_further_by_hand(nb, data, seed, s, **changes):
    """Test accuracy and best validation accuracy of going_further.ipynb's deep network for one epoch, trained as
    the notebook trains it (its sections 4 to 7), written out here."""
    (images, labels), (test_images, test_labels) = data
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(images, labels, 200, np.random.default_rng([seed, 1]))
    s = {**s, **changes}
    recipe = dict(epochs=1, batch_size=s["DEEP_BATCH_SIZE"], learning_rate=s["DEEP_LEARNING_RATE"], schedule=nb.SCHEDULE,
                  momentum=nb.MOMENTUM, l2=s["DEEP_L2"], shift=0, averaging=nb.AVERAGING)
    distort = partial(nb.random_distortion, max_degrees=s["DEEP_ROTATE"], max_scale=s["DEEP_SCALE"],
                      max_shift=s["DEEP_SHIFT"], elastic=s["DEEP_ELASTIC"])
    rng = np.random.default_rng([seed, 14])
    net = nb.build_network([784, *s["DEEP_HIDDEN"], 10], rng, s["DEEP_BATCH_NORM"], s["DEEP_DROPOUT"])
    net, history = nb.train_network(net, (fit_images, y_fit), (nb.preprocess(val_images), y_val), recipe, rng, distort,
                                    progress=False)
    accuracy = nb.evaluate(test_images, test_labels, net)[1]
    return f"{accuracy:.2%}", f"{max(history['val_acc']):.2%}"


@pytest.mark.timeout(300)
def test_every_row_of_the_table_is_trained_and_printed_and_a_diverged_row_says_so(repo_root, synthetic_mnist_dir):
    rows = table_rows(run_script(repo_root, synthetic_mnist_dir))
    assert len(rows) == 9
    assert ["784-64-10," in rows[0][0], "going_further.ipynb's recipe" in rows[1][0], "without batch norm" in rows[2][0],
            "dropout 0.2" in rows[7][0], "earlier recipe" in rows[8][0]] == [True] * 5
    # 784-512-256-10 at learning rate 0.4 without batch normalization diverges in its first epoch here, as on MNIST:
    # its row says so instead of stopping the table
    assert [len(cells) for cells in rows] == [11, 11, 2, 11, 11, 11, 11, 11, 11]
    assert rows[2][1].startswith("diverged: training diverged after epoch 1: ")
    weights = {"784-64-10": 784 * 64 + 64 + 64 * 10 + 10, "784-512-256-10": 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10,
               "784-674-10": 784 * 674 + 674 + 674 * 10 + 10}
    batch_norm = ["no", "yes", None, "no", "yes", "yes", "yes", "yes", "no"]
    for cells, normalized in zip(rows, batch_norm):
        if len(cells) == 11:
            assert cells[1] == f"{weights[cells[0].split(',')[0].split(':')[0]]:,}", cells
            assert cells[2] == normalized and cells[4] == "1"          # one epoch each, as asked
            assert cells[6] == cells[7]                                 # one seed: the mean is that seed's figure


@pytest.mark.timeout(300)
def test_rows_and_seeds_select_what_is_run(repo_root, synthetic_mnist_dir):
    result = run_script(repo_root, synthetic_mnist_dir, "--rows", "1", "--seeds", "0", "1")
    rows = table_rows(result)
    assert result.stdout.startswith("seeds [0, 1]")
    assert len(rows) == 1 and "784-64-10," in rows[0][0]
    assert len(rows[0][7].split(",")) == 2                           # one test accuracy per seed


@pytest.mark.timeout(300)
def test_the_going_further_row_is_trained_as_the_notebook_trains_it(nb, repo_root, synthetic_mnist_dir):
    expected = going_further_by_hand(nb, load_mnist(synthetic_mnist_dir), 7, notebook_parameters(GOING_FURTHER))
    cells = table_rows(run_script(repo_root, synthetic_mnist_dir, "--rows", "2", "--seeds", "7"))[0]
    assert (cells[7], cells[8]) == expected                         # per seed (one seed), best validation


@pytest.mark.timeout(300)
def test_the_dropout_row_changes_only_the_dropout(nb, repo_root, synthetic_mnist_dir):
    expected = going_further_by_hand(nb, load_mnist(synthetic_mnist_dir), 7, notebook_parameters(GOING_FURTHER),
                                     DEEP_DROPOUT=0.2)
    cells = table_rows(run_script(repo_root, synthetic_mnist_dir, "--rows", "8", "--seeds", "7"))[0]
    assert "dropout 0.2" in cells[0] and cells[3] == "0.2" and (cells[7], cells[8]) == expected
