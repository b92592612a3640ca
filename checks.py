"""Checks of the learner's code: gradient checks by central finite differences, and one check per exercise of the practice notebook.

`numerical_gradient`, `rel_error`, `verdict` and `print_gradient_check` serve the notebooks' own
gradient checks. The `check_<exercise>` functions serve practice.ipynb: each calls the learner's
functions on copies of small fixed inputs (or, for `sgd_epoch`, of the notebook's data), compares
what comes back with an independent reference, prints one line per function that passes, and at the
first difference raises `CheckFailed`, whose message names the quantity (`db2`, not "backward"),
what was expected and the usual mistake behind that kind of error. A function still raising
NotImplementedError gives `NotWrittenYet`. Both render in Jupyter as their message only, without a
traceback, and still stop Run All.
"""

import copy
import math
import traceback
from pathlib import Path

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of the scalar f() with respect to the array x, nudged in place and restored."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        above = f()
        flat[i] = original - h
        below = f()
        flat[i] = original
        flat_grad[i] = (above - below) / (2 * h)
    return grad


def rel_error(a, b, eps=1e-12):
    """Largest element-wise relative error |a - b| / (|a| + |b|); eps only guards against 0/0."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def verdict(error):
    """Below 1e-7 a gradient is right, above 1e-2 it is broken, between the two it deserves a closer look."""
    return "ok" if error < 1e-7 else "look closer" if error < 1e-2 else "BROKEN"


def print_gradient_check(errors):
    """One line per gradient: its name, the largest relative error and the verdict."""
    for name, error in errors.items():
        print(f"d{name:3}: relative error {error:.1e}  {verdict(error)}")


# ---- What a failed check raises ------------------------------------------------------------------

class CheckFailed(AssertionError):
    """A learner's function gave a wrong result; the message says which quantity, what was expected and why."""

    def _render_traceback_(self):       # IPython shows these lines instead of a traceback
        return str(self).splitlines()


class NotWrittenYet(NotImplementedError):
    """Raised by a stub of practice.ipynb (and by a check that meets one): one line naming the function."""

    def __init__(self, function, see=None):
        where = f" (its derivation: '{see}' above)" if see else ""
        super().__init__(f"not written yet: {function} — replace the `raise` line in its cell with your code{where}")
        self.function = function

    def _render_traceback_(self):
        return [str(self)]


# ---- Calling the learner's code safely -------------------------------------------------------------

ERROR_HINTS = (   # (words in an exception's message, the usual mistake behind it)
    ("could not be broadcast", "two arrays whose shapes do not fit: a reduction without keepdims=True, or a "
                               "transpose on the wrong side? Print the shapes and compare them with the table of symbols"),
    ("matmul", "a matrix product whose inner sizes differ: its operands in the wrong order or a missing .T? "
               "Print the shapes and compare them with the table of symbols"),
    ("shapes", "a matrix product whose inner sizes differ: its operands in the wrong order or a missing .T?"),
)


def _location(error):
    """'in softmax, line 3: E = np.exp(Z)': the last frame of the traceback that is not NumPy's or this module's."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve() != Path(__file__).resolve()
              and "site-packages" not in frame.filename and "numpy" not in Path(frame.filename).parts]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (in {frame.name}, line {frame.lineno}: {frame.line})" if frame.line else f" (in {frame.name})"


def _run(name, function, *args, **kwargs):
    """function(*args) itself (for the in-place exercises), with NotWrittenYet for a stub and CheckFailed for any
    exception inside it."""
    try:
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)
    except NotWrittenYet:
        raise
    except NotImplementedError as error:
        raise NotWrittenYet(getattr(function, "__name__", name)) from error
    except Exception as error:  # the learner's code may fail in any way; say where and how
        message = str(error).strip() or "(no message)"
        hint = next((hint for words, hint in ERROR_HINTS if words in message), None)
        raise CheckFailed(f"{name} raised {type(error).__name__}: {message}{_location(error)}"
                          + (f"\n  the usual cause: {hint}" if hint else "")) from error


def _call(name, function, *args, **kwargs):
    """_run on copies of args. Returns (result, copies): compare the copies with the originals to see what the
    function changed."""
    copies = copy.deepcopy(args)
    return _run(name, function, *copies, **kwargs), copies


def _same(a, b):
    """Equal values, shapes and dtypes, nested through dicts, tuples and lists (nan equal to nan)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    return a is b or a == b


def _unchanged(name, argument_names, originals, copies, in_place=()):
    """CheckFailed naming the first argument (not meant to be updated in place) that the call changed."""
    for argument, original, after in zip(argument_names, originals, copies):
        if argument not in in_place and not _same(original, after):
            raise CheckFailed(f"{name} changed its argument {argument} in place: compute a new array instead "
                              f"(e.g. `A = {argument} - ...`, not `{argument} -= ...` or `{argument}[...] = ...`); "
                              "the caller still needs the original")


def _show(value):
    """A short, readable rendering of an array or a number."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, threshold=12, edgeitems=2, suppress_small=True,
                               separator=", ").replace("\n", "")
    return repr(value)


def _as_array(quantity, value, what="an array"):
    """value as an ndarray, or CheckFailed saying what came back instead (None, a list, a dict, ...)."""
    if value is None:
        raise CheckFailed(f"{quantity} is None where {what} was expected: is the `return` missing?")
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (int, float, np.generic)) and not isinstance(value, bool):
        return np.asarray(value)
    raise CheckFailed(f"{quantity} is a {type(value).__name__} ({_show(value)[:80]}) where {what} was expected")


def _check_array(quantity, got, expected, *, mistakes=(), shape_hints=None, dtype=None, rtol=1e-6, atol=1e-9,
                 shown_input=""):
    """CheckFailed unless `got` is an array of expected's shape (and `dtype`), finite where expected is,
    and close to it; `mistakes` [(description, wrong array)] name the mistake when `got` matches one."""
    got = _as_array(quantity, got, f"an array of shape {expected.shape}")
    cause = _matching_mistake(got, expected, mistakes, rtol, atol)
    if cause:
        raise CheckFailed(_wrong_message(quantity, got, expected, shown_input) + f"\n  the usual cause: {cause}")
    if got.shape != expected.shape:
        hint = (shape_hints or {}).get(got.shape)
        raise CheckFailed(f"{quantity} has shape {got.shape} where {expected.shape} was expected"
                          + (f": {hint}" if hint else ""))
    if dtype is not None and got.dtype != dtype:
        raise CheckFailed(f"{quantity} has dtype {got.dtype} where {np.dtype(dtype)} was expected (the dtype of the "
                          f"input): {_dtype_hint(got.dtype, dtype)}")
    if not _close(got, expected, rtol, atol):
        raise CheckFailed(_wrong_message(quantity, got, expected, shown_input))
    return got


def _matching_mistake(got, expected, mistakes, rtol=1e-6, atol=1e-9):
    """The description of the first wrong version that `got` equals (and the right answer does not)."""
    return next((description for description, wrong in mistakes
                 if _close(got, wrong, rtol, atol) and not _close(wrong, expected, rtol, atol)), None)


def _dtype_hint(got, wanted):
    if got == np.bool_:
        return "a comparison gives booleans; turn them into numbers with .astype(Z.dtype)"
    if np.dtype(got).kind in "iu":
        return "integers: .astype(Z.dtype) keeps the input's float type"
    if np.dtype(got) == np.float64 and np.dtype(wanted) == np.float32:
        return "a float64 constant or array was mixed in (np.float64(...), np.array([...]) or .astype(float)); " \
               "keep the input's dtype, e.g. .astype(Z.dtype)"
    return "keep the input's dtype, e.g. .astype(Z.dtype)"


def _close(a, b, rtol, atol):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _wrong_message(quantity, got, expected, shown_input=""):
    where = f" for {shown_input}" if shown_input else ""
    if got.shape != expected.shape:
        return f"{quantity} has shape {got.shape} where {expected.shape} was expected{where}"
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return f"{quantity} contains nan or inf{where}: {_show(got)}, expected {_show(expected)}"
    difference = np.abs(got.astype(np.float64) - expected)
    return (f"{quantity} has the wrong values{where}: {_show(got)}, expected {_show(expected)} "
            f"(largest difference {difference.max():.3g}, relative error {rel_error(got, expected):.1e})")


def _passed(name, what):
    print(f"{name}: ok ({what})")


# ---- Independent references ------------------------------------------------------------------------

def _relu(Z):
    return np.maximum(Z, 0)


def _relu_derivative(Z):
    return (Z > 0).astype(Z.dtype)


def _softmax(Z, axis=1):
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy(Z, Y):
    return float(-np.sum(Y * _log_softmax(Z)) / len(Z))


def _forward(X, params, activation=_relu):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = activation(Z1)
    return A1 @ params["W2"] + params["b2"], (X, Z1, A1)


def _backward(P, Y, cache, params, l2):
    X, Z1, A1 = cache
    dZ2 = (P - Y) / len(X)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * _relu_derivative(Z1)
    return {"Z2": dZ2, "W2": A1.T @ dZ2 + l2 * params["W2"], "b2": dZ2.sum(axis=0), "A1": dA1, "Z1": dZ1,
            "W1": X.T @ dZ1 + l2 * params["W1"], "b1": dZ1.sum(axis=0)}


def _preprocess(images):
    return images.reshape(len(images), -1) / np.float32(255)


def _one_hot(labels, num_classes):
    Y = np.zeros((len(labels), num_classes), dtype=np.float32)
    Y[np.arange(len(labels)), labels] = 1
    return Y


def _reference_sgd_epoch(params, images, labels, batch_size, learning_rate, rng, *, include_last=False,
                         shuffle_labels=True, rate_factor=1.0, l2=0.0):
    """The lesson's epoch of plain mini-batch SGD, in place; the keywords make the usual wrong variants."""
    order = rng.permutation(len(images))
    end = len(images) if include_last else len(images) // batch_size * batch_size
    for start in range(0, end, batch_size):
        batch = order[start:start + batch_size]
        X = _preprocess(images[batch])
        Y = _one_hot(labels[batch if shuffle_labels else slice(start, start + batch_size)], 10)
        Z2, cache = _forward(X, params)
        grads = _backward(_softmax(Z2), Y, cache, params, l2)
        for name in params:
            params[name] -= rate_factor * learning_rate * grads[name]


# ---- The checks, one per exercise cell ---------------------------------------------------------------

RELU_INPUT = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0], [3.0, -1.0, 1e-3, -1e-3, 0.0]])   # (2, 5): the kink at 0 too


def check_relu(relu, relu_derivative):
    """ReLU and its derivative: values on a fixed (2, 5) input with zeros, the shape, float32 kept, the input unchanged."""
    for Z in (RELU_INPUT, RELU_INPUT.astype(np.float32)):
        shown = f"Z = {_show(Z)} ({Z.dtype})"
        result, (after,) = _call("relu", relu, Z)
        _check_array("relu(Z)", result, _relu(Z), dtype=Z.dtype, shown_input=shown, mistakes=[
            ("np.minimum where np.maximum belongs: ReLU keeps the positive values and sets the negative ones to 0",
             np.minimum(Z, 0)),
            ("that is the derivative (a 0/1 mask); ReLU itself is max(0, Z): np.maximum(Z, 0)", _relu_derivative(Z)),
            ("nothing was cut: the negative values must become 0 (np.maximum(Z, 0))", Z),
            ("np.abs(Z) makes negatives positive; ReLU sets them to 0", np.abs(Z))])
        _unchanged("relu", ["Z"], [Z], [after])
        result, (after,) = _call("relu_derivative", relu_derivative, Z)
        _check_array("relu_derivative(Z)", result, _relu_derivative(Z), dtype=Z.dtype, shown_input=shown, mistakes=[
            ("1 at exactly Z = 0: the lesson takes 0 at the kink, so the mask is Z > 0, not Z >= 0",
             (Z >= 0).astype(Z.dtype)),
            ("that is ReLU itself; its derivative is 1 where Z > 0 and 0 elsewhere", _relu(Z)),
            ("the mask is upside down: 1 where Z > 0, 0 elsewhere (Z > 0, not Z < 0)", (Z < 0).astype(Z.dtype)),
            ("the derivative of ReLU is 1 where Z > 0 and 0 elsewhere, not 1 everywhere", np.ones_like(Z))])
        _unchanged("relu_derivative", ["Z"], [Z], [after])
    _passed("relu", "values, shape, dtype kept, Z unchanged")
    _passed("relu_derivative", "values, 0 at the kink, shape, dtype kept, Z unchanged")


SOFTMAX_INPUTS = (np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),                 # hand-computed below
                  np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]),  # e^1000 overflows
                  np.array([[-2000.0, -1999.0, -1998.0], [0.0, 1.0, 2.0]]))      # rows 2000 apart
SOFTMAX_123 = np.array([1.0, math.e, math.e ** 2]) / (1 + math.e + math.e ** 2)   # [0.0900, 0.2447, 0.6652]


def _naive_softmax(Z):
    with np.errstate(all="ignore"):
        return np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)


def _softmax_of_whole_max(Z):
    with np.errstate(all="ignore"):
        E = np.exp(Z - Z.max())
        return E / E.sum(axis=1, keepdims=True)


def check_softmax(softmax):
    """Softmax: hand-computed rows, scores of ±1000 (finite, rows sum to 1), the shape, float32 kept, Z unchanged."""
    small, large, apart = SOFTMAX_INPUTS
    expected_small = np.array([SOFTMAX_123, [1 / 3] * 3])
    for Z, expected in ((small, expected_small), (large, np.array([SOFTMAX_123, [0.0, 0.0, 1.0]])),
                        (apart, np.array([SOFTMAX_123, SOFTMAX_123])),
                        (small.astype(np.float32), expected_small.astype(np.float32))):
        result, (after,) = _call("softmax", softmax, Z)
        rtol = 1e-5 if Z.dtype == np.float32 else 1e-9
        _check_array("softmax(Z)", result, expected, dtype=Z.dtype, rtol=rtol, atol=1e-7,
                     shown_input=f"Z = {_show(Z)}", mistakes=[
            ("the maximum of the whole array was subtracted; each row needs its own: Z.max(axis=1, keepdims=True)",
             _softmax_of_whole_max(Z)),
            ("the row maximum is not subtracted: e^1000 overflows to inf and inf/inf is nan. "
             "Subtract it first: np.exp(Z - Z.max(axis=1, keepdims=True))", _naive_softmax(Z)),
            ("normalised over axis 0 (the columns); each row must sum to 1: sum(axis=1, keepdims=True)",
             _softmax(Z, axis=0)),
            ("the exponentials were not divided by their row sums", np.exp(Z - Z.max(axis=1, keepdims=True)))])
        _unchanged("softmax", ["Z"], [Z], [after])
    _passed("softmax", "values, scores of ±1000 finite and rows summing to 1, shape, dtype kept, Z unchanged")


CROSS_ENTROPY_CASES = (   # (what, scores Z, one-hot Y, loss worked out by hand)
    ("scores [0, ln 3] (probabilities [1/4, 3/4]) and class 1", [[0.0, math.log(3)]], [[0.0, 1.0]], -math.log(3 / 4)),
    ("two rows, classes 1 and 1", [[0.0, math.log(3)], [math.log(3), 0.0]], [[0.0, 1.0], [0.0, 1.0]],
     -(math.log(3 / 4) + math.log(1 / 4)) / 2),
    ("three rows of three classes", [[0.0, 0.0, 0.0], [0.0, math.log(2), 0.0], [5.0, 5.0, 5.0]],
     [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], (math.log(3) + math.log(2) + math.log(3)) / 3),
    ("confident and wrong: scores [1000, 0], class 1", [[1000.0, 0.0]], [[0.0, 1.0]], 1000.0),
)


def check_cross_entropy(log_softmax, cross_entropy):
    """log_softmax: values, ±1000 finite, shape, dtype; cross_entropy: hand-computed losses, a finite loss for
    confident-wrong scores, one number (the mean over rows); neither changes its arguments."""
    for Z in (*SOFTMAX_INPUTS, SOFTMAX_INPUTS[0].astype(np.float32)):
        result, (after,) = _call("log_softmax", log_softmax, Z)
        with np.errstate(all="ignore"):
            log_of_softmax = np.log(_softmax(Z))
            naive_log_softmax = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        _check_array("log_softmax(Z)", result, _log_softmax(Z), dtype=Z.dtype, rtol=1e-5, atol=1e-6,
                     shown_input=f"Z = {_show(Z)}", mistakes=[
            ("the log of a softmax that rounded to 0 is -inf: compute it from the shifted scores, "
             "Z - c - log(sum(exp(Z - c))) with c the row maximum", log_of_softmax),
            ("the row maximum is not subtracted before np.exp, so e^1000 overflows", naive_log_softmax),
            ("that is softmax, not its logarithm", _softmax(Z))])
        _unchanged("log_softmax", ["Z"], [Z], [after])
    for what, Z, Y, loss in CROSS_ENTROPY_CASES:
        Z, Y = np.array(Z), np.array(Y)
        result, (Z_after, Y_after) = _call("cross_entropy", cross_entropy, Z, Y)
        got = _as_array("cross_entropy(Z, Y)", result, "one number")
        per_row = -np.sum(Y * _log_softmax(Z), axis=1)
        if got.shape != ():
            hint = ("it returns one loss per row; the loss is their mean, a single number"
                    if got.shape == (len(Z),) else "the loss is a single number: sum Y * log_softmax(Z) over "
                    "everything, then divide by the number of rows")
            raise CheckFailed(f"cross_entropy(Z, Y) has shape {got.shape} where one number (shape ()) was expected "
                              f"for {what}: {hint}")
        _check_array("cross_entropy(Z, Y)", got, np.asarray(loss), rtol=1e-6, atol=1e-9,
                     shown_input=f"{what} (Z = {_show(Z)}, Y = {_show(Y)})", mistakes=[
            ("summed over the rows: the loss is the mean, so divide by the number of rows m = len(Z)",
             np.asarray(per_row.sum())),
            ("np.mean over every entry divides by m·K; the loss divides the sum by the number of rows m only",
             np.asarray(per_row.sum() / Z.size)),
            ("the sign: the loss is MINUS the mean log-probability of the right class", np.asarray(-loss)),
            ("the log of a softmax that rounded to 0 is -inf: use log_softmax(Z), computed from the scores",
             np.asarray(np.inf)),
            ("log_softmax(Z) gives log-probabilities already; taking np.log of them again gives nan",
             np.asarray(np.nan))])
        _unchanged("cross_entropy", ["Z", "Y"], [Z, Y], [Z_after, Y_after])
    _passed("log_softmax", "values, scores of ±1000 finite, shape, dtype kept, Z unchanged")
    _passed("cross_entropy", f"{len(CROSS_ENTROPY_CASES)} hand-computed losses, 1000 for confident-wrong scores, "
                             "one number, arguments unchanged")


def _small_problem(seed, m, n, H, K, dtype=np.float64):
    """A fixed random problem: X (m, n), one-hot Y (m, K), params with non-zero biases."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    Y = np.eye(K, dtype=dtype)[rng.integers(0, K, size=m)]
    params = {"W1": rng.standard_normal((n, H)).astype(dtype) * np.sqrt(2 / n).astype(dtype),
              "b1": rng.standard_normal(H).astype(dtype) * dtype(0.1),
              "W2": rng.standard_normal((H, K)).astype(dtype) * np.sqrt(2 / H).astype(dtype),
              "b2": rng.standard_normal(K).astype(dtype) * dtype(0.1)}
    return X, Y, params


def check_forward(forward):
    """forward on a fixed (3, 6) -> 5 -> 4 problem: the scores and the cache (X, Z1, A1) by value, the activation
    argument used, float32 kept, X and params unchanged."""
    X, _, params = _small_problem(1, m=3, n=6, H=5, K=4)
    for X, params in ((X, params), (X.astype(np.float32), {k: v.astype(np.float32) for k, v in params.items()})):
        result, (X_after, params_after) = _call("forward", forward, X, params)
        Z2, (_, Z1, A1) = _forward(X, params)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CheckFailed(f"forward returned {_show(result)[:60]} ({type(result).__name__}) where the pair "
                              "(Z2, cache) was expected: `return Z2, (X, Z1, A1)`")
        got_Z2, cache = result
        tol = dict(dtype=X.dtype, rtol=1e-5 if X.dtype == np.float32 else 1e-9, atol=1e-6)
        _check_array("Z2 (forward's scores)", got_Z2, Z2, **tol, shape_hints={
            (3, 5): "that is the hidden layer's shape (m, H); Z2 = A1 @ W2 + b2 has one score per class (m, K)"},
            mistakes=[("b1 is not added: Z1 = X @ W1 + b1", _forward(X, dict(params, b1=0 * params["b1"]))[0]),
                      ("b2 is not added: Z2 = A1 @ W2 + b2", Z2 - params["b2"]),
                      ("forward returns the scores Z2; softmax is applied outside it, where probabilities are needed",
                       _softmax(Z2)),
                      ("ReLU belongs to the hidden layer only; the output scores Z2 are not passed through it",
                       _relu(Z2)),
                      ("the activation is not applied: A1 = activation(Z1)", Z1 @ params["W2"] + params["b2"])])
        if not (isinstance(cache, tuple) and len(cache) == 3):
            raise CheckFailed(f"forward's cache is {_show(cache)[:60]} ({type(cache).__name__}) where the tuple "
                              "(X, Z1, A1) was expected, the values backward needs")
        if _close(cache[1], A1, 1e-6, 1e-6) and _close(cache[2], Z1, 1e-6, 1e-6) and not _close(Z1, A1, 1e-6, 1e-6):
            raise CheckFailed("forward's cache holds A1 and Z1 swapped: it is (X, Z1, A1), in that order")
        for name, got, expected in zip(("X", "Z1", "A1"), cache, (X, Z1, A1)):
            _check_array(f"{name} (in forward's cache)", got, expected, **tol,
                         mistakes=[("A1 is the activation of Z1: A1 = activation(Z1)", Z1)] if name == "A1" else ())
        _unchanged("forward", ["X", "params"], [X, params], [X_after, params_after])
    result, _ = _call("forward", forward, X, params, activation=np.tanh)
    if not (isinstance(result, tuple) and _close(result[0], _forward(X, params, np.tanh)[0], 1e-5, 1e-6)):
        raise CheckFailed("forward(X, params, activation=np.tanh) did not use tanh: apply the `activation` "
                          "argument, A1 = activation(Z1), not relu(Z1) (section 6 passes other activations)")
    _passed("forward", "scores, cache (X, Z1, A1), the activation argument, dtype kept, arguments unchanged")


GRADIENT_NAMES = ("Z2", "W2", "b2", "A1", "Z1", "W1", "b1")   # in the order backward computes them
GRADIENT_TOLERANCE = 1e-6   # relative error to the finite difference; a right gradient gives about 1e-9 here


def _finite_differences(X, Y, params, l2):
    """∂L/∂(each tensor) by central differences: for a parameter, L is the whole forward pass;
    for Z2, A1 and Z1, the rest of the forward pass from that tensor on."""
    Z2, (_, Z1, A1) = _forward(X, params)

    def loss():
        return _cross_entropy(_forward(X, params)[0], Y) + l2 / 2 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))

    W2, b2 = params["W2"], params["b2"]
    loss_from = {"Z2": (lambda: _cross_entropy(Z2, Y), Z2), "A1": (lambda: _cross_entropy(A1 @ W2 + b2, Y), A1),
                 "Z1": (lambda: _cross_entropy(_relu(Z1) @ W2 + b2, Y), Z1),
                 **{name: (loss, value) for name, value in params.items()}}
    return {name: numerical_gradient(*loss_from[name]) for name in GRADIENT_NAMES}


def _backward_mistakes(P, Y, X, Z1, A1, params, l2, right):
    """For each gradient, the usual wrong versions [(the mistake, the wrong array)], built from the right upstream values."""
    m, W1 = len(X), params["W1"]
    dZ2, dA1, dZ1 = right["Z2"], right["A1"], right["Z1"]
    mask = _relu_derivative(Z1)

    def weights(name, right_inputs, d_out, right_inputs_name, d_name, wrong_inputs=None, inputs_name=None):
        W, inputs = params[name], right_inputs
        return [(f"the weight-decay term is missing: d{name} = {right_inputs_name}.T @ {d_name} + l2 * {name}",
                 inputs.T @ d_out),
                (f"weight decay with the wrong sign: the penalty (λ/2)‖{name}‖² adds + l2 * {name} to the gradient",
                 inputs.T @ d_out - l2 * W),
                (f"the gradient of (λ/2)‖{name}‖² is λ·{name}, not 2λ·{name}", inputs.T @ d_out + 2 * l2 * W),
                (f"the gradient of (λ/2)‖{name}‖² is λ·{name}, not λ/2·{name}", inputs.T @ d_out + l2 / 2 * W),
                (f"divided by m twice: {d_name} already carries the 1/m", inputs.T @ d_out / m + l2 * W),
                (f"transpose on the wrong side: d{name} = {right_inputs_name}.T @ {d_name} has the shape of "
                 f"{name}; {d_name}.T @ {right_inputs_name} is its transpose", (inputs.T @ d_out + l2 * W).T),
                *([(f"{inputs_name} used where {right_inputs_name}, the input of this layer, belongs",
                    wrong_inputs.T @ d_out + l2 * W)] if wrong_inputs is not None else [])]

    def bias(name, d_out, d_name, other=None):
        K = d_out.shape[1]
        wrong = [(f"summed into a scalar: a bias gradient sums over the batch axis only, d{name} = "
                  f"{d_name}.sum(axis=0), shape ({K},); a scalar broadcasts silently in the update",
                  np.asarray(d_out.sum())),
                 (f"summed over axis=1 (the units); a bias gradient sums over the batch, axis=0", d_out.sum(axis=1)),
                 (f"keepdims=True leaves shape (1, {K}); {name} has shape ({K},)", d_out.sum(axis=0, keepdims=True)),
                 (f"the mean over the batch divides by m a second time: {d_name} already carries the 1/m, "
                  "so it is .sum(axis=0)", d_out.mean(axis=0)),
                 (f"weight decay applied to the bias: only the weights are penalised", d_out.sum(axis=0) + l2 * params[name])]
        if other is not None:
            wrong.append((f"summed {other[0]} where {d_name} belongs", other[1].sum(axis=0)))
        return wrong

    return {
        "Z2": [("the 1/m is missing: the loss is a mean over the m rows, so dZ2 = (P - Y) / m", P - Y),
               ("the sign: dZ2 = (P - Y) / m, not (Y - P) / m", (Y - P) / m),
               ("divided by m twice", (P - Y) / m ** 2),
               ("divided by the number of classes; divide by the number of rows m = len(X)", (P - Y) / P.shape[1]),
               ("softmax applied to P again: backward receives the probabilities P = softmax(Z2) already",
                (_softmax(P) - Y) / m)],
        "W2": weights("W2", A1, dZ2, "A1", "dZ2", wrong_inputs=Z1, inputs_name="Z1"),
        "b2": bias("b2", dZ2, "dZ2"),
        "A1": [("the ReLU mask belongs to the next line, dZ1 = dA1 * g'(Z1); dA1 itself is dZ2 @ W2.T", dA1 * mask),
               ("the weight decay belongs to dW2 only; dA1 = dZ2 @ W2.T", dA1 + l2)],
        "Z1": [("the ReLU mask is taken from dA1; it is g'(Z1): 1 where Z1 > 0", dA1 * (dA1 > 0)),
               ("the ReLU's derivative is missing: dZ1 = dA1 * g'(Z1)", dA1),
               ("multiplied by the activation g(Z1) instead of its derivative g'(Z1)", dA1 * _relu(Z1)),
               ("the mask is upside down: g'(Z1) is 1 where Z1 > 0", dA1 * (Z1 < 0))],
        "W1": weights("W1", X, dZ1, "X", "dZ1") + [
            ("dA1 used where dZ1 (after the ReLU mask) belongs: dW1 = X.T @ dZ1 + l2 * W1", X.T @ dA1 + l2 * W1)],
        "b1": bias("b1", dZ1, "dZ1", other=("dA1 (before the ReLU mask)", dA1)),
    }


def check_backward(backward):
    """Every gradient backward returns, against central finite differences in float64 on a fixed
    (6, 8) -> 5 -> 4 problem with l2 = 0.1, one line per tensor; the arguments unchanged."""
    X, Y, params = _small_problem(4, m=6, n=8, H=5, K=4)
    l2 = 0.1
    Z2, cache = _forward(X, params)
    P = _softmax(Z2)
    result, (P_after, Y_after, cache_after, params_after, _) = _call("backward", backward, P, Y, cache, params, l2)
    if not isinstance(result, dict):
        raise CheckFailed(f"backward returned {_show(result)[:60]} ({type(result).__name__}) where a dict of "
                          f"gradients was expected, with the keys {', '.join(map(repr, GRADIENT_NAMES))}"
                          + (": is the `return` missing?" if result is None else ""))
    missing = [name for name in GRADIENT_NAMES if name not in result]
    if missing:
        raise CheckFailed(f"backward's dict has no key {missing[0]!r} (its keys: {', '.join(map(repr, result))}); "
                          f"it holds one gradient per tensor, {', '.join(map(repr, GRADIENT_NAMES))}")
    right = _backward(P, Y, cache, params, l2)
    numeric = _finite_differences(X, Y, params, l2)
    mistakes = _backward_mistakes(P, Y, X, cache[1], cache[2], params, l2, right)
    shapes = {"Z2": "(m, K)", "W2": "(H, K)", "b2": "(K,)", "A1": "(m, H)", "Z1": "(m, H)", "W1": "(n, H)", "b1": "(H,)"}
    for name in GRADIENT_NAMES:
        quantity = f"d{name}"
        got = _as_array(quantity, result[name], f"an array of shape {numeric[name].shape}, the shape of {name}")
        if got.shape == numeric[name].shape and np.all(np.isfinite(got)):
            error = rel_error(got, numeric[name])
            print(f"{quantity:3}: relative error {error:.1e} to the finite difference  {verdict(error)}")
            if error < GRADIENT_TOLERANCE:
                if got.dtype != np.float64:
                    raise CheckFailed(f"{quantity} has dtype {got.dtype} where float64, the dtype of the inputs, "
                                      f"was expected: {_dtype_hint(got.dtype, np.float64)}")
                continue
        else:
            print(f"{quantity:3}: shape {got.shape}, expected {numeric[name].shape}  BROKEN")
        message = (f"{quantity} has shape {got.shape} where {numeric[name].shape} (the shape of {name}, "
                   f"{shapes[name]}) was expected" if got.shape != numeric[name].shape else
                   f"{quantity} is wrong: {_show(got)}, the finite difference gives {_show(numeric[name])} "
                   f"(relative error {rel_error(got, numeric[name]):.1e}; right is below {GRADIENT_TOLERANCE:g})")
        cause = _matching_mistake(got, right[name], mistakes[name])
        if cause is None and got.shape != numeric[name].shape:
            cause = next((description for description, wrong in mistakes[name] if np.shape(wrong) == got.shape),
                         f"each gradient has the shape of its tensor: d{name} like {name}, {shapes[name]}")
        if cause is None:
            cause = ("compare this line of backward with the derivation above; the rows printed before it are right, "
                     "so the mistake is in this line (or in what it uses)")
        raise CheckFailed(message + f"\n  the usual cause: {cause}")
    for argument, original, after in zip(("P", "Y", "cache", "params"), (P, Y, cache, params),
                                         (P_after, Y_after, cache_after, params_after)):
        _unchanged("backward", [argument], [original], [after])
    _passed("backward", "every gradient matches the finite difference, shapes and dtype kept, arguments unchanged")


MOMENTUM_CASE = dict(learning_rate=0.1, momentum=0.9)


def _momentum_inputs():
    params = {"W": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), "b": np.array([0.5, -0.5], dtype=np.float32)}
    grads = [{"W": np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32), "b": np.array([1.0, 1.0], dtype=np.float32)},
             {"W": np.array([[-1.0, 1.0], [2.0, 0.5]], dtype=np.float32), "b": np.array([0.0, -2.0], dtype=np.float32)}]
    return params, grads


def _momentum_trajectory(params, grads, rate, mu, variant=None):
    """params and velocity after each step, by the lesson's rule or a usual wrong one."""
    W = {k: v.astype(np.float64) for k, v in params.items()}
    V = {k: np.zeros_like(v) for k, v in W.items()}
    steps = []
    for g in grads:
        for k in W:
            if variant == "no carry":
                V[k] = -rate * g[k]
            elif variant == "other convention":          # V <- μV + g; W <- W - αV
                V[k] = mu * V[k] + g[k]
            elif variant == "old velocity":              # W moved by the velocity of the previous step
                W[k] = W[k] + V[k]
                V[k] = mu * V[k] - rate * g[k]
                continue
            else:
                V[k] = mu * V[k] - rate * g[k]
            if variant == "other convention":
                W[k] = W[k] - rate * V[k]
            elif variant == "minus":
                W[k] = W[k] - V[k]
            elif variant == "rate twice":
                W[k] = W[k] + rate * V[k]
            elif variant == "plain":
                W[k] = W[k] - rate * g[k]
            else:
                W[k] = W[k] + V[k]
        steps.append(({k: v.copy() for k, v in W.items()}, {k: v.copy() for k, v in V.items()}))
    return steps


MOMENTUM_MISTAKES = {
    "no carry": "the velocity is not carried over from one step to the next: V must be kept in the velocity dict "
                "(velocity[name] = μ·velocity[name] - α·dW) so that the second step adds μ times the first",
    "other convention": "the velocity holds μV + dW and the step is W - αV (another convention); this lesson's "
                        "velocity is V <- μV - α·dW and the step W <- W + V, which differ once α changes",
    "old velocity": "W moved by the velocity of the previous step: update V first, then W <- W + V",
    "minus": "W <- W - V: V already carries the minus sign (V <- μV - α·dW), so the step is W <- W + V",
    "rate twice": "the learning rate is applied twice: V <- μV - α·dW already holds it, so W <- W + V",
    "plain": "that is plain SGD (W <- W - α·dW): the velocity is not used",
}


def check_sgd_momentum_step(sgd_momentum_step):
    """Two steps on a fixed float32 problem against the hand-computed V <- μV - α·dW; W <- W + V (so that the
    velocity's carry-over is tested), params and velocity updated in place, the gradients unchanged."""
    params, all_grads = _momentum_inputs()
    rate, mu = MOMENTUM_CASE["learning_rate"], MOMENTUM_CASE["momentum"]
    expected = _momentum_trajectory(params, all_grads, rate, mu)
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    for step, grads in enumerate(all_grads, start=1):
        before = {k: v.copy() for k, v in params.items()}
        pristine_grads = copy.deepcopy(grads)
        returned = _run("sgd_momentum_step", sgd_momentum_step, params, grads, velocity, rate, mu)
        _unchanged("sgd_momentum_step", ["grads"], [pristine_grads], [grads])
        where = f"after step {step} (learning rate {rate}, momentum {mu}, W = [[1, 2], [3, 4]], b = [0.5, -0.5])"
        if all(_same(before[k], params.get(k)) for k in before):
            if step == 1 and any(np.any(velocity.get(k, 0) != 0) for k in before):
                raise CheckFailed(f"params are unchanged {where}, though the velocity changed: "
                                  f"{MOMENTUM_MISTAKES['old velocity']}")
            raise CheckFailed(f"params are unchanged {where}: update them in place (params[name] += velocity[name]); "
                              "the function returns nothing" + (", and the dict it returned is not used"
                                                               if returned is not None else ""))
        for name in before:
            W_expected, V_expected = expected[step - 1][0][name], expected[step - 1][1][name]
            got = params[name]
            mistakes = [(description, _momentum_trajectory(_momentum_inputs()[0], all_grads, rate, mu, variant)
                         [step - 1][0][name]) for variant, description in MOMENTUM_MISTAKES.items()
                        if variant != "other convention"]
            _check_array(f"params[{name!r}] {where}", got, W_expected.astype(np.float32), dtype=np.float32,
                         rtol=1e-5, atol=1e-6, mistakes=mistakes)
            other = _momentum_trajectory(_momentum_inputs()[0], all_grads, rate, mu, "other convention")[step - 1][1][name]
            _check_array(f"velocity[{name!r}] {where}", velocity.get(name), V_expected.astype(np.float32),
                         dtype=np.float32, rtol=1e-5, atol=1e-6, mistakes=[
                             (MOMENTUM_MISTAKES["other convention"], other),
                             ("the velocity dict is not updated: velocity[name] must hold the new V "
                              "(assigning to a local name does not change the dict)", np.zeros_like(V_expected))])
    _passed("sgd_momentum_step", "two steps as computed by hand, the velocity carried over, updated in place, "
                                 "dtype kept, grads unchanged")


SGD_EPOCH_CASE = dict(hidden=64, batch_size=128, learning_rate=0.1, seed=12345)
ACCURACY_TOLERANCE = 0.005   # float32 rounding in another order (another BLAS) moves one epoch's accuracy a little
WEIGHT_TOLERANCE = 0.02      # ... and the weights by up to about 1 % of their largest value

SGD_EPOCH_MISTAKES = (   # (keywords of _reference_sgd_epoch, the mistake)
    (dict(include_last=True), "the last, incomplete batch was used; the lesson skips it: "
                              "range(0, len(images) // batch_size * batch_size, batch_size)"),
    (dict(shuffle_labels=False), "the labels were not shuffled with the images: labels[batch], with the same "
                                 "indices as images[batch]"),
    (dict(rate_factor=2.0), "the learning rate is applied twice (or doubled): params[name] -= learning_rate * grads[name]"),
    (dict(l2=2e-4), "weight decay is on: plain SGD here calls backward with l2=0"),
)


def _evaluate(forward, X, labels, params):
    Z2 = forward(X, params)[0]
    return _cross_entropy(Z2, _one_hot(labels, Z2.shape[1])), float(np.mean(Z2.argmax(axis=1) == labels))


def _weights_differ(params, reference):
    return max(float(np.max(np.abs(params[k] - reference[k]))) / float(np.max(np.abs(reference[k])) or 1)
               for k in reference)


def check_sgd_epoch(sgd_epoch, init_params, train_images, train_labels, X_val, val_labels, forward):
    """One epoch of the learner's sgd_epoch on the notebook's training data, against a reference epoch run from
    the same weights with a generator in the same state: the generator used alike (one permutation), the
    validation loss falling, the weights and the validation accuracy the same up to float32 rounding; params
    updated in place, dtype kept, the images and labels unchanged."""
    case = SGD_EPOCH_CASE
    if len(train_images) < case["batch_size"]:
        raise CheckFailed(f"check_sgd_epoch needs at least {case['batch_size']} training images, "
                          f"got {len(train_images)}")
    start = init_params(train_images[0].size, case["hidden"], 10, np.random.default_rng(case["seed"]))
    loss_before, _ = _evaluate(_forward, X_val, val_labels, start)
    params, rng = copy.deepcopy(start), np.random.default_rng(case["seed"] + 1)
    images, labels = train_images.copy(), train_labels.copy()
    arguments = (case["batch_size"], case["learning_rate"])
    returned = _run("sgd_epoch", sgd_epoch, params, images, labels, *arguments, rng)
    _unchanged("sgd_epoch", ["images", "labels"], [train_images, train_labels], [images, labels])
    reference, reference_rng = copy.deepcopy(start), np.random.default_rng(case["seed"] + 1)
    _reference_sgd_epoch(reference, train_images, train_labels, *arguments, reference_rng)
    what = (f"one epoch from the same initial weights (batch size {case['batch_size']}, learning rate "
            f"{case['learning_rate']})")
    if not isinstance(params, dict) or params.keys() != start.keys():
        raise CheckFailed("sgd_epoch replaced or emptied the params dict: update each parameter in place, "
                          "params[name] -= learning_rate * grads[name]")
    if all(_same(start[k], params[k]) for k in start):
        raise CheckFailed(f"params are unchanged after {what}: update them in place, params[name] -= "
                          "learning_rate * grads[name]" + ("; the dict sgd_epoch returned is not used, it returns "
                                                           "nothing" if returned is not None else ""))
    if rng.bit_generator.state != reference_rng.bit_generator.state:
        untouched = rng.bit_generator.state == np.random.default_rng(case["seed"] + 1).bit_generator.state
        raise CheckFailed("sgd_epoch " + ("did not use rng: the images must be shuffled each epoch, "
                                          "order = rng.permutation(len(images))" if untouched else
                                          "used rng differently from the lesson: one order = "
                                          "rng.permutation(len(images)) per epoch, then batches order[start:start + batch_size]"))
    for name in start:
        got = _as_array(f"params[{name!r}]", params[name])
        if got.shape != start[name].shape or got.dtype != start[name].dtype:
            raise CheckFailed(f"params[{name!r}] has shape {got.shape} and dtype {got.dtype} after the epoch where "
                              f"{start[name].shape} and {start[name].dtype} were expected: a gradient of the wrong "
                              "shape broadcast in the update (check backward), or a float64 array mixed in")
        if not np.all(np.isfinite(got)):
            raise CheckFailed(f"params[{name!r}] holds nan or inf after {what}: the steps diverged")
    loss_after, accuracy = _evaluate(forward, X_val, val_labels, params)
    _, reference_accuracy = _evaluate(_forward, X_val, val_labels, reference)
    difference = _weights_differ(params, reference)
    if not (loss_after < loss_before) or abs(accuracy - reference_accuracy) > ACCURACY_TOLERANCE \
            or difference > WEIGHT_TOLERANCE:
        summary = (f"after {what}: validation loss {loss_before:.3f} -> {loss_after:.3f}, accuracy {accuracy:.2%}; "
                   f"the reference epoch reaches {reference_accuracy:.2%} (weights differ by {difference:.1%} "
                   f"of their size, {WEIGHT_TOLERANCE:.0%} allowed)")
        for keywords, description in SGD_EPOCH_MISTAKES:
            variant = copy.deepcopy(start)
            _reference_sgd_epoch(variant, train_images, train_labels, *arguments,
                                 np.random.default_rng(case["seed"] + 1), **keywords)
            if _weights_differ(params, variant) < WEIGHT_TOLERANCE / 10:
                raise CheckFailed(f"sgd_epoch is wrong {summary}\n  the usual cause: {description}")
        raise CheckFailed(f"sgd_epoch is wrong {summary}\n  compare it with the recipe: order = "
                          "rng.permutation(len(images)); for each full batch X, Y = preprocess(images[batch]), "
                          "one_hot(labels[batch], 10); forward; backward(softmax(Z2), Y, cache, params, l2=0); "
                          "params[name] -= learning_rate * grads[name]")
    _passed("sgd_epoch", f"{what}: validation loss {loss_before:.3f} -> {loss_after:.3f}, accuracy {accuracy:.2%} "
                         f"(the reference epoch: {reference_accuracy:.2%}), params updated in place, images unchanged")
