"""What depth, width, distortions and dropout change: section 12's recipe, one ingredient changed at a time.

Trains each network below with the notebook's `train`, `deep_forward` and `deep_backward` (recipe.run)
at the notebook's default parameters, and prints a Markdown table: parameters, test accuracy (mean and
per seed), best validation accuracy, training seconds and seconds per epoch (means over the seeds).

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
import recipe  # noqa: E402  (beside this script)
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402


def variants(defaults):
    """name -> (hidden layer sizes, changes to the notebook's parameters, whether the images are distorted).

    Distorted rows draw no batch shift (SHIFT = 0), as section 12 does; the others one per batch."""
    deep, small = defaults["DEEP_HIDDEN"], defaults["HIDDEN_SIZE"]
    deep_name = "-".join(map(str, [784, *deep, 10]))
    wide = round(sum(a * b for a, b in zip([784, *deep], [*deep, 10])) / (784 + 10))   # as many weights, one layer
    section_12 = {"EPOCHS": defaults["DEEP_EPOCHS"], "L2": defaults["DEEP_L2"], "DROPOUT": defaults["DEEP_DROPOUT"],
                  "SHIFT": 0}
    return {
        f"784-{small}-10, sections 3-9 (one-pixel batch shifts)": ([small], {"DROPOUT": 0.0}, False),
        f"{deep_name}, one-pixel batch shifts instead of distortions": (
            deep, dict(section_12, DROPOUT=0.0, SHIFT=defaults["SHIFT"]), False),
        f"784-{wide}-10: as many weights in one hidden layer": ([wide], dict(section_12, DROPOUT=0.0), True),
        f"{deep_name}, section 12": (deep, section_12, True),
        f"{deep_name}, section 12 with dropout 0.2": (deep, dict(section_12, DROPOUT=0.2), True),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to average over")
    parser.add_argument("--epochs", type=int, default=None, help="override every network's epochs (quick check)")
    parser.add_argument("--validation-size", type=int, help="override VALIDATION_SIZE (for small data sets)")
    parser.add_argument("--rows", type=int, nargs="+", help="run only these rows of the table (1 = the first)")
    args = parser.parse_args(argv)
    nb = load_notebook_functions()
    defaults = notebook_parameters()
    defaults["VALIDATION_SIZE"] = args.validation_size or defaults["VALIDATION_SIZE"]
    distort = partial(nb.random_affine, max_degrees=defaults["DEEP_ROTATE"], max_scale=defaults["DEEP_SCALE"],
                      max_shift=defaults["DEEP_SHIFT"])
    data = mnist_utils.load_mnist(args.data_dir, download=False)
    print(f"seeds {args.seeds}; figures are means over the seeds\n")
    print("| network and training images | weights and biases | epochs | dropout | test accuracy "
          "| per seed | best validation accuracy | training time (s) | s per epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row, (name, (hidden, changes, distorted)) in enumerate(variants(defaults).items(), start=1):
        if args.rows and row not in args.rows:
            continue
        settings = {**defaults, **changes, **({"EPOCHS": args.epochs} if args.epochs else {})}
        sizes = [784, *hidden, 10]
        count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        runs = [recipe.run(nb, data, settings, seed, layers=hidden, augment=distort if distorted else None,
                           one_generator=True) for seed in args.seeds]   # one generator: split, weights, training
        test, val, seconds = np.mean([(accuracy, max(history["val_acc"]), history["seconds"][-1])
                                      for _, history, accuracy in runs], axis=0)
        per_seed = ", ".join(f"{accuracy:.2%}" for _, _, accuracy in runs)
        print(f"| {name} | {count:,} | {settings['EPOCHS']} | {settings['DROPOUT']:g} | {test:.2%} | {per_seed} "
              f"| {val:.2%} | {seconds:.0f} | {seconds / settings['EPOCHS']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
