"""The notebooks' figures, one function a figure, so that a cell shows the idea and one call draws it."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image
from matplotlib.ticker import MaxNLocator

DOCS = Path(__file__).resolve().parent / "docs"


def picture(name, width=None):
    """A picture from docs/, shown as a cell's output, so that it travels with the executed notebook."""
    return Image(filename=DOCS / name, width=width)


def images(pictures, titles, suptitle, columns=10, cmap="gray_r", size=1.0):
    """A grid of images with a title over each (a sentence instead, if there are none)."""
    if len(pictures) == 0:
        print(f"{suptitle}: none to show")
        return
    rows = int(np.ceil(len(pictures) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * (size + 0.25)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, picture, title in zip(axes.flat, pictures, titles):
        ax.imshow(picture, cmap=cmap)
        ax.set_title(title, fontsize=8)
    fig.suptitle(suptitle)
    fig.tight_layout()
    plt.show()


def ladder(runs):
    """Validation error and train-validation gap per epoch of each ingredient's run: {name: (params, history)}."""
    fig, (ax_val, ax_gap) = plt.subplots(1, 2, figsize=(12, 4))
    styles = ["-", "--", "-.", ":"]
    for i, (name, (_, run)) in enumerate(runs.items()):
        style = dict(marker="os^vDP"[i % 6], linestyle=styles[i % 4], label=name, markersize=4)
        ax_val.plot(run["epoch"], 100 * (1 - np.array(run["val_acc"])), **style)
        ax_gap.plot(run["epoch"], 100 * (np.array(run["train_acc"]) - np.array(run["val_acc"])), **style)
    ax_val.set(xlabel="epoch", ylabel="validation error (%)", title="Validation error: lower is better")
    ax_gap.set(xlabel="epoch", ylabel="training − validation accuracy (%)",
               title="Gap between training and validation: memorising")
    for ax in (ax_val, ax_gap):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    fig.suptitle("Plain mini-batch SGD, then one ingredient added at a time (each row adds to those above it)")
    fig.tight_layout()
    plt.show()


def history(run, title, n_sample):
    """Loss and accuracy per epoch on the training sample and the validation set; returns the figure."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    epochs, train_label = run["epoch"], f"training ({n_sample:,} unshifted images)"
    ax_loss.plot(epochs, run["train_loss"], label=train_label)
    ax_loss.plot(epochs, run["val_loss"], label="validation")
    ax_loss.set(title="Cross-entropy loss", xlabel="epoch", ylabel="cross-entropy (log scale)", yscale="log")
    ax_loss.set_yticks([0.02, 0.05, 0.1, 0.2], labels=["0.02", "0.05", "0.1", "0.2"])
    ax_loss.yaxis.set_minor_formatter(plt.NullFormatter())
    ax_acc.plot(epochs, 100 * np.array(run["train_acc"]), label=train_label)
    ax_acc.plot(epochs, 100 * np.array(run["val_acc"]), label="validation")
    best = int(np.argmax(run["val_acc"]))
    ax_acc.scatter(epochs[best], 100 * run["val_acc"][best], color="black", zorder=3,
                   label=f"best validation: {100 * run['val_acc'][best]:.2f}% (epoch {epochs[best]:.0f})")
    low = 100 * min(min(run["val_acc"]), min(run["train_acc"]))
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)", ylim=(np.floor(low) - 0.2, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def activations(functions):
    """Each activation g(z) and its derivative g'(z): {name: (g, dg)}."""
    z = np.linspace(-5, 5, 201)
    fig, (ax_g, ax_dg) = plt.subplots(1, 2, figsize=(9, 3))
    for name, (g, dg) in functions.items():
        ax_g.plot(z, g(z), label=name)
        ax_dg.plot(z, dg(z), label=name)
    ax_g.set(title="activation g(z)", xlabel="z", ylim=(-1.1, 3))
    ax_dg.set(title="its derivative g'(z)", xlabel="z", ylim=(-0.05, 1.1))
    for ax in (ax_g, ax_dg):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plt.show()


def decision_regions(points, labels, classify, titles):
    """For each classify[i] (rows of 2-D points -> class), the class it gives every point of the plane."""
    low, high = points.min(axis=0) - 0.3, points.max(axis=0) + 0.3
    grid = np.stack(np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200)), axis=-1)
    n_classes = labels.max() + 1
    colors = plt.cm.tab10.colors[:n_classes]
    fig, axes = plt.subplots(1, len(classify), figsize=(3.2 * len(classify), 3.4))
    for ax, f, title in zip(axes, classify, titles):
        regions = f(grid.reshape(-1, 2)).reshape(grid.shape[:2])
        ax.contourf(grid[..., 0], grid[..., 1], regions, levels=np.arange(n_classes + 1) - 0.5,
                    colors=colors, alpha=0.25)
        ax.scatter(points[:, 0], points[:, 1], c=[colors[label] for label in labels], s=6)
        ax.set(title=title, xticks=[], yticks=[])
    fig.suptitle("The region each network gives to each class (points: the training data, coloured by class)")
    fig.tight_layout()
    plt.show()


def gradient_sizes(sizes):
    """RMS of dW at each layer of a stack, per activation: {name: [size at layer 1, ...]}."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, values in sizes.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
    ax.set(xlabel="layer (1 = next to the input)", ylabel="RMS of dW (log scale)", yscale="log",
           title="Gradient reaching each layer of an 8-layer stack at initialisation")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    plt.show()


def confusion(counts, class_names):
    """The confusion matrix, its diagonal in gray so that the mistakes stand out."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = np.where(np.eye(len(counts), dtype=bool), 0, counts)
    ax.imshow(shown, cmap="Reds")
    for i, j in np.ndindex(counts.shape):
        ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=8,
                color="gray" if i == j else ("white" if shown[i, j] > shown.max() / 2 else "black"))
    long_names = max(map(len, class_names)) > 2
    ax.set(xticks=range(len(counts)), yticks=range(len(counts)), xlabel="predicted", ylabel="true",
           title="Confusion matrix on the test set (diagonal in gray)")
    ax.set_xticklabels(class_names, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticklabels(class_names)
    fig.tight_layout()
    plt.show()


def calibration(bins, coverage, chosen):
    """Reliability diagram (bins: share, mean confidence, accuracy, ECE) and accuracy against coverage
    (coverage: {label: (coverage, accuracy)}; chosen: (coverage, accuracy, threshold))."""
    share, mean_confidence, bin_accuracy, ece = bins
    fig, (ax_rel, ax_cov) = plt.subplots(1, 2, figsize=(12, 4.4))
    ax_rel.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfectly calibrated")
    ax_rel.plot(mean_confidence, bin_accuracy, marker="o", label="this network (test set)")
    for x, y, s in zip(mean_confidence, bin_accuracy, share):
        if s > 0:
            ax_rel.annotate(f"{s:.1%}", (x, y), textcoords="offset points", xytext=(6, -14), fontsize=7, color="tab:blue")
    ax_rel.set(xlabel="mean confidence in the bin", ylabel="accuracy in the bin", xlim=(0, 1.08), ylim=(0, 1.05),
               title=f"Reliability diagram, ECE = {ece:.2%}\n(beside each point: its share of the test images)")
    for label, (x, y) in coverage.items():
        ax_cov.plot(100 * x, 100 * y, label=label, linestyle="-" if "test" in label else ":")
    ax_cov.scatter(100 * chosen[0], 100 * chosen[1], color="black", zorder=3,
                   label=f"threshold {chosen[2]:.3f}, chosen on validation")
    ax_cov.set(xlabel="coverage: share of images answered (%)", ylabel="accuracy of the answers (%)",
               title="Answering only when confident:\naccuracy against coverage", ylim=(98, 100.05))
    ax_rel.legend(fontsize=8, loc="upper left")
    ax_cov.legend(fontsize=8, loc="lower left")
    for ax in (ax_rel, ax_cov):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.show()


def robustness(curves, levels):
    """Accuracy of each network as the test images are distorted more: curves {distortion: {network: [acc]}}."""
    fig, axes = plt.subplots(1, len(curves), figsize=(3.4 * len(curves), 3.6), sharey=True)
    for ax, (name, by_network) in zip(axes, curves.items()):
        for i, (network, values) in enumerate(by_network.items()):
            ax.plot(levels[name], 100 * np.array(values), marker="os^"[i % 3], linestyle=["-", "--", ":"][i % 3],
                    label=network)
        ax.set(xlabel=name, title=name.split(" (")[0].split(":")[0])
        ax.grid(alpha=0.3)
    axes[0].set(ylabel="test accuracy (%)", ylim=(0, 100))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Test accuracy as the test images are distorted more and more")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    plt.show()


def templates(W1, dead):
    """The columns of W1 as 28×28 images (red positive, blue negative), dead units marked."""
    columns = int(np.ceil(np.sqrt(W1.shape[1])))
    rows = int(np.ceil(W1.shape[1] / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.85))
    for ax in axes.flat:
        ax.axis("off")
    for k, ax in enumerate(axes.flat[:W1.shape[1]]):
        template = W1[:, k].reshape(28, 28)
        limit = np.abs(template).max()
        ax.imshow(template, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        if dead[k]:
            ax.set_title("dead", fontsize=8, color="gray")
    fig.suptitle(f"The {W1.shape[1]} columns of W1 as 28×28 images\n(red: positive, blue: negative; "
                 "each scaled to its own largest weight)")
    fig.tight_layout()
    plt.show()


def pca_maps(maps, labels, class_names):
    """Points projected on their first two principal axes: maps {title: (points (m, 2), variance shares)}."""
    fig, axes = plt.subplots(1, len(maps), figsize=(6 * len(maps), 4.8))
    for ax, (title, (points, shares)) in zip(axes, maps.items()):
        scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
        ax.set(xlabel=f"first principal axis ({shares[0]:.0%} of the variance)",
               ylabel=f"second principal axis ({shares[1]:.0%})", title=title)
    fig.colorbar(scatter, ax=axes, ticks=range(10), label="true class").set_ticklabels(class_names)
    plt.show()


# ---- going_further.ipynb ------------------------------------------------------------------------


def distortion_grid(rows, title):
    """One row of digits per entry of rows ({label: images (m, 28, 28)}), the label at the left; no axes."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(rows), n, figsize=(n, 1.1 * len(rows)), squeeze=False)
    for row, (label, images) in enumerate(rows.items()):
        for i, ax in enumerate(axes[row]):
            ax.imshow(images[i], cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=9, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    plt.show()


def _error_axis(ax, errors, top=None):
    """A log-scale axis of error rates (%) with plain tick labels, from just below the smallest error to `top`
    (default: just above the largest)."""
    low, high = min(errors) / 1.3, top or min(100, max(errors) * 1.3)
    ticks = [t for t in (0.2, 0.3, 0.5, 1, 2, 3, 4, 5, 10, 20, 30, 50, 100) if low <= t <= high]
    ax.set_yscale("log")
    ax.set_yticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_ylim(low, high)
    ax.grid(alpha=0.3, which="both")


def batch_norm_demo(runs, rates, title):
    """runs: {(batch_norm, learning rate): history, or None if it diverged}. Left: the validation error after the last
    epoch against the learning rate, diverged runs as crosses at the top (100 % error); right: the validation error
    epoch by epoch at every rate that both networks survived, batch norm solid, without it dashed."""
    fig, (ax_rate, ax_curve) = plt.subplots(1, 2, figsize=(11, 4))
    trained = [100 * (1 - np.array(run["val_acc"])) for run in runs.values() if run]
    survived = [rate for rate in rates if runs[False, rate] and runs[True, rate]]
    epochs = max(len(run["epoch"]) for run in runs.values() if run)
    for batch_norm, label, color in ((False, "without batch norm", "tab:orange"), (True, "with batch norm", "tab:blue")):
        ok = [rate for rate in rates if runs[batch_norm, rate]]
        ax_rate.plot(ok, [100 * (1 - runs[batch_norm, rate]["val_acc"][-1]) for rate in ok], marker="o", color=color,
                     label=label)
        diverged = [rate for rate in rates if not runs[batch_norm, rate]]
        if diverged:
            ax_rate.scatter(diverged, [100] * len(diverged), marker="x", s=80, color=color, zorder=3, clip_on=False,
                            label=f"{label}: diverged (drawn at 100 %)")
        for rate, shade in zip(survived, (0.45, 1.0, 0.7)):
            run = runs[batch_norm, rate]
            ax_curve.plot(run["epoch"], 100 * (1 - np.array(run["val_acc"])), marker="o", color=color, alpha=shade,
                          linestyle="-" if batch_norm else "--", label=f"{label}, learning rate {rate:g}")
    _error_axis(ax_rate, [e[-1] for e in trained], top=100)
    _error_axis(ax_curve, [100 * (1 - accuracy) for rate in survived for batch_norm in (False, True)
                           for accuracy in runs[batch_norm, rate]["val_acc"]])
    ax_rate.set_xscale("log")
    ax_rate.set_xticks(rates, labels=[f"{rate:g}" for rate in rates])
    ax_rate.xaxis.set_minor_locator(plt.NullLocator())
    ax_rate.set(xlabel="peak learning rate (log scale)", ylabel=f"validation error after epoch {epochs} (%, log scale)",
                title="The learning rates each network survives")
    ax_curve.set(xlabel="epoch", ylabel="validation error (%, log scale)", xticks=range(1, epochs + 1),
                 xlim=(0.7, epochs + 0.3), title="Epoch by epoch, at the rates both survive")
    ax_rate.legend(fontsize=8)
    ax_curve.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def error_against_time(runs, title, passed=None):
    """runs: [(name, history)]; validation (solid, dots) and training (dashed) error against seconds of training, on a
    log scale; passed (seconds, error %), if given, is marked as where the last run passes the first for good."""
    fig, ax = plt.subplots(figsize=(8, 4))
    errors = []
    for name, run in runs:
        for key, style, what in (("val_acc", "-", "validation"), ("train_acc", "--", "training")):
            error = 100 * (1 - np.array(run[key]))
            errors += list(error)
            ax.plot(run["seconds"], error, linestyle=style, marker="." if key == "val_acc" else None,
                    color=ax.lines[-1].get_color() if key == "train_acc" else None, label=f"{name}, {what}")
    if passed:
        ax.axvline(passed[0], color="gray", linestyle=":")
        ax.annotate(f"passes for good after {passed[0]:.1f} s", passed, xytext=(15, 30), textcoords="offset points",
                    fontsize=9, arrowprops=dict(arrowstyle="->", color="gray"))
    _error_axis(ax, errors)
    ax.set(xlabel="seconds of training", ylabel="error (%, log scale)", title=title)
    ax.legend(fontsize=8)
    plt.show()
