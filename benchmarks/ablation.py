"""What each ingredient of the notebook's training recipe adds: take it out, retrain, compare.

Runs the notebook's own `train` (imported from the notebook, not copied) with the default
parameters, then once more for each ingredient removed, and prints a Markdown table: best
validation accuracy, test accuracy and training time as means over the seeds, and the first epoch
whose validation accuracy passed 97.5 % for each seed.

    python benchmarks/ablation.py                       # real MNIST in $MNIST_DATA_DIR or ./data
    python benchmarks/ablation.py --data-dir ../shared/data/mnist --seeds 0 1
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mnist_utils  # noqa: E402
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402


EARLY_TARGET = 0.975  # report the first epoch whose validation accuracy is above this


def constant_learning_rate(step, total_steps, peak):
    return peak


# name -> (changes to the notebook's parameters, learning-rate schedule)
VARIANTS = {
    "full recipe": ({}, None),
    "without random shifts (SHIFT = 0)": ({"SHIFT": 0}, None),
    "without weight decay (L2 = 0)": ({"L2": 0.0}, None),
    "without momentum (MOMENTUM = 0, LEARNING_RATE × 10)": ({"MOMENTUM": 0.0, "LEARNING_RATE": "×10"}, None),
    "without the cosine schedule (constant learning rate)": ({}, constant_learning_rate),
    "without weight averaging (AVERAGING = 0)": ({"AVERAGING": 0.0}, None),
    "none of the five: plain mini-batch SGD": ({"SHIFT": 0, "L2": 0.0, "MOMENTUM": 0.0, "AVERAGING": 0.0},
                                               constant_learning_rate),
}


def run(nb, data, settings, schedule, seed):
    (train_images, train_labels), (test_images, test_labels) = data
    rng = np.random.default_rng(seed)
    (fit_images, y_fit), (val_images, y_val) = nb.split_validation(
        train_images, train_labels, settings["VALIDATION_SIZE"], rng)
    X_val = nb.preprocess(val_images)
    params = nb.init_params(784, settings["HIDDEN_SIZE"], 10, rng)
    original_schedule = nb.cosine_learning_rate
    if schedule is not None:
        nb.cosine_learning_rate = schedule   # train() looks the schedule up in the notebook's namespace
    try:
        params, history = nb.train(
            params, fit_images, y_fit, X_val, y_val, epochs=settings["EPOCHS"],
            batch_size=settings["BATCH_SIZE"], learning_rate=settings["LEARNING_RATE"],
            momentum=settings["MOMENTUM"], l2=settings["L2"], max_shift=settings["SHIFT"],
            averaging=settings["AVERAGING"], rng=rng, progress=False)
    finally:
        nb.cosine_learning_rate = original_schedule
    test_accuracy = nb.accuracy(nb.predict(nb.preprocess(test_images), params), test_labels)
    passed = [epoch for epoch, acc in zip(history["epoch"], history["val_acc"]) if acc > EARLY_TARGET]
    first_epoch = passed[0] if passed else float("nan")
    return max(history["val_acc"]), test_accuracy, first_epoch, history["seconds"][-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to average over")
    parser.add_argument("--epochs", type=int, default=None, help="override EPOCHS (for a quick check)")
    args = parser.parse_args(argv)

    nb = load_notebook_functions()
    defaults = notebook_parameters()
    if args.epochs is not None:
        defaults["EPOCHS"] = args.epochs
    data = mnist_utils.load_mnist(args.data_dir, download=False)
    print(f"{defaults['EPOCHS']} epochs, seeds {args.seeds}; accuracies are means over the seeds\n")
    print(f"| recipe | best validation accuracy | test accuracy | first epoch with validation > {EARLY_TARGET:.1%} "
          "(per seed) | training time (s) |")
    print("|---|---|---|---|---|")
    for name, (changes, schedule) in VARIANTS.items():
        settings = dict(defaults)
        for key, value in changes.items():
            settings[key] = settings[key] * 10 if value == "×10" else value
        results = np.array([run(nb, data, settings, schedule, seed) for seed in args.seeds])
        val, test, _, seconds = results.mean(axis=0)
        first_epochs = ", ".join("never" if np.isnan(e) else f"{e:.0f}" for e in results[:, 2])
        print(f"| {name} | {val:.2%} | {test:.2%} | {first_epochs} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
