"""Both notebooks run top to bottom in a real Jupyter kernel.

Each notebook is executed once, cell by cell, on the small synthetic data (conftest's `lesson_fast_run` and
`going_further_fast_run`: every cell runs, the settings are checked before anything slow, files go only
into OUT_DIR, and re-running the lesson's training cell changes nothing), and once on the real MNIST files
where they exist, by the README's run command (conftest's `readme_real_run`: the accuracy the lesson
promises). Each fast run begins, in the same kernel, with a Run All with a bad setting, which the settings
check stops in the first code cell; the rules themselves are tests/test_settings_rules.py's.
"""

import re

import numpy as np
import pytest

from conftest import (GOING_FURTHER_BAD_SETTING, LESSON_BAD_SETTING, LESSON_FAST, assert_valid_png, model_arrays,
                      plain_predictions, printed)
from mnist_utils import load_mnist
from model_files import load_params

# One row per tensor, its name padded to 3 characters: "dW1 : relative error 2.9e-08  ok".
GRADIENT_CHECK_LINE = re.compile(r"^d(.+?) *: relative error (\S+)  (ok|look closer|BROKEN)$", re.MULTILINE)
TWO_LAYER_ROWS = ["Z2", "W2", "b2", "A1", "Z1", "W1", "b1"]                # the lesson's section 3, backward's order
LAYER_ROWS = ["X of Linear(5, 4)", "W of Linear(5, 4)", "b of Linear(5, 4)", "X of ReLU()", "X of Dropout(0.5)",
              *[f"{name} of BatchNorm(3), training" for name in ("X", "gamma", "beta")]]   # going_further, layer by layer
NETWORK_ROWS = ["W1", "b1", "gamma1", "beta1", "W2", "b2"]                 # its whole network, right then broken
TIMES = re.compile(r"\d+(\.\d+)? s\b|\d\d:\d\d|[\d.]+(it/s|s/it)")            # "0.3 s", "00:01", "203.1it/s": times


def assert_ran_every_code_cell(run):
    assert run.error is None, str(run.error)[-3000:]
    assert [i for i, cell in enumerate(run.code_cells()) if cell.execution_count is None] == []
    assert [output for cell in run.code_cells() for output in cell.outputs if output.output_type == "error"] == []


def assert_every_setting_checked(run):
    """The notebook's `settings`, which its first code cell checks, hold every parameter (by its lower-case name)."""
    assert {name.lower() for name in run.probes["parameters"]} - set(run.probes["settings checked"]) == set()


def assert_stopped_by_the_settings_check(run, bad_setting):
    """The Run All with a bad setting, which `execute` ran first in the run's kernel, stopped in the first code cell
    after the parameters (the imports and the settings check: before the data are loaded) naming the setting,
    and wrote nothing."""
    [(name, value)] = bad_setting.items()
    stopped = run.probes["bad setting"]
    assert stopped["error"].startswith(f"ValueError: {name} = {value!r} is not allowed")
    assert stopped["cells_run"] == 3                 # the parameters, the injected parameters, the settings check
    assert not stopped["out_dir_exists"]


def assert_only_out_dir_written(run):
    """No file of the repository is new, and none the notebook could write (.npz, .png) has changed."""
    assert sorted(set(run.after) - set(run.before)) == []
    changed = [name for name in run.before if name.endswith((".npz", ".png")) and run.after.get(name) != run.before[name]]
    assert changed == []


# --- The lesson on synthetic data -----------------------------------------------------------------------


def test_lesson_fast_run_executes_every_code_cell_without_error(lesson_fast_run):
    assert_ran_every_code_cell(lesson_fast_run)


def test_lesson_fast_run_reads_the_data_from_data_dir(lesson_fast_run):
    text = lesson_fast_run.text()
    assert "train: (1200, 28, 28) uint8 test: (300, 28, 28) uint8" in text
    assert "validation: (200, 784)" in text


def test_lesson_checks_every_setting_and_says_so(lesson_fast_run):
    assert_every_setting_checked(lesson_fast_run)
    checked = len(lesson_fast_run.probes["settings checked"])
    assert re.search(rf"; all {checked} settings are valid$", lesson_fast_run.text(), re.MULTILINE)


def test_lesson_gradient_check_prints_one_ok_row_per_tensor_in_backward_order(lesson_fast_run):
    rows = GRADIENT_CHECK_LINE.findall(lesson_fast_run.text())
    assert [name for name, _, _ in rows] == TWO_LAYER_ROWS
    assert all(verdict == "ok" and float(error) < 1e-7 for _, error, verdict in rows), rows


def test_lesson_shows_the_divergence_check_at_work(lesson_fast_run):
    steps = (1200 - LESSON_FAST["VALIDATION_SIZE"]) // 128
    assert re.search(rf"^TrainingDiverged: training diverged in epoch 1, step \d+ of {steps}:", lesson_fast_run.text(),
                     re.MULTILINE)


def test_demo_epochs_sets_the_length_of_every_short_run(lesson_fast_run):
    text = lesson_fast_run.text()
    assert text.count("(after epoch 1)") == 6                            # the six rows of the ingredient ladder
    assert re.search(r"^linear classifier: best validation accuracy [\d.]+% in 2 epochs", text, re.MULTILINE)
    runs = text.split("validation accuracy after each of 1 epochs:\n")[1].splitlines()[:4]
    assert [line.split(":")[0].strip() for line in runs] == ["none", "sigmoid", "tanh", "ReLU"]
    assert all(line.count("%") == 1 for line in runs), runs


def test_lesson_writes_exactly_the_model_and_the_figure_into_out_dir(lesson_fast_run):
    assert sorted(path.name for path in lesson_fast_run.out_dir.iterdir()) == ["mnist_model.npz", "training_metrics.png"]
    assert_valid_png(lesson_fast_run.out_dir / "training_metrics.png")


def test_lesson_saves_a_model_that_loads_and_holds_its_run(lesson_fast_run, synthetic_mnist_dir):
    path = lesson_fast_run.out_dir / "mnist_model.npz"
    assert {name: value.shape for name, value in load_params(path).items()} == \
        {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}
    data = model_arrays(path)                                            # every array, without pickle
    assert data["epochs"] == 2 and len(data["history_val_acc"]) == 2
    _, (test_images, test_labels) = load_mnist(synthetic_mnist_dir, download=False)
    accuracy = np.mean(plain_predictions(data, test_images.reshape(len(test_images), -1) / 255) == test_labels)
    assert float(data["test_accuracy"]) == pytest.approx(accuracy, abs=1e-6)   # what it saved is what it measured
    assert f"test accuracy: {accuracy:.2%}" in lesson_fast_run.text()


def test_lesson_shows_both_refusals_of_a_model_file(lesson_fast_run):
    text = lesson_fast_run.text()
    assert re.search(r"^ValueError: .*wrong_shape_example\.npz: W2 has shape \(64, 5\)", text, re.MULTILINE)
    assert re.search(r"^ValueError: W2 holds [\d,]+ numbers that are nan or inf", text, re.MULTILINE)
    assert "diverged_example.npz exists: False" in text


def test_lesson_writes_nothing_into_the_repository(lesson_fast_run):
    assert_only_out_dir_written(lesson_fast_run)


def test_running_the_training_cell_twice_changes_nothing(lesson_fast_run):
    first, second = (lesson_fast_run.probes[f"state after the {n} run"] for n in ("first", "second"))
    assert sorted(second) == sorted(first) and "params" in first
    assert [name for name in first if second[name] != first[name]] == []   # every variable, the training times aside
    again = printed(lesson_fast_run.cell("params, history = train("))
    assert TIMES.sub("", again) == TIMES.sub("", lesson_fast_run.probes["first output"])


# --- A bad setting stops the lesson at once ---------------------------------------------------------------


def test_a_bad_setting_stops_the_lesson_in_its_first_code_cell_and_writes_nothing(lesson_fast_run):
    assert_stopped_by_the_settings_check(lesson_fast_run, LESSON_BAD_SETTING)


# --- going_further.ipynb on synthetic data -------------------------------------------------------------------


def test_going_further_fast_run_executes_every_code_cell_without_error(going_further_fast_run):
    assert_ran_every_code_cell(going_further_fast_run)


def test_going_further_checks_every_setting(going_further_fast_run):
    assert_every_setting_checked(going_further_fast_run)


def test_a_bad_setting_stops_going_further_in_its_first_code_cell_and_writes_nothing(going_further_fast_run):
    assert_stopped_by_the_settings_check(going_further_fast_run, GOING_FURTHER_BAD_SETTING)


def test_going_further_gradient_checks_pass_for_every_layer_and_catch_the_broken_batch_norm(going_further_fast_run):
    rows = GRADIENT_CHECK_LINE.findall(going_further_fast_run.text())
    assert [name for name, _, _ in rows] == LAYER_ROWS + NETWORK_ROWS * 2
    b1_before_batch_norm = len(LAYER_ROWS) + 1            # its gradient is 0: the error is rounding noise
    checked = [row for i, row in enumerate(rows[:-len(NETWORK_ROWS)]) if i != b1_before_batch_norm]
    assert all(verdict == "ok" and float(error) < 1e-7 for _, error, verdict in checked), rows
    assert rows[-len(NETWORK_ROWS)][2] == "BROKEN"       # dW1 with the batch-norm backward missing its σ² term


def test_going_further_saves_the_deep_network_folded_into_plain_arrays(going_further_fast_run, synthetic_mnist_dir):
    out_dir, text = going_further_fast_run.out_dir, going_further_fast_run.text()
    assert sorted(path.name for path in out_dir.iterdir()) == ["mnist_deep_model.npz"]
    arrays = model_arrays(out_dir / "mnist_deep_model.npz")
    assert list(arrays["layer_sizes"]) == [784, 512, 256, 10] and arrays["epochs"] == 1
    assert {name: value.shape for name, value in load_params(out_dir / "mnist_deep_model.npz").items()} == {
        "W1": (784, 512), "b1": (512,), "W2": (512, 256), "b2": (256,), "W3": (256, 10), "b3": (10,)}
    _, (test_images, test_labels) = load_mnist(synthetic_mnist_dir, download=False)
    accuracy = np.mean(plain_predictions(arrays, test_images.reshape(len(test_images), -1) / 255) == test_labels)
    assert float(arrays["test_accuracy"]) == pytest.approx(accuracy, abs=1e-6)   # what it saved is what it measured
    assert "predictions that differ: 0" in text
    loaded, network = re.search(r"plain_forward: test accuracy (\S+)% \(the network: (\S+)%\)", text).groups()
    assert loaded == network


def test_going_further_writes_nothing_into_the_repository(going_further_fast_run):
    assert_only_out_dir_written(going_further_fast_run)


# --- On the real MNIST files, by the README's command ------------------------------------------------------


@pytest.mark.timeout(900)
def test_lesson_real_run_scores_at_least_98_5_percent_on_the_real_test_set(readme_real_run, real_mnist_dir, nb):
    run = readme_real_run.lesson
    assert_ran_every_code_cell(run)
    path = run.out_dir / "mnist_model.npz"
    _, (test_images, test_labels) = load_mnist(real_mnist_dir, download=False)
    test_accuracy = nb.accuracy(nb.predict(nb.preprocess(test_images), load_params(path)), test_labels)
    assert test_accuracy >= 0.985
    data = model_arrays(path)
    assert float(data["test_accuracy"]) == pytest.approx(test_accuracy, abs=1e-12)
    assert data["epochs"] == 100 and len(data["history_val_acc"]) == 100
    assert f"test accuracy: {test_accuracy:.2%}" in run.text()


@pytest.mark.timeout(900)
def test_lesson_real_run_reports_the_first_epoch_above_97_5_percent(readme_real_run):
    text = readme_real_run.lesson.text()
    assert re.search(r"validation accuracy first above 97\.5% at epoch \d+, after [\d.]+ s of training", text)
    assert [name for name, _, verdict in GRADIENT_CHECK_LINE.findall(text) if verdict == "ok"] == TWO_LAYER_ROWS


@pytest.mark.timeout(900)
def test_going_further_real_run_executes_every_code_cell_and_folds_a_network_exactly(readme_real_run):
    run = readme_real_run.going_further
    assert_ran_every_code_cell(run)
    text = run.text()
    assert "training: (50000, 28, 28) uint8; validation: (10000, 784) float32" in text
    assert "DEEP_EPOCHS = 0: no deep model is saved in this run" in text and "predictions that differ: 0" in text
    assert not (run.out_dir / "mnist_deep_model.npz").exists()
