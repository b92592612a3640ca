"""What the tests share, each defined once: the repository and the notebook, the real MNIST files
(found by `find_real_mnist_dir`), small synthetic data sets in the MNIST format, the PNG signature,
and the reading of a saved model's arrays (`model_arrays`) and its plain-NumPy predictions."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"   # looked in when $MNIST_DATA_DIR does not hold them
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"                               # the first 8 bytes of every PNG file
COMMITTED_MODEL, COMMITTED_DEEP_MODEL = REPO_ROOT / "mnist_model.npz", REPO_ROOT / "mnist_deep_model.npz"
# Fashion-MNIST: beside MNIST if someone put it there, else where Debian's package dataset-fashion-mnist
# installs it (.ci/run installs that package when it can).
REAL_FASHION_DIRS = (REPO_ROOT.parent / "shared" / "data" / "fashion", Path("/usr/share/datasets/fashion-mnist"))

if str(REPO_ROOT) not in sys.path:  # notebook_functions and mnist_utils live at the repo root
    sys.path.insert(0, str(REPO_ROOT))

from notebook_functions import NOTEBOOK, load_notebook_functions  # noqa: E402,F401  (NOTEBOOK: for the tests)
from idx_fixtures import GZ_NAMES, write_idx  # noqa: E402


def first_folder_with_the_files(folders):
    """The first of `folders` holding the four .gz files of MNIST or Fashion-MNIST, or None."""
    return next((folder for folder in folders if all((folder / name).is_file() for name in GZ_NAMES)), None)


def find_real_mnist_dir():
    """The folder of the four real MNIST .gz files: $MNIST_DATA_DIR if it holds them, else
    ../shared/data/mnist if it does, else None."""
    folders = [Path(os.environ["MNIST_DATA_DIR"])] if os.environ.get("MNIST_DATA_DIR") else []
    return first_folder_with_the_files(folders + [REAL_MNIST_DIR])


def defined_names(path):
    """The names of the functions and classes defined at the top of a notebook's code cells, in order."""
    import ast
    import json
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return [node.name for cell in cells if cell["cell_type"] == "code"
            for node in ast.parse("".join(cell["source"])).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def model_arrays(path, leave_out=()):
    """Every array of a saved .npz model file but those named in leave_out, read with allow_pickle=False:
    reading an array that needs pickle (an object array) raises ValueError, so a file that loads needs none."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files if key not in leave_out}


def plain_predictions(arrays, X):
    """The classes a model file's W1, b1, ..., WL, bL predict for the rows X, written out in NumPy:
    argmax(relu(...relu(X W1 + b1)...) WL + bL), in float64."""
    layers = len([key for key in arrays if key[0] == "W" and key[1:].isdigit()])
    A = np.asarray(X, dtype=np.float64)
    for l in range(1, layers + 1):
        Z = A @ arrays[f"W{l}"].astype(np.float64) + arrays[f"b{l}"]
        A = np.maximum(Z, 0)
    return Z.argmax(axis=1)


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
def nb(request):
    """A notebook's own functions (not a copy), loaded once per test module: those of the notebook named by the
    module's NOTEBOOK_UNDER_TEST, else the lesson's."""
    return load_notebook_functions(getattr(request.module, "NOTEBOOK_UNDER_TEST", NOTEBOOK))


@pytest.fixture(scope="module")
def lesson_nb():
    """The lesson's functions, for a module whose `nb` is another notebook's."""
    return load_notebook_functions(NOTEBOOK)


def assert_valid_png(path):
    """A PNG file that decodes to an image of more than 100 × 100 pixels."""
    import matplotlib.pyplot as plt
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    height, width = plt.imread(path).shape[:2]  # decodes the whole image
    assert height > 100 and width > 100


@pytest.fixture(scope="session")
def real_mnist_dir():
    """The folder of the four real MNIST .gz files (find_real_mnist_dir); the test skips without them."""
    folder = find_real_mnist_dir()
    if folder is not None:
        return folder
    pytest.skip(f"real MNIST not found: put {', '.join(GZ_NAMES)} in the folder named by MNIST_DATA_DIR "
                f"(or in {REAL_MNIST_DIR}), e.g. with `python -m mnist_utils download --data-dir DIR`")


@pytest.fixture(scope="session")
def real_fashion_dir():
    """The folder of the four real Fashion-MNIST .gz files; the test skips without them."""
    folder = first_folder_with_the_files(REAL_FASHION_DIRS)
    if folder is not None:
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


# --- The notebooks, executed ---------------------------------------------------------------------
#
# Each notebook is executed as few times as its tests need: once, cell by cell in one kernel, on the
# synthetic digits with small settings (`lesson_fast_run`, `going_further_fast_run`), and once on the real
# MNIST files where they exist, by the README's run command (`readme_real_run`); every test about a run
# reads these. Every kernel started during the session is counted (`count_kernels`), and the count per
# notebook is printed at the end of the run.

LESSON, GOING_FURTHER, PRACTICE = NOTEBOOK, REPO_ROOT / "going_further.ipynb", REPO_ROOT / "practice.ipynb"
LESSON_FAST = dict(EPOCHS=2, DEMO_EPOCHS=1, VALIDATION_SIZE=200)              # on the 1,200 synthetic images
GOING_FURTHER_FAST = dict(DEEP_EPOCHS=1, BN_DEMO_EPOCHS=1, VALIDATION_SIZE=200)
LESSON_BAD_SETTING = dict(MOMENTUM=1.0)                    # each fast run begins with a Run All with one of
GOING_FURTHER_BAD_SETTING = dict(DEEP_DROPOUT=1.0)         # these, which must stop at once: see execute
GOING_FURTHER_REAL = dict(DEEP_EPOCHS=0, BN_DEMO_EPOCHS=1)  # see readme_real_run; the lesson runs at its defaults
TRAINING_CELL = "params, history = train("          # how the lesson's full run's training cell begins
KERNEL_LOG_STARTUP = '''\
def _register():   # leaves no name in the notebook's namespace but the hook
    import os
    from IPython import get_ipython
    path = os.path.join(os.environ["NOTEBOOK_KERNEL_LOG"], f"{os.getpid()}.cells")

    def log_cell(info):
        with open(path, "a", encoding="utf-8") as file:
            file.write(repr(info.raw_cell) + "\\n")
    get_ipython().events.register("pre_run_cell", log_cell)


_register()
del _register
'''


class Run:
    """An executed notebook: the notebook with its outputs, its OUT_DIR, the first error (or None), and for a
    run cell by cell (`execute`) the repository's files before and after and what the probes asked of the
    kernel returned."""

    def __init__(self, notebook, out_dir, error, before=None, after=None, probes=None):
        self.notebook, self.out_dir, self.error, self.before, self.after, self.probes = (
            notebook, out_dir, error, before, after, probes)

    def code_cells(self):
        return [cell for cell in self.notebook.cells if cell.cell_type == "code"]

    def text(self):
        """Everything the code cells printed, in order."""
        return "".join(printed(cell) for cell in self.code_cells())

    def cell(self, start):
        """The one code cell whose source begins with `start`."""
        [cell] = [cell for cell in self.code_cells() if cell.source.startswith(start)]
        return cell


def printed(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream")


def repository_files(root=REPO_ROOT):
    """{path: mtime} of the repository's files, without .git, .venv, caches and the other hidden folders."""
    files = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        for name in names:
            path = Path(folder, name)
            files[str(path.relative_to(root))] = path.stat().st_mtime_ns
    return files


STATE_DIGEST = '''\
def _state_digest():
    """{global name: SHA-256 of its value}: arrays by their bytes, generators by their state, containers and
    objects by their contents; training times (a "seconds" key) and modules, functions and classes left out."""
    import hashlib, types
    import numpy
    def feed(h, value, depth=0):
        if isinstance(value, numpy.ndarray):
            h.update(repr((value.dtype, value.shape)).encode() + numpy.ascontiguousarray(value).tobytes())
        elif isinstance(value, numpy.random.Generator):
            h.update(repr(value.bit_generator.state).encode())
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "seconds":
                    h.update(repr(key).encode()), feed(h, item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                feed(h, item, depth + 1)
        elif isinstance(value, (int, float, complex, str, bytes, bool, type(None), numpy.generic)):
            h.update(repr(value).encode())
        elif hasattr(value, "__dict__") and depth < 4:
            h.update(type(value).__name__.encode()), feed(h, vars(value), depth + 1)
        else:
            h.update(type(value).__name__.encode())
    digests = {}
    for name, value in list(globals().items()):
        if name.startswith("_") or name in ("In", "Out", "exit", "quit", "get_ipython") or isinstance(
                value, (types.ModuleType, types.FunctionType, type)):
            continue
        h = hashlib.sha256()
        feed(h, value)
        digests[name] = h.hexdigest()
    return digests
'''


def kernel_value(client, expression):
    """The value of a Python expression in the kernel, passed back as JSON (the probe cell is not part of the notebook)."""
    import json

    cell = run_aside(client, f"import json as _json; print(_json.dumps({expression}))")
    return json.loads(printed(cell))


def run_aside(client, source):
    """Run source in the kernel as a cell appended to the notebook for the time being (nbclient stores an executed
    cell at its index) and removed again: the executed cell."""
    import nbformat
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    finally:
        client.nb.cells.pop()
    return cell


def execute(notebook, parameters, out_dir, *, bad_setting=None, twice=None, probes=()):
    """Execute a notebook (a path, or a notebook read by nbformat) with `parameters` (injected after the cell
    tagged `parameters`, as papermill does) cell by cell in one kernel, in the repository folder, stopping at
    the first cell that raises.

    bad_setting: {name: value} that a setting rule forbids. The notebook is first run with it in place of the
    parameters' values, cell by cell until a cell raises, as a learner's Run All would (probe "bad setting":
    the error, how many cells ran, whether OUT_DIR then existed); then the same kernel runs the notebook from
    the top with `parameters`, as Run All again after the learner fixed the setting.
    twice: a code cell starting with this text is run a second time at once, with a digest of the kernel's
    state taken after each run (probes "state after the first run" and "state after the second run").
    probes: {name: Python expression} evaluated in the kernel after the last cell."""
    import copy

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.parameterize import parameterize_notebook

    clean = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else copy.deepcopy(notebook)
    clean.metadata.setdefault("papermill", {})  # papermill's parameterize_notebook needs these two
    for cell in clean.cells:
        cell.metadata.setdefault("tags", [])
        if cell.cell_type == "code":          # the committed notebook's outputs: gone, so that what is there is this run's
            cell.outputs, cell.execution_count = [], None

    def parameterized(values):
        return parameterize_notebook(copy.deepcopy(clean), dict(values, OUT_DIR=str(out_dir)))

    notebook = parameterized(parameters)
    client = NotebookClient(notebook, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(REPO_ROOT)}})
    before, error, found = repository_files(), None, {}
    with client.setup_kernel():
        if bad_setting is not None:
            cells = [cell.source for cell in parameterized(dict(parameters, **bad_setting)).cells
                     if cell.cell_type == "code"]
            for ran, source in enumerate(cells, start=1):
                try:
                    run_aside(client, source)
                except CellExecutionError as raised:
                    found["bad setting"] = dict(error=f"{raised.ename}: {raised.evalue}", cells_run=ran,
                                                out_dir_exists=Path(out_dir).exists())
                    break
        try:
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                client.execute_cell(cell, index)
                if twice is not None and cell.source.startswith(twice):
                    run_aside(client, STATE_DIGEST)
                    found["state after the first run"] = kernel_value(client, "_state_digest()")
                    found["first output"] = printed(cell)
                    client.execute_cell(cell, index)
                    found["state after the second run"] = kernel_value(client, "_state_digest()")
            found.update({name: kernel_value(client, expression) for name, expression in dict(probes).items()})
        except CellExecutionError as raised:
            error = raised
    return Run(notebook, Path(out_dir), error, before, repository_files(), found)


def _fast_run_probes(path):
    """What the fast runs ask the kernel at the end: the names of the settings checked, and the parameters."""
    from notebook_functions import notebook_parameters
    return {"settings checked": "sorted(settings)", "parameters": repr(sorted(notebook_parameters(path)))}


@pytest.fixture(scope="session")
def lesson_fast_run(synthetic_mnist_dir, tmp_path_factory):
    """The lesson on the synthetic digits (LESSON_FAST), cell by cell, its training cell run twice in a row; in its
    kernel, first a Run All with LESSON_BAD_SETTING that stops at the settings check (see `execute`)."""
    return execute(LESSON, dict(LESSON_FAST, DATA_DIR=str(synthetic_mnist_dir)),
                   tmp_path_factory.mktemp("lesson_fast") / "out", bad_setting=LESSON_BAD_SETTING,
                   twice=TRAINING_CELL, probes=_fast_run_probes(LESSON))


@pytest.fixture(scope="session")
def going_further_fast_run(synthetic_mnist_dir, tmp_path_factory):
    """going_further.ipynb on the synthetic digits (GOING_FURTHER_FAST), cell by cell; in its kernel, first a Run All
    with GOING_FURTHER_BAD_SETTING that stops at the settings check (see `execute`)."""
    return execute(GOING_FURTHER, dict(GOING_FURTHER_FAST, DATA_DIR=str(synthetic_mnist_dir)),
                   tmp_path_factory.mktemp("going_further_fast") / "out", bad_setting=GOING_FURTHER_BAD_SETTING,
                   probes=_fast_run_probes(GOING_FURTHER))


class ReadmeRun:
    """The README's run command, run in a fresh clone: the shell's result, the clone, and the two executed
    notebooks it wrote into runs/ (each a `Run`; its notebook None if the command stopped before writing it)."""

    def __init__(self, result, clone):
        import nbformat
        self.result, self.clone, self.out_dir = result, clone, clone / "runs"
        error = None if result.returncode == 0 else (result.stdout + result.stderr)[-3000:]

        def run(path):
            path = self.out_dir / path.name
            return Run(nbformat.read(path, as_version=4) if path.is_file() else None, self.out_dir, error)
        self.lesson, self.going_further = run(LESSON), run(GOING_FURTHER)


@pytest.fixture(scope="session")
def readme_real_run(real_mnist_dir, tmp_path_factory):
    """The README's run command (tests/fresh_clone.py) in a fresh clone, offline, with MNIST_DATA_DIR naming the
    real MNIST files: the lesson at its defaults (the accuracy it promises, about a minute), and
    going_further.ipynb with GOING_FURTHER_REAL appended to its papermill step. Its deep network's 45 epochs, and
    the 100 epochs of the small network it is then compared with, take over two minutes, more than the whole
    suite may: the committed mnist_deep_model.npz, written by a run with the defaults, is checked against
    99.3 % by test_model_file.py, and the deep network's code runs in going_further_fast_run."""
    from fresh_clone import clone_as_on_disk, offline_environment, readme_command, run_in_shell
    clone = clone_as_on_disk(REPO_ROOT, tmp_path_factory.mktemp("readme_real") / "clone")
    extra = " ".join(f"-p {name} {value}" for name, value in GOING_FURTHER_REAL.items())
    command = readme_command(REPO_ROOT, {GOING_FURTHER.name: extra})
    result = run_in_shell(command, clone, offline_environment(MNIST_DATA_DIR=str(real_mnist_dir)), timeout=840)
    return ReadmeRun(result, clone)


# --- Counting the kernels: which notebook each one ran, and how far ------------------------------------

def pytest_configure(config):
    """Every IPython kernel started from here on (by nbclient, papermill or a Jupyter server) logs each cell
    it runs into a folder of its own, through an IPython startup file (IPYTHONDIR is inherited)."""
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="notebook_kernels_"))
    (folder / "profile_default" / "startup").mkdir(parents=True)
    (folder / "profile_default" / "startup" / "00-log-cells.py").write_text(KERNEL_LOG_STARTUP, encoding="utf-8")
    os.environ["IPYTHONDIR"] = os.environ["NOTEBOOK_KERNEL_LOG"] = str(folder)


def kernel_runs():
    """[(notebook name, cells run)] per kernel started in this session, in the order they started."""
    import ast
    import json
    sources = {path.name: {"".join(cell["source"]).strip() for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
                           if cell["cell_type"] == "code"} for path in (PRACTICE, GOING_FURTHER, LESSON) if path.exists()}
    runs = []
    logs = sorted(Path(os.environ["NOTEBOOK_KERNEL_LOG"]).glob("*.cells"), key=lambda path: path.stat().st_mtime_ns)
    for log in logs:
        cells = [ast.literal_eval(line).strip() for line in log.read_text(encoding="utf-8").splitlines()]
        # the first notebook with a cell of its own among these (practice and going_further have cells the lesson has not)
        owner = next((name for name, own in sources.items()
                      if any(cell in own and all(cell not in other for n, other in sources.items() if n != name)
                             for cell in cells)), None)
        if owner is None:      # no cell of its own (a run stopped early): the lesson, else what holds most of its cells
            owner = max(reversed(sources), key=lambda name: sum(cell in sources[name] for cell in cells))
            owner = owner if any(cell in sources[owner] for cell in cells) else "another notebook"
        runs.append((owner, len(cells)))
    return runs


def pytest_terminal_summary(terminalreporter):
    runs = kernel_runs()
    if runs:
        counts = {}
        for name, cells in runs:
            counts.setdefault(name, []).append(cells)
        terminalreporter.write_line("notebook kernels started: " + "; ".join(
            f"{name} {len(cells)} (cells run in each: {', '.join(map(str, cells))})" for name, cells in counts.items()))
