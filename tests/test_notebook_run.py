"""Run the real notebook, top to bottom, in a real Jupyter kernel with papermill.

The fast run uses small synthetic data in the MNIST format and 2 epochs; the full run uses the
real MNIST files and the notebook's default parameters (about a minute) and checks the accuracy
the notebook promises.
"""

import re

import matplotlib.pyplot as plt
import numpy as np
import papermill
import pytest

from mnist_utils import load_mnist

NOTEBOOK_NAME = "neural_network_from_scratch.ipynb"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRADIENT_CHECK_LINE = re.compile(r"^d([Wb]\d): relative error (\S+)\s+(\S+)$", re.MULTILINE)
ARTIFACTS = ("mnist_model.npz", "mnist_deep_model.npz", "training_metrics.png")


def run_notebook(repo_root, output_path, **parameters):
    return papermill.execute_notebook(
        str(repo_root / NOTEBOOK_NAME), str(output_path), parameters=parameters,
        cwd=str(repo_root), kernel_name="python3", progress_bar=False,
    )


def printed_text(notebook):
    """Everything the code cells printed, in order."""
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.output_type == "stream")


def root_snapshot(repo_root):
    return {path.name: path.stat().st_mtime_ns for path in repo_root.iterdir() if path.name != "__pycache__"}


def assert_valid_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    height, width = plt.imread(path).shape[:2]  # decodes the whole image
    assert height > 100 and width > 100


# --- Fast run on synthetic data ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_run(repo_root, synthetic_mnist_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("fast_run")
    before = root_snapshot(repo_root)
    executed = run_notebook(repo_root, work / "executed.ipynb", DATA_DIR=str(synthetic_mnist_dir), EPOCHS=2,
                            DEEP_EPOCHS=2, VALIDATION_SIZE=200, OUT_DIR=str(work / "out"))
    return executed, work / "out", before, root_snapshot(repo_root)


@pytest.mark.timeout(300)
def test_fast_run_executes_every_code_cell_without_error(fast_run):
    executed = fast_run[0]
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert len(code_cells) >= 25
    assert [i for i, cell in enumerate(code_cells) if cell.execution_count is None] == []
    assert [i for i, cell in enumerate(code_cells) if cell.metadata.papermill.get("exception")] == []
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]


@pytest.mark.timeout(300)
def test_fast_run_reads_the_data_from_data_dir(fast_run):
    text = printed_text(fast_run[0])
    assert "train: (1200, 28, 28) uint8" in text and "test:  (300, 28, 28) uint8" in text
    assert "validation: (200, 784)" in text


@pytest.mark.timeout(300)
def test_fast_run_gradient_check_lines_are_all_ok(fast_run):
    lines = GRADIENT_CHECK_LINE.findall(printed_text(fast_run[0]))
    two_layers = ["W1", "b1", "W2", "b2"]                            # section 4
    four_layers = [f"{kind}{l}" for l in range(1, 5) for kind in "Wb"]  # section 12, with dropout
    assert [name for name, _, _ in lines] == two_layers + four_layers
    assert all(status == "ok" and float(error) < 1e-7 for _, error, status in lines), lines


@pytest.mark.timeout(300)
def test_fast_run_writes_exactly_the_model_and_the_figure_into_out_dir(fast_run):
    out_dir = fast_run[1]
    assert sorted(path.name for path in out_dir.iterdir()) == sorted(ARTIFACTS)


@pytest.mark.timeout(300)
def test_fast_run_saves_a_model_the_notebook_can_load(fast_run, nb):
    path = fast_run[1] / "mnist_model.npz"
    params = nb.load_params(path)
    assert {name: value.shape for name, value in params.items()} == \
        {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}
    with np.load(path, allow_pickle=False) as data:
        assert data["epochs"] == 2 and len(data["history_val_acc"]) == 2
        assert 0 <= data["test_accuracy"] <= 1


@pytest.mark.timeout(300)
def test_fast_run_saves_the_deep_network_with_its_layer_sizes(fast_run, nb):
    path = fast_run[1] / "mnist_deep_model.npz"
    params = nb.load_params(path)
    assert {name: value.shape for name, value in params.items()} == {
        "W1": (784, 512), "b1": (512,), "W2": (512, 256), "b2": (256,), "W3": (256, 10), "b3": (10,)}
    with np.load(path, allow_pickle=False) as data:
        assert list(data["layer_sizes"]) == [784, 512, 256, 10] and data["epochs"] == 2


@pytest.mark.timeout(300)
def test_fast_run_saves_the_training_metrics_as_a_png(fast_run):
    assert_valid_png(fast_run[1] / "training_metrics.png")


@pytest.mark.timeout(300)
def test_fast_run_writes_nothing_into_the_repo_root(fast_run):
    _, _, before, after = fast_run
    assert sorted(set(after) - set(before)) == []
    # Files the notebook would write there if OUT_DIR were ignored (others may edit other files meanwhile).
    assert [name for name in before if name.endswith((".npz", ".png")) and after.get(name) != before[name]] == []


@pytest.mark.timeout(300)
def test_fashion_run_uses_the_clothing_class_names_and_its_own_file_names(repo_root, synthetic_mnist_dir,
                                                                         tmp_path):
    executed = run_notebook(repo_root, tmp_path / "executed.ipynb", DATASET="fashion",
                            DATA_DIR=str(synthetic_mnist_dir), EPOCHS=1, DEEP_EPOCHS=1, VALIDATION_SIZE=200,
                            OUT_DIR=str(tmp_path / "out"))
    text = printed_text(executed)
    assert "dataset: fashion" in text and "Ankle boot" in text and "T-shirt/top" in text
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "fashion_deep_model.npz", "fashion_model.npz", "training_metrics_fashion.png"]


# --- Full run on the real MNIST files ------------------------------------------------------------


@pytest.fixture(scope="module")
def full_run(repo_root, real_mnist_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("full_run")
    executed = run_notebook(repo_root, work / "executed.ipynb", DATA_DIR=str(real_mnist_dir),
                            OUT_DIR=str(work / "out"))
    return executed, work / "out"


@pytest.mark.timeout(900)
def test_full_run_model_scores_at_least_98_5_percent_on_the_real_test_set(full_run, real_mnist_dir, nb):
    path = full_run[1] / "mnist_model.npz"
    _, (test_images, test_labels) = load_mnist(real_mnist_dir, download=False)
    test_accuracy = nb.accuracy(nb.predict(nb.preprocess(test_images), nb.load_params(path)), test_labels)
    assert test_accuracy >= 0.985
    with np.load(path, allow_pickle=False) as data:
        assert float(data["test_accuracy"]) == pytest.approx(test_accuracy, abs=1e-12)


@pytest.mark.timeout(900)
def test_full_run_deep_model_scores_at_least_99_2_percent_on_the_real_test_set(full_run, real_mnist_dir, nb):
    path = full_run[1] / "mnist_deep_model.npz"
    _, (test_images, test_labels) = load_mnist(real_mnist_dir, download=False)
    scores = nb.deep_forward(nb.preprocess(test_images), nb.load_params(path))[0]
    assert nb.accuracy(scores.argmax(axis=1), test_labels) >= 0.992


@pytest.mark.timeout(900)
def test_full_run_artifacts_are_valid(full_run, nb):
    out_dir = full_run[1]
    assert sorted(path.name for path in out_dir.iterdir()) == sorted(ARTIFACTS)
    assert_valid_png(out_dir / "training_metrics.png")
    with np.load(out_dir / "mnist_model.npz", allow_pickle=False) as data:
        assert not [key for key in data.files if data[key].dtype.hasobject]
        assert data["epochs"] == 100 and len(data["history_val_acc"]) == 100


@pytest.mark.timeout(900)
def test_full_run_reports_the_first_epoch_above_97_5_percent(full_run):
    text = printed_text(full_run[0])
    assert "never went above 97.5%" not in text
    assert re.search(r"validation accuracy first above 97\.5% at epoch \d+, after [\d.]+ s of training", text)
    assert all(line.endswith("ok") for line in re.findall(r"^d(?:W1|b1|W2|b2): relative error .*$", text, re.M))


# --- Full run on the real Fashion-MNIST files ----------------------------------------------------

# The settings the README gives for Fashion-MNIST (the defaults are tuned for digits); the deep
# network gets one epoch only, to keep this run short.
FASHION_SETTINGS = dict(DATASET="fashion", SHIFT=0, LEARNING_RATE=0.05, L2=5e-4, DEEP_EPOCHS=1)


@pytest.mark.timeout(900)
def test_full_fashion_run_with_the_readme_settings_scores_at_least_88_5_percent(repo_root, real_fashion_dir,
                                                                               tmp_path, nb):
    executed = run_notebook(repo_root, tmp_path / "executed.ipynb", DATA_DIR=str(real_fashion_dir),
                            OUT_DIR=str(tmp_path / "out"), **FASHION_SETTINGS)
    _, (test_images, test_labels) = load_mnist(real_fashion_dir, dataset="fashion", download=False)
    params = nb.load_params(tmp_path / "out" / "fashion_model.npz")
    test_accuracy = nb.accuracy(nb.predict(nb.preprocess(test_images), params), test_labels)
    assert test_accuracy >= 0.885   # 88.98 % measured with these settings (README)
    assert f"test accuracy: {test_accuracy:.2%}" in printed_text(executed)
