"""The command line as a user runs it: `python -m mnist_utils ...` in a subprocess.

Tests that need files matching the pins use the real MNIST files (the `real_mnist_dir` fixture:
$MNIST_DATA_DIR or shared/data/mnist) and are skipped where neither holds them.
"""

import gzip
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from idx_fixtures import GZ_NAMES, mnist_like_gz

pytestmark = pytest.mark.timeout(60)


def run_cli(*args):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MNIST_MIRROR", "MNIST_DATA_DIR")}
    return subprocess.run([sys.executable, "-m", "mnist_utils", *args], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def line_about(output, file_name):
    [line] = [line for line in output.splitlines() if f" {file_name} " in line]
    return line


@pytest.mark.parametrize("args", [["fetch"], [], ["verify", "--dataset", "kmnist"]],
                         ids=["unknown-command", "no-command", "bad-option"])
def test_usage_error_exits_2(args):
    result = run_cli(*args)

    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_info_exits_0_and_shows_mirrors_and_pins():
    result = run_cli("info")

    assert result.returncode == 0
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in result.stdout
    assert "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db" in result.stdout
    assert "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888" in result.stdout  # Fashion


def test_verify_on_the_real_files_exits_0(real_mnist_dir):
    result = run_cli("verify", "--data-dir", str(real_mnist_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line_about(result.stdout, name).lstrip().startswith("OK") for name in GZ_NAMES)


def test_verify_names_a_corrupted_file_and_exits_1(real_mnist_dir, tmp_path):
    for name in GZ_NAMES:
        shutil.copyfile(real_mnist_dir / name, tmp_path / name)
    labels = bytearray(gzip.decompress((real_mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # one wrong label, still a valid file
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))

    result = run_cli("verify", "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert line_about(result.stdout, "t10k-labels-idx1-ubyte.gz").lstrip().startswith("MISMATCH")
    assert line_about(result.stdout, "t10k-images-idx3-ubyte.gz").lstrip().startswith("OK")


def test_verify_names_a_damaged_gzip_file_and_exits_1(tmp_path):
    for name, data in mnist_like_gz().items():
        cut_off = name.startswith("train-labels")
        (tmp_path / name).write_bytes(data[: len(data) // 2] if cut_off else data)

    result = run_cli("verify", "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert line_about(result.stdout, "train-labels-idx1-ubyte.gz").lstrip().startswith("DAMAGED")


def test_verify_on_an_empty_folder_exits_1_and_names_the_missing_files(tmp_path):
    result = run_cli("verify", "--data-dir", str(tmp_path))

    assert result.returncode == 1
    for name in GZ_NAMES:
        assert line_about(result.stdout, name.removesuffix(".gz")).lstrip().startswith("MISSING")


def test_download_from_a_local_mirror_exits_0(real_mnist_dir, tmp_path, httpserver):
    # These .gz files were re-compressed: the pins of the decompressed bytes accept them.
    for name in GZ_NAMES:
        data = (real_mnist_dir / name).read_bytes()
        httpserver.expect_request("/mnist/" + name).respond_with_data(data)
    mirror = httpserver.url_for("/mnist/")

    result = run_cli("download", "--mirror", mirror, "--data-dir", str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(GZ_NAMES)


def test_download_from_a_failing_mirror_exits_1_and_says_what_to_do(tmp_path, httpserver):
    gone = httpserver.url_for("/gone/")
    httpserver.expect_request("/gone/train-images-idx3-ubyte.gz").respond_with_data("", status=404)

    result = run_cli("download", "--mirror", gone, "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert f"{gone}train-images-idx3-ubyte.gz: HTTP 404" in result.stderr
    assert "python -m mnist_utils verify" in result.stderr
    assert list(tmp_path.iterdir()) == []
