"""practice.ipynb and its checks: the committed notebook is what scripts/make_practice.py makes from the
lesson; Run All stops at the first stub with one line; with the stubs filled from the lesson's own cells
it runs to the end and every check passes; each check of checks.py fails wrong implementations (the
usual mistakes and hostile code) with a message naming the quantity, and a stub with one line.

Two notebook executions, on the small synthetic MNIST: the committed notebook and the filled one.
"""

import ast
import copy
import importlib.util
import json
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

import checks
from conftest import LESSON, LESSON_FAST, PRACTICE, execute, printed, synthetic_digits


def load_script(repo_root):
    spec = importlib.util.spec_from_file_location("make_practice", repo_root / "scripts" / "make_practice.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tagged(notebook, tag):
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


@pytest.fixture(scope="module")
def lesson():
    return nbformat.read(LESSON, as_version=4)


@pytest.fixture(scope="module")
def practice():
    return nbformat.read(PRACTICE, as_version=4)


@pytest.fixture(scope="module")
def stopped_run(practice, synthetic_mnist_dir, tmp_path_factory):
    """The committed practice notebook's Run All (conftest.execute: it stops at the first cell that raises)."""
    return execute(practice, dict(LESSON_FAST, DATA_DIR=str(synthetic_mnist_dir)),
                   tmp_path_factory.mktemp("practice_stopped") / "out")


@pytest.fixture(scope="module")
def filled_run(practice, lesson, synthetic_mnist_dir, tmp_path_factory):
    """The practice notebook with each exercise cell's source taken from the lesson's, in order; and its Run All's
    time in seconds."""
    filled = copy.deepcopy(practice)
    for cell, answer in zip(tagged(filled, "exercise"), tagged(lesson, "exercise"), strict=True):
        cell.source = answer.source
    start = time.perf_counter()
    run = execute(filled, dict(LESSON_FAST, DATA_DIR=str(synthetic_mnist_dir)),
                  tmp_path_factory.mktemp("practice_filled") / "out")
    return run, time.perf_counter() - start


# ---- The generated notebook -----------------------------------------------------------------------

def test_committed_practice_notebook_is_what_the_script_makes_from_the_committed_lesson(repo_root):
    script = load_script(repo_root)
    generated = script.render(script.practice_notebook(json.loads(LESSON.read_text(encoding="utf-8"))))
    assert PRACTICE.read_bytes() == generated, \
        f"{PRACTICE.name} is out of date with {LESSON.name}: run `{script.COMMAND}`"


def test_check_mode_fails_on_a_changed_lesson_and_names_the_command(repo_root, tmp_path):
    lesson = nbformat.read(LESSON, as_version=4)
    tagged(lesson, "exercise")[0].source += "\n# changed"
    nbformat.write(lesson, tmp_path / LESSON.name)
    run = subprocess.run([sys.executable, "scripts/make_practice.py", "--check", "--lesson", str(tmp_path / LESSON.name),
                          "--output", str(PRACTICE)], cwd=repo_root, capture_output=True, text=True)
    assert run.returncode == 1
    assert "run `.venv/bin/python scripts/make_practice.py --lesson" in run.stderr


def test_generation_is_deterministic_and_the_notebook_is_unexecuted(repo_root, tmp_path, practice):
    for name in ("a.ipynb", "b.ipynb"):
        subprocess.run([sys.executable, "scripts/make_practice.py", "--output", str(tmp_path / name)], cwd=repo_root,
                       check=True, capture_output=True)
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()
    nbformat.validate(practice)
    code = [cell for cell in practice.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in practice.metadata


def test_exercise_functions_keep_signature_and_docstring_and_their_body_is_one_stub(lesson, practice):
    def functions(cell):
        return {node.name: node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)}

    originals = {cell.id: functions(cell) for cell in tagged(lesson, "exercise")}
    assert [cell.id for cell in tagged(practice, "exercise")] == list(originals)
    for cell in tagged(practice, "exercise"):
        for name, stub in functions(cell).items():
            assert ast.dump(stub.args) == ast.dump(originals[cell.id][name].args)
            assert ast.get_docstring(stub) == ast.get_docstring(originals[cell.id][name])
            assert ast.unparse(stub.body[-1]).startswith(f"raise checks.NotWrittenYet('{name}', see=")
            assert len(stub.body) == 1 + (ast.get_docstring(stub) is not None)


def test_each_exercise_cell_is_followed_by_a_check_cell_calling_the_checker_of_its_functions(practice):
    cells = practice.cells
    for i, cell in enumerate(cells):
        if "exercise" in cell.metadata.get("tags", []):
            first = next(node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef))
            assert "check" in cells[i + 1].metadata["tags"]
            assert cells[i + 1].source.startswith("checks.check_") and f"({first}" in cells[i + 1].source


def test_find_the_bug_holds_four_broken_backwards_each_with_its_answer(practice):
    code = [cell.source for cell in practice.cells if "def broken_backward_" in cell.source]
    assert len(code) == 4                      # what each one breaks: test_each_broken_backward_breaks_exactly_...
    answers = [cell.source for cell in practice.cells if cell.id.endswith("-answer")]
    assert len(answers) == 4 and all(answer.startswith("<details><summary>Answer</summary>") for answer in answers)


# ---- Run All ----------------------------------------------------------------------------------------

def test_run_all_of_the_committed_notebook_stops_at_the_first_stub_with_one_line(stopped_run):
    notebook = stopped_run.notebook
    errors = [(i, output) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert stopped_run.error is not None and len(errors) == 1
    index, error = errors[0]
    assert error.traceback == ["not written yet: relu — replace the `raise` line in its cell with your code "
                               "(its derivation: 'ReLU' above)"]
    assert index <= notebook.cells.index(tagged(notebook, "exercise")[0]) + 1     # the relu cell or its check
    assert all(cell.execution_count is None for cell in notebook.cells[index + 1:] if cell.cell_type == "code")


def test_with_the_lessons_functions_filled_in_it_runs_to_the_end_and_every_check_passes(filled_run):
    run, seconds = filled_run
    assert run.error is None, [output for cell in run.notebook.cells for output in cell.get("outputs", [])
                               if output.output_type == "error"]
    check_output = "".join(printed(cell) for cell in tagged(run.notebook, "check"))
    for name in ("relu", "relu_derivative", "softmax", "log_softmax", "cross_entropy", "forward", "backward",
                 "sgd_momentum_step", "sgd_epoch"):
        assert f"\n{name}: ok (" in "\n" + check_output, name
    print(f"filled practice notebook, Run All on synthetic data: {seconds:.1f} s")


def test_each_broken_backward_breaks_exactly_the_rows_of_its_mistake(filled_run):
    notebook = filled_run[0].notebook
    broken = [[line.split(":")[0].strip()[1:] for line in printed(cell).splitlines() if line.endswith("BROKEN")]
              for cell in notebook.cells if "def broken_backward_" in cell.source]
    assert broken == [["b2"], ["Z2", "W2", "b2", "A1", "Z1", "W1", "b1"], ["Z1", "W1", "b1"], ["W1"]]


# ---- The checks, on wrong implementations --------------------------------------------------------------

def backward_with(mistake):
    """The lesson's backward, written out, with one usual mistake."""
    def backward(P, Y, cache, params, l2, activation_derivative=None):
        X, Z1, A1 = cache
        dZ2 = (P - Y) / (1 if mistake == "no 1/m" else len(X))
        dW2 = dZ2.T @ A1 if mistake == "dW2 transposed" else A1.T @ dZ2 + l2 * params["W2"]
        db2 = dZ2.sum() if mistake == "db2 scalar" else dZ2.sum(axis=0)
        dA1 = dZ2 @ params["W2"].T
        dZ1 = dA1 * ((dA1 > 0) if mistake == "mask from dA1" else (Z1 > 0))
        dW1 = X.T @ dZ1 + (-l2 if mistake == "decay sign" else l2) * params["W1"]
        db1 = dZ1.sum(axis=1) if mistake == "db1 over axis 1" else dZ1.sum(axis=0)
        return {"Z2": dZ2, "W2": dW2, "b2": db2, "A1": dA1, "Z1": dZ1, "W1": dW1, "b1": db1}
    return backward


def momentum_with(mistake):
    def sgd_momentum_step(params, grads, velocity, learning_rate, momentum):
        for name in params:
            carried = 0 if mistake == "no carry" else momentum * velocity[name]
            velocity[name] = carried - learning_rate * grads[name]
            step = learning_rate * velocity[name] if mistake == "rate twice" else velocity[name]
            params[name] = params[name] - step if mistake == "minus" else params[name] + step
    return sgd_momentum_step


def relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


def swapped_cache_forward(X, params, activation=lambda Z: np.maximum(Z, 0)):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = activation(Z1)
    return A1 @ params["W2"] + params["b2"], (X, A1, Z1)


def softmax_of_whole_max(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)


WRONG = {   # case -> (check, its arguments made from the lesson's functions, words the message must hold)
    "relu_derivative 1 at 0": ("check_relu", lambda nb: (nb.relu, lambda Z: (Z >= 0).astype(Z.dtype)),
                               ["relu_derivative(Z) has the wrong values", "Z >= 0"]),
    "relu_derivative bool": ("check_relu", lambda nb: (nb.relu, lambda Z: Z > 0),
                             ["relu_derivative(Z) has dtype bool", ".astype(Z.dtype)"]),
    "relu minimum": ("check_relu", lambda nb: (lambda Z: np.minimum(Z, 0), nb.relu_derivative), ["relu(Z)", "np.minimum"]),
    "relu in place": ("check_relu", lambda nb: (relu_in_place, nb.relu_derivative), ["relu changed its argument Z in place"]),
    "softmax naive": ("check_softmax", lambda nb: (lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True),),
                      ["softmax(Z) contains nan", "row maximum is not subtracted"]),
    "softmax columns": ("check_softmax", lambda nb: (lambda Z: nb.softmax(Z.T).T,), ["softmax(Z) has the wrong", "axis 0"]),
    "softmax whole max": ("check_softmax", lambda nb: (softmax_of_whole_max,), ["softmax(Z)", "maximum of the whole array"]),
    "cross_entropy sum": ("check_cross_entropy", lambda nb: (nb.log_softmax, lambda Z, Y: -np.sum(Y * nb.log_softmax(Z))),
                          ["cross_entropy(Z, Y) has the wrong values", "the mean"]),
    "cross_entropy log of softmax": ("check_cross_entropy", lambda nb: (
        nb.log_softmax, lambda Z, Y: -np.sum(Y * np.log(nb.softmax(Z))) / len(Z)),
        ["cross_entropy(Z, Y) contains nan or inf", "log of a softmax"]),
    "cross_entropy per row": ("check_cross_entropy", lambda nb: (
        nb.log_softmax, lambda Z, Y: -np.sum(Y * nb.log_softmax(Z), axis=1)), ["cross_entropy(Z, Y) has shape (1,)", "one loss per row"]),
    "log_softmax as log of softmax": ("check_cross_entropy", lambda nb: (lambda Z: np.log(nb.softmax(Z)), nb.cross_entropy),
                                      ["log_softmax(Z)", "log of a softmax"]),
    "forward without b2": ("check_forward", lambda nb: (
        lambda X, p, activation=nb.relu: nb.forward(X, dict(p, b2=0 * p["b2"]), activation),), ["Z2", "b2 is not added"]),
    "forward returns probabilities": ("check_forward", lambda nb: (
        lambda X, p, activation=nb.relu: (nb.softmax(nb.forward(X, p)[0]), nb.forward(X, p)[1]),),
        ["Z2", "softmax is applied outside"]),
    "forward ignores activation": ("check_forward", lambda nb: (lambda X, p, activation=nb.relu: nb.forward(X, p),),
                                   ["did not use tanh"]),
    "forward cache swapped": ("check_forward", lambda nb: (swapped_cache_forward,), ["cache", "swapped"]),
    "backward no 1/m": ("check_backward", lambda nb: (backward_with("no 1/m"),), ["dZ2 is wrong", "1/m"]),
    "backward db2 scalar": ("check_backward", lambda nb: (backward_with("db2 scalar"),),
                            ["db2 has shape () where (4,)", "summed into a scalar"]),
    "backward dW2 transposed": ("check_backward", lambda nb: (backward_with("dW2 transposed"),),
                                ["dW2 has shape (4, 5) where (5, 4)", "transpose on the wrong side"]),
    "backward mask from dA1": ("check_backward", lambda nb: (backward_with("mask from dA1"),),
                               ["dZ1 is wrong", "mask is taken from dA1"]),
    "backward decay sign": ("check_backward", lambda nb: (backward_with("decay sign"),), ["dW1 is wrong", "wrong sign"]),
    "backward db1 over axis 1": ("check_backward", lambda nb: (backward_with("db1 over axis 1"),),
                                 ["db1 has shape (6,) where (5,)", "axis=1"]),
    "momentum no carry": ("check_sgd_momentum_step", lambda nb: (momentum_with("no carry"),),
                          ["params['W'] after step 2", "not carried over"]),
    "momentum minus": ("check_sgd_momentum_step", lambda nb: (momentum_with("minus"),),
                       ["params['W'] after step 1", "W <- W - V"]),
    "momentum rate twice": ("check_sgd_momentum_step", lambda nb: (momentum_with("rate twice"),),
                            ["params['W'] after step 1", "applied twice"]),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_usual_mistake_fails_its_check_naming_the_quantity_and_the_cause(nb, case):
    check, arguments, words = WRONG[case]
    with pytest.raises(checks.CheckFailed) as failure:
        getattr(checks, check)(*arguments(nb))
    assert all(word in str(failure.value) for word in words), str(failure.value)
    assert failure.value._render_traceback_() == str(failure.value).splitlines()


@pytest.mark.parametrize("check, arguments", [
    ("check_relu", 2), ("check_softmax", 1), ("check_cross_entropy", 2), ("check_forward", 1),
    ("check_backward", 1), ("check_sgd_momentum_step", 1)])
def test_a_stub_gives_one_line_naming_it(check, arguments):
    def unwritten(*args, **kwargs):
        raise NotImplementedError

    with pytest.raises(checks.NotWrittenYet) as failure:
        getattr(checks, check)(*[unwritten] * arguments)
    assert failure.value._render_traceback_() == ["not written yet: unwritten — replace the `raise` line in its "
                                                  "cell with your code"]


def raises_inside(*args, **kwargs):
    return 1 / 0


def mutating_backward(P, Y, cache, params, l2):
    P -= Y
    return backward_with(None)(P + Y, Y, cache, params, l2)


HOSTILE = {   # learner code that is wrong in a way no mistake table foresees: a clear message, never a crash
    "returns None": ("check_softmax", [lambda Z: None], "softmax(Z) is None where an array of shape (2, 3)"),
    "returns nan": ("check_softmax", [lambda Z: np.full_like(Z, np.nan)], "softmax(Z) contains nan or inf"),
    "raises": ("check_forward", [raises_inside], "forward raised ZeroDivisionError: division by zero (in raises_inside"),
    "wrong shape": ("check_relu", [lambda Z: np.maximum(Z, 0).ravel(), None], "relu(Z) has shape (10,) where (2, 5)"),
    "a list of gradients": ("check_backward", [lambda *args: [1, 2]], "backward returned [1, 2] (list) where a dict"),
    "a missing key": ("check_backward", [lambda *args: {"Z2": 0}], "backward's dict has no key 'W2'"),
    "mutates P": ("check_backward", [mutating_backward], "backward changed its argument P in place"),
    "momentum returns a dict": ("check_sgd_momentum_step", [lambda params, *args: {k: v + 1 for k, v in params.items()}],
                                "params are unchanged after step 1"),
    "a string loss": ("check_cross_entropy", [lambda Z: checks._log_softmax(Z), lambda Z, Y: "loss"],
                      "cross_entropy(Z, Y) is a str ('loss') where one number was expected"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_learner_code_gets_a_clear_message_not_a_checker_crash(case):
    check, arguments, message = HOSTILE[case]
    with pytest.raises(checks.CheckFailed) as failure:
        getattr(checks, check)(*arguments)
    assert message in str(failure.value)


# ---- sgd_epoch ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def epoch_data():
    """1,000 training images (uint8) and 200 preprocessed validation rows of the synthetic digits."""
    images, labels = synthetic_digits(1200, np.random.default_rng(5), max_shift=2)
    return images[:1000], labels[:1000], (images[1000:].reshape(200, -1) / np.float32(255)), labels[1000:]


def epoch_with(nb, mistake):
    def sgd_epoch(params, images, labels, batch_size, learning_rate, rng):
        if mistake == "a new dict":
            params = {name: value.copy() for name, value in params.items()}
        order = np.arange(len(images)) if mistake == "no shuffle" else rng.permutation(len(images))
        end = len(images) if mistake == "last batch" else len(images) // batch_size * batch_size
        for start in range(0, end, batch_size):
            batch = order[start:start + batch_size]
            Y = nb.one_hot(labels[start:start + batch_size] if mistake == "labels unshuffled" else labels[batch], 10)
            Z2, cache = nb.forward(nb.preprocess(images[batch]), params)
            grads = nb.backward(nb.softmax(Z2), Y, cache, params, l2=0.0)
            for name in params:
                params[name] = params[name] - learning_rate * grads[name]
    return sgd_epoch


@pytest.mark.parametrize("mistake, words", [
    ("last batch", "the last, incomplete batch was used"), ("labels unshuffled", "the labels were not shuffled"),
    ("no shuffle", "did not use rng"), ("a new dict", "params are unchanged")])
def test_a_wrong_epoch_fails_its_check_with_the_mistake_named(nb, epoch_data, mistake, words):
    images, labels, X_val, y_val = epoch_data
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_sgd_epoch(epoch_with(nb, mistake), nb.init_params, images, labels, X_val, y_val, nb.forward)
    assert words in str(failure.value)


def test_the_lessons_epoch_passes_and_an_epoch_that_raises_or_mutates_the_images_is_named(nb, epoch_data, capsys):
    images, labels, X_val, y_val = epoch_data
    checks.check_sgd_epoch(nb.sgd_epoch, nb.init_params, images, labels, X_val, y_val, nb.forward)
    assert capsys.readouterr().out.startswith("sgd_epoch: ok (one epoch")

    def mutates(params, images, *args):
        images[:] = 0
    for epoch, words in ((raises_inside, "sgd_epoch raised ZeroDivisionError"),
                         (mutates, "sgd_epoch changed its argument images in place")):
        with pytest.raises(checks.CheckFailed, match=words):
            checks.check_sgd_epoch(epoch, nb.init_params, images, labels, X_val, y_val, nb.forward)


def test_each_check_answers_in_under_5_seconds_on_the_real_data(nb, real_mnist_dir):
    from mnist_utils import load_mnist
    (images, labels), _ = load_mnist(real_mnist_dir)
    X_val, y_val = images[50_000:].reshape(10_000, -1) / np.float32(255), labels[50_000:]
    calls = {"check_relu": (nb.relu, nb.relu_derivative), "check_softmax": (nb.softmax,),
             "check_cross_entropy": (nb.log_softmax, nb.cross_entropy), "check_forward": (nb.forward,),
             "check_backward": (nb.backward,), "check_sgd_momentum_step": (nb.sgd_momentum_step,),
             "check_sgd_epoch": (nb.sgd_epoch, nb.init_params, images[:50_000], labels[:50_000], X_val, y_val, nb.forward)}
    for check, arguments in calls.items():
        start = time.perf_counter()
        getattr(checks, check)(*arguments)
        assert time.perf_counter() - start < 5, check


def test_the_momentum_reference_is_the_update_computed_by_hand():
    params, grads = checks._momentum_inputs()
    (W1, V1), (W2, V2) = checks._momentum_trajectory(params, grads, rate=0.1, mu=0.9)
    # step 1: V = -0.1 g1; step 2: V = 0.9 V + (-0.1 g2) = [[0.01, 0.08], [-0.245, -0.05]]; W <- W + V each time
    np.testing.assert_allclose(W1["W"], [[0.9, 2.2], [2.95, 4.0]])
    np.testing.assert_allclose(V2["W"], [[0.01, 0.08], [-0.245, -0.05]])
    np.testing.assert_allclose(W2["W"], [[0.91, 2.28], [2.705, 3.95]])
    np.testing.assert_allclose(W2["b"], [0.31, -0.49])


def test_the_backward_check_problem_keeps_clear_of_the_relu_kink():
    X, _, params = checks._small_problem(4, m=6, n=8, H=5, K=4)
    Z1 = X @ params["W1"] + params["b1"]
    assert np.abs(Z1).min() > 100 * 1e-5     # far more than the finite difference's step h
