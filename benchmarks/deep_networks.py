"""What depth, width, distortions and dropout change: section 12's recipe, one ingredient changed at a time.

Trains each network below with the notebook's own `train`, `deep_forward` and `deep_backward`
(imported from the notebook, not copied) and the notebook's default parameters, and prints a
Markdown table: parameters, test accuracy (mean, and per seed), best validation accuracy, training
seconds and seconds per epoch (means over the seeds).

    python benchmarks/deep_networks.py --data-dir ../shared/data/mnist
    python benchmarks/deep_networks.py --data-dir ../shared/data/mnist --seeds 0 1 --epochs 5
    python benchmarks/deep_networks.py --data-dir ../shared/data/mnist --rows 4 --seeds 1 2 3
"""

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mnist_utils  # noqa: E402
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402


def variants(defaults):
    """name -> (hidden layer sizes, epochs, L2, dropout, whether the images are distorted)."""
    deep, epochs, l2 = defaults["DEEP_HIDDEN"], defaults["DEEP_EPOCHS"], defaults["DEEP_L2"]
    deep_name = "-".join(map(str, [784, *deep, 10]))
    weights = sum(a * b for a, b in zip([784, *deep], [*deep, 10]))
    wide = round(weights / (784 + 10))   # one hidden layer with about as many weights
    small = defaults["HIDDEN_SIZE"]
    return {
        f"784-{small}-10, sections 3-9 (one-pixel batch shifts)": ([small], defaults["EPOCHS"], defaults["L2"], 0.0,
                                                                    False),
        f"{deep_name}, one-pixel batch shifts instead of distortions": (deep, epochs, l2, 0.0, False),
        f"784-{wide}-10: as many weights in one hidden layer": ([wide], epochs, l2, 0.0, True),
        f"{deep_name}, section 12": (deep, epochs, l2, defaults["DEEP_DROPOUT"], True),
        f"{deep_name}, section 12 with dropout 0.2": (deep, epochs, l2, 0.2, True),
    }


def run(nb, data, defaults, hidden, epochs, l2, dropout, distort, seed):
    (train_images, train_labels), (test_images, test_labels) = data
    rng = np.random.default_rng(seed)
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, defaults["VALIDATION_SIZE"], rng)
    params = nb.init_network([784, *hidden, 10], rng)
    augment = None
    if distort:
        augment = partial(nb.random_affine, max_degrees=defaults["DEEP_ROTATE"], max_scale=defaults["DEEP_SCALE"],
                          max_shift=defaults["DEEP_SHIFT"])
    params, history = nb.train(
        params, fit_images, y_fit, nb.preprocess(val_images), y_val, epochs=epochs,
        batch_size=defaults["BATCH_SIZE"], learning_rate=defaults["LEARNING_RATE"],
        momentum=defaults["MOMENTUM"], l2=l2, max_shift=defaults["SHIFT"], averaging=defaults["AVERAGING"],
        rng=rng, progress=False, forward=nb.deep_forward, backward=nb.deep_backward, dropout=dropout,
        augment=augment)
    scores = nb.deep_forward(nb.preprocess(test_images), params)[0]
    seconds = history["seconds"][-1]
    return nb.accuracy(scores.argmax(axis=1), test_labels), max(history["val_acc"]), seconds, seconds / epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to average over")
    parser.add_argument("--epochs", type=int, default=None, help="override every network's epochs (quick check)")
    parser.add_argument("--validation-size", type=int, default=None,
                        help="override VALIDATION_SIZE (for small data sets)")
    parser.add_argument("--rows", type=int, nargs="+", default=None,
                        help="run only these rows of the table (1 = the first)")
    args = parser.parse_args(argv)

    nb = load_notebook_functions()
    defaults = notebook_parameters()
    if args.validation_size is not None:
        defaults["VALIDATION_SIZE"] = args.validation_size
    data = mnist_utils.load_mnist(args.data_dir, download=False)
    print(f"seeds {args.seeds}; figures are means over the seeds\n")
    print("| network and training images | weights and biases | epochs | dropout | test accuracy "
          "| per seed | best validation accuracy | training time (s) | s per epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row, (name, (hidden, epochs, l2, dropout, distort)) in enumerate(variants(defaults).items(), start=1):
        if args.rows and row not in args.rows:
            continue
        epochs = args.epochs or epochs
        sizes = [784, *hidden, 10]
        count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        results = np.array([run(nb, data, defaults, hidden, epochs, l2, dropout, distort, seed)
                            for seed in args.seeds])
        test, val, seconds, per_epoch = results.mean(axis=0)
        per_seed = ", ".join(f"{accuracy:.2%}" for accuracy in results[:, 0])
        print(f"| {name} | {count:,} | {epochs} | {dropout:g} | {test:.2%} | {per_seed} | {val:.2%} | {seconds:.0f} "
              f"| {per_epoch:.2f} |", flush=True)


if __name__ == "__main__":
    main()
