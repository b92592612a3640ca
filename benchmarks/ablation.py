"""What each ingredient of the notebook's training recipe adds, and the figures behind the exercises' answers.

Trains as the notebook does for each SEED (recipe.run), at the default parameters and with each
variant's changes, and prints a Markdown table: best validation accuracy, test accuracy, training −
validation accuracy after the last epoch and training time (means over the seeds), and the first
epoch whose validation accuracy passed 97.5 % (per seed).

    python benchmarks/ablation.py --data-dir ../shared/data/mnist --seeds 0 1 2 3
    python benchmarks/ablation.py --data-dir ../shared/data/mnist --variants exercises
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mnist_utils  # noqa: E402
import recipe  # noqa: E402  (beside this script)
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402

EARLY_TARGET = 0.975  # report the first epoch whose validation accuracy is above this

# name -> changes to the notebook's parameters; "×10" multiplies the default
VARIANTS = {
    "ablation": {
        "full recipe": {},
        "without momentum (MOMENTUM = 0, LEARNING_RATE × 10)": {"MOMENTUM": 0.0, "LEARNING_RATE": "×10"},
        "without the cosine schedule (SCHEDULE = \"constant\")": {"SCHEDULE": "constant"},
        "without weight decay (L2 = 0)": {"L2": 0.0},
        "without random shifts (SHIFT = 0)": {"SHIFT": 0},
        "without weight averaging (AVERAGING = 0)": {"AVERAGING": 0.0},
        "plain mini-batch SGD: none of the five": {"MOMENTUM": 0.0, "SCHEDULE": "constant", "L2": 0.0, "SHIFT": 0,
                                                   "AVERAGING": 0.0},
    },
    "exercises": {
        "1. SHIFT = 0": {"SHIFT": 0},
        "1. SHIFT = 0, L2 = 0": {"SHIFT": 0, "L2": 0.0},
        "2. AVERAGING = 0": {"AVERAGING": 0.0},
        "3. MOMENTUM = 0": {"MOMENTUM": 0.0},
        "3. MOMENTUM = 0, LEARNING_RATE = 1": {"MOMENTUM": 0.0, "LEARNING_RATE": 1.0},
        "4. HIDDEN_SIZE = 16, EPOCHS = 20": {"HIDDEN_SIZE": 16, "EPOCHS": 20},
        "4. HIDDEN_SIZE = 32, EPOCHS = 20": {"HIDDEN_SIZE": 32, "EPOCHS": 20},
        "4. HIDDEN_SIZE = 64, EPOCHS = 20": {"EPOCHS": 20},
        "4. HIDDEN_SIZE = 128, EPOCHS = 20": {"HIDDEN_SIZE": 128, "EPOCHS": 20},
        "4. HIDDEN_SIZE = 256, EPOCHS = 20": {"HIDDEN_SIZE": 256, "EPOCHS": 20},
    },
    "fashion": {
        "the digits' settings": {},
        "SHIFT = 0, LEARNING_RATE = 0.05, L2 = 5e-4": {"SHIFT": 0, "LEARNING_RATE": 0.05, "L2": 5e-4},
    },
}


def summary(nb, data, settings, seed):
    """(best validation, test accuracy, training - validation gap after the last epoch, first epoch, seconds)."""
    _, history, test_accuracy = recipe.run(nb, data, settings, seed)
    passed = recipe.first_above(history, EARLY_TARGET)
    return (max(history["val_acc"]), test_accuracy, history["train_acc"][-1] - history["val_acc"][-1],
            float("nan") if passed is None else history["epoch"][passed], history["seconds"][-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST files")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion"))
    parser.add_argument("--variants", default="ablation", choices=VARIANTS, help="which table to measure")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to average over")
    parser.add_argument("--epochs", type=int, default=None, help="override EPOCHS (for a quick check)")
    args = parser.parse_args(argv)
    nb = load_notebook_functions()
    defaults = notebook_parameters()
    if args.epochs is not None:
        defaults["EPOCHS"] = args.epochs
    data = mnist_utils.load_mnist(args.data_dir, dataset=args.dataset, download=False)
    print(f"{args.dataset}, seeds {args.seeds}; accuracies are means over the seeds\n")
    print(f"| recipe | best validation accuracy | test accuracy | training − validation accuracy, last epoch | "
          f"first epoch with validation > {EARLY_TARGET:.1%} (per seed) | training time (s) |")
    print("|---|---|---|---|---|---|")
    for name, changes in VARIANTS[args.variants].items():
        settings = dict(defaults)
        for key, value in changes.items():
            settings[key] = settings[key] * 10 if value == "×10" else value
        results = np.array([summary(nb, data, settings, seed) for seed in args.seeds])
        val, test, gap, _, seconds = results.mean(axis=0)
        first_epochs = ", ".join("never" if np.isnan(e) else f"{e:.0f}" for e in results[:, 3])
        tests = "" if len(args.seeds) == 1 else f" ({', '.join(f'{t:.2%}' for t in results[:, 1])})"
        print(f"| {name} | {val:.2%} | {test:.2%}{tests} | {gap:+.2%} | {first_epochs} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
