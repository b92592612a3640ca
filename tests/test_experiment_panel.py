"""The experiment panel of the lesson's section 8 (tutorial_widgets.experiment_panel), driven from Python: its
widgets are real ipywidgets, and pressing Train runs the notebook's own `init_params`,
`train` and settings_rules.check_settings on small synthetic digits (no browser needed for this logic)."""

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

import tutorial_widgets
from conftest import PNG_SIGNATURE, synthetic_digits
from settings_rules import check_settings as settings_check
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SETTINGS = dict(hidden_size=32, learning_rate=0.05, batch_size=64, epochs=2, momentum=0.9, schedule="cosine",
                l2=0.0, shift=1, averaging=0.9, train_size=500)


@pytest.fixture(scope="module")
def data(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(1000, rng)
    val_images, val_labels = synthetic_digits(200, rng)
    return (images, labels), (nb.preprocess(val_images), val_labels)


def make_panel(nb, data, train=None, check_settings=None, **defaults):
    """A panel on the synthetic data, 3 epochs unless told otherwise; `train` and `check_settings`
    replace the notebook's (to watch how they are called)."""
    return tutorial_widgets.experiment_panel(train or nb.train, nb.init_params, check_settings or settings_check,
                                             *data, seed=0, defaults={"epochs": 3, **defaults})


def test_building_the_panel_trains_nothing(nb, data):
    calls = []
    panel = make_panel(nb, data, train=lambda *args, **kwargs: calls.append(args))
    assert calls == [] and panel.runs == []
    assert "<td>" not in panel.log.value and panel.message.value == ""


def test_pressing_train_trains_a_fresh_network_and_logs_the_run(nb, data):
    panel = make_panel(nb, data)
    panel.train_button.click()
    [run] = panel.runs
    assert run["number"] == 1 and run["diverged"] is None
    assert run["history"]["epoch"] == [1, 2, 3] and max(run["history"]["val_acc"]) >= 0.95
    assert run["settings"] == panel.settings()
    assert panel.log.value.count("<tr>") == 2                          # header and one run
    assert panel.plot.value[:8] == PNG_SIGNATURE and not panel.train_button.disabled


def test_train_gets_the_panels_settings_a_fresh_network_and_a_subset(nb, data):
    seen = {}

    def train(params, train_set, val_set, recipe, rng, **options):
        seen.update(params=params, n=len(train_set[0]), val_set=val_set, recipe=recipe, options=options)
        return nb.train(params, train_set, val_set, recipe, rng, **options)

    panel = make_panel(nb, data, train=train, momentum=0.5, schedule="constant", hidden_size=16, train_size=500)
    panel.train_button.click()
    assert seen["params"]["W1"].shape == (784, 16) and seen["n"] == 500 and seen["val_set"] is data[1]
    assert seen["recipe"] == {name: panel.settings()[name] for name in tutorial_widgets.RECIPE_KEYS}
    assert seen["recipe"]["momentum"] == 0.5 and seen["recipe"]["schedule"] == "constant"
    assert seen["options"]["progress"] is False and callable(seen["options"]["on_epoch"])


def test_every_run_starts_from_the_same_seed(nb, data):
    panel = make_panel(nb, data, epochs=2)
    panel.train_button.click()
    panel.train_button.click()
    first, second = (run["history"] for run in panel.runs)
    assert first["val_loss"] == second["val_loss"] and first["train_loss"] == second["train_loss"]


def test_the_train_button_is_disabled_while_training(nb, data):
    disabled = []

    def train(*args, **kwargs):
        disabled.append(panel.train_button.disabled)
        return nb.train(*args, **kwargs)

    panel = make_panel(nb, data, train=train)
    panel.train_button.click()
    assert disabled == [True] and not panel.train_button.disabled


def test_the_plot_is_redrawn_after_every_epoch(nb, data):
    plots = []

    def train(*args, on_epoch, **kwargs):
        return nb.train(*args, on_epoch=lambda history: (on_epoch(history), plots.append(panel.plot.value)), **kwargs)

    panel = make_panel(nb, data, train=train)
    panel.train_button.click()
    assert len(plots) == 3 and len(set(plots)) == 3 and all(png[:8] == PNG_SIGNATURE for png in plots)


def test_a_refused_combination_says_why_and_trains_nothing(nb, data):
    calls = []
    panel = make_panel(nb, data, train=lambda *args, **kwargs: calls.append(args), batch_size=512, train_size=500)
    assert panel.run() is None
    assert calls == [] and panel.runs == [] and "<td>" not in panel.log.value
    assert "Not trained" in panel.message.value and "BATCH_SIZE = 512" in panel.message.value
    assert not panel.train_button.disabled


def test_the_settings_are_checked_with_the_subset_size(nb, data):
    checked = []
    panel = make_panel(nb, data, check_settings=lambda *args: checked.append(args),
                       train_size=500)
    panel.train_button.click()
    [(settings, n_train)] = checked
    assert n_train == 500 and settings == {name: value for name, value in panel.settings().items()
                                           if name != "train_size"}


def test_a_diverging_run_is_logged_as_diverged_with_its_message(nb, data):
    panel = make_panel(nb, data, learning_rate=50.0)
    panel.train_button.click()
    [run] = panel.runs
    assert run["diverged"] and "LEARNING_RATE" in run["diverged"]
    assert "diverged: " in panel.log.value and "%</td>" not in panel.log.value   # no result in the log
    assert "diverged" in panel.message.value and not panel.train_button.disabled


def test_a_run_is_labelled_by_what_it_changed_from_the_previous_run(nb, data):
    panel = make_panel(nb, data, epochs=1)
    panel.train_button.click()
    panel.controls["batch_size"].value = 32
    panel.train_button.click()
    panel.controls["hidden_size"].value, panel.controls["schedule"].value = 16, "constant"
    panel.train_button.click()
    panel.train_button.click()
    assert [run["label"] for run in panel.runs] == [
        "run 1", "run 2: batch size 32", "run 3: hidden units 16, schedule constant", "run 4: same settings"]


def test_defaults_set_the_controls_and_widen_their_ranges(nb, data):
    panel = make_panel(nb, data, epochs=100, averaging=0.999, learning_rate=0.3, dropout=0.5)
    assert panel.settings() == {**tutorial_widgets.PANEL_DEFAULTS, "train_size": 1000,   # all 1,000 images
                                "epochs": 100, "averaging": 0.999, "learning_rate": 0.3}
    assert panel.controls["epochs"].max == 100 and 0.999 in panel.controls["averaging"].options


def test_the_run_log_has_a_row_per_run_with_its_settings_and_result():
    history = {"epoch": [1, 2], "val_acc": [0.9, 0.925], "seconds": [0.5, 1.25]}
    runs = [{"number": 1, "settings": SETTINGS, "history": history, "diverged": None},
            {"number": 2, "settings": {**SETTINGS, "learning_rate": 50.0}, "history": None, "diverged": "loss <inf>"}]
    html = tutorial_widgets.run_log_html(runs)
    assert html.count("<tr>") == 3 and "<td>92.50%</td>" in html and "<td>1.2</td>" in html
    assert "<td>0.05</td>" in html and "<td>cosine</td>" in html and "<td>50</td>" in html
    assert "diverged: loss &lt;inf&gt;" in html


def test_the_panels_plain_text_is_a_sentence_and_jupyter_still_gets_the_widget(nb, data):
    panel = make_panel(nb, data)
    data_bundle, _ = DisplayFormatter().format(panel)
    assert data_bundle["text/plain"] == "Experiment panel: run this notebook in Jupyter to use it."
    assert repr(panel) == data_bundle["text/plain"] and "object at 0x" not in data_bundle["text/plain"]
    assert data_bundle[WIDGET_VIEW]["model_id"] == panel.widget.model_id
