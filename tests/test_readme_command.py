"""The README's command that runs both notebooks, executed as a learner would (tests/fresh_clone.py): in a
fresh git clone, in a real shell, offline. Without the data it must stop at its download step, before any
notebook starts, with the download error, and leave the clone as it was; with the real files named by
MNIST_DATA_DIR it runs both notebooks (conftest's `readme_real_run`, whose notebooks test_notebook_run.py
checks) and writes only into runs/.
"""

import pytest

from fresh_clone import clone_as_on_disk, git, offline_environment, readme_command, run_in_shell


@pytest.mark.timeout(120)
def test_readme_command_without_data_or_network_stops_at_the_download_with_what_to_do_and_leaves_the_clone_clean(
        repo_root, tmp_path):
    clone = clone_as_on_disk(repo_root, tmp_path / "clone")
    result = run_in_shell(readme_command(repo_root), clone, offline_environment(), timeout=100)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "error: Could not download train-images-idx3-ubyte.gz from any mirror:" in result.stderr, result.stderr
    assert "set MNIST_MIRROR to the base URL of a mirror you can reach" in result.stderr
    assert not (clone / "runs").exists()                      # no notebook was started
    assert git(clone, "status", "--porcelain") == ""


@pytest.mark.timeout(900)
def test_readme_command_with_the_data_in_mnist_data_dir_runs_both_notebooks_and_leaves_the_clone_clean(
        readme_real_run):
    result = readme_real_run.result
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert sorted(path.name for path in readme_real_run.out_dir.iterdir()) == [   # no deep model: GOING_FURTHER_REAL
        "going_further.ipynb", "mnist_model.npz", "neural_network_from_scratch.ipynb", "training_metrics.png"]
    assert git(readme_real_run.clone, "status", "--porcelain") == ""
