"""How fast the notebook trains, compared with what this machine can do at best.

Everything timed here is the notebook's own code (imported with notebook_functions, not copied),
at the notebook's default parameters unless a section says otherwise. One run prints six sections
of Markdown tables (progress goes to stderr):

1. Floor: the five matrix products of one training step (X@W1, A1@W2, A1.T@dZ2, dZ2@W2.T,
   X.T@dZ1) at the notebook's shapes, float32, laid out as the notebook has them, timed for the
   number of steps in one epoch. No training step can be faster on this machine's BLAS; also
   GFLOP per epoch and the GFLOP/s achieved.
2. Notebook epoch vs floor: the notebook's `train` (a few epochs) and the floor, timed alternately
   in the same process for several rounds; medians and the median of the per-round ratios (the
   machine's speed changes between phases, so only ratios of neighbouring timings mean much).
   Then where an epoch's time goes: the pieces of a step, timed in a loop that calls the
   notebook's functions in the order `train` does. Timed in the same rounds: the same step
   written for speed alone (benchmarks/fused_numpy.py: preallocated buffers, `out=` everywhere,
   one flat parameter vector), which shows how close to the floor NumPy itself can get, and that
   step a part at a time (the products on a new batch each step; + the element-wise forward and
   backward; + update; + averaging; + loading each batch = the whole step), which shows what each
   part adds to the floor.
3. Time to accuracy: one full training at the default parameters, set up as the notebook does
   (one generator splits, initialises and trains); training seconds until validation accuracy
   first passes 97.5 % and 98 %, best validation accuracy, test accuracy.
4. Peak memory: the kernel's peak resident memory in one whole headless run of the notebook
   (benchmarks/run_notebook.py). Skipped by --no-notebook and --quick.
5. How cost grows: seconds per epoch (median of short runs, each next to a floor timing) and test
   accuracy after --scaling-epochs epochs, for several hidden sizes and batch sizes, as a table
   and a two-panel log-log plot (--plot).
6. PyTorch (optional): the same recipe in PyTorch on the CPU (benchmarks/torch_reference.py),
   timed alternately with the notebook's `train`; skipped with a note if torch is not installed.

    python benchmarks/benchmark.py --data-dir ../shared/data/mnist      # all: minutes on an idle 2-core machine
    python benchmarks/benchmark.py --data-dir ../shared/data/mnist --json benchmarks/results/benchmark.json
    python benchmarks/benchmark.py --data-dir ../shared/data/mnist --sections floor epoch torch
    python benchmarks/benchmark.py --quick --data-dir DIR   # tiny configuration (seconds), for the tests;
                                                            # its plot goes to benchmarks/results/

Run it on an otherwise idle machine: the timings are only as good as the quiet around them.
NumPy's BLAS starts one thread per core; the header line records any OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS setting, so the effect of threading shows by running, say, sections floor and
epoch once as they are and once with OPENBLAS_NUM_THREADS=1.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))
sys.path.insert(0, str(BENCHMARKS))
import fused_numpy  # noqa: E402
import mnist_utils  # noqa: E402
from notebook_functions import load_notebook_functions, notebook_parameters  # noqa: E402

N_IN = 28 * 28
NUM_CLASSES = 10
ACCURACY_TARGETS = (0.975, 0.98)
REFERENCE_BATCH_SIZE = 128      # the learning rate is scaled linearly with the batch size relative to this
FLOOR_REPEATS = 3               # a floor timing is the fastest of this many passes over an epoch's products
DEFAULT_PLOT = BENCHMARKS / "scaling.png"
QUICK_PLOT = BENCHMARKS / "results" / "scaling-quick.png"  # git-ignored: a quick run never overwrites the real plot
PLOT_MARGIN = 1.6               # log-scale padding around the plotted times, so labelled y ticks always show
SECTIONS = ("floor", "epoch", "accuracy", "memory", "scaling", "torch")
TORCH_WARM_UP_STEPS = 20        # untimed steps before PyTorch is timed (thread pool, allocator)
TORCH_VERSION_HINT = "pip install torch==2.13.0"


@dataclasses.dataclass(frozen=True)
class Config:
    """How much of each measurement to do."""
    rounds: int = 5                     # interleaved rounds in sections 2 and 6
    epochs_per_round: int = 2           # epochs of `train` per round
    epochs: int | None = None           # of the full training (section 3); None: the notebook's EPOCHS
    scaling_epochs: int = 15            # of each training in section 5
    scaling_timing_runs: int = 3        # one-epoch timing runs per size in section 5
    hidden_sizes: tuple = (32, 64, 128, 256, 512)
    batch_sizes: tuple = (32, 64, 128, 256, 512)
    validation_size: int | None = None  # None: the notebook's VALIDATION_SIZE
    max_train_images: int | None = None  # use only the first images of each set (None: all)
    max_test_images: int | None = None


FULL = Config()
QUICK = Config(rounds=2, epochs_per_round=1, epochs=2, scaling_epochs=1, scaling_timing_runs=1,
               hidden_sizes=(32, 64), batch_sizes=(64, 128), validation_size=200,
               max_train_images=1200, max_test_images=300)


# --- Setting up runs as the notebook does ---------------------------------------------------------

@dataclasses.dataclass
class Run:
    """What `train` needs, drawn the way the notebook draws it: split, then initialise, same generator."""
    params: dict
    train_images: np.ndarray
    train_labels: np.ndarray
    X_val: np.ndarray
    val_labels: np.ndarray
    rng: np.random.Generator


def load_data(data_dir, config):
    (train_images, train_labels), (test_images, test_labels) = mnist_utils.load_mnist(data_dir, download=False)
    return ((train_images[:config.max_train_images], train_labels[:config.max_train_images]),
            (test_images[:config.max_test_images], test_labels[:config.max_test_images]))


def start_run(nb, data, settings):
    (images, labels), _ = data
    rng = np.random.default_rng(settings["SEED"])
    (train_images, train_labels), (val_images, val_labels) = nb.split_validation(
        images, labels, settings["VALIDATION_SIZE"], rng)
    params = nb.init_params(N_IN, settings["HIDDEN_SIZE"], NUM_CLASSES, rng)
    return Run(params, train_images, train_labels, nb.preprocess(val_images), val_labels, rng)


def train(nb, run, settings, epochs):
    """The notebook's `train` on `run`; returns (best averaged params, history)."""
    return nb.train(run.params, run.train_images, run.train_labels, run.X_val, run.val_labels, epochs=epochs,
                    batch_size=settings["BATCH_SIZE"], learning_rate=settings["LEARNING_RATE"],
                    momentum=settings["MOMENTUM"], l2=settings["L2"], max_shift=settings["SHIFT"],
                    averaging=settings["AVERAGING"], rng=run.rng, progress=False)


def test_set_accuracy(nb, data, params):
    _, (test_images, test_labels) = data
    return float(nb.accuracy(nb.predict(nb.preprocess(test_images), params), test_labels))


def notebook_epoch_seconds(nb, data, settings, epochs):
    """Training seconds per epoch of a fresh `train` run of `epochs` epochs (evaluation excluded)."""
    _, history = train(nb, start_run(nb, data, settings), settings, epochs)
    return history["seconds"][-1] / epochs


def with_sizes(settings, hidden_size, batch_size):
    """The settings for another hidden or batch size; the learning rate scales linearly with the batch."""
    scaled_rate = settings["LEARNING_RATE"] * batch_size / REFERENCE_BATCH_SIZE
    return dict(settings, HIDDEN_SIZE=hidden_size, BATCH_SIZE=batch_size, LEARNING_RATE=scaled_rate)


def steps_per_epoch(data, settings):
    (images, _), _ = data
    return (len(images) - settings["VALIDATION_SIZE"]) // settings["BATCH_SIZE"]


# --- 1. The floor: the five matrix products of a step ----------------------------------------------

# (name, function of the operands, FLOP as a function of batch size B and hidden size H)
PRODUCTS = (
    ("X @ W1      (B,784)x(784,H)", lambda o: o["X"] @ o["W1"], lambda B, H: 2 * B * N_IN * H),
    ("A1 @ W2     (B,H)x(H,10)", lambda o: o["A1"] @ o["W2"], lambda B, H: 2 * B * H * NUM_CLASSES),
    ("A1.T @ dZ2  (H,B)x(B,10)", lambda o: o["A1"].T @ o["dZ2"], lambda B, H: 2 * H * B * NUM_CLASSES),
    ("dZ2 @ W2.T  (B,10)x(10,H)", lambda o: o["dZ2"] @ o["W2"].T, lambda B, H: 2 * B * NUM_CLASSES * H),
    ("X.T @ dZ1   (784,B)x(B,H)", lambda o: o["X"].T @ o["dZ1"], lambda B, H: 2 * N_IN * B * H),
)


def floor_operands(batch_size, hidden_size, seed=0):
    """float32 C-contiguous arrays of the notebook's shapes (the transposes are views, as in backward)."""
    rng = np.random.default_rng(seed)
    shapes = {"X": (batch_size, N_IN), "W1": (N_IN, hidden_size), "A1": (batch_size, hidden_size),
              "W2": (hidden_size, NUM_CLASSES), "dZ2": (batch_size, NUM_CLASSES), "dZ1": (batch_size, hidden_size)}
    return {name: rng.standard_normal(shape, dtype=np.float32) for name, shape in shapes.items()}


def gflop_per_epoch(batch_size, hidden_size, steps):
    return steps * sum(flop(batch_size, hidden_size) for _, _, flop in PRODUCTS) / 1e9


def time_products(operands, products, steps, repeats=FLOOR_REPEATS):
    """Fastest of `repeats` timings of `steps` repetitions of the given products, in seconds."""
    fastest = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            for _, product, _ in products:
                product(operands)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def floor_seconds(batch_size, hidden_size, steps):
    """The floor: seconds for one epoch's worth of the five matrix products."""
    return time_products(floor_operands(batch_size, hidden_size), PRODUCTS, steps)


def measure_floor(batch_size, hidden_size, steps):
    operands = floor_operands(batch_size, hidden_size)
    per_product = []
    for product in PRODUCTS:
        seconds = time_products(operands, (product,), steps)
        gflop = steps * product[2](batch_size, hidden_size) / 1e9
        per_product.append({"product": product[0], "seconds_per_epoch": seconds, "gflop_per_epoch": gflop,
                            "gflops": gflop / seconds})
    seconds = time_products(operands, PRODUCTS, steps)
    gflop = gflop_per_epoch(batch_size, hidden_size, steps)
    return {"batch_size": batch_size, "hidden_size": hidden_size, "steps_per_epoch": steps,
            "seconds_per_epoch": seconds, "gflop_per_epoch": gflop, "gflops": gflop / seconds,
            "products": per_product}


def print_floor(floor):
    print(f"\n## 1. Floor: the five matrix products of a training step\n\n"
          f"float32, batch {floor['batch_size']}, hidden {floor['hidden_size']}, "
          f"{floor['steps_per_epoch']} steps per epoch; fastest of {FLOOR_REPEATS} passes.\n")
    rows = [(p["product"], f"{p['gflop_per_epoch']:.2f}", f"{1000 * p['seconds_per_epoch']:.1f}",
             f"{p['gflops']:.1f}") for p in floor["products"]]
    rows.append(("**all five, one after another (the floor)**", f"{floor['gflop_per_epoch']:.2f}",
                 f"{1000 * floor['seconds_per_epoch']:.1f}", f"{floor['gflops']:.1f}"))
    print_table(("product", "GFLOP per epoch", "ms per epoch", "GFLOP/s"), rows)


# --- 2. The notebook's epoch against the floor -----------------------------------------------------

# The pieces of one training step, in the order `train` runs them.
STEP_PIECES = (
    "draw the shift, gather the batch (uint8) and its labels",
    "shift_images",
    "preprocess",
    "forward (2 products, bias, ReLU)",
    "softmax",
    "backward (3 products, element-wise)",
    "cosine_learning_rate + sgd_momentum_step",
    "update_average",
)


def step_piece_seconds(nb, run, settings):
    """Seconds per piece of one epoch, calling the notebook's functions in the order `train` calls them.

    Returns (seconds per piece, seconds of the whole epoch including the loop and the timers)."""
    batch_size, l2 = settings["BATCH_SIZE"], settings["L2"]
    params = {name: value.copy() for name, value in run.params.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    average = {name: value.copy() for name, value in params.items()}
    Y_train = nb.one_hot(run.train_labels, NUM_CLASSES)
    steps = len(run.train_images) // batch_size
    clock, stamps = time.perf_counter, []
    epoch_start = clock()
    order = run.rng.permutation(len(run.train_images))
    for step in range(steps):
        t = [clock()]
        batch = order[step * batch_size:(step + 1) * batch_size]
        dy, dx = run.rng.integers(-settings["SHIFT"], settings["SHIFT"] + 1, size=2)
        images, Y = run.train_images[batch], Y_train[batch]
        t.append(clock())
        shifted = nb.shift_images(images, dy, dx)
        t.append(clock())
        X = nb.preprocess(shifted)
        t.append(clock())
        Z2, cache = nb.forward(X, params)
        t.append(clock())
        P = nb.softmax(Z2)
        t.append(clock())
        grads = nb.backward(P, Y, cache, params, l2)
        t.append(clock())
        rate = nb.cosine_learning_rate(step, steps, settings["LEARNING_RATE"])
        nb.sgd_momentum_step(params, grads, velocity, rate, settings["MOMENTUM"])
        t.append(clock())
        nb.update_average(average, params, settings["AVERAGING"])
        t.append(clock())
        stamps.append(t)
    epoch = clock() - epoch_start
    pieces = np.diff(np.array(stamps), axis=1).sum(axis=0) if stamps else np.zeros(len(STEP_PIECES))
    return dict(zip(STEP_PIECES, pieces.tolist())), epoch


def fused_recipe(nb, data, settings, epochs):
    """benchmarks/fused_numpy.py's step, set up to train `epochs` epochs from the start `train` gets."""
    run = start_run(nb, data, settings)
    total_steps = epochs * (len(run.train_images) // settings["BATCH_SIZE"])
    return fused_numpy.FusedRecipe(
        run.params, run.train_images, run.train_labels, batch_size=settings["BATCH_SIZE"],
        momentum=settings["MOMENTUM"], l2=settings["L2"], max_shift=settings["SHIFT"],
        averaging=settings["AVERAGING"], rng=run.rng,
        learning_rate_at=lambda step: nb.cosine_learning_rate(step, total_steps, settings["LEARNING_RATE"]))


def fused_epoch_seconds(nb, data, settings, epochs):
    """Seconds per epoch of benchmarks/fused_numpy.py training `epochs` epochs from the start `train` gets."""
    recipe = fused_recipe(nb, data, settings, epochs)
    start = time.perf_counter()
    for _ in range(epochs):
        recipe.train_epoch()
    return (time.perf_counter() - start) / epochs


def partial_step_seconds(nb, data, settings):
    """Seconds of one epoch of the fused step with only its first k parts, for each k short of the whole step.

    Returns {part: seconds}, where the time under a part is that of the step up to and including it."""
    recipe = fused_recipe(nb, data, settings, epochs=1)
    recipe.train_epoch(stages=1)   # untimed: converts the images to float32 once, and warms up
    seconds = {}
    for stages, part in enumerate(fused_numpy.STAGES[:-1], start=1):
        start = time.perf_counter()
        recipe.train_epoch(stages=stages)
        seconds[part] = time.perf_counter() - start
    return seconds


def run_alternately(measurements, round_index):
    """Each named measurement once: in the given order in even rounds, in reverse order in odd ones."""
    names = list(measurements) if round_index % 2 == 0 else list(reversed(measurements))
    return {name: measurements[name]() for name in names}


def interleaved_epoch_and_floor(nb, data, settings, config):
    """Per round: the notebook's epoch, the floor and the step breakdown, in alternating order."""
    steps = steps_per_epoch(data, settings)
    B, H = settings["BATCH_SIZE"], settings["HIDDEN_SIZE"]
    rounds = []
    for i in range(config.rounds):
        result = run_alternately({
            "epoch_seconds": lambda: notebook_epoch_seconds(nb, data, settings, config.epochs_per_round),
            "floor_seconds": lambda: floor_seconds(B, H, steps),
            "fused_seconds": lambda: fused_epoch_seconds(nb, data, settings, config.epochs_per_round),
            "breakdown": lambda: step_piece_seconds(nb, start_run(nb, data, settings), settings),
            "partial_seconds": lambda: partial_step_seconds(nb, data, settings),
        }, i)
        result["ratio"] = result["epoch_seconds"] / result["floor_seconds"]
        result["fused_ratio"] = result["fused_seconds"] / result["floor_seconds"]
        rounds.append(result)
        log(f"round {i + 1}/{config.rounds}: epoch {result['epoch_seconds']:.3f} s, "
            f"floor {result['floor_seconds']:.3f} s, ratio {result['ratio']:.2f}; "
            f"fused {result['fused_seconds']:.3f} s, ratio {result['fused_ratio']:.2f}")
    # The breakdown of one round, the one with the median epoch: medians taken piece by piece would not
    # add up to any epoch that was measured.
    pieces, breakdown_epoch = sorted((r["breakdown"] for r in rounds), key=lambda b: b[1])[(len(rounds) - 1) // 2]
    return {
        "epochs_per_round": config.epochs_per_round,
        "rounds": [{key: r[key] for key in ("epoch_seconds", "floor_seconds", "ratio", "fused_seconds", "fused_ratio")}
                   for r in rounds],
        "median_epoch_seconds": statistics.median(r["epoch_seconds"] for r in rounds),
        "median_floor_seconds": statistics.median(r["floor_seconds"] for r in rounds),
        "median_ratio": statistics.median(r["ratio"] for r in rounds),
        "median_fused_seconds": statistics.median(r["fused_seconds"] for r in rounds),
        "median_fused_ratio": statistics.median(r["fused_ratio"] for r in rounds),
        "gflop_per_epoch": gflop_per_epoch(B, H, steps),
        "breakdown_seconds_per_epoch": pieces,
        "partial_step_seconds": {part: statistics.median(r["partial_seconds"][part] for r in rounds)
                                 for part in fused_numpy.STAGES[:-1]},
        "partial_step_ratios": {part: statistics.median(r["partial_seconds"][part] / r["floor_seconds"] for r in rounds)
                                for part in fused_numpy.STAGES[:-1]},
        "breakdown_epoch_seconds": breakdown_epoch,
    }


def print_epoch_vs_floor(result):
    print(f"\n## 2. Notebook epoch vs floor\n\n"
          f"The notebook's `train` ({plural(result['epochs_per_round'], 'epoch')} per round, default parameters, "
          f"training seconds only), the floor, and the same step written for speed alone "
          f"(benchmarks/fused_numpy.py, same weights), timed alternately in {len(result['rounds'])} rounds.\n")
    epoch, floor, fused = result["median_epoch_seconds"], result["median_floor_seconds"], result["median_fused_seconds"]
    print_table(("", "seconds per epoch (median)", "GFLOP/s"), [
        ("notebook's train", f"{epoch:.3f}", f"{result['gflop_per_epoch'] / epoch:.1f}"),
        ("floor (five products)", f"{floor:.3f}", f"{result['gflop_per_epoch'] / floor:.1f}"),
        ("**median of per-round ratios epoch / floor**", f"**{result['median_ratio']:.2f}**", ""),
        ("fused NumPy step (fused_numpy.py)", f"{fused:.3f}", f"{result['gflop_per_epoch'] / fused:.1f}"),
        ("median of per-round ratios fused / floor", f"{result['median_fused_ratio']:.2f}", ""),
    ])
    pieces = result["breakdown_seconds_per_epoch"]
    total = result["breakdown_epoch_seconds"]
    rows = [(piece, f"{1000 * seconds:.1f}", f"{seconds / total:.0%}") for piece, seconds in pieces.items()]
    rest = total - sum(pieces.values())
    rows.append(("loop, slicing the order, timers", f"{1000 * rest:.1f}", f"{rest / total:.0%}"))
    rows.append(("**one epoch, timed piece by piece**", f"**{1000 * total:.1f}**", "100%"))
    print("\nWhere an epoch goes (the round with the median epoch; the notebook's functions called in a loop as "
          "`train` calls them):\n")
    print_table(("piece of a step", "ms per epoch", "share"), rows)
    print(f"\nThe five matrix products alone (the floor) take {1000 * floor:.1f} ms "
          f"= {floor / total:.0%} of this epoch.")

    print("\nFrom the floor up: the fused step with its parts added one at a time (medians over the rounds; "
          "× floor is the median of the per-round ratios). Until the batches are gathered, batch i is rows "
          "i·B to (i+1)·B of the images, converted to float32 once:\n")
    part_rows = [("the five products alone, on one batch (the floor)", f"{floor:.3f}", "1.00")]
    for part in fused_numpy.STAGES[:-1]:
        label = "the five products alone, on a new batch each step" if part == fused_numpy.STAGES[0] else f"+ {part}"
        part_rows.append((label, f"{result['partial_step_seconds'][part]:.3f}",
                          f"{result['partial_step_ratios'][part]:.2f}"))
    part_rows.append((f"+ {fused_numpy.STAGES[-1]}: the fused step", f"{fused:.3f}",
                      f"{result['median_fused_ratio']:.2f}"))
    part_rows.append(("the notebook's `train`", f"{epoch:.3f}", f"{result['median_ratio']:.2f}"))
    print_table(("step", "seconds per epoch", "× floor"), part_rows)


# --- 3. Time to accuracy ------------------------------------------------------------------------

def time_to_accuracy(nb, data, settings, epochs):
    params, history = train(nb, start_run(nb, data, settings), settings, epochs)
    best = int(np.argmax(history["val_acc"]))
    targets = []
    for target in ACCURACY_TARGETS:
        reached = [i for i, accuracy in enumerate(history["val_acc"]) if accuracy > target]
        targets.append({"validation_accuracy": target,
                        "epoch": history["epoch"][reached[0]] if reached else None,
                        "seconds": history["seconds"][reached[0]] if reached else None})
    return {"epochs": epochs, "training_seconds": history["seconds"][-1],
            "seconds_per_epoch": history["seconds"][-1] / epochs, "targets": targets,
            "best_val_accuracy": history["val_acc"][best], "best_epoch": history["epoch"][best],
            "test_accuracy": test_set_accuracy(nb, data, params)}


def print_time_to_accuracy(result):
    print(f"\n## 3. Time to accuracy\n\nOne training at the default parameters, {result['epochs']} epochs, "
          f"{result['training_seconds']:.1f} s of training ({result['seconds_per_epoch']:.3f} s per epoch; "
          "evaluation after each epoch not counted).\n")
    rows = [(f"validation accuracy first above {t['validation_accuracy']:.1%}",
             "not reached" if t["seconds"] is None else f"{t['seconds']:.1f} s (epoch {t['epoch']:.0f})")
            for t in result["targets"]]
    rows.append(("best validation accuracy",
                 f"{result['best_val_accuracy']:.2%} (epoch {result['best_epoch']:.0f})"))
    rows.append(("test accuracy (weights of the best epoch)", f"{result['test_accuracy']:.2%}"))
    print_table(("", "training time / accuracy"), rows)


# --- 4. Peak memory of a whole notebook run ------------------------------------------------------

def notebook_run(data_dir):
    """run_notebook.run_once's figures, or None (with the kernel's last words on stderr) if the run failed."""
    import run_notebook
    try:
        return run_notebook.run_once(data_dir)
    except subprocess.CalledProcessError as error:
        last_lines = "\n".join(error.stderr.splitlines()[-20:])
        log(f"the notebook run failed (exit code {error.returncode}):\n{last_lines}")
        return None


def print_memory(result, skipped_because=None):
    print("\n## 4. Peak memory of a whole notebook run\n")
    if skipped_because:
        print(f"Skipped ({skipped_because}).")
        return
    if result is None:
        print("The notebook run failed; its error is on stderr.")
        return
    print("The notebook executed headless with papermill at its default parameters "
          "(benchmarks/run_notebook.py).\n")
    print_table(("", "value"), [(key, f"{value:.2f}") for key, value in result.items()])


# --- 5. How the cost grows with the hidden size and the batch size ------------------------------

def scaling_points(settings, config):
    """(sweep, hidden, batch) of every point: hidden sizes at the default batch size, then batch sizes at
    the default hidden size."""
    points = [("hidden size", hidden, settings["BATCH_SIZE"]) for hidden in config.hidden_sizes]
    points += [("batch size", settings["HIDDEN_SIZE"], batch) for batch in config.batch_sizes]
    return points


def measure_scaling_point(nb, data, settings, config):
    steps = steps_per_epoch(data, settings)
    B, H = settings["BATCH_SIZE"], settings["HIDDEN_SIZE"]
    epochs, floors = [], []
    for _ in range(config.scaling_timing_runs):
        epochs.append(notebook_epoch_seconds(nb, data, settings, 1))
        floors.append(floor_seconds(B, H, steps))
    params, history = train(nb, start_run(nb, data, settings), settings, config.scaling_epochs)
    return {"hidden_size": H, "batch_size": B, "learning_rate": settings["LEARNING_RATE"],
            "seconds_per_epoch": statistics.median(epochs), "floor_seconds_per_epoch": statistics.median(floors),
            "ratio": statistics.median(e / f for e, f in zip(epochs, floors)),
            "best_val_accuracy": max(history["val_acc"]), "test_accuracy": test_set_accuracy(nb, data, params)}


def measure_scaling(nb, data, settings, config):
    measured = {}
    points = []
    for sweep, hidden, batch in scaling_points(settings, config):
        if (hidden, batch) not in measured:
            log(f"scaling: hidden {hidden}, batch {batch}")
            measured[hidden, batch] = measure_scaling_point(nb, data, with_sizes(settings, hidden, batch), config)
        points.append(dict(measured[hidden, batch], sweep=sweep))
    return {"epochs": config.scaling_epochs, "timing_runs": config.scaling_timing_runs,
            "reference_learning_rate": settings["LEARNING_RATE"], "points": points}


def print_scaling(result):
    print(f"\n## 5. How cost grows with the hidden size and the batch size\n\n"
          f"Seconds per epoch: median of {plural(result['timing_runs'], 'one-epoch run')} of `train`, each "
          f"followed by a floor timing. Test accuracy after {plural(result['epochs'], 'epoch')} (the cosine "
          f"schedule spans them; weights of the best validation epoch). The learning rate is scaled "
          f"linearly with the batch size: {result['reference_learning_rate']} × batch / "
          f"{REFERENCE_BATCH_SIZE}.\n")
    rows = [(p["sweep"], p["hidden_size"], p["batch_size"], f"{p['learning_rate']:g}",
             f"{p['seconds_per_epoch']:.3f}", f"{p['floor_seconds_per_epoch']:.3f}", f"{p['ratio']:.2f}",
             f"{p['test_accuracy']:.2%}") for p in result["points"]]
    print_table(("varied", "hidden", "batch", "learning rate", "s per epoch", "floor s per epoch",
                 "epoch / floor", f"test accuracy after {plural(result['epochs'], 'epoch')}"), rows)


def plot_scaling(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, sweep, key, fixed_key in ((axes[0], "hidden size", "hidden_size", "batch_size"),
                                      (axes[1], "batch size", "batch_size", "hidden_size")):
        points = [p for p in result["points"] if p["sweep"] == sweep]
        sizes = [p[key] for p in points]
        fixed = f"{fixed_key.split('_')[0]} {points[0][fixed_key]}"
        ax.plot(sizes, [p["seconds_per_epoch"] for p in points], "o-", label="notebook's train")
        ax.plot(sizes, [p["floor_seconds_per_epoch"] for p in points], "s--", label="floor (five matrix products)")
        ax.set(xscale="log", yscale="log", xlabel=sweep, ylabel="seconds per epoch",
               title=f"Seconds per epoch vs {sweep} ({fixed})")
        seconds = [p[column] for p in points for column in ("seconds_per_epoch", "floor_seconds_per_epoch")]
        ax.set_ylim(min(seconds) / PLOT_MARGIN, max(seconds) * PLOT_MARGIN)  # room for a 1-2-5 tick or two
        ax.set_xticks(sizes, [str(size) for size in sizes])
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_locator(NullLocator())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Cost of an epoch of the 784-H-10 network on {os.cpu_count()} CPU cores (log-log)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- 6. PyTorch, timed alternately with the notebook ---------------------------------------------

def torch_recipe_maker(nb, run, settings, epochs):
    """A function that makes a fresh PyTorch recipe for `epochs` epochs on the training images of `run`."""
    import torch_reference  # imports torch

    total_steps = epochs * (len(run.train_images) // settings["BATCH_SIZE"])

    def learning_rate_at(step):  # the notebook's own schedule
        return nb.cosine_learning_rate(step, total_steps, settings["LEARNING_RATE"])

    def make():
        return torch_reference.TorchRecipe(
            run.train_images, run.train_labels, hidden_size=settings["HIDDEN_SIZE"],
            batch_size=settings["BATCH_SIZE"], momentum=settings["MOMENTUM"], l2=settings["L2"],
            max_shift=settings["SHIFT"], averaging=settings["AVERAGING"], seed=settings["SEED"],
            learning_rate_at=learning_rate_at)
    return make


def torch_round(make_recipe, data, epochs):
    """(seconds per epoch, test accuracy) of a fresh PyTorch training of `epochs` epochs."""
    recipe = make_recipe()
    seconds = sum(recipe.train_epoch() for _ in range(epochs))
    _, (test_images, test_labels) = data
    return seconds / epochs, float(np.mean(recipe.predict(test_images) == test_labels))


def numpy_round(nb, data, settings, epochs):
    """(seconds per epoch, test accuracy) of a fresh run of the notebook's `train` of `epochs` epochs."""
    params, history = train(nb, start_run(nb, data, settings), settings, epochs)
    return history["seconds"][-1] / epochs, test_set_accuracy(nb, data, params)


def torch_comparison(nb, data, settings, config):
    import torch_reference  # imports torch

    threads = torch_reference.use_all_cores()
    epochs = config.epochs_per_round
    make_recipe = torch_recipe_maker(nb, start_run(nb, data, settings), settings, epochs)
    make_recipe().train_epoch(max_steps=TORCH_WARM_UP_STEPS)
    rounds = []
    for i in range(config.rounds):
        measured = run_alternately({"numpy": lambda: numpy_round(nb, data, settings, epochs),
                                    "torch": lambda: torch_round(make_recipe, data, epochs)}, i)
        (numpy_seconds, numpy_accuracy), (torch_seconds, torch_accuracy) = measured["numpy"], measured["torch"]
        rounds.append({"numpy_seconds": numpy_seconds, "torch_seconds": torch_seconds,
                       "ratio": torch_seconds / numpy_seconds,
                       "numpy_test_accuracy": numpy_accuracy, "torch_test_accuracy": torch_accuracy})
        log(f"torch round {i + 1}/{config.rounds}: numpy {numpy_seconds:.3f} s, torch {torch_seconds:.3f} s per epoch")
    return {"torch_version": torch_reference.torch.__version__, "threads": threads, "epochs_per_round": epochs,
            "rounds": rounds, **{f"median_{key}": statistics.median(r[key] for r in rounds) for key in rounds[0]}}


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def print_torch(result, skipped_because=None):
    print("\n## 6. PyTorch on the CPU, same recipe\n")
    if skipped_because:
        print(f"Skipped: {skipped_because}.")
        return
    epochs = plural(result["epochs_per_round"], "epoch")
    print(f"PyTorch {result['torch_version']} with {result['threads']} threads (benchmarks/torch_reference.py) "
          f"and the notebook's `train`, {epochs} each per round from a fresh start, timed alternately in "
          f"{len(result['rounds'])} rounds.\n")
    print_table(("", "seconds per epoch (median)", f"test accuracy after {epochs}"), [
        ("notebook (NumPy)", f"{result['median_numpy_seconds']:.3f}", f"{result['median_numpy_test_accuracy']:.2%}"),
        ("PyTorch", f"{result['median_torch_seconds']:.3f}", f"{result['median_torch_test_accuracy']:.2%}"),
        ("**median of per-round ratios PyTorch / NumPy**", f"**{result['median_ratio']:.2f}**", ""),
    ])


# --- Output --------------------------------------------------------------------------------------

def log(message):
    print(message, file=sys.stderr, flush=True)


def print_table(headers, rows):
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):  # NumPy before 1.26 has no mode="dicts"
        return "unknown"


def machine_description():
    return {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas_name(),
            "thread_variables": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}}


def print_header(machine, data, settings, quick):
    (train_images, _), (test_images, _) = data
    threads = (", ".join(f"{name}={value}" for name, value in machine["thread_variables"].items())
               or "BLAS threads: default")
    print(f"# Benchmark of the notebook's training ({'quick' if quick else 'full'} configuration)\n\n"
          f"{machine['cpu_count']} CPU cores, NumPy {machine['numpy']} with {machine['blas']} ({threads}); "
          f"{len(train_images)} training images ({settings['VALIDATION_SIZE']} held out for validation), "
          f"{len(test_images)} test images.")


def plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def plain(value):
    """`value` with NumPy numbers made Python numbers and NaN or infinity made None, for strict JSON."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(results, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(results), indent=2, allow_nan=False) + "\n", encoding="utf-8")


# --- Main ----------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=(
        "Sections: floor (1), epoch (2), accuracy (3), memory (4), scaling (5), torch (6)."))
    parser.add_argument("--data-dir", help="folder with the four MNIST .gz files (default: $MNIST_DATA_DIR or ./data)")
    parser.add_argument("--json", help="also write every number to this JSON file")
    parser.add_argument("--plot", help="where to save the scaling plot (default: benchmarks/scaling.png; "
                                       "with --quick: benchmarks/results/scaling-quick.png)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="SECTION",
                        help=f"which sections to run, of: {' '.join(SECTIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny configuration (1,200 training images, 1-2 epochs): checks that it all works")
    parser.add_argument("--no-notebook", action="store_true", help="skip the whole-notebook run (section 4)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison (section 6)")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds in sections 2 and 6 (default {FULL.rounds})")
    parser.add_argument("--epochs", type=int, help="epochs of the full training in section 3 (default: the notebook's)")
    parser.add_argument("--scaling-epochs", type=int,
                        help=f"epochs per training in section 5 (default {FULL.scaling_epochs})")
    return parser.parse_args(argv)


def configure(args):
    config = QUICK if args.quick else FULL
    overrides = {"rounds": args.rounds, "epochs": args.epochs, "scaling_epochs": args.scaling_epochs}
    return dataclasses.replace(config, **{key: value for key, value in overrides.items() if value is not None})


def main(argv=None):
    args = parse_args(argv)
    config = configure(args)
    plot_path = args.plot or (QUICK_PLOT if args.quick else DEFAULT_PLOT)
    settings = notebook_parameters()
    if config.validation_size is not None:
        settings["VALIDATION_SIZE"] = config.validation_size
    epochs = config.epochs or settings["EPOCHS"]
    nb = load_notebook_functions()
    data = load_data(args.data_dir, config)
    results = {"machine": machine_description(), "config": dataclasses.asdict(config), "settings": settings}
    print_header(results["machine"], data, settings, args.quick)

    if "floor" in args.sections:
        log("1. floor")
        results["floor"] = measure_floor(settings["BATCH_SIZE"], settings["HIDDEN_SIZE"],
                                         steps_per_epoch(data, settings))
        print_floor(results["floor"])
    if "epoch" in args.sections:
        log("2. notebook epoch vs floor")
        results["epoch_vs_floor"] = interleaved_epoch_and_floor(nb, data, settings, config)
        print_epoch_vs_floor(results["epoch_vs_floor"])
    if "accuracy" in args.sections:
        log(f"3. time to accuracy ({epochs} epochs)")
        results["time_to_accuracy"] = time_to_accuracy(nb, data, settings, epochs)
        print_time_to_accuracy(results["time_to_accuracy"])
    if "memory" in args.sections:
        skipped = "--quick" if args.quick else "--no-notebook" if args.no_notebook else None
        if not skipped:
            log("4. whole notebook run")
            results["notebook_run"] = notebook_run(args.data_dir)
        print_memory(results.get("notebook_run"), skipped)
    if "scaling" in args.sections:
        log("5. scaling")
        results["scaling"] = measure_scaling(nb, data, settings, config)
        print_scaling(results["scaling"])
        plot_scaling(results["scaling"], plot_path)
        print(f"\nPlot: {plot_path}")
    if "torch" in args.sections:
        skipped = ("--no-torch" if args.no_torch else None if torch_available()
                   else f"PyTorch is not installed; to compare, `{TORCH_VERSION_HINT}`")
        if not skipped:
            log("6. PyTorch")
            results["torch"] = torch_comparison(nb, data, settings, config)
        print_torch(results.get("torch"), skipped)
    if args.json:
        write_json(results, args.json)
        print(f"\nAll numbers: {args.json}")


if __name__ == "__main__":
    main()
