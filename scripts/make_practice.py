"""Write practice.ipynb, the notebook in which the learner writes the lesson's functions, from the lesson.

    .venv/bin/python scripts/make_practice.py            # (re)writes practice.ipynb
    .venv/bin/python scripts/make_practice.py --check    # exits 1 if practice.ipynb is not what it would write

The lesson, neural_network_from_scratch.ipynb, is the one source. practice.ipynb holds every cell
before the lesson's cell tagged `practice-stop` (sections 1-5), outputs cleared; in each code cell
tagged `exercise`, every function keeps its signature and docstring and its body becomes a stub that
raises checks.NotWrittenYet (a NotImplementedError naming the function and the heading of its
derivation); the rest of the cell stays. After each exercise cell comes a cell tagged `check` that
calls the checker of its functions (checks.py). Then a "find the bug" section (four broken copies of
the lesson's `backward`, made by changing one line of it) and a closing cell pointing to the rest of
the lesson. The output depends on the lesson only: the same lesson gives the same bytes.
"""

import argparse
import ast
import copy
import io
import json
import re
import sys
import textwrap
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "neural_network_from_scratch.ipynb"
PRACTICE = ROOT / "practice.ipynb"
COMMAND = ".venv/bin/python scripts/make_practice.py"

# For the first function an exercise cell defines: the functions the cell must define (exactly those),
# the checker that checks them and the names the check cell passes it.
CHECKS = {
    "relu": (["relu", "relu_derivative"], "check_relu", ["relu", "relu_derivative"]),
    "softmax": (["softmax"], "check_softmax", ["softmax"]),
    "log_softmax": (["log_softmax", "cross_entropy"], "check_cross_entropy", ["log_softmax", "cross_entropy"]),
    "forward": (["forward"], "check_forward", ["forward"]),
    "backward": (["backward"], "check_backward", ["backward"]),
    "sgd_momentum_step": (["sgd_momentum_step"], "check_sgd_momentum_step", ["sgd_momentum_step"]),
    "sgd_epoch": (["sgd_epoch"], "check_sgd_epoch",
                  ["sgd_epoch", "init_params", "train_images", "y_train", "X_val", "y_val", "forward"]),
}

INTRO = """\
## Your turn: the practice notebook

This is the lesson's notebook up to the end of section {last_section}, with the bodies of its key
functions taken out: {functions}. Each keeps its signature and docstring, and the markdown above it
still derives it; its body is one line, `raise checks.NotWrittenYet(...)`. Replace that line with
your code.

Under each of those cells a **check cell** calls your functions on small inputs (and, for the
training loop, on the real data) and compares them with the right answers: one `ok` line per
function that is right, or a message naming the first wrong quantity (`db2`, not "backward"), what
was expected and the usual mistake behind it. Use *Run All*: it stops at the first function that is
not written yet or not right, so you always know what to do next. A "find the bug" section follows
section {last_section}. The rest, and the answer to every function, are in the lesson itself,
`neural_network_from_scratch.ipynb`.
"""

IMPORT_CHECKS = "import checks   # the checks of your functions (checks.py), one call under each exercise cell\n"

FIND_THE_BUG_INTRO = """\
## Find the bug

Each function below is `backward` as the lesson writes it, with **one** line changed into a mistake
that people really make. Some of them raise no error and even train, which is what makes them dangerous. For
each one, run the gradient check of section 4 on it, read which rows are broken, name the mistake
and fix the line (then run the check again: every row should be `ok`). The answers are under the
cells.
"""

# (the line of backward to change: the start of its code, what it becomes, the question, the answer)
BUGS = [
    ("db2 =", (r"\.sum\(axis=0\)", ".sum()"),
     "Only one row of the check breaks. Which gradient, and why does this mistake raise no error in training?",
     "Only `db2` is broken. `dZ2.sum()` adds up **every** entry into one number, where a bias gradient sums over "
     "the batch axis only: `db2 = dZ2.sum(axis=0)`, shape `(K,)`. Nothing complains, because `b2 -= "
     "learning_rate * db2` broadcasts the scalar onto all `K` biases; but then every output bias moves by the same "
     "amount, which changes no probability (softmax ignores a constant added to every score). The output layer "
     "has in effect no biases of its own, and here that costs almost no accuracy, so training looks fine and "
     "nothing ever points at the mistake. Only the check, or a shape printed beside the expected one, catches it."),
    ("dZ2 =", (r"\s*/\s*m\b", ""),
     "Every row breaks, all with about the same relative error. What is missing?",
     "The `1/m`: the loss is the **mean** over the `m` rows, so `dZ2 = (P - Y) / m`. Without it every gradient is "
     "`m` times too large (the relative error $|a-b|/(|a|+|b|)$ of $m\\,g$ against $g$ is $(m-1)/(m+1)$, about 0.7 "
     "for the check's 6 rows), and it grows with the batch size: training would need a learning rate divided by "
     "`BATCH_SIZE`, and diverges at the usual one."),
    ("dZ1 =", (r"\(Z1\)", "(dA1)"),
     "`dZ2` to `dA1` are right, and the rows from `dZ1` on are broken. What is wrong in that line?",
     "The ReLU mask is taken from the wrong array. The derivative of $A^{[1]} = g(Z^{[1]})$ is $g'(Z^{[1]})$, "
     "1 where **`Z1`** > 0: `dZ1 = dA1 * activation_derivative(Z1)`. `activation_derivative(dA1)` keeps the "
     "entries where the *gradient* is positive instead, which has nothing to do with which units were active."),
    ("dW1 =", (r"\+\s*l2", "- l2"),
     "A single row breaks. Which term of that gradient is wrong?",
     "The weight decay has the wrong sign. The penalty $\\frac{\\lambda}{2}\\lVert W^{[1]}\\rVert^2$ adds "
     "$+\\lambda W^{[1]}$ to the gradient: `dW1 = X.T @ dZ1 + l2 * params[\"W1\"]`. With `- l2`, every step "
     "pushes the weights *away* from 0, the opposite of decay. The check catches it because it uses `l2 = 0.1`; "
     "with `l2=0` (the tiny-batch test) the mistake would be invisible."),
]

CLOSING = """\
## The rest of the lesson

Your functions are the lesson's, so everything from section {next_section} on works with them. It is in
the lesson, `neural_network_from_scratch.ipynb`, which is also the answer key for every function above:

{sections}
"""


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def text(cell):
    return "".join(cell["source"])


def lines_of(source):
    """A cell's source in the .ipynb form: a list of lines, each but the last ending in a newline."""
    return source.splitlines(keepends=True)


def markdown_cell(cell_id, source):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": lines_of(source)}


def code_cell(cell_id, source, cell_tags=()):
    return {"cell_type": "code", "execution_count": None, "id": cell_id,
            "metadata": {"tags": list(cell_tags)} if cell_tags else {}, "outputs": [], "source": lines_of(source)}


def header_end(source_lines, function):
    """The 1-based line holding the ':' that ends the def's header (the header may span several lines)."""
    start = function.lineno
    code = "".join(source_lines[start - 1:])
    depth = 0
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
            elif token.string == ":" and depth == 0:
                return start + token.start[0] - 1
    raise ValueError(f"no ':' ends the header of {function.name}")


def quoted(words):
    """A Python string literal in double quotes."""
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stub_functions(source, section):
    """(the source with every top-level function's body replaced by a stub, the functions' names)."""
    tree = ast.parse(source)
    source_lines = source.splitlines(keepends=True)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    for function in reversed(functions):          # from the bottom, so that earlier line numbers stay valid
        first = function.body[0]
        has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str)
        keep_until = first.end_lineno if has_docstring else header_end(source_lines, function)
        if first.lineno <= header_end(source_lines, function):
            raise ValueError(f"{function.name}: write its body on lines of its own, below the def")
        indent = " " * first.col_offset
        stub = f"{indent}raise checks.NotWrittenYet({quoted(function.name)}, see={quoted(section)})\n"
        source_lines[keep_until:function.end_lineno] = [stub]
    return "".join(source_lines), [function.name for function in functions]


def last_heading(cells):
    """Where the derivation of an exercise is: the last heading of the nearest markdown cell above it that
    has one, or that cell's first bold lead-in (`**1. Momentum.** ...`) if it has no heading."""
    for cell in reversed(cells):
        if cell["cell_type"] == "markdown":
            lines = text(cell).splitlines()
            headings = [line.lstrip("#").strip() for line in lines if re.match(r"#+ ", line)]
            leads = [lead.group(1).rstrip(".:") for line in lines if (lead := re.match(r"\*\*(.+?)\*\*", line))]
            if headings or leads:
                return (headings or leads)[-1 if headings else 0]
    raise ValueError("an exercise cell has no markdown heading above it")


def check_call(names):
    """The check cell's line for an exercise cell that defines the functions `names`."""
    defines, checker, arguments = CHECKS.get(names[0], (None, None, None))
    if defines is None:
        raise ValueError(f"an exercise cell defines {', '.join(names)}: there is no check for {names[0]}; add one "
                         f"to checks.py and to CHECKS in {Path(__file__).name}")
    if names != defines:
        raise ValueError(f"an exercise cell defines {', '.join(names)}: checks.{checker} checks "
                         f"{', '.join(defines)}; put exactly those functions in the cell")
    return f"checks.{checker}({', '.join(arguments)})\n"


def function_source(cells, name):
    """The source of the lesson's top-level function `name`."""
    for cell in cells:
        if cell["cell_type"] == "code":
            source = text(cell)
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    return ast.get_source_segment(source, node)
    raise ValueError(f"the lesson defines no function {name}")


def broken_backward(backward_source, number, line_start, pattern, replacement):
    """The lesson's backward renamed broken_backward_<number>, with the line starting `line_start` changed."""
    lines = backward_source.splitlines()
    matches = [i for i, line in enumerate(lines) if line.strip().startswith(line_start)]
    if len(matches) != 1:
        raise ValueError(f"the lesson's backward has {len(matches)} lines starting with {line_start!r}, not one")
    changed, count = re.subn(pattern, replacement, lines[matches[0]], count=1)
    if count != 1:
        raise ValueError(f"the lesson's backward: {pattern!r} not found in {lines[matches[0]].strip()!r}")
    column = lines[matches[0]].find("  #")
    if column >= 0 and "  #" in changed:                  # the shape comment stays in its column
        code, comment = changed.split("  #", 1)
        changed = f"{code.rstrip():{column}}  #{comment}"
    lines[matches[0]] = changed
    lines[0] = lines[0].replace("def backward(", f"def broken_backward_{number}(", 1)
    return "\n".join(lines) + "\n"


def find_the_bug(cells, gradient_check_line):
    backward = function_source(cells, "backward")
    section = [markdown_cell("find-the-bug", FIND_THE_BUG_INTRO)]
    for number, (line_start, (pattern, replacement), question, answer) in enumerate(BUGS, start=1):
        call = gradient_check_line.replace("gradient_check(np.random.default_rng([SEED, 4]))",
                                           f"gradient_check(np.random.default_rng([SEED, 4]), "
                                           f"backward=broken_backward_{number})")
        section += [markdown_cell(f"bug-{number}", f"### Bug {number}\n\n{question}\n"),
                    code_cell(f"bug-{number}-code", broken_backward(backward, number, line_start, pattern, replacement)
                              + "\n\n" + call),
                    markdown_cell(f"bug-{number}-answer",
                                  f"<details><summary>Answer</summary>\n\n{answer}\n\n</details>\n")]
    return section


GRADIENT_CHECK_LINE = re.compile(r"^(checks\.)?print_gradient_check\(gradient_check\(np\.random\.default_rng\(\[SEED, 4\]\)\)\)$")


def gradient_check_call(cells):
    """The lesson's line that prints its gradient check of backward."""
    for cell in cells:
        for line in text(cell).splitlines():
            if GRADIENT_CHECK_LINE.match(line):
                return line + "\n"
    raise ValueError("the lesson has no line checks.print_gradient_check(gradient_check(np.random.default_rng([SEED, 4])))")


def imports_checks(cells):
    """Whether a code cell among `cells` imports the module checks at its top level."""
    return any(isinstance(node, ast.Import) and any(alias.name == "checks" and alias.asname is None
                                                    for alias in node.names)
               for cell in cells if cell["cell_type"] == "code" for node in ast.parse(text(cell)).body)


def sentence_list(words):
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


def clean(cell):
    """A copy of a lesson cell without outputs, execution counts or run metadata."""
    cell = copy.deepcopy(cell)
    for key in ("execution", "papermill", "scrolled", "collapsed"):
        cell.get("metadata", {}).pop(key, None)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def practice_notebook(lesson):
    """The practice notebook (a dict in the .ipynb format) made from the lesson's."""
    cells = lesson["cells"]
    stops = [i for i, cell in enumerate(cells) if "practice-stop" in tags(cell)]
    if len(stops) != 1:
        raise ValueError(f"the lesson has {len(stops)} cells tagged 'practice-stop', not one")
    kept, rest = cells[:stops[0]], cells[stops[0]:]
    if not any("exercise" in tags(cell) for cell in kept):
        raise ValueError("no cell before the 'practice-stop' cell is tagged 'exercise'")
    first_exercise = next(i for i, cell in enumerate(kept) if "exercise" in tags(cell))
    out, exercises = [], []
    for i, cell in enumerate(kept):
        cell = clean(cell)
        out.append(cell)
        if "exercise" in tags(cell):
            if cell["cell_type"] != "code":
                raise ValueError(f"cell {i} is tagged 'exercise' but is not a code cell")
            source, names = stub_functions(text(cell), last_heading(kept[:i]))
            cell["source"] = lines_of(source)
            exercises += names
            out.append(code_cell(f"check-{names[0].replace('_', '-')}", check_call(names), ["check"]))
    if not imports_checks(kept[:first_exercise]):
        out.insert(1, code_cell("practice-import", IMPORT_CHECKS))
    numbers = [re.match(r"## (\d+)\.", text(cell)) for cell in kept if cell["cell_type"] == "markdown"]
    last_section = [number.group(1) for number in numbers if number][-1]
    intro = INTRO.format(last_section=last_section, functions=sentence_list([f"`{name}`" for name in exercises]))
    out.insert(1, markdown_cell("practice-intro", "\n\n".join(
        paragraph if paragraph.startswith("#") else textwrap.fill(paragraph, width=100, break_on_hyphens=False)
        for paragraph in intro.split("\n\n"))))
    out += find_the_bug(cells, gradient_check_call(kept))
    sections = [line for cell in rest if cell["cell_type"] == "markdown"
                for line in text(cell).splitlines() if line.startswith("## ")]
    out.append(markdown_cell("practice-end", CLOSING.format(
        next_section=int(last_section) + 1,
        sections="\n".join("- " + re.sub(r"^(\d+)\.", r"\1\\.", line[3:]) for line in sections))))
    metadata = {key: lesson["metadata"][key] for key in ("kernelspec", "language_info") if key in lesson["metadata"]}
    return {"cells": out, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def render(notebook):
    """The notebook's bytes, as nbformat writes them (sorted keys, one-space indent), ending in a newline."""
    return (json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lesson", type=Path, default=LESSON, help=f"the lesson notebook (default: {LESSON.name})")
    parser.add_argument("--output", type=Path, default=PRACTICE, help=f"where to write (default: {PRACTICE.name})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output is out of date")
    args = parser.parse_args(argv)
    command = COMMAND + "".join(f" --{name} {value}" for name, value, default in
                                (("lesson", args.lesson, LESSON), ("output", args.output, PRACTICE)) if value != default)
    generated = render(practice_notebook(json.loads(args.lesson.read_text(encoding="utf-8"))))
    if args.check:
        if not args.output.is_file() or args.output.read_bytes() != generated:
            print(f"{args.output.name} is not what {Path(__file__).name} makes from {args.lesson.name}: "
                  f"run `{command}` and commit the result", file=sys.stderr)
            return 1
        print(f"{args.output.name} is up to date with {args.lesson.name}")
        return 0
    args.output.write_bytes(generated)
    print(f"wrote {args.output} from {args.lesson.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
