"""settings_rules: every rule of the notebooks' settings, as a unit. For each setting, values outside its
rule (or of the wrong type) are refused with a ValueError naming the setting in the UPPER_CASE of the
parameters cell, the value, and what is allowed, written out here; values inside it are accepted. Then
the checks that need the number of training images, and the notebook's own defaults."""

import math
from pathlib import Path

import numpy as np
import pytest

from notebook_functions import notebook_parameters
from settings_rules import RULES, check_settings

WHOLE_1 = "a whole number of at least 1"
FRACTION = "a number from 0 up to, but not including, 1"
CASES = {  # setting: (values refused, values accepted, what the message says is allowed)
    "data_dir": ([3, b"data"], [None, "data", Path("data")], "None or a folder name"),
    "dataset": (["digits", "MNIST", None], ["mnist", "fashion"], '"mnist" or "fashion"'),
    "hidden_size": ([0, -3, True, 64.0, "64"], [1, 64, np.int64(64)], WHOLE_1),
    "epochs": ([0, 2.5, False], [1, 100], WHOLE_1),
    "demo_epochs": ([0, 1.0], [1, 20], WHOLE_1),
    "batch_size": ([0, False, 128.0], [1, 128], WHOLE_1),
    "learning_rate": ([0, -0.1, math.nan, math.inf, "0.1", True], [1e-9, 0.1, np.float32(0.5), 2],
                      "a number above 0 (0.1 is a good start)"),
    "schedule": (["linear", "Cosine"], ["cosine", "constant"], '"cosine" or "constant"'),
    "momentum": ([1.0, -0.1, math.nan, True], [0.0, 0.5, 0.999], FRACTION),
    "l2": ([-1e-4, math.nan, math.inf, "0"], [0, 5e-4], "a number of at least 0"),
    "shift": ([-1, 1.5, 28, True], [0, 1, 27], "a whole number of pixels from 0 to 27"),
    "averaging": ([1.0, -0.5], [0.0, 0.999], FRACTION),
    "validation_size": ([0, 100.0], [1, 10_000], WHOLE_1),
    "seed": ([-1, 0.5, None], [0, 7], "a whole number of at least 0"),
    "out_dir": ([None, 3], ["runs", Path("runs")], "a folder name"),
    "deep_hidden": ([[], [512, 0], 512, [512.0], "512"], [[512, 256], (1,), [np.int64(8)]],
                    "a list of one or more layer sizes, each a whole number of at least 1"),
    "deep_epochs": ([-1, 1.5], [0, 45], "a whole number of at least 0 (0 skips the training)"),
    "deep_learning_rate": ([0, -1.0, math.nan], [0.4, 1e-3], "a number above 0 (0.4 is a good start)"),
    "deep_batch_size": ([0, 64.0], [1, 64], WHOLE_1),
    "deep_batch_norm": ([1, 0, "True", None], [True, False, np.bool_(True)], "True or False"),
    "deep_l2": ([-1.0, math.nan], [0, 1e-4], "a number of at least 0"),
    "deep_dropout": ([1.0, -0.1], [0, 0.2, 0.99], FRACTION),
    "deep_rotate": ([181, -1, math.nan], [0, 12, 180], "a number of degrees from 0 to 180"),
    "deep_scale": ([1.0, -0.1], [0, 0.1], FRACTION),
    "deep_shift": ([28, -0.5, math.inf], [0, 2, 27.5], "a number of pixels from 0 up to 28"),
    "deep_elastic": ([-0.5, 6, 5.01], [0, 1.5, 5], "a number of pixels from 0 (off) to 5"),
    "bn_demo_epochs": ([0, 2.0], [1, 3], WHOLE_1),
}
REFUSED = [(name, value) for name, (refused, _, _) in CASES.items() for value in refused]
ACCEPTED = [(name, value) for name, (_, accepted, _) in CASES.items() for value in accepted]


def test_every_rule_has_values_refused_and_accepted_here():
    assert sorted(CASES) == sorted(RULES)


@pytest.mark.parametrize("name, value", REFUSED, ids=[f"{name}={value!r}" for name, value in REFUSED])
def test_a_value_outside_its_rule_is_refused_naming_the_setting_the_value_and_what_is_allowed(name, value):
    with pytest.raises(ValueError) as error:
        check_settings({name: value})
    assert str(error.value) == f"{name.upper()} = {value!r} is not allowed: it must be {CASES[name][2]}."


@pytest.mark.parametrize("name, value", ACCEPTED, ids=[f"{name}={value!r}" for name, value in ACCEPTED])
def test_a_value_inside_its_rule_is_accepted(name, value):
    assert check_settings({name: value}) is None


def test_of_two_bad_settings_the_first_is_named():
    with pytest.raises(ValueError, match=r"^EPOCHS = 0 is not allowed"):
        check_settings({"hidden_size": 64, "epochs": 0, "momentum": 1.0})


def test_an_unknown_setting_is_refused_naming_it():
    with pytest.raises(ValueError, match="^'learning_rat' is not a setting; the settings are data_dir, dataset"):
        check_settings({"learning_rat": 0.1})


def test_a_validation_set_that_leaves_no_image_to_train_on_is_refused():
    with pytest.raises(ValueError) as error:
        check_settings({"validation_size": 500, "batch_size": 1}, n_images=500)
    assert str(error.value) == ("VALIDATION_SIZE = 500 leaves none of the 500 training images to train on: "
                                "choose fewer than 500.")
    check_settings({"validation_size": 499, "batch_size": 1}, n_images=500)


@pytest.mark.parametrize("name", ["batch_size", "deep_batch_size"])
def test_a_batch_larger_than_the_images_left_after_the_validation_split_is_refused(name):
    with pytest.raises(ValueError) as error:
        check_settings({"validation_size": 1_000, name: 4_001}, n_images=5_000)
    assert str(error.value) == (f"{name.upper()} = 4,001 is larger than the 4,000 training images left after the "
                                "validation split, so an epoch would take no step: choose at most 4,000 "
                                "(128 is a good start).")
    check_settings({"validation_size": 1_000, name: 4_000}, n_images=5_000)   # exactly what is left


def test_without_a_validation_split_the_batch_is_checked_against_all_the_images():
    with pytest.raises(ValueError, match=r"^BATCH_SIZE = 301 is larger than the 300 training images, so an epoch"):
        check_settings({"batch_size": 301}, n_images=300)
    check_settings({"batch_size": 300}, n_images=300)


def test_without_n_images_no_setting_is_compared_with_the_data():
    assert check_settings({"validation_size": 70_000, "batch_size": 100_000}) is None


def test_the_notebooks_default_settings_pass_with_the_60000_mnist_images():
    defaults = {name.lower(): value for name, value in notebook_parameters().items()}
    assert check_settings(defaults, n_images=60_000) is None
