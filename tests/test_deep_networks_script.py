"""benchmarks/deep_networks.py runs end to end on small synthetic MNIST (1 epoch per network).

Only that it works and what its table holds is checked, never how fast or how accurate anything is.
"""

import subprocess
import sys

import pytest


def run_script(repo_root, data_dir, *options):
    return subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "deep_networks.py"), "--data-dir", str(data_dir),
         "--epochs", "1", "--validation-size", "200", *options],
        cwd=repo_root, capture_output=True, text=True, timeout=240)


@pytest.mark.timeout(300)
def test_every_row_of_the_table_is_trained_and_printed(repo_root, synthetic_mnist_dir):
    result = run_script(repo_root, synthetic_mnist_dir)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 784-")]
    assert len(rows) == 5
    assert ["784-64-10," in rows[0], "784-512-256-10," in rows[3], "dropout 0.2" in rows[4]] == [True] * 3
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 9 and cells[2] == "1"                  # one epoch each, as asked
        assert cells[4].endswith("%") and 0 <= float(cells[4][:-1]) <= 100


@pytest.mark.timeout(300)
def test_rows_and_seeds_select_what_is_run(repo_root, synthetic_mnist_dir):
    result = run_script(repo_root, synthetic_mnist_dir, "--rows", "1", "--seeds", "0", "1")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 784-")]
    assert len(rows) == 1 and "784-64-10," in rows[0]
    per_seed = rows[0].split("|")[6].split(",")
    assert len(per_seed) == 2                                        # one test accuracy per seed
