"""The live widgets of the tutorial notebook: the experiment panel (section 10) and the drawing
board (section 11), and `mnist_style`, which prepares a drawing the way MNIST's digits were.

Both are built from the notebook's own functions, which the notebook passes in; this module never
imports the notebook. `experiment_panel(...)` trains a fresh network with the notebook's `train`
each time its Train button is pressed; `drawing_board(...)` shows a canvas whose drawing is prepared
and classified by the two functions it is given. Each returns a small object that Jupyter displays
as the widget (JupyterLab, Notebook 7, VS Code). Where widgets cannot be shown (a notebook read on
GitHub, or run headless), the object shows as one sentence saying what to do. The canvas's browser
side is tutorial_widgets.js and tutorial_widgets.css, beside this file.
"""

import html
import io
import math
from pathlib import Path

import anywidget
import ipywidgets as widgets
import matplotlib.image
import numpy as np
import traitlets
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from image_transforms import shift_images

HERE = Path(__file__).resolve().parent
N_CLASSES = 10           # MNIST and Fashion-MNIST both have ten classes
WARNING_COLOR = "#b00020"


class _Shown:
    """Displayed by Jupyter as `self.widget`; its plain-text form is the sentence `self.text`."""
    text = ""

    def _repr_mimebundle_(self, **kwargs):
        return {**self.widget._repr_mimebundle_(**kwargs), "text/plain": self.text}

    def __repr__(self):
        return self.text


# ---- The experiment panel ----------------------------------------------------------------------

# The settings the panel controls, with the name it shows for each (in the controls, the run log and
# the plot's legend), and where its controls start when `defaults` does not say.
LABELS = {"hidden_size": "hidden units", "learning_rate": "learning rate", "batch_size": "batch size",
          "epochs": "epochs", "momentum": "momentum", "schedule": "schedule", "l2": "L2", "shift": "shift",
          "averaging": "averaging β", "train_size": "images"}
PANEL_DEFAULTS = {"hidden_size": 64, "learning_rate": 0.1, "batch_size": 128, "epochs": 10, "momentum": 0.9,
                  "schedule": "cosine", "l2": 2e-4, "shift": 1, "averaging": 0.9, "train_size": 5000}
RECIPE_KEYS = ("epochs", "batch_size", "learning_rate", "momentum", "schedule", "l2", "shift", "averaging")


def panel_controls(defaults, n_images):
    """One widget per setting, starting at `defaults` (a dict; settings it lacks keep PANEL_DEFAULTS,
    keys the panel has no control for are ignored); a range or list is widened to hold its value."""
    value = {**PANEL_DEFAULTS, "train_size": min(PANEL_DEFAULTS["train_size"], n_images),
             **{name: v for name, v in (defaults or {}).items() if name in LABELS}}

    def choice(name, options):
        return widgets.Dropdown(options=sorted({*options, value[name]}), value=value[name])

    log_rate = math.log10(value["learning_rate"])
    controls = {
        "hidden_size": widgets.IntSlider(value["hidden_size"], min=8, max=max(256, value["hidden_size"]), step=8),
        "learning_rate": widgets.FloatLogSlider(value["learning_rate"], base=10, min=min(-3, math.floor(log_rate)),
                                                max=max(2, math.ceil(log_rate))),   # up to 100: far enough to diverge
        "batch_size": choice("batch_size", [16, 32, 64, 128, 256, 512]),
        "epochs": widgets.IntSlider(value["epochs"], min=1, max=max(50, value["epochs"])),
        "momentum": choice("momentum", [0.0, 0.5, 0.9, 0.95, 0.99]),
        "schedule": choice("schedule", ["cosine", "constant"]),
        "l2": choice("l2", [0.0, 1e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2]),
        "shift": widgets.IntSlider(value["shift"], min=0, max=max(3, value["shift"])),
        "averaging": choice("averaging", [0.0, 0.9, 0.95, 0.99, 0.998]),
        "train_size": widgets.IntSlider(value["train_size"], min=min(500, n_images), max=n_images, step=500),
    }
    for name, control in controls.items():
        control.description = LABELS[name]
        control.style.description_width = "initial"   # show the whole label
    return controls


def shown(value):
    """A setting as the log and the legend write it: 0.1, 0.0002, 128, cosine."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def run_label(number, settings, previous=None):
    """The run's number and what it changed from the previous run, as in "run 3: batch size 32, epochs 5"."""
    if previous is None:
        return f"run {number}"
    changes = [f"{LABELS[name]} {shown(value)}" for name, value in settings.items() if value != previous[name]]
    return f"run {number}: {', '.join(changes) or 'same settings'}"


MARKED_EPOCHS = 20   # the current run's curves mark every epoch, up to this many epochs


def plot_runs(earlier, current=None):
    """PNG bytes: the cross-entropy of the current run, and the accuracy of it and of earlier runs.

    A run is a dict with its "number", "label" and "history" (as `train` returns it)."""
    fig = Figure(figsize=(11.5, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for run in earlier:
        history = run["history"]
        ax_acc.plot(history["epoch"], 100 * np.array(history["val_acc"]), color=f"C{run['number'] % 10}",
                    alpha=0.8, label=f"{run['label']} (validation)")
    if current is not None and current["history"]:
        history = current["history"]
        marker = "." if len(history["epoch"]) <= MARKED_EPOCHS else None
        for key, style, name in (("train", "k--", "training"), ("val", "k-", "validation")):
            ax_loss.plot(history["epoch"], history[f"{key}_loss"], style, marker=marker, label=name)
            ax_acc.plot(history["epoch"], 100 * np.array(history[f"{key}_acc"]), style, marker=marker,
                        label=f"{current['label']} ({name})")
        ax_loss.legend()
    if ax_acc.lines:
        ax_acc.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
    title = "this run" if current is None else current["label"].partition(":")[0]
    ax_loss.set(title=f"Cross-entropy ({title})", xlabel="epoch", ylabel="cross-entropy")
    ax_acc.set(title="Accuracy (this run in black, earlier runs in colour)", xlabel="epoch", ylabel="accuracy (%)")
    ax_acc.set_ylim(top=100.5)                       # a run at 100 % stays in sight
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole epochs
        ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def warning(text):
    """Text as HTML, in red."""
    return f'<span style="color:{WARNING_COLOR}">{html.escape(text)}</span>'


def run_log_html(runs):
    """A table: a header, then one row per run with its settings and its result (or why it diverged)."""
    header = "".join(f"<th>{name}</th>" for name in ("run", *LABELS.values(), "best validation", "seconds"))
    rows = []
    for run in runs:
        values = [run["number"], *(shown(run["settings"][name]) for name in LABELS)]
        cells = "".join(f"<td>{value}</td>" for value in values)
        if run["diverged"] is None:
            cells += f"<td>{max(run['history']['val_acc']):.2%}</td><td>{run['history']['seconds'][-1]:.1f}</td>"
        else:
            cells += (f'<td colspan="2" class="run-diverged" style="color:{WARNING_COLOR};white-space:normal">'
                      f'diverged: {html.escape(run["diverged"])}</td>')
        rows.append(f"<tr>{cells}</tr>")
    style = "border-spacing:8px 3px;text-align:right;white-space:nowrap;font-size:0.9em"
    return f'<table style="{style}"><tr>{header}</tr>{"".join(rows)}</table>'


class ExperimentPanel(_Shown):
    """The controls, a Train button, a live plot and the log of runs (see `experiment_panel`).

    `runs` lists every run trained, oldest first, as dicts: number, label, settings, history and
    diverged (None, or the message of the FloatingPointError that stopped it)."""
    text = "Experiment panel: run this notebook in Jupyter to use it."

    def __init__(self, train, init_params, check_settings, train_set, val_set, *, seed, defaults=None):
        self._train, self._init_params, self._check_settings = train, init_params, check_settings
        self.train_set, self.val_set, self.seed = train_set, val_set, seed
        self.controls = panel_controls(defaults, len(train_set[0]))
        self.train_button = widgets.Button(description="Train", button_style="primary")
        self.train_button.on_click(lambda _button: self.run())
        self.message = widgets.HTML()
        self.plot = widgets.Image(format="png", value=plot_runs([]))
        self.log = widgets.HTML(run_log_html([]))
        self.runs = []
        column = list(self.controls.values())
        self.widget = widgets.VBox([widgets.HBox([widgets.VBox(column[:5]), widgets.VBox(column[5:])]),
                                    widgets.HBox([self.train_button, self.message]), self.plot, self.log])
        self.widget.add_class("experiment-panel")   # class names for the browser test and the screenshots
        self.message.add_class("panel-message")
        self.log.add_class("run-log")

    def settings(self):
        return {name: control.value for name, control in self.controls.items()}

    def run(self):
        """What Train does: check the settings, train a fresh network with them and log the run.
        Returns the run, or None when check_settings refused the settings (then nothing is trained)."""
        settings = self.settings()
        n_train = min(settings["train_size"], len(self.train_set[0]))
        try:
            self._check_settings({name: settings[name] for name in ("hidden_size", *RECIPE_KEYS)}, n_train)
        except ValueError as error:
            self.message.value = warning(f"Not trained: {error}")
            return None
        number = len(self.runs) + 1
        run = {"number": number, "label": run_label(number, settings, self.runs[-1]["settings"] if self.runs else None),
               "settings": settings, "history": None, "diverged": None}
        earlier = [done for done in self.runs if done["diverged"] is None]

        def show_epoch(history):
            run["history"] = history
            self.plot.value = plot_runs(earlier, run)

        self.train_button.disabled = True
        self.message.value = html.escape(f"training {run['label']} …")
        try:
            run["history"] = self.train_fresh_network(settings, n_train, show_epoch)
            self.message.value = f"run {number}: best validation accuracy {max(run['history']['val_acc']):.2%}"
        except FloatingPointError as error:      # the notebook's TrainingDiverged is one
            run["diverged"] = str(error)
            self.message.value = warning(f"run {number} diverged (see the log)")
            self.plot.value = plot_runs(earlier)
        finally:
            self.train_button.disabled = False
        self.runs.append(run)
        self.log.value = run_log_html(self.runs)
        return run

    def train_fresh_network(self, settings, n_train, on_epoch):
        """Train a new network on n_train random training images; returns its history. Every run starts
        from the same seed, so that two runs differ only by their settings."""
        (images, labels), rng = self.train_set, np.random.default_rng(self.seed)
        subset = rng.choice(len(images), size=n_train, replace=False)
        params = self._init_params(images[0].size, settings["hidden_size"], N_CLASSES, rng)
        recipe = {name: settings[name] for name in RECIPE_KEYS}
        _, history = self._train(params, (images[subset], labels[subset]), self.val_set, recipe, rng,
                                 on_epoch=on_epoch, progress=False)
        return history


def experiment_panel(train, init_params, check_settings, train_set, val_set, *, seed, defaults=None):
    """The experiment panel: pressing Train trains a fresh network with the settings shown.

    Each run checks the settings with `check_settings(settings, n_train)` first (a ValueError is
    shown in the panel, and nothing is trained), draws a random subset of `train_set` (uint8 images,
    labels) with `np.random.default_rng(seed)`, makes the network with `init_params(784, hidden, 10,
    rng)` and trains it with `train(params, subset, val_set, recipe, rng, on_epoch=..., progress=False)`,
    redrawing the plot after every epoch. A run that raises FloatingPointError is logged as diverged.
    `defaults` (a dict of settings, such as the notebook's recipe) sets where the controls start.
    """
    return ExperimentPanel(train, init_params, check_settings, train_set, val_set, seed=seed, defaults=defaults)


# ---- Preparing a drawing like MNIST's digits ------------------------------------------------------

def resize_matrix(n_in, n_out):
    """(n_out, n_in) matrix R such that R @ v averages a length-n_in signal v down (or up) to n_out pixels:
    R[i, j] is the share of input pixel j in output pixel i (area averaging)."""
    edges = np.linspace(0, n_in, n_out + 1)           # output pixel i covers input [edges[i], edges[i + 1])
    pixel = np.arange(n_in)                            # input pixel j covers [j, j + 1)
    overlap = np.minimum(edges[1:, None], pixel + 1) - np.maximum(edges[:-1, None], pixel)
    overlap = np.clip(overlap, 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def fit_20x20(ink):
    """Crop a drawing (h, w; 0 = background) to its ink, pad it to a square, and resize it to 20×20 (R I Rᵀ)."""
    rows, cols = np.nonzero(ink.sum(axis=1))[0], np.nonzero(ink.sum(axis=0))[0]
    cropped = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(cropped.shape)                          # pad the short side: the aspect ratio is kept
    square = np.zeros((side, side))
    top, left = (side - cropped.shape[0]) // 2, (side - cropped.shape[1]) // 2
    square[top:top + cropped.shape[0], left:left + cropped.shape[1]] = cropped
    R = resize_matrix(side, 20)
    return R @ square @ R.T


def center_of_mass(image):
    """(row, column) of the ink's centre of mass."""
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def mnist_style(ink):
    """A drawing of any size (0 = background, more = ink) -> a uint8 28×28 digit prepared as MNIST's were:
    cropped to its ink, fitted into 20×20 keeping its aspect ratio, centred by its centre of mass."""
    if not np.any(ink):
        return np.zeros((28, 28), dtype=np.uint8)
    digit = np.zeros((28, 28))
    digit[4:24, 4:24] = fit_20x20(np.asarray(ink, dtype=np.float64))
    digit *= 255 / digit.max()                         # MNIST's strokes reach full intensity
    row, col = center_of_mass(digit)
    dy, dx = round(14 - row), round(14 - col)          # move the centre of mass to (14, 14)
    return shift_images(digit[None], dy, dx)[0].round().astype(np.uint8)


# ---- The drawing board -------------------------------------------------------------------------

DIGIT_SHAPE = (28, 28)
EMPTY_BOARD = '<i class="digit-empty">draw a digit on the left</i>'


class DigitCanvas(anywidget.AnyWidget):
    """A square to draw on (tutorial_widgets.js); `ink` holds the drawing as 140×140 values in 0..255,
    row by row ([] when cleared)."""
    _esm = HERE / "tutorial_widgets.js"
    _css = HERE / "tutorial_widgets.css"
    ink = traitlets.List().tag(sync=True)


def image_png(image, scale=5):
    """A small grayscale image (0 = white, 255 = black) as PNG bytes, each pixel shown as scale × scale."""
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, np.kron(image, np.ones((scale, scale))), cmap="gray_r", vmin=0, vmax=255,
                            format="png")
    return buffer.getvalue()


def probability_bars_html(probabilities, class_names):
    """The prediction and a horizontal bar per class, as HTML."""
    best = int(np.argmax(probabilities))
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;height:20px">'
        f'<span style="width:6.5em;text-align:right">{html.escape(name)}</span>'
        f'<span style="width:{160 * p:.0f}px;height:14px;background:{"#1f77b4" if i == best else "#aec7e8"}">'
        f'</span><span>{p:.0%}</span></div>'
        for i, (name, p) in enumerate(zip(class_names, probabilities)))
    return (f'<div class="digit-prediction" style="font-size:1.3em;margin-bottom:6px">'
            f'prediction: <b>{html.escape(class_names[best])}</b> ({probabilities[best]:.0%})</div>{rows}')


class DrawingBoard(_Shown):
    """The canvas, the 28×28 image the network sees and its probabilities (see `drawing_board`)."""
    text = "Drawing board: run this notebook in Jupyter to draw a digit."

    def __init__(self, prepare, classify, class_names):
        self.prepare, self.classify, self.class_names = prepare, classify, class_names
        self.canvas = DigitCanvas()
        self.seen = widgets.Image(format="png", value=image_png(np.zeros(DIGIT_SHAPE)),
                                  layout=widgets.Layout(border="1px solid #888"))
        self.bars = widgets.HTML(EMPTY_BOARD)
        self.canvas.observe(lambda change: self.show(change["new"]), names="ink")
        middle = widgets.VBox([widgets.Label("what the network sees (28×28)"), self.seen],
                              layout=widgets.Layout(margin="0 24px"))
        self.widget = widgets.HBox([self.canvas, middle, self.bars], layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("drawing-board")

    def show(self, ink):
        """Prepare and classify a drawing (a flat list of side × side values, as the canvas sends it) and
        show both; an empty or blank drawing empties the board."""
        if not any(ink):
            self.seen.value, self.bars.value = image_png(np.zeros(DIGIT_SHAPE)), EMPTY_BOARD
            return
        side = math.isqrt(len(ink))
        digit = self.prepare(np.array(ink, dtype=np.float64).reshape(side, side))
        self.seen.value = image_png(digit)
        self.bars.value = probability_bars_html(np.asarray(self.classify(digit)), self.class_names)


def drawing_board(prepare, classify, class_names):
    """A canvas to draw a digit on, updated as it is drawn: `prepare(ink)` turns the drawing (a square
    float array, 0 = background) into the 28×28 uint8 digit shown as what the network sees, and
    `classify(digit)` gives one probability per class, drawn as bars labelled with `class_names`."""
    return DrawingBoard(prepare, classify, class_names)
