"""Run the whole notebook headless, as the README does, and measure wall time and peak memory.

    python benchmarks/run_notebook.py --data-dir ../shared/data/mnist [--runs 3]

Each run executes neural_network_from_scratch.ipynb with papermill in a fresh kernel at its default
parameters, writing the executed copy and the artifacts to a temporary folder (the committed files
are not touched). It prints, per run and as medians: the wall time of the whole run, the peak
resident memory of the kernel (the process that runs the notebook's code), and the figures the
notebook itself reports (test accuracy, seconds per epoch, when validation first passed 97.5 %, and
the deep network's test accuracy and training time).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "neural_network_from_scratch.ipynb"
REPORTED = {
    "test accuracy (%)": r"test accuracy: ([\d.]+)%",
    "seconds per epoch": r"\(([\d.]+) s per epoch\)",
    "first epoch above 97.5%": r"first above 97\.5% at epoch (\d+)",
    "training seconds to 97.5%": r"first above 97\.5% at epoch \d+, after ([\d.]+) s",
    "deep network: test accuracy (%)": r"test accuracy ([\d.]+)% \(",                  # section 12
    "deep network: training seconds": r"parameters, \d+ epochs in ([\d.]+) s of training",
}

# The runner script runs in a child process, so that RUSAGE_CHILDREN of *that* process covers
# exactly one notebook's kernel.
RUNNER = """
import resource, sys, papermill
papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters={"OUT_DIR": sys.argv[3]},
                           cwd=sys.argv[4], progress_bar=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def notebook_text(path):
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return "".join("".join(output.get("text", "")) for cell in cells if cell["cell_type"] == "code"
                   for output in cell.get("outputs", []))


def run_once(data_dir):
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "executed.ipynb"
        env = dict(os.environ, MNIST_DATA_DIR=str(Path(data_dir).resolve())) if data_dir else dict(os.environ)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", RUNNER, str(NOTEBOOK), str(output), folder, str(ROOT)],
                                env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        kernel_peak_kib = int(result.stdout.strip().splitlines()[-1])   # ru_maxrss is in KiB on Linux
        text = notebook_text(output)
    figures = {"wall time (s)": wall, "kernel peak RSS (MiB)": kernel_peak_kib / 1024}
    for name, pattern in REPORTED.items():
        match = re.search(pattern, text)
        figures[name] = float(match.group(1)) if match else float("nan")
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DATA_DIR or ./data)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    runs = []
    for i in range(args.runs):
        runs.append(run_once(args.data_dir))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
    print("\nmedian over", args.runs, "run(s):")
    for key in runs[0]:
        print(f"  {key}: {statistics.median(r[key] for r in runs):.2f}")


if __name__ == "__main__":
    main()
