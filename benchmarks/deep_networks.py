"""What depth, width, distortions, dropout and batch normalization change in section 12's recipe.

Trains each network as the notebook does (recipe.run, the notebook's generators for each seed) and prints
a Markdown table (figures are means over the seeds). The last row is section 12's earlier recipe, without
batch normalization or elastic distortions: the training time the current recipe must stay within.

    python benchmarks/deep_networks.py --data-dir ../shared/data/mnist [--rows 2 9] [--seeds 0 1 2]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mnist_utils  # noqa: E402
import recipe  # noqa: E402  (beside this script)
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402


def variants(defaults):
    """name -> (hidden layer sizes or None for sections 3-9's network, changes to the notebook's parameters)."""
    deep, small = defaults["DEEP_HIDDEN"], defaults["HIDDEN_SIZE"]
    deep_name = "-".join(map(str, [784, *deep, 10]))
    wide = round(sum(a * b for a, b in zip([784, *deep], [*deep, 10])) / (784 + 10))   # as many weights, one layer
    ours = {"EPOCHS": defaults["DEEP_EPOCHS"], "BATCH_SIZE": defaults["DEEP_BATCH_SIZE"],
            "LEARNING_RATE": defaults["DEEP_LEARNING_RATE"], "L2": defaults["DEEP_L2"], "SHIFT": 0}
    return {
        f"784-{small}-10, sections 3-9 (one-pixel batch shifts)": (None, {}),
        f"{deep_name}, section 12": (deep, ours),
        f"{deep_name}, section 12 without batch norm": (deep, dict(ours, DEEP_BATCH_NORM=False)),
        f"{deep_name}, no batch norm, learning rate 0.1": (deep, dict(ours, DEEP_BATCH_NORM=False, LEARNING_RATE=0.1)),
        f"{deep_name}, affine distortions only (no elastic)": (deep, dict(ours, DEEP_ELASTIC=0)),
        f"{deep_name}, one-pixel batch shifts instead of distortions": (deep, dict(
            ours, DEEP_ROTATE=0, DEEP_SCALE=0, DEEP_SHIFT=0, DEEP_ELASTIC=0, SHIFT=defaults["SHIFT"])),
        f"784-{wide}-10: as many weights in one hidden layer": ([wide], ours),
        f"{deep_name}, section 12 with dropout 0.2": (deep, dict(ours, DEEP_DROPOUT=0.2)),
        f"{deep_name}, the earlier recipe: affine only, no batch norm, 45 epochs of 128 at 0.1": (deep, dict(
            ours, EPOCHS=45, BATCH_SIZE=128, LEARNING_RATE=0.1, DEEP_BATCH_NORM=False, DEEP_ELASTIC=0)),
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
    data = mnist_utils.load_mnist(args.data_dir, download=False)
    print(f"seeds {args.seeds}; figures are means over the seeds\n")
    print("| network and training images | weights and biases | batch norm | dropout | epochs | learning rate "
          "| test accuracy | per seed | best validation accuracy | training time (s) | s per epoch |\n" + "|---" * 11
          + "|")
    for row, (name, (hidden, changes)) in enumerate(variants(defaults).items(), start=1):
        if args.rows and row not in args.rows:
            continue
        s = {**defaults, **changes, **({"EPOCHS": args.epochs} if args.epochs else {})}
        try:
            runs = [recipe.run(nb, data, s, seed, layers=hidden) for seed in args.seeds]
        except nb.TrainingDiverged as error:   # a row too far from the recipe may diverge: say so, and go on
            print(f"| {name} | diverged: {str(error).split('. The steps')[0]} |", flush=True)
            continue
        test, val, seconds = np.mean([(accuracy, max(history["val_acc"]), history["seconds"][-1])
                                      for _, history, accuracy in runs], axis=0)
        batch_norm, dropout = ("yes" if s["DEEP_BATCH_NORM"] else "no", s["DEEP_DROPOUT"]) if hidden else ("no", 0)
        print(f"| {name} | {sum(value.size for value in runs[0][0].values()):,} | {batch_norm} | {dropout:g} "
              f"| {s['EPOCHS']} | {s['LEARNING_RATE']:g} | {test:.2%} | {', '.join(f'{a:.2%}' for _, _, a in runs)} "
              f"| {val:.2%} | {seconds:.0f} | {seconds / s['EPOCHS']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
