"""The notebooks' recipes, run as the notebooks run them, for ablation.py, deep_networks.py and benchmark.py;
`settings`: a notebook's parameters by their UPPER_CASE names (notebook_functions.notebook_parameters(path))."""

from pathlib import Path

import numpy as np

RECIPE = ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "MOMENTUM", "L2", "SHIFT", "AVERAGING")
SCHEDULE = "cosine"   # the first notebook's schedule (its recipe's "schedule", not a setting); SCHEDULE in settings overrides
GOING_FURTHER = Path(__file__).resolve().parents[1] / "going_further.ipynb"


def run(nb, data, settings, seed, *, on_epoch=None):
    """Split, initialise, train and test one network with the first notebook's functions: (params, history, test
    accuracy), as its sections 2-7 do: 784-HIDDEN_SIZE-10 by `train`, generators [seed, 1] for the split, [seed, 2]
    for the weights, [seed, 3] for training."""
    (train_images, train_labels), (test_images, test_labels) = data
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, settings["VALIDATION_SIZE"], np.random.default_rng([seed, 1]))
    recipe = dict({name.lower(): settings[name] for name in RECIPE}, schedule=settings.get("SCHEDULE", SCHEDULE))
    train_set, val_set = (fit_images, y_fit), (nb.preprocess(val_images), y_val)
    params, history = nb.train(nb.init_params(784, settings["HIDDEN_SIZE"], 10, np.random.default_rng([seed, 2])),
                               train_set, val_set, recipe, np.random.default_rng([seed, 3]), forward=nb.forward,
                               backward=nb.backward, on_epoch=on_epoch, progress=False)   # looked up now: timers
    return params, history, float(nb.evaluate(test_images, test_labels, params)[1])


def run_layers(nb, data, settings, seed, *, small=False, shift=0, epochs=None):
    """Split, build, train and test one network with going_further.ipynb's functions (nb, from
    load_notebook_functions(GOING_FURTHER)) as that notebook does: (folded params, history, test accuracy).

    The split from [seed, 1]; the deep network of DEEP_HIDDEN (DEEP_BATCH_NORM, DEEP_DROPOUT) built and trained by
    train_network from [seed, 14], by DEEP_EPOCHS, DEEP_BATCH_SIZE, DEEP_LEARNING_RATE, DEEP_L2 and the notebook's
    SCHEDULE, MOMENTUM and AVERAGING, on images distorted by DEEP_ROTATE, DEEP_SCALE, DEEP_SHIFT and DEEP_ELASTIC; if
    all four are 0, on batches shifted by up to `shift` pixels instead (which the notebook does not do). small=True:
    the notebook's small network instead (SMALL_SIZES by SMALL_RECIPE, from [seed, 2] and [seed, 3]). `epochs`, if
    given, replaces either's number of epochs."""
    (train_images, train_labels), (test_images, test_labels) = data
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, settings["VALIDATION_SIZE"], np.random.default_rng([seed, 1]))
    train_set, val_set = (fit_images, y_fit), (nb.preprocess(val_images), y_val)
    if small:
        recipe = dict(nb.SMALL_RECIPE, **({"epochs": epochs} if epochs else {}))
        net, history = nb.train_network(nb.build_network(nb.SMALL_SIZES, np.random.default_rng([seed, 2])), train_set,
                                        val_set, recipe, np.random.default_rng([seed, 3]), progress=False)
    else:
        recipe = dict(epochs=epochs or settings["DEEP_EPOCHS"], batch_size=settings["DEEP_BATCH_SIZE"],
                      learning_rate=settings["DEEP_LEARNING_RATE"], schedule=nb.SCHEDULE, momentum=nb.MOMENTUM,
                      l2=settings["DEEP_L2"], shift=shift, averaging=nb.AVERAGING)
        amounts = [settings[name] for name in ("DEEP_ROTATE", "DEEP_SCALE", "DEEP_SHIFT", "DEEP_ELASTIC")]
        distort = (lambda images, rng: nb.random_distortion(images, rng, *amounts)) if any(amounts) else None
        rng = np.random.default_rng([seed, 14])
        net = nb.build_network([784, *settings["DEEP_HIDDEN"], 10], rng, settings["DEEP_BATCH_NORM"],
                               settings["DEEP_DROPOUT"])
        net, history = nb.train_network(net, train_set, val_set, recipe, rng, distort, progress=False)
    return nb.fold_batch_norm(net), history, float(nb.evaluate(test_images, test_labels, net)[1])


def first_above(history, target):
    """Index of the first epoch whose validation accuracy is above `target`, or None."""
    return next((i for i, accuracy in enumerate(history["val_acc"]) if accuracy > target), None)
