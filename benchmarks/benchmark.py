"""How fast the notebook trains, compared with what this machine can do at best.

Times the notebook's own code at its default parameters (recipe.run) and prints Markdown; progress and
every round's timings go to stderr. Sections: floor (the five matrix products of an epoch's steps: no
step can be faster on this BLAS); epoch (`train` against the floor in alternating rounds, and where an
epoch goes: `train` with the functions it calls timed); accuracy (time to 97.5 % and 98 %); scaling
(against hidden and batch size, and a plot); torch (the recipe in PyTorch, torch_reference.py).

    python benchmarks/benchmark.py --data-dir ../shared/data/mnist      # all: minutes on an idle 2-core machine
    python benchmarks/benchmark.py --data-dir ../shared/data/mnist --sections floor epoch torch
    python benchmarks/benchmark.py --quick --data-dir DIR   # tiny configuration (seconds), for the tests
"""

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))
import mnist_utils  # noqa: E402
import recipe  # noqa: E402  (beside this script)
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402

N_IN, NUM_CLASSES = 28 * 28, 10
ACCURACY_TARGETS = (0.975, 0.98)
REFERENCE_BATCH_SIZE = 128   # the learning rate is scaled linearly with the batch size relative to this
FLOOR_REPEATS = 3            # a floor timing is the fastest of this many passes over an epoch's products
TORCH_WARM_UP_STEPS = 20     # untimed steps before PyTorch is timed (thread pool, allocator)
STEP_PIECES = ("random_shift", "preprocess", "forward", "cross_entropy", "softmax", "backward",   # what `train`
               "learning_rate_at", "sgd_momentum_step", "update_average")                  # calls each step
# What --quick changes: a tiny configuration (seconds), its plot in git-ignored benchmarks/results/
QUICK = dict(rounds=2, epochs_per_round=1, epochs=2, scaling_epochs=1, scaling_timing_runs=1, hidden_sizes=[32, 64],
             batch_sizes=[64, 128], validation_size=200, max_images=[1200, 300],
             plot=str(BENCHMARKS / "results" / "scaling-quick.png"))


def log(message):
    print(message, file=sys.stderr, flush=True)


def print_table(headers, rows):
    print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
    print("\n".join("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows), flush=True)


def alternate(measurements, rounds):
    """`rounds` dicts {name: value}, the measurements taken in the given order in even rounds and in reverse
    order in odd ones (the machine's speed changes between phases: only neighbouring timings compare)."""
    results = [{} for _ in range(rounds)]
    for i, result in enumerate(results):
        result.update((name, measurements[name]()) for name in list(measurements)[::1 if i % 2 == 0 else -1])
        log(f"  round {i + 1} of {rounds}: " + ", ".join(f"{k} {v if type(v) is float else v[0]:.3f} s"
                                                         for k, v in result.items()))   # seconds come first
    return results


def median(rounds, key):
    return statistics.median(r[key] for r in rounds)


def trained(nb, data, settings, epochs):
    """(training seconds per epoch, history, test accuracy) of a fresh run of `train` for `epochs` epochs."""
    _, history, test_accuracy = recipe.run(nb, data, dict(settings, EPOCHS=epochs), settings["SEED"])
    return history["seconds"][-1] / epochs, history, test_accuracy


def sizes(settings, data):
    """Batch size, hidden size, steps per epoch and GFLOP per epoch of the five products (2·m·n·k each)."""
    B, H = settings["BATCH_SIZE"], settings["HIDDEN_SIZE"]
    steps = (len(data[0][0]) - settings["VALIDATION_SIZE"]) // B
    return B, H, steps, steps * 2 * B * (2 * N_IN * H + 3 * H * NUM_CLASSES) / 1e9


def floor_seconds(B, H, steps):
    """Fastest of FLOOR_REPEATS timings of the five matrix products of a step (X@W1, A1@W2, A1.T@dZ2,
    dZ2@W2.T, X.T@dZ1) `steps` times, float32, laid out as the notebook has them (the transposes are views)."""
    rng = np.random.default_rng(0)
    X, W1, A1, W2, dZ2, dZ1 = (rng.standard_normal(shape, dtype=np.float32) for shape in (
        (B, N_IN), (N_IN, H), (B, H), (H, NUM_CLASSES), (B, NUM_CLASSES), (B, H)))
    fastest = math.inf
    for _ in range(FLOOR_REPEATS):
        start = time.perf_counter()
        for _ in range(steps):
            X @ W1, A1 @ W2, A1.T @ dZ2, dZ2 @ W2.T, X.T @ dZ1   # computed, then dropped
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def floor_section(nb, data, settings, config):
    B, H, steps, gflop = sizes(settings, data)
    seconds = floor_seconds(B, H, steps)
    print(f"\n## Floor: the five matrix products of a training step\n\nfloat32, batch {B}, hidden {H}, {steps} steps "
          f"per epoch, fastest of {FLOOR_REPEATS} passes: **{1000 * seconds:.1f} ms** per epoch, {gflop:.2f} GFLOP "
          f"at {gflop / seconds:.1f} GFLOP/s.")


def step_piece_seconds(data, settings):
    """(seconds, {name in STEP_PIECES: seconds}) of the second epoch of a two-epoch `train`: in a copy of the
    notebook's functions, those are wrapped in timers that count from the end of the first epoch until
    `evaluate` is called after the second. `train` itself is not changed."""
    nb, seconds, state = load_notebook_functions(), dict.fromkeys(STEP_PIECES, 0.0), {"counting": False}

    def timed(name, function):
        def timed_function(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            seconds[name] += (time.perf_counter() - start) if state["counting"] else 0.0
            return result
        return timed_function

    def evaluate(*args, original=nb.evaluate, **kwargs):
        state["counting"] = False   # the epoch's steps are over
        return original(*args, **kwargs)

    for name in STEP_PIECES:
        setattr(nb, name, timed(name, getattr(nb, name)))
    nb.evaluate = evaluate
    _, history, _ = recipe.run(nb, data, dict(settings, EPOCHS=2), settings["SEED"],
                               on_epoch=lambda history: state.update(counting=len(history["epoch"]) == 1))
    return history["seconds"][1] - history["seconds"][0], seconds


def epoch_section(nb, data, settings, config):
    B, H, steps, gflop = sizes(settings, data)
    rounds = alternate({"epoch": lambda: trained(nb, data, settings, config.epochs_per_round)[0],
                        "floor": lambda: floor_seconds(B, H, steps),
                        "breakdown": lambda: step_piece_seconds(data, settings)}, config.rounds)
    # the breakdown of the round with the median breakdown epoch (medians per function add up to no epoch)
    total, pieces = sorted((r["breakdown"] for r in rounds), key=lambda b: b[0])[(len(rounds) - 1) // 2]
    epoch, floor, rest = median(rounds, "epoch"), median(rounds, "floor"), total - sum(pieces.values())
    print(f"\n## Notebook epoch vs floor\n\nThe notebook's `train` ({config.epochs_per_round} epoch(s) per round, "
          f"training seconds only) and the floor, timed alternately in {config.rounds} rounds: medians {epoch:.3f} s "
          f"and {floor:.3f} s per epoch ({gflop / epoch:.1f} and {gflop / floor:.1f} GFLOP/s); median of the "
          f"per-round ratios epoch / floor **{statistics.median(r['epoch'] / r['floor'] for r in rounds):.2f}**.")
    print("\nWhere an epoch goes (the second epoch of `train`, its functions timed; the median round):\n")
    print_table(("function called in each step", "ms per epoch", "share"), [
        *[(f"`{name}`", f"{1000 * s:.1f}", f"{s / total:.0%}") for name, s in pieces.items()],
        ("the rest: the order, the shift drawn, the batch gathered, the loop, the timers", f"{1000 * rest:.1f}",
         f"{rest / total:.0%}"), ("**the epoch**", f"**{1000 * total:.1f}**", "100%")])
    print(f"\nThe five matrix products alone (the floor) take {1000 * floor:.1f} ms = {floor / total:.0%} of it.")


def accuracy_section(nb, data, settings, config):
    epochs = config.epochs or settings["EPOCHS"]
    _, history, test_accuracy = trained(nb, data, settings, epochs)
    best, seconds = int(np.argmax(history["val_acc"])), history["seconds"][-1]
    print(f"\n## Time to accuracy\n\nOne training at the default parameters, {epochs} epochs, {seconds:.1f} s of "
          f"training ({seconds / epochs:.3f} s per epoch).\n")
    for target in ACCURACY_TARGETS:
        i = recipe.first_above(history, target)
        print(f"- validation accuracy first above {target:.1%}: " + (
            "not reached" if i is None else f"after {history['seconds'][i]:.1f} s (epoch {history['epoch'][i]:.0f})"))
    print(f"- best validation accuracy {history['val_acc'][best]:.2%} (epoch {history['epoch'][best]:.0f}); "
          f"test accuracy of its weights {test_accuracy:.2%}")


def scaling_section(nb, data, settings, config):
    """Hidden sizes at the default batch size, then batch sizes at the default hidden size."""
    sweeps = [("hidden size", H, settings["BATCH_SIZE"]) for H in config.hidden_sizes]
    sweeps += [("batch size", settings["HIDDEN_SIZE"], B) for B in config.batch_sizes]
    measured, rate = {}, settings["LEARNING_RATE"]
    for H, B in dict.fromkeys((H, B) for _, H, B in sweeps):
        log(f"scaling: hidden {H}, batch {B}")
        point = dict(settings, HIDDEN_SIZE=H, BATCH_SIZE=B, LEARNING_RATE=rate * B / REFERENCE_BATCH_SIZE)
        rounds = alternate({"epoch": lambda: trained(nb, data, point, 1)[0],
                            "floor": lambda: floor_seconds(B, H, sizes(point, data)[2])}, config.scaling_timing_runs)
        measured[H, B] = {"hidden_size": H, "batch_size": B, "learning_rate": point["LEARNING_RATE"],
                          "seconds_per_epoch": median(rounds, "epoch"), "floor_seconds": median(rounds, "floor"),
                          "ratio": statistics.median(r["epoch"] / r["floor"] for r in rounds),
                          "test_accuracy": trained(nb, data, point, config.scaling_epochs)[2]}
    points = [dict(measured[H, B], sweep=sweep) for sweep, H, B in sweeps]
    print(f"\n## How cost grows with the hidden size and the batch size\n\nSeconds per epoch: median of "
          f"{config.scaling_timing_runs} one-epoch run(s) of `train`, each next to a floor timing; test accuracy "
          f"after {config.scaling_epochs} epoch(s); learning rate {rate} × batch / {REFERENCE_BATCH_SIZE}.\n")
    print_table(("varied", "hidden", "batch", "learning rate", "s per epoch", "floor s per epoch", "epoch / floor",
                 "test accuracy"), [
        (p["sweep"], p["hidden_size"], p["batch_size"], f"{p['learning_rate']:g}", f"{p['seconds_per_epoch']:.3f}",
         f"{p['floor_seconds']:.3f}", f"{p['ratio']:.2f}", f"{p['test_accuracy']:.2%}") for p in points])
    plot_scaling(points, config.plot)
    print(f"\nPlot: {config.plot}")


def plot_scaling(points, path):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (sweep, fixed) in zip(axes, (("hidden size", "batch size"), ("batch size", "hidden size"))):
        swept = [p for p in points if p["sweep"] == sweep]
        x = [p[sweep.replace(" ", "_")] for p in swept]
        ax.plot(x, [p["seconds_per_epoch"] for p in swept], "o-", label="notebook's train")
        ax.plot(x, [p["floor_seconds"] for p in swept], "s--", label="floor (five matrix products)")
        seconds = [p[c] for p in swept for c in ("seconds_per_epoch", "floor_seconds")]
        ax.set(xscale="log", yscale="log", xlabel=sweep, ylabel="seconds per epoch",
               ylim=(min(seconds) / 1.6, max(seconds) * 1.6),   # room for a labelled 1-2-5 tick or two
               title=f"Seconds per epoch vs {sweep} ({fixed} {swept[0][fixed.replace(' ', '_')]})")
        ax.set_xticks(x, [str(size) for size in x])
        ax.yaxis.set(major_locator=LogLocator(subs=(1, 2, 5)), major_formatter=FuncFormatter(lambda y, _: f"{y:g}"))
        ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Cost of an epoch of the 784-H-10 network on {os.cpu_count()} CPU cores (log-log)")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def torch_section(nb, data, settings, config):
    print("\n## PyTorch on the CPU, same recipe\n")
    try:
        import torch_reference  # imports torch
    except ImportError:
        print("Skipped: PyTorch is not installed; to compare, `pip install torch==2.13.0`.")
        return
    (images, labels), (test_images, test_labels) = data
    (fit_images, fit_labels), _ = nb.split_validation(images, labels, settings["VALIDATION_SIZE"],
                                                      np.random.default_rng([settings["SEED"], 1]))  # as recipe.run
    epochs, threads = config.epochs_per_round, os.cpu_count()
    torch_reference.torch.set_num_threads(threads)   # one intra-op thread per core
    schedule = (epochs * (len(fit_images) // settings["BATCH_SIZE"]), settings["LEARNING_RATE"], recipe.SCHEDULE)
    options = {name.lower(): settings[name] for name in ("HIDDEN_SIZE", "BATCH_SIZE", "MOMENTUM", "L2", "AVERAGING")}

    def torch_round(max_steps=None):
        """(seconds per epoch, test accuracy) of a fresh PyTorch training."""
        model = torch_reference.TorchRecipe(fit_images, fit_labels, max_shift=settings["SHIFT"], seed=settings["SEED"],
                                            learning_rate_at=lambda step: nb.learning_rate_at(step, *schedule),
                                            **options)
        seconds = sum(model.train_epoch(max_steps) for _ in range(epochs))
        return seconds / epochs, float(np.mean(model.predict(test_images) == test_labels))

    torch_round(max_steps=TORCH_WARM_UP_STEPS)
    rounds = [{"numpy": r["numpy"][0], "torch": r["torch"][0], "numpy_accuracy": r["numpy"][2],
               "torch_accuracy": r["torch"][1]} for r in alternate(
        {"numpy": lambda: trained(nb, data, settings, epochs), "torch": torch_round}, config.rounds)]
    print(f"PyTorch {torch_reference.torch.__version__} ({threads} threads) and the notebook's `train`, {epochs} "
          f"epoch(s) each per round from a fresh start, timed alternately in {config.rounds} rounds (medians):\n")
    print_table(("", "seconds per epoch", "test accuracy"), [
        ("notebook (NumPy)", f"{median(rounds, 'numpy'):.3f}", f"{median(rounds, 'numpy_accuracy'):.2%}"),
        ("PyTorch", f"{median(rounds, 'torch'):.3f}", f"{median(rounds, 'torch_accuracy'):.2%}"),
        ("**median of per-round ratios PyTorch / NumPy**",
         f"**{statistics.median(r['torch'] / r['numpy'] for r in rounds):.2f}**", "")])


SECTIONS = {"floor": floor_section, "epoch": epoch_section, "accuracy": accuracy_section,
            "scaling": scaling_section, "torch": torch_section}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    option = parser.add_argument
    option("--data-dir", help="folder with the four MNIST .gz files (default: $MNIST_DATA_DIR or ./data)")
    option("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="SECTION",
           help=f"which sections to run, of: {' '.join(SECTIONS)} (default: all)")
    option("--quick", action="store_true", help="tiny defaults, for the tests (seconds): see QUICK")
    option("--rounds", type=int, default=5, help="alternating rounds in sections epoch and torch: %(default)s")
    option("--epochs-per-round", type=int, default=2, help="epochs of `train` per round: %(default)s")
    option("--epochs", type=int, help="epochs of the training in section accuracy (default: the notebook's)")
    option("--scaling-epochs", type=int, default=15, help="epochs of each training in section scaling: %(default)s")
    option("--scaling-timing-runs", type=int, default=3, help="one-epoch runs per size: %(default)s")
    option("--hidden-sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512], help="section scaling: %(default)s")
    option("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512], help="section scaling: %(default)s")
    option("--validation-size", type=int, help="default: the notebook's VALIDATION_SIZE")
    option("--max-images", type=int, nargs=2, default=[None, None], help="use the first training and test images only")
    option("--plot", default=str(BENCHMARKS / "scaling.png"), help="where section scaling draws its plot: %(default)s")
    if parser.parse_args(argv).quick:
        parser.set_defaults(**QUICK)   # options given still win
    config = parser.parse_args(argv)
    settings = notebook_parameters()
    settings["VALIDATION_SIZE"] = config.validation_size or settings["VALIDATION_SIZE"]
    data = tuple((images[:n], labels[:n]) for (images, labels), n in
                 zip(mnist_utils.load_mnist(config.data_dir, download=False), config.max_images))
    blas = {"name": "an unknown BLAS", "version": ""}   # NumPy 1.26 and later say which
    if np.lib.NumpyVersion(np.__version__) >= "1.26.0":
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    threads = [f"{name}={value}" for name, value in os.environ.items() if name.endswith("_NUM_THREADS")]
    print(f"# Benchmark of the notebook's training ({'quick' if config.quick else 'full'} configuration)\n\n"
          f"{os.cpu_count()} CPU cores, NumPy {np.__version__} with {blas['name']} {blas.get('version', '')} "
          f"({', '.join(threads) or 'BLAS threads: default'}); {len(data[0][0])} training images "
          f"({settings['VALIDATION_SIZE']} held out for validation), {len(data[1][0])} test images.")
    nb = load_notebook_functions()
    for name in (name for name in SECTIONS if name in config.sections):
        log(name)
        SECTIONS[name](nb, data, settings, config)


if __name__ == "__main__":
    main()
