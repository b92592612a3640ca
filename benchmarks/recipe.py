"""The notebook's recipe run from its settings as the notebook runs it; shared by ablation.py,
deep_networks.py and benchmark.py. `settings` holds the notebook's parameters by their UPPER_CASE
names, as `notebook_functions.notebook_parameters()` returns them."""

import numpy as np

RECIPE = ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "SCHEDULE", "MOMENTUM", "L2", "SHIFT", "AVERAGING", "DROPOUT")


def run(nb, data, settings, seed, *, layers=None, augment=None, one_generator=False, on_epoch=None):
    """Split, initialise, train and test one network with the notebook's functions: (params, history, test accuracy).

    By default as sections 2-7 do: 784-HIDDEN_SIZE-10 with `forward` and `backward`, and the generators
    [seed, 1] for the split, [seed, 2] for the initial weights, [seed, 3] for training. With `layers` (hidden
    sizes) as section 12 does: `init_network`, `deep_forward`, `deep_backward`, settings["DROPOUT"] and
    `augment(images, rng)` if given. one_generator: one np.random.default_rng(seed) for all three."""
    (train_images, train_labels), (test_images, test_labels) = data
    generators = [np.random.default_rng(seed)] * 3 if one_generator else [np.random.default_rng([seed, k])
                                                                          for k in (1, 2, 3)]
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, settings["VALIDATION_SIZE"], generators[0])
    if layers is None:
        forward, backward = nb.forward, nb.backward
        params = nb.init_params(784, settings["HIDDEN_SIZE"], 10, generators[1])
    else:
        forward, backward = nb.deep_forward, nb.deep_backward
        params = nb.init_network([784, *layers, 10], generators[1])
    recipe = {name.lower(): settings[name] for name in RECIPE if name in settings}
    params, history = nb.train(params, (fit_images, y_fit), (nb.preprocess(val_images), y_val), recipe, generators[2],
                               forward=forward, backward=backward, augment=augment, on_epoch=on_epoch, progress=False)
    scores = forward(nb.preprocess(test_images), params)[0]
    return params, history, float(nb.accuracy(scores.argmax(axis=1), test_labels))


def first_above(history, target):
    """Index of the first epoch whose validation accuracy is above `target`, or None."""
    return next((i for i, accuracy in enumerate(history["val_acc"]) if accuracy > target), None)
