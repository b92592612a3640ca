"""The speed scripts in benchmarks/: benchmark.py --quick end to end on small synthetic MNIST (what it
prints, never how fast anything is), its breakdown of `train` (each timed function called in the timed
epoch), and run_notebook.py's reading of the results the notebook saves (model files written by the
notebook's own save_params; no kernel)."""

import argparse
import importlib.util
import os
import re
import subprocess
import sys

import matplotlib.image
import nbformat
import numpy as np
import pytest

from conftest import GOING_FURTHER, LESSON, REPO_ROOT, assert_valid_png
from mnist_utils import load_mnist
from model_files import save_params

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import benchmark  # noqa: E402
import run_notebook  # noqa: E402

HEADINGS = ("# Benchmark of the notebook's training (quick configuration)",
            "## Floor: the five matrix products of a training step", "## Notebook epoch vs floor",
            "## Time to accuracy", "## How cost grows with the hidden size and the batch size",
            "## PyTorch on the CPU, same recipe")
TORCH_INSTALLED = importlib.util.find_spec("torch") is not None
HISTORY = {"epoch": [1.0, 2.0, 3.0], "train_loss": [0.3, 0.2, 0.1], "train_acc": [0.96, 0.98, 0.99],
           "val_loss": [0.3, 0.2, 0.1], "val_acc": [0.97, 0.976, 0.98], "seconds": [0.5, 1.0, 1.5]}


def run_benchmark(data_dir, *options, env=None):
    return subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "benchmark.py"), "--data-dir",
                           str(data_dir), *options], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def quick_run(synthetic_mnist_dir, tmp_path_factory):
    plot_path = tmp_path_factory.mktemp("benchmark") / "scaling.png"
    return run_benchmark(synthetic_mnist_dir, "--quick", "--plot", str(plot_path)), plot_path


def save_like_the_notebook(path, layer_sizes, test_accuracy, history=HISTORY):
    """A model file as the notebooks write it (model_files.save_params): weights, settings, the history."""
    rng = np.random.default_rng(0)
    params = {name: rng.standard_normal(shape) for l, (n_in, n_out) in enumerate(zip(layer_sizes, layer_sizes[1:]), 1)
              for name, shape in ((f"W{l}", (n_in, n_out)), (f"b{l}", (n_out,)))}
    save_params(path, params, seed=0, dataset="mnist", test_accuracy=test_accuracy, epochs=len(history["epoch"]),
                **{f"history_{key}": values for key, values in history.items()})


@pytest.mark.timeout(150)
def test_quick_run_succeeds_and_prints_every_section(quick_run):
    result, _ = quick_run
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [heading for heading in HEADINGS if heading not in lines] == []
    assert re.search(r"fastest of 3 passes: \*\*\d+\.\d ms\*\* per epoch, \d+\.\d\d GFLOP", result.stdout)
    assert re.search(r"median of the per-round ratios epoch / floor \*\*\d+\.\d\d\*\*", result.stdout)


@pytest.mark.timeout(150)
def test_quick_run_breaks_the_epoch_down_by_the_functions_train_calls(quick_run):
    result, _ = quick_run
    rows = dict(re.findall(r"^\| (`\w+`|the rest[^|]*|\*\*the epoch\*\*) \| \**([-\d.]+)\** \|", result.stdout, re.M))
    assert [name for name in rows if name.startswith("`")] == [f"`{name}`" for name in benchmark.STEP_PIECES]
    assert all(float(ms) >= 0 for ms in rows.values()), rows         # the rest too: the pieces fit in the epoch
    assert float(rows["**the epoch**"]) > 0


@pytest.mark.timeout(150)
def test_quick_run_reports_time_to_accuracy_for_both_targets(quick_run):
    result, _ = quick_run
    for target in ("97.5%", "98.0%"):
        assert re.search(rf"^- validation accuracy first above {re.escape(target)}: (not reached|after [\d.]+ s "
                         r"\(epoch \d+\))$", result.stdout, re.M), target
    assert re.search(r"^- best validation accuracy [\d.]+% \(epoch \d\); test accuracy of its weights [\d.]+%$",
                     result.stdout, re.M)


@pytest.mark.timeout(150)
def test_quick_run_measures_every_scaling_point_and_draws_two_panels(quick_run):
    result, plot_path = quick_run
    rows = re.findall(r"^\| (hidden size|batch size) \| (\d+) \| (\d+) \| [\d.]+ \| ([\d.]+) \| ([\d.]+) "
                      r"\| ([\d.]+) \| ([\d.]+)% \|$", result.stdout, re.M)
    assert {row[:3] for row in rows} == {("hidden size", "32", "128"), ("hidden size", "64", "128"),
                                         ("batch size", "64", "64"), ("batch size", "64", "128")}
    assert_valid_png(plot_path)
    height, width, _ = matplotlib.image.imread(plot_path).shape
    assert width > height                                       # two panels side by side


@pytest.mark.timeout(150)
@pytest.mark.skipif(not TORCH_INSTALLED, reason="PyTorch is not installed, so there is no comparison to check "
                                                "(the hint printed instead is checked by the next tests)")
def test_with_pytorch_the_quick_run_compares_both_timings(quick_run):
    result, _ = quick_run
    assert re.search(r"^\| notebook \(NumPy\) \| [\d.]+ \| [\d.]+% \|$", result.stdout, re.M)
    assert re.search(r"^\| PyTorch \| [\d.]+ \| [\d.]+% \|$", result.stdout, re.M)
    assert re.search(r"median of per-round ratios PyTorch / NumPy\*\* \| \*\*\d+\.\d\d\*\*", result.stdout)


@pytest.mark.timeout(150)
@pytest.mark.skipif(TORCH_INSTALLED, reason="PyTorch is installed, so the quick run compares instead of printing "
                                            "the hint (the test with PyTorch hidden checks the hint)")
def test_without_pytorch_the_quick_run_prints_how_to_install_it(quick_run):
    result, _ = quick_run
    assert result.returncode == 0, result.stderr
    assert "Skipped: PyTorch is not installed; to compare, `pip install torch==2.13.0`." in result.stdout
    assert "| PyTorch |" not in result.stdout


@pytest.mark.timeout(60)
def test_with_pytorch_hidden_the_comparison_is_skipped_with_a_hint(synthetic_mnist_dir, tmp_path):
    hidden = tmp_path / "torch"
    hidden.mkdir()
    (hidden / "__init__.py").write_text('raise ImportError("torch hidden by the test")\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    result = run_benchmark(synthetic_mnist_dir, "--quick", "--sections", "torch", env=env)
    assert result.returncode == 0, result.stderr
    assert "Skipped: PyTorch is not installed; to compare, `pip install torch==2.13.0`." in result.stdout


def test_the_breakdown_leaves_the_functions_of_the_timed_epoch_alone(nb, synthetic_mnist_dir, capsys):
    """The breakdown wraps the functions `train` calls in timers: in a copy of the notebook's functions, so
    that the epoch it is compared with, timed with `nb`, runs without them."""
    settings = dict(benchmark.notebook_parameters(), VALIDATION_SIZE=200)
    before = {name: getattr(nb, name) for name in benchmark.STEP_PIECES}
    benchmark.epoch_section(nb, load_mnist(synthetic_mnist_dir, download=False), settings,
                            argparse.Namespace(**benchmark.QUICK))
    assert "Where an epoch goes" in capsys.readouterr().out
    assert {name: getattr(nb, name) for name in benchmark.STEP_PIECES} == before


def test_run_notebook_reads_the_figures_from_the_files_the_notebooks_save(tmp_path):
    save_like_the_notebook(tmp_path / "mnist_model.npz", [784, 4, 10], test_accuracy=0.9812)
    save_like_the_notebook(tmp_path / "mnist_deep_model.npz", [784, 6, 5, 10], test_accuracy=0.9931,
                           history=dict(HISTORY, seconds=[2.0, 4.0, 6.0]))
    assert run_notebook.read_results(tmp_path, LESSON, {"DATASET": "mnist"}) == pytest.approx({
        "test accuracy (%)": 98.12, "seconds per epoch": 0.5, "first epoch above 97.5%": 2.0,
        "training seconds to 97.5%": 1.0})
    assert run_notebook.read_results(tmp_path, GOING_FURTHER, {"DATASET": "mnist", "DEEP_EPOCHS": 3}) == pytest.approx({
        "deep network: test accuracy (%)": 99.31, "deep network: training seconds": 6.0})


def test_run_notebook_fails_loudly_without_the_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_model.npz is missing"):
        run_notebook.read_results(tmp_path, LESSON, {"DATASET": "mnist"})
    save_like_the_notebook(tmp_path / "fashion_model.npz", [784, 4, 10], test_accuracy=0.88)
    with pytest.raises(FileNotFoundError, match="mnist_model.npz is missing"):   # another data set's file
        run_notebook.read_results(tmp_path, LESSON, {"DATASET": "mnist"})


def test_run_notebook_fails_loudly_without_the_deep_model_file_only_if_deep_epochs_is_positive(tmp_path):
    assert run_notebook.read_results(tmp_path, GOING_FURTHER, {"DATASET": "mnist", "DEEP_EPOCHS": 0}) == {}
    with pytest.raises(FileNotFoundError, match="mnist_deep_model.npz is missing"):
        run_notebook.read_results(tmp_path, GOING_FURTHER, {"DATASET": "mnist", "DEEP_EPOCHS": 45})


def test_run_notebook_fails_loudly_when_a_saved_value_is_missing(tmp_path):
    save_params(tmp_path / "mnist_model.npz", {"W1": np.ones((784, 4)), "b1": np.ones(4), "W2": np.ones((4, 10)),
                                               "b2": np.ones(10)},
                test_accuracy=0.98, history_epoch=[1.0], history_val_acc=[0.98])   # no history_seconds
    with pytest.raises(ValueError, match="holds no history_seconds"):
        run_notebook.read_results(tmp_path, LESSON, {"DATASET": "mnist"})


@pytest.mark.timeout(120)
def test_run_notebook_runs_a_notebook_with_the_parameters_and_reads_what_it_saves(tmp_path):
    save = ("import numpy as np\nnp.savez(f'{OUT_DIR}/{DATASET}_model.npz', test_accuracy=ACCURACY, history_epoch=[1.0], "
            "history_val_acc=[0.99], history_seconds=[2.0])")
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                 "display_name": "Python 3"}}, cells=[
        nbformat.v4.new_code_cell('OUT_DIR = "."\nDATASET = "mnist"\nACCURACY = 0.5', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(save)])
    nbformat.write(notebook, tmp_path / "tiny.ipynb")                       # a kernel, not the whole lesson
    figures = run_notebook.run_once(tmp_path / "tiny.ipynb", None, {"ACCURACY": 0.75})
    assert figures["test accuracy (%)"] == pytest.approx(75) and figures["training seconds to 97.5%"] == 2.0
    assert figures["wall time (s)"] > 0 and figures["kernel peak RSS (MiB)"] > 10   # a Python kernel's memory


def test_run_notebook_rejects_a_parameter_the_notebook_does_not_have():
    result = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "run_notebook.py"), "-p", "DEMO_EPOCH",
                             "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "the notebook's parameters are" in result.stderr and "DEMO_EPOCHS" in result.stderr
