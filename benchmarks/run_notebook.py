"""Run a lesson notebook headless, as the README does, and measure wall time and peak memory.

    python benchmarks/run_notebook.py --data-dir ../shared/data/mnist [--runs 3]
    python benchmarks/run_notebook.py --data-dir ../shared/data/mnist --notebook going_further.ipynb

Each run executes the notebook with papermill in a fresh kernel, at its default parameters but for those set
with -p NAME VALUE (a Python literal, else text), writing into a temporary folder. Per run and as medians: wall
time, the kernel's peak resident memory, and figures from the model files the notebook saves in OUT_DIR. A
failed run, or a missing file or saved value, stops it with an error.
"""

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from notebook_functions import NOTEBOOK, notebook_parameters  # noqa: E402

GOING_FURTHER = ROOT / "going_further.ipynb"

EARLY_TARGET = 0.975   # report when validation accuracy first passed this
# Run in a child process, so that RUSAGE_CHILDREN of *that* process covers exactly one notebook's kernel.
RUNNER = """
import json, resource, sys, papermill
papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters=json.loads(sys.argv[3]), cwd=sys.argv[4],
                           progress_bar=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def saved(path, *keys):
    """The values `keys` from the .npz file at path; an error if the file or a value is missing."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the notebook did not save it, so its results cannot be read")
    with np.load(path, allow_pickle=False) as values:
        if missing := [key for key in keys if key not in values.files]:
            raise ValueError(f"{path} holds no {', '.join(missing)}: the notebook saved it without them")
        return [values[key] for key in keys]


def read_results(out_dir, notebook, settings):
    """The figures of one run of `notebook`, from the model file it saved in out_dir (the second notebook's only
    if it trained: DEEP_EPOCHS > 0)."""
    dataset = settings["DATASET"]
    if Path(notebook).name == GOING_FURTHER.name:
        if settings["DEEP_EPOCHS"] == 0:
            return {}
        accuracy, seconds = saved(Path(out_dir) / f"{dataset}_deep_model.npz", "test_accuracy", "history_seconds")
        return {"deep network: test accuracy (%)": 100 * float(accuracy), "deep network: training seconds": float(seconds[-1])}
    accuracy, epochs, val_acc, seconds = saved(Path(out_dir) / f"{dataset}_model.npz", "test_accuracy",
                                               "history_epoch", "history_val_acc", "history_seconds")
    passed = np.flatnonzero(val_acc > EARLY_TARGET)
    first = (float(epochs[passed[0]]), float(seconds[passed[0]])) if len(passed) else (float("nan"), float("nan"))
    return {"test accuracy (%)": 100 * float(accuracy), "seconds per epoch": float(seconds[-1] / len(epochs)),
            f"first epoch above {EARLY_TARGET:.1%}": first[0], f"training seconds to {EARLY_TARGET:.1%}": first[1]}


def run_once(notebook, data_dir, parameters):
    """Wall time, the kernel's peak RSS and read_results' figures of one headless run with these parameters."""
    settings = dict(notebook_parameters(notebook), **parameters)
    env = dict(os.environ, **({"MNIST_DATA_DIR": str(Path(data_dir).resolve())} if data_dir else {}))
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", RUNNER, str(notebook), str(Path(folder) / "executed.ipynb"),
                                 json.dumps(dict(parameters, OUT_DIR=folder)), str(ROOT)],
                                env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"the notebook run failed (exit code {result.returncode}):\n"
                               + "\n".join(result.stderr.splitlines()[-20:]))
        figures = read_results(folder, notebook, settings)
    kernel_peak_kib = int(result.stdout.strip().splitlines()[-1])   # ru_maxrss is in KiB on Linux
    return {"wall time (s)": wall, "kernel peak RSS (MiB)": kernel_peak_kib / 1024, **figures}


def literal(text):
    """A -p value: the Python literal it spells (0, 1e-4, [512, 256], None), or else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DATA_DIR or ./data)")
    parser.add_argument("--notebook", default=str(NOTEBOOK), help="the lesson to run (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a notebook parameter, as papermill -p does (repeatable)")
    args = parser.parse_args(argv)
    parameters = {name: literal(value) for name, value in args.parameter}
    if set(parameters) - set(notebook_parameters(args.notebook)):
        parser.error(f"the notebook's parameters are {', '.join(notebook_parameters(args.notebook))}")
    print("parameters:", ", ".join(f"{name} = {value!r}" for name, value in parameters.items()) or "the defaults")
    runs = []
    for i in range(args.runs):
        runs.append(run_once(args.notebook, args.data_dir, parameters))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
    print(f"\nmedian over {args.runs} run(s):")
    for key in runs[0]:
        print(f"  {key}: {statistics.median(r[key] for r in runs):.2f}")


if __name__ == "__main__":
    main()
