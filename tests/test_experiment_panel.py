"""The experiment panel of section 10, driven from Python: its widgets are real ipywidgets and
pressing Train runs the notebook's own `train` (no browser needed for this logic)."""

import numpy as np
import pytest

from conftest import synthetic_digits

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def panel(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(1000, rng)
    val_images, val_labels = synthetic_digits(200, rng)
    layout, controls, train_button, runs = nb.experiment_panel(
        images, labels, nb.preprocess(val_images), val_labels, momentum=0.9, seed=0)
    controls["epochs"].value = 3
    return layout, controls, train_button, runs


def test_building_the_panel_trains_nothing(panel):
    layout, _, _, runs = panel
    assert runs == []
    assert "<td>" not in layout.children[-1].value


def test_pressing_train_trains_a_fresh_network_and_logs_the_run(panel):
    layout, controls, train_button, runs = panel
    train_button.click()
    [run] = runs
    assert run["history"]["epoch"] == [1, 2, 3]
    assert max(run["history"]["val_acc"]) >= 0.95
    assert run["settings"]["epochs"] == 3 and run["settings"]["hidden_size"] == controls["hidden_size"].value
    assert layout.children[-1].value.count("<tr>") == 2          # header and one run
    assert layout.children[2].value[:8] == PNG_SIGNATURE and not train_button.disabled


def test_each_press_adds_a_run_with_its_own_settings(panel):
    layout, controls, train_button, runs = panel
    train_button.click()
    controls["hidden_size"].value, controls["epochs"].value = 16, 2
    train_button.click()
    assert [run["settings"]["hidden_size"] for run in runs] == [64, 16]
    assert [len(run["history"]["epoch"]) for run in runs] == [3, 2]
    assert layout.children[-1].value.count("<tr>") == 3


def test_train_calls_on_epoch_with_the_history_after_every_epoch(nb):
    rng = np.random.default_rng(1)
    images, labels = synthetic_digits(300, rng)
    seen = []
    nb.train(nb.init_params(784, 16, 10, rng), images, labels, nb.preprocess(images[:50]), labels[:50],
             epochs=3, batch_size=32, learning_rate=0.1, momentum=0.9, l2=0.0, max_shift=0, averaging=0.0,
             rng=rng, progress=False, on_epoch=lambda history: seen.append(list(history["epoch"])))
    assert seen == [[1], [1, 2], [1, 2, 3]]


def test_run_log_has_a_header_and_one_row_per_run_with_its_results(nb):
    settings = dict(hidden_size=32, learning_rate=0.05, batch_size=64, epochs=2, l2=0.0, shift=1,
                    averaging=0.9, train_size=500)
    history = {"epoch": [1, 2], "val_acc": [0.9, 0.925], "seconds": [0.5, 1.25]}
    html = nb.run_log_html([{"settings": settings, "history": history}])
    assert html.count("<tr>") == 2 and "<td>92.50%</td>" in html and "<td>1.2</td>" in html
