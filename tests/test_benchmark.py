"""benchmarks/benchmark.py runs end to end in its --quick configuration on small synthetic MNIST.

Only that it works and what it reports is checked, never how fast anything is.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys

import matplotlib.image
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADINGS = (
    "# Benchmark of the notebook's training (quick configuration)",
    "## 1. Floor: the five matrix products of a training step",
    "## 2. Notebook epoch vs floor",
    "## 3. Time to accuracy",
    "## 4. Peak memory of a whole notebook run",
    "## 5. How cost grows with the hidden size and the batch size",
    "## 6. PyTorch on the CPU, same recipe",
)
POSITIVE_NUMBERS = {
    "floor": ("seconds_per_epoch", "gflop_per_epoch", "gflops", "steps_per_epoch"),
    "epoch_vs_floor": ("median_epoch_seconds", "median_floor_seconds", "median_ratio", "gflop_per_epoch",
                       "breakdown_epoch_seconds", "median_fused_seconds", "median_fused_ratio"),
    "time_to_accuracy": ("epochs", "training_seconds", "seconds_per_epoch"),
}
SCALING_POSITIVE = ("hidden_size", "batch_size", "learning_rate", "seconds_per_epoch", "floor_seconds_per_epoch",
                    "ratio")
TORCH_POSITIVE = ("median_numpy_seconds", "median_torch_seconds", "median_ratio")


def is_positive_number(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def is_fraction(value):
    return isinstance(value, float) and 0 <= value <= 1


@pytest.fixture(scope="module")
def quick_run(synthetic_mnist_dir, repo_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmark")
    json_path, plot_path = folder / "benchmark.json", folder / "scaling.png"
    result = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "benchmark.py"), "--quick",
         "--data-dir", str(synthetic_mnist_dir), "--json", str(json_path), "--plot", str(plot_path)],
        cwd=repo_root, capture_output=True, text=True, timeout=120)
    return result, json_path, plot_path


@pytest.mark.timeout(150)
def test_quick_run_succeeds_and_prints_every_section(quick_run):
    result, _, _ = quick_run
    assert result.returncode == 0, result.stderr
    for heading in HEADINGS:
        assert heading in result.stdout.splitlines(), heading
    assert "median of per-round ratios epoch / floor" in result.stdout
    assert "median of per-round ratios fused / floor" in result.stdout
    assert "From the floor up: the fused step with its parts added one at a time" in result.stdout
    assert "| + element-wise forward and backward |" in result.stdout
    assert "Skipped (--quick)." in result.stdout   # the whole-notebook run is left out of --quick


@pytest.mark.timeout(150)
def test_quick_run_writes_positive_finite_numbers(quick_run):
    result, json_path, _ = quick_run
    assert result.returncode == 0, result.stderr
    results = json.loads(json_path.read_text(encoding="utf-8"))
    for section, keys in POSITIVE_NUMBERS.items():
        for key in keys:
            assert is_positive_number(results[section][key]), (section, key, results[section][key])
    assert all(is_positive_number(p["seconds_per_epoch"]) for p in results["floor"]["products"])
    breakdown = results["epoch_vs_floor"]["breakdown_seconds_per_epoch"]
    assert all(is_positive_number(s) for s in breakdown.values())
    assert sum(breakdown.values()) <= results["epoch_vs_floor"]["breakdown_epoch_seconds"]  # pieces of one epoch
    for key in ("partial_step_seconds", "partial_step_ratios"):   # every part of the step but the last
        parts = results["epoch_vs_floor"][key]
        assert list(parts) == ["a new batch each step", "element-wise forward and backward", "L2 and momentum update",
                               "weight averaging"], key
        assert all(is_positive_number(value) for value in parts.values()), key
    accuracy = results["time_to_accuracy"]
    assert is_fraction(accuracy["best_val_accuracy"]) and is_fraction(accuracy["test_accuracy"])
    assert [t["validation_accuracy"] for t in accuracy["targets"]] == [0.975, 0.98]
    assert "notebook_run" not in results

    points = results["scaling"]["points"]
    assert {(p["sweep"], p["hidden_size"], p["batch_size"]) for p in points} == {
        ("hidden size", 32, 128), ("hidden size", 64, 128), ("batch size", 64, 64), ("batch size", 64, 128)}
    for point in points:
        assert all(is_positive_number(point[key]) for key in SCALING_POSITIVE), point
        assert is_fraction(point["test_accuracy"])


@pytest.mark.timeout(150)
def test_quick_run_compares_with_pytorch_or_says_how_to(quick_run):
    result, json_path, _ = quick_run
    assert result.returncode == 0, result.stderr
    results = json.loads(json_path.read_text(encoding="utf-8"))
    if importlib.util.find_spec("torch") is None:
        assert "torch" not in results
        assert "pip install torch==2.13.0" in result.stdout
    else:
        assert all(is_positive_number(results["torch"][key]) for key in TORCH_POSITIVE)
        assert is_fraction(results["torch"]["median_torch_test_accuracy"])


@pytest.mark.timeout(60)
def test_without_pytorch_the_comparison_is_skipped_with_a_hint(synthetic_mnist_dir, repo_root, tmp_path):
    hidden = tmp_path / "no_torch" / "torch"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("torch hidden by the test")\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(hidden.parent), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "benchmark.py"), "--quick", "--sections", "torch",
         "--data-dir", str(synthetic_mnist_dir), "--json", str(tmp_path / "torch.json")],
        env=env, cwd=repo_root, capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr
    assert "## 6. PyTorch on the CPU, same recipe" in result.stdout
    assert "Skipped: PyTorch is not installed; to compare, `pip install torch==2.13.0`." in result.stdout
    assert "torch" not in json.loads((tmp_path / "torch.json").read_text(encoding="utf-8"))


@pytest.mark.timeout(150)
def test_quick_run_saves_a_two_panel_png(quick_run):
    result, _, plot_path = quick_run
    assert result.returncode == 0, result.stderr
    assert plot_path.read_bytes().startswith(PNG_SIGNATURE)
    height, width, _ = matplotlib.image.imread(plot_path).shape
    assert width > height > 100


def test_help_describes_the_options(repo_root):
    result = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "benchmark.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for option in ("--data-dir", "--json", "--plot", "--quick", "--no-notebook", "--scaling-epochs"):
        assert option in result.stdout
