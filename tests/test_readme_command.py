"""The README's command that runs both notebooks, executed as a learner would: in a fresh git clone, in a
real shell, with the notebooks' default settings (the line is run as the README gives it).

What is executed is the README's line with its set-up steps left out: the segments of its `&&`
chain that create the virtual environment or install into it are dropped, and `.venv/bin/` is
replaced by the folder of the Python running these tests, whose environment already has
requirements.txt installed (and creating one here would need the package index). With data, the
data are synthetic digits in the MNIST format, as many training images as the default settings need
(VALIDATION_SIZE = 10,000 of them held out, 1,200 left to train on), so that both notebooks run with
their defaults in about a minute. The clone is
made of the repository as it is on disk (its tracked and untracked files, less the ignored ones,
committed in the clone), so the test checks what the next commit holds; in CI the two are the same.
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_digits
from idx_fixtures import write_idx

README_LINE_MARK = "papermill neural_network_from_scratch.ipynb runs/"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
TRAINING_IMAGES = 10_000 + 1_200     # the default VALIDATION_SIZE, and 1,200 to train on
TEST_NOISE = 200                     # pixel noise of the test images (the training images': 40)


def readme_command(repo_root):
    """The README's run command without its venv and pip steps, with this Python's bin folder for .venv/bin/."""
    lines = [line for line in (repo_root / "README.md").read_text(encoding="utf-8").splitlines()
             if README_LINE_MARK in line]
    assert lines, f"README.md has no line with `{README_LINE_MARK}`: the command to run the notebook"
    steps = [step.strip() for step in lines[0].strip().strip("`").removeprefix("$ ").split("&&")]
    kept = [step for step in steps if "-m venv" not in step and "pip install" not in step]
    assert any("papermill" in step for step in kept), lines[0]
    return " && ".join(kept).replace(".venv/bin/", f"{Path(sys.executable).parent}/")


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@invalid",
                           *args], check=True, capture_output=True, text=True).stdout


def clone_as_on_disk(repo_root, destination):
    """A git clone of the repository holding its files as they are on disk now, committed."""
    subprocess.run(["git", "clone", "--quiet", str(repo_root), str(destination)], check=True)
    listed = git(repo_root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source, target = repo_root / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.is_file():
            target.unlink()                           # deleted on disk, not yet in a commit
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--allow-empty", "--message", "as on disk")
    assert git(destination, "status", "--porcelain") == ""
    return destination


def closed_port():
    with socket.socket() as listener:                # bound, then closed: nothing listens there now
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def offline_environment(**changes):
    """This environment with every proxy and the MNIST mirror on closed ports of 127.0.0.1, and no data folder."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MNIST_DATA_DIR", "NO_PROXY", "no_proxy")}
    environment.update({key: "http://127.0.0.1:9" for key in PROXY_VARIABLES})
    environment["MNIST_MIRROR"] = f"http://127.0.0.1:{closed_port()}/"
    return dict(environment, **changes)


def run_in_shell(command, folder, environment):
    return subprocess.run(command, shell=True, cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=280)


@pytest.mark.timeout(300)
def test_readme_command_without_data_or_network_fails_with_the_download_error_and_leaves_the_clone_clean(
        repo_root, tmp_path):
    command = readme_command(repo_root)
    clone = clone_as_on_disk(repo_root, tmp_path / "clone")
    result = run_in_shell(command, clone, offline_environment())
    assert result.returncode != 0, result.stdout[-3000:]
    assert "DownloadError" in result.stdout + result.stderr, (result.stdout + result.stderr)[-3000:]
    assert "Could not download train-images-idx3-ubyte.gz from any mirror" in result.stdout + result.stderr
    assert git(clone, "status", "--porcelain") == ""


@pytest.fixture(scope="module")
def data_for_the_defaults(tmp_path_factory):
    """The four MNIST files holding TRAINING_IMAGES training and 300 test images of the synthetic digits, the test
    images noisier, so that the network makes mistakes there to show (its section 6 shows the worst)."""
    folder = tmp_path_factory.mktemp("synthetic_mnist_for_the_defaults")
    rng = np.random.default_rng(0)
    for prefix, count in (("train", TRAINING_IMAGES), ("t10k", 300)):
        images, labels = synthetic_digits(count, rng, max_shift=2, noise=40 if prefix == "train" else TEST_NOISE)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.mark.timeout(300)
def test_readme_command_with_the_data_in_mnist_data_dir_runs_both_notebooks_and_leaves_the_clone_clean(
        repo_root, data_for_the_defaults, tmp_path):
    command = readme_command(repo_root)
    clone = clone_as_on_disk(repo_root, tmp_path / "clone")
    result = run_in_shell(command, clone, offline_environment(MNIST_DATA_DIR=str(data_for_the_defaults)))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert sorted(path.name for path in (clone / "runs").iterdir()) == [
        "going_further.ipynb", "mnist_deep_model.npz", "mnist_model.npz", "neural_network_from_scratch.ipynb",
        "training_metrics.png"]
    assert git(clone, "status", "--porcelain") == ""
