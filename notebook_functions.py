"""Import the functions that a lesson notebook defines, without running the notebook.

Tests and benchmarks use this so that they exercise the notebook's own code, not a copy of it:

    from notebook_functions import load_notebook_functions
    nb = load_notebook_functions()                                  # neural_network_from_scratch.ipynb
    layers = load_notebook_functions(ROOT / "going_further.ipynb")  # the second notebook
    nb.softmax(...)

Only the top-level ``import``/``from`` statements, function and class definitions and constant
assignments (to names in UPPER_CASE, the parameters' defaults among them) of the code cells are
executed, in notebook order. Everything else (loading data, training, plotting) is skipped. A function
or class that reads a name the definitions do not provide (a notebook global such as the data) is
left out, so every function this returns works without the notebook's globals.
`notebook_parameters()` returns the defaults of the cell tagged `parameters`.
"""

import ast
import builtins
import json
import linecache
import symtable
import types
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent / "neural_network_from_scratch.ipynb"


def _is_constant_assignment(node):
    """An assignment to one UPPER_CASE name of two or more letters (so not a matrix such as W1): a constant."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.isupper() and sum(c.isalpha() for c in node.targets[0].id) >= 2)


def notebook_definitions(path=NOTEBOOK):
    """(name, module AST) per code cell: its imports, function definitions and literal constants.

    Each cell gets its own pseudo file name, registered with linecache, so that a traceback through
    a notebook function shows the cell and the line as they are in the notebook.
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    definitions = []
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        parameters = "parameters" in cell.get("metadata", {}).get("tags", [])   # every default, L2 too
        kept = [node for node in ast.parse(source).body
                if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
                or _is_constant_assignment(node) or (parameters and isinstance(node, ast.Assign))]
        if kept:
            name = f"<{Path(path).name}, cell {number}>"
            linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
            definitions.append((name, ast.Module(body=kept, type_ignores=[])))
    return definitions


def notebook_parameters(path=NOTEBOOK):
    """The default parameters: the literal assignments of the cell tagged `parameters`, as a dict."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return {node.targets[0].id: ast.literal_eval(node.value)
                    for node in tree.body if isinstance(node, ast.Assign)}
    raise ValueError(f"{path}: no cell is tagged 'parameters'")


def _global_names(table):
    """The global names read anywhere inside a function's or class's symbol table, nested scopes included."""
    names = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_global() and symbol.is_referenced()}
    return names.union(*(_global_names(child) for child in table.get_children()))


def load_notebook_functions(path=NOTEBOOK):
    """Execute the notebook's definitions in a fresh module and return it, without the functions and classes
    that read a name the definitions do not define (they would need the notebook's globals)."""
    module = types.ModuleType("notebook", f"Functions defined in {Path(path).name}")
    module.__file__ = str(path)
    definitions = notebook_definitions(path)
    for name, tree in definitions:
        exec(compile(tree, name, "exec"), module.__dict__)
    for name, tree in definitions:
        for table in symtable.symtable(ast.unparse(tree), name, "exec").get_children():
            if _global_names(table) - set(vars(module)) - set(vars(builtins)):
                vars(module).pop(table.get_name(), None)
    return module
