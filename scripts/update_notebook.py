"""Re-execute the committed lesson notebooks top to bottom in fresh kernels, and replace each only if every cell ran.

    MNIST_DATA_DIR=../shared/data/mnist .venv/bin/python scripts/update_notebook.py [NOTEBOOK ...]

For whoever updates the repository. By default both lessons, neural_network_from_scratch.ipynb then
going_further.ipynb, each with its default parameters and OUT_DIR ".", so they rewrite mnist_model.npz,
training_metrics.png and mnist_deep_model.npz in place; the executed copies go to runs/. Only a notebook whose
every cell ran without error is replaced by its copy, without saved widget state or papermill's timing metadata
(readers see the outputs; the widgets show as screenshots in the markdown). A failed run leaves it as it was.
The practice notebook is not executed: it is generated, unexecuted, by scripts/make_practice.py.
"""

import sys
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import mnist_utils  # noqa: E402

LESSONS = ("neural_network_from_scratch.ipynb", "going_further.ipynb")


def light(notebook):
    """The executed notebook without saved widget state and papermill's metadata."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return notebook


def update(notebook):
    """Execute ROOT/notebook into runs/ and replace it with the executed copy if every cell ran in order."""
    executed_path = ROOT / "runs" / notebook
    executed_path.parent.mkdir(exist_ok=True)
    papermill.execute_notebook(str(ROOT / notebook), str(executed_path), cwd=str(ROOT), kernel_name="python3")
    executed = light(nbformat.read(executed_path, as_version=4))
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    errors = [cell for cell in code if any(output.output_type == "error" for output in cell.outputs)]
    if errors or [cell.execution_count for cell in code] != list(range(1, len(code) + 1)):
        sys.exit(f"{executed_path}: not every cell ran in order without error; {notebook} left as it was")
    with mnist_utils.atomic_write(ROOT / notebook) as file:
        file.write(nbformat.writes(executed).encode("utf-8") + b"\n")
    print(f"updated {notebook} ({len(code)} code cells executed)")


if __name__ == "__main__":
    for name in sys.argv[1:] or LESSONS:
        update(name)
