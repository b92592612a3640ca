"""Timing for "why backpropagation?": the median time of a call, and finite differences timed on a sample."""

import time

import numpy as np


def seconds_per_call(f, repeats):
    """Median wall time of f() over `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def seconds_per_finite_difference(loss, array, sample_size, rng, h=1e-3, repeats=3):
    """Seconds to estimate dloss/d(entry) for one entry of `array` by central differences, measured on
    `sample_size` random entries (each costs two evaluations of loss(), whichever entry it is)."""
    flat = array.reshape(-1)                       # a view: nudging it nudges what loss() computes from
    entries = rng.choice(flat.size, sample_size, replace=False)

    def sample():
        for i in entries:
            original = flat[i]
            flat[i] = original + h
            loss()
            flat[i] = original - h
            loss()
            flat[i] = original

    return seconds_per_call(sample, repeats) / sample_size
