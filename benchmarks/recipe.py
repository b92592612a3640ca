"""The notebook's recipe, run as the notebook runs it, for ablation.py, deep_networks.py and benchmark.py;
`settings`: the notebook's parameters by their UPPER_CASE names (notebook_functions.notebook_parameters())."""

import numpy as np

RECIPE = ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "SCHEDULE", "MOMENTUM", "L2", "SHIFT", "AVERAGING")


def run(nb, data, settings, seed, *, layers=None, on_epoch=None):
    """Split, initialise, train and test one network with the notebook's functions: (params, history, test accuracy).

    By default as sections 2-7 do: 784-HIDDEN_SIZE-10 by `train`, generators [seed, 1] for the split, [seed, 2]
    for the weights, [seed, 3] for training. With `layers` (hidden sizes) as section 12 does: `build_network`
    (DEEP_BATCH_NORM, DEEP_DROPOUT) and `train_network` from [seed, 14], on images distorted by DEEP_ROTATE,
    DEEP_SCALE, DEEP_SHIFT and DEEP_ELASTIC (none if all are 0), by the recipe's settings (EPOCHS, ...)."""
    (train_images, train_labels), (test_images, test_labels) = data
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, settings["VALIDATION_SIZE"], np.random.default_rng([seed, 1]))
    recipe = {name.lower(): settings[name] for name in RECIPE}
    train_set, val_set = (fit_images, y_fit), (nb.preprocess(val_images), y_val)
    if layers is None:
        params, history = nb.train(nb.init_params(784, settings["HIDDEN_SIZE"], 10, np.random.default_rng([seed, 2])),
                                   train_set, val_set, recipe, np.random.default_rng([seed, 3]), forward=nb.forward,
                                   backward=nb.backward, on_epoch=on_epoch, progress=False)   # looked up now: timers
        return params, history, float(nb.evaluate(test_images, test_labels, params)[1])
    amounts = [settings[name] for name in ("DEEP_ROTATE", "DEEP_SCALE", "DEEP_SHIFT", "DEEP_ELASTIC")]
    rng = np.random.default_rng([seed, 14])
    net = nb.build_network([784, *layers, 10], rng, settings["DEEP_BATCH_NORM"], settings["DEEP_DROPOUT"])
    distort = (lambda images, generator: nb.random_distortion(images, generator, *amounts)) if any(amounts) else None
    net, history = nb.train_network(net, train_set, val_set, recipe, rng, distort, progress=False)
    return nb.fold_batch_norm(net), history, float(nb.evaluate(test_images, test_labels, net, nb.network_forward)[1])


def first_above(history, target):
    """Index of the first epoch whose validation accuracy is above `target`, or None."""
    return next((i for i, accuracy in enumerate(history["val_acc"]) if accuracy > target), None)
