"""The rules for the notebooks' settings, and `check_settings`, which refuses a bad one at once.

Each rule is a test and a phrase saying what is allowed; `check_settings` raises one ValueError that
names the setting (in the UPPER_CASE of the parameters cell), its value and what to use instead.
"""

import math
from pathlib import Path

import numpy as np


def is_whole(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value):
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))


def at_least(low, advice=""):
    return lambda v: is_whole(v) and v >= low, f"a whole number of at least {low}{advice}"


def fraction_below_one():
    return lambda v: is_number(v) and 0 <= v < 1, "a number from 0 up to, but not including, 1"


RULES = {   # setting -> (test, what is allowed); the first notebook's, then the second's
    "data_dir": (lambda v: v is None or isinstance(v, (str, Path)), "None or a folder name"),
    "dataset": (lambda v: v in ("mnist", "fashion"), '"mnist" or "fashion"'),
    "hidden_size": at_least(1),
    "epochs": at_least(1),
    "demo_epochs": at_least(1),
    "batch_size": at_least(1),
    "learning_rate": (lambda v: is_number(v) and v > 0, "a number above 0 (0.1 is a good start)"),
    "schedule": (lambda v: v in ("cosine", "constant"), '"cosine" or "constant"'),
    "momentum": fraction_below_one(),
    "l2": (lambda v: is_number(v) and v >= 0, "a number of at least 0"),
    "shift": (lambda v: is_whole(v) and 0 <= v < 28, "a whole number of pixels from 0 to 27"),
    "averaging": fraction_below_one(),
    "validation_size": at_least(1),
    "seed": at_least(0),
    "out_dir": (lambda v: isinstance(v, (str, Path)), "a folder name"),
    "deep_hidden": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(is_whole(n) and n >= 1 for n in v),
                    "a list of one or more layer sizes, each a whole number of at least 1"),
    "deep_epochs": at_least(0, " (0 skips the training)"),
    "deep_learning_rate": (lambda v: is_number(v) and v > 0, "a number above 0 (0.4 is a good start)"),
    "deep_batch_size": at_least(1),
    "deep_batch_norm": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "deep_l2": (lambda v: is_number(v) and v >= 0, "a number of at least 0"),
    "deep_dropout": fraction_below_one(),
    "deep_rotate": (lambda v: is_number(v) and 0 <= v <= 180, "a number of degrees from 0 to 180"),
    "deep_scale": fraction_below_one(),
    "deep_shift": (lambda v: is_number(v) and 0 <= v < 28, "a number of pixels from 0 up to 28"),
    "deep_elastic": (lambda v: is_number(v) and 0 <= v <= 5, "a number of pixels from 0 (off) to 5"),
    "bn_demo_epochs": at_least(1),
}


def check_settings(settings, n_images=None):
    """Raise one ValueError, naming the setting, its value and what is allowed, for the first bad setting.

    settings: {name: value} with the lower-case names of RULES. n_images, if given, is the number of
    training images; then the validation split must leave some, and the batch must fit into what is left
    (a batch of `batch_size` or, in the second notebook, `deep_batch_size`)."""
    for name, value in settings.items():
        if name not in RULES:
            raise ValueError(f"{name!r} is not a setting; the settings are {', '.join(RULES)}")
        test, allowed = RULES[name]
        if not test(value):
            raise ValueError(f"{name.upper()} = {value!r} is not allowed: it must be {allowed}.")
    if n_images is None:
        return
    held_out = settings.get("validation_size", 0)
    if held_out >= n_images:
        raise ValueError(f"VALIDATION_SIZE = {held_out:,} leaves none of the {n_images:,} training images "
                         f"to train on: choose fewer than {n_images:,}.")
    left = n_images - held_out
    for name in ("batch_size", "deep_batch_size"):
        if settings.get(name, 1) > left:
            raise ValueError(f"{name.upper()} = {settings[name]:,} is larger than the {left:,} training images"
                             f"{' left after the validation split' if held_out else ''}, so an epoch would take "
                             f"no step: choose at most {left:,} (128 is a good start).")
