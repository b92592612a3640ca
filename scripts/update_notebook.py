"""Re-execute the committed notebook top to bottom in a fresh kernel, and replace it only if every cell ran.

    MNIST_DATA_DIR=../shared/data/mnist .venv/bin/python scripts/update_notebook.py

For whoever updates the repository. The notebook runs with its default parameters and OUT_DIR ".",
so it rewrites mnist_model.npz, mnist_deep_model.npz and training_metrics.png in place; the executed
copy goes to runs/. Only when no cell failed is the committed notebook replaced by that copy, without
saved widget state or papermill's timing metadata (readers see the outputs; the widgets show as
screenshots in the markdown). A failed run leaves the committed notebook as it was.
"""

import sys
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import mnist_utils  # noqa: E402

NOTEBOOK = ROOT / "neural_network_from_scratch.ipynb"
EXECUTED = ROOT / "runs" / NOTEBOOK.name


def light(notebook):
    """The executed notebook without saved widget state and papermill's metadata."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return notebook


def main():
    EXECUTED.parent.mkdir(exist_ok=True)
    papermill.execute_notebook(str(NOTEBOOK), str(EXECUTED), cwd=str(ROOT), kernel_name="python3")
    executed = light(nbformat.read(EXECUTED, as_version=4))
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    errors = [cell for cell in code if any(output.output_type == "error" for output in cell.outputs)]
    if errors or [cell.execution_count for cell in code] != list(range(1, len(code) + 1)):
        sys.exit(f"{EXECUTED}: not every cell ran in order without error; {NOTEBOOK.name} left as it was")
    with mnist_utils.atomic_write(NOTEBOOK) as file:
        file.write(nbformat.writes(executed).encode("utf-8") + b"\n")
    print(f"updated {NOTEBOOK.name} ({len(code)} code cells executed)")


if __name__ == "__main__":
    main()
