"""timing: the median of a call's wall times, and the time of one finite difference measured on a sample of
the entries, both against a fake clock whose readings are set here."""

import types

import numpy as np
import pytest

import timing


def fake_clock(monkeypatch, readings):
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=iter(readings).__next__))


def test_seconds_per_call_calls_the_function_repeats_times_and_returns_the_median(monkeypatch):
    fake_clock(monkeypatch, [0.0, 5.0, 10.0, 11.0, 20.0, 22.0])     # calls of 5 s, 1 s and 2 s: mean 2.67
    calls = []
    assert timing.seconds_per_call(lambda: calls.append(1), repeats=3) == 2.0
    assert len(calls) == 3


def test_finite_differences_nudge_each_sampled_entry_up_and_down_and_restore_it():
    array = np.arange(12.0).reshape(3, 4)
    original, seen = array.copy(), []
    timing.seconds_per_finite_difference(lambda: seen.append(array - original), array, 5, np.random.default_rng(0),
                                     h=0.5, repeats=2)
    np.testing.assert_array_equal(array, original)
    assert len(seen) == 2 * 5 * 2                                    # two evaluations per entry, per repeat
    nudged = [np.flatnonzero(change) for change in seen]
    assert all(len(entry) == 1 for entry in nudged)                  # one entry at a time ...
    assert [change.sum() for change in seen] == [0.5, -0.5] * 10     # ... by +h, then -h
    assert len({int(entry[0]) for entry in nudged[:10]}) == 5        # five different entries in a round


def test_seconds_per_finite_difference_is_the_time_of_a_sample_divided_by_its_size(monkeypatch):
    clock = [0.0]
    array = np.zeros((10, 20))

    def loss():                                                      # each evaluation takes 1 s of the clock
        clock[0] += 1.0

    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    seconds = timing.seconds_per_finite_difference(loss, array, 4, np.random.default_rng(0), repeats=3)
    assert seconds == pytest.approx(2.0)                            # two evaluations of 1 s per entry
