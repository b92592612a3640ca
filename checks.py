"""Gradient checks by central finite differences, for the notebooks' layers and the practice notebook."""

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
