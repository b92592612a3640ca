"""What depth, width, distortions, dropout and batch normalization change in going_further.ipynb's recipe.

Trains each network with that notebook's own functions, as the notebook does (recipe.run_layers: its generators
for each seed), and prints a Markdown table (figures are means over the seeds). The first row is the first
notebook's 784-64-10 network and recipe, trained as layers as going_further.ipynb's comparison does; the last is
the recipe the deep network was trained by before batch normalization and elastic distortions.

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


def variants(nb, defaults):
    """name -> (changes to the notebook's parameters, options of recipe.run_layers)."""
    deep = defaults["DEEP_HIDDEN"]
    deep_name = "-".join(map(str, [784, *deep, 10]))
    small_name = "-".join(map(str, nb.SMALL_SIZES))
    wide = round(sum(a * b for a, b in zip([784, *deep], [*deep, 10])) / (784 + 10))   # as many weights, one layer
    no_distortion = dict(DEEP_ROTATE=0, DEEP_SCALE=0, DEEP_SHIFT=0, DEEP_ELASTIC=0)
    return {
        f"{small_name}, the first notebook's recipe (one-pixel batch shifts), as layers": ({}, {"small": True}),
        f"{deep_name}, going_further.ipynb's recipe": ({}, {}),
        f"{deep_name}, without batch norm": (dict(DEEP_BATCH_NORM=False), {}),
        f"{deep_name}, no batch norm, learning rate 0.1": (dict(DEEP_BATCH_NORM=False, DEEP_LEARNING_RATE=0.1), {}),
        f"{deep_name}, affine distortions only (no elastic)": (dict(DEEP_ELASTIC=0), {}),
        f"{deep_name}, one-pixel batch shifts instead of distortions": (no_distortion, {"shift": 1}),
        f"784-{wide}-10: as many weights in one hidden layer": (dict(DEEP_HIDDEN=[wide]), {}),
        f"{deep_name}, with dropout 0.2": (dict(DEEP_DROPOUT=0.2), {}),
        f"{deep_name}, the earlier recipe: affine only, no batch norm, 45 epochs of 128 at 0.1": (dict(
            DEEP_EPOCHS=45, DEEP_BATCH_SIZE=128, DEEP_LEARNING_RATE=0.1, DEEP_BATCH_NORM=False, DEEP_ELASTIC=0), {}),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to average over")
    parser.add_argument("--epochs", type=int, default=None, help="override every network's epochs (quick check)")
    parser.add_argument("--validation-size", type=int, help="override VALIDATION_SIZE (for small data sets)")
    parser.add_argument("--rows", type=int, nargs="+", help="run only these rows of the table (1 = the first)")
    args = parser.parse_args(argv)
    nb = load_notebook_functions(recipe.GOING_FURTHER)
    defaults = notebook_parameters(recipe.GOING_FURTHER)
    defaults["VALIDATION_SIZE"] = args.validation_size or defaults["VALIDATION_SIZE"]
    data = mnist_utils.load_mnist(args.data_dir, download=False)
    print(f"seeds {args.seeds}; figures are means over the seeds\n")
    print("| network and training images | weights and biases | batch norm | dropout | epochs | learning rate "
          "| test accuracy | per seed | best validation accuracy | training time (s) | s per epoch |\n" + "|---" * 11
          + "|")
    for row, (name, (changes, options)) in enumerate(variants(nb, defaults).items(), start=1):
        if args.rows and row not in args.rows:
            continue
        s = {**defaults, **changes}
        try:
            runs = [recipe.run_layers(nb, data, s, seed, epochs=args.epochs, **options) for seed in args.seeds]
        except nb.TrainingDiverged as error:   # a row too far from the recipe may diverge: say so, and go on
            print(f"| {name} | diverged: {str(error).split('. The steps')[0]} |", flush=True)
            continue
        test, val, seconds = np.mean([(accuracy, max(history["val_acc"]), history["seconds"][-1])
                                      for _, history, accuracy in runs], axis=0)
        small = options.get("small")
        batch_norm, dropout = ("no", 0) if small else ("yes" if s["DEEP_BATCH_NORM"] else "no", s["DEEP_DROPOUT"])
        epochs = len(runs[0][1]["epoch"])
        rate = nb.SMALL_RECIPE["learning_rate"] if small else s["DEEP_LEARNING_RATE"]
        print(f"| {name} | {sum(value.size for value in runs[0][0].values()):,} | {batch_norm} | {dropout:g} "
              f"| {epochs} | {rate:g} | {test:.2%} | {', '.join(f'{a:.2%}' for _, _, a in runs)} "
              f"| {val:.2%} | {seconds:.0f} | {seconds / epochs:.2f} |", flush=True)


if __name__ == "__main__":
    main()
