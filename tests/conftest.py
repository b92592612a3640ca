"""Fixtures shared by the tests of the notebook: the repository, the real MNIST files and
small synthetic data sets in the MNIST format."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
# Fashion-MNIST: beside MNIST if someone put it there, else where Debian's package dataset-fashion-mnist
# installs it (.ci/run installs that package when it can).
REAL_FASHION_DIRS = (REPO_ROOT.parent / "shared" / "data" / "fashion", Path("/usr/share/datasets/fashion-mnist"))

if str(REPO_ROOT) not in sys.path:  # notebook_functions and mnist_utils live at the repo root
    sys.path.insert(0, str(REPO_ROOT))

from notebook_functions import load_notebook_functions  # noqa: E402
from idx_fixtures import GZ_NAMES, write_idx  # noqa: E402


def synthetic_digits(count, rng, max_shift=0, noise=40):
    """`count` uint8 images (count, 28, 28) of 10 classes, each a noisy copy of its own blocky
    prototype (a fixed random 4x4 grid of 7x7 blocks), shifted by up to `max_shift` pixels;
    labels 0-9 (uint8), every class present."""
    grids = np.random.default_rng(1234).random((10, 4, 4)) < 0.5
    prototypes = np.kron(grids, np.ones((7, 7))) * 255.0
    labels = rng.permutation(np.arange(count) % 10).astype(np.uint8)
    images = prototypes[labels] + rng.normal(0, noise, size=(count, 28, 28))
    for i, (dy, dx) in enumerate(rng.integers(-max_shift, max_shift + 1, size=(count, 2))):
        images[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
    return np.clip(images, 0, 255).astype(np.uint8), labels


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="module")
def nb():
    """The notebook's own functions (not a copy), loaded once per test module."""
    return load_notebook_functions()


@pytest.fixture(scope="session")
def real_mnist_dir():
    """The four real MNIST .gz files: $MNIST_DATA_DIR if it holds them, else ../shared/data/mnist."""
    folders = [Path(os.environ["MNIST_DATA_DIR"])] if os.environ.get("MNIST_DATA_DIR") else []
    for folder in folders + [REAL_MNIST_DIR]:
        if all((folder / name).is_file() for name in GZ_NAMES):
            return folder
    pytest.skip(f"real MNIST not found: put {', '.join(GZ_NAMES)} in the folder named by MNIST_DATA_DIR "
                f"(or in {REAL_MNIST_DIR}), e.g. with `python -m mnist_utils download --data-dir DIR`")


@pytest.fixture(scope="session")
def real_fashion_dir():
    for folder in REAL_FASHION_DIRS:
        if all((folder / name).is_file() for name in GZ_NAMES):
            return folder
    pytest.skip(f"real Fashion-MNIST not found in {' or '.join(map(str, REAL_FASHION_DIRS))} "
                "(on Debian or Ubuntu: apt-get install dataset-fashion-mnist)")


@pytest.fixture(scope="session")
def synthetic_mnist_dir(tmp_path_factory):
    """A folder with the four standard MNIST .gz files holding 1,200 training and 300 test images
    of synthetic, learnable digits."""
    folder = tmp_path_factory.mktemp("synthetic_mnist")
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 1200), ("t10k", 300)):
        images, labels = synthetic_digits(count, rng, max_shift=2)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder
