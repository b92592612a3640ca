"""Unit tests of the functions defined in neural_network_from_scratch.ipynb.

The functions are the notebook's own (loaded by notebook_functions, not copied). Each is checked
against something independent of it: central differences of a loss written out here, cases
computed by hand, or properties that any correct version must have.
"""

import os
import zipfile

import numpy as np
import pytest

from conftest import synthetic_digits

PARAM_SHAPES = {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}


# --- Helpers: an independent loss, central differences, translations ---------------------------


def loss_by_hand(X, y, params, l2):
    """Mean cross-entropy + (l2/2)(|W1|^2 + |W2|^2) of the ReLU network, written out in plain NumPy."""
    Z = np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    Z = Z - Z.max(axis=1, keepdims=True)
    log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean() + l2 / 2 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def central_differences(X, y, params, l2, name, h=1e-6):
    grad = np.zeros_like(params[name])
    for i in np.ndindex(grad.shape):
        plus, minus = dict(params), dict(params)
        plus[name], minus[name] = params[name].copy(), params[name].copy()
        plus[name][i] += h
        minus[name][i] -= h
        grad[i] = (loss_by_hand(X, y, plus, l2) - loss_by_hand(X, y, minus, l2)) / (2 * h)
    return grad


def max_relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12))


def gradient_errors(nb, backward, l2=0.3, m=5, n_in=6, n_hidden=7, n_out=4):
    """Largest relative error, per parameter, between `backward` and central differences, on a
    seeded float64 problem with non-zero biases."""
    rng = np.random.default_rng(42)
    X, y = rng.standard_normal((m, n_in)), rng.integers(0, n_out, size=m)
    params = {"W1": rng.standard_normal((n_in, n_hidden)), "b1": rng.standard_normal(n_hidden) * 0.5,
              "W2": rng.standard_normal((n_hidden, n_out)), "b2": rng.standard_normal(n_out) * 0.5}
    assert np.abs(X @ params["W1"] + params["b1"]).min() > 1e-3  # no pre-activation near ReLU's kink
    Z2, cache = nb.forward(X, params)
    grads = backward(nb.softmax(Z2), np.eye(n_out)[y], cache, params, l2)
    return {name: max_relative_error(grads[name], central_differences(X, y, params, l2, name))
            for name in params}


def translate(image, dy, dx, margin=3):
    """`image` moved down by dy and right by dx pixels (|dy|, |dx| <= margin): pad with zeros, then crop."""
    h, w = image.shape
    padded = np.pad(image, margin)
    return padded[margin - dy:margin - dy + h, margin - dx:margin - dx + w]


def offset_of(original, shifted, max_shift):
    """The (dy, dx) with |dy|, |dx| <= max_shift that turns original into shifted, or None."""
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if np.array_equal(translate(original, dy, dx), shifted):
                return dy, dx
    return None


def full_ink_images(count, seed=0):
    """uint8 images with no zero pixel, so that every translation is told apart from the others."""
    return np.random.default_rng(seed).integers(1, 256, size=(count, 28, 28), dtype=np.uint8)


# --- Gradients -------------------------------------------------------------------------------


def test_backward_matches_central_differences_with_weight_decay_and_biases(nb):
    errors = gradient_errors(nb, nb.backward, l2=0.3)
    assert all(error < 1e-6 for error in errors.values()), errors


def test_backward_matches_central_differences_without_weight_decay(nb):
    errors = gradient_errors(nb, nb.backward, l2=0.0)
    assert all(error < 1e-6 for error in errors.values()), errors


def test_notebook_gradient_check_reports_all_four_errors_below_1e_7(nb):
    errors = nb.gradient_check(np.random.default_rng(0))
    assert sorted(errors) == sorted(PARAM_SHAPES)
    assert all(error < 1e-7 for error in errors.values()), errors


def _bias_summed_over_everything(grads, P, Y, cache, params, l2):
    grads["b2"] = np.full_like(grads["b2"], ((P - Y) / len(P)).sum())


def _missing_one_over_m(grads, P, Y, cache, params, l2):
    grads["W1"] = (grads["W1"] - l2 * params["W1"]) * len(P) + l2 * params["W1"]


def _missing_weight_decay(grads, P, Y, cache, params, l2):
    grads["W2"] = grads["W2"] - l2 * params["W2"]


def _relu_mask_forgotten(grads, P, Y, cache, params, l2):
    grads["b1"] = ((P - Y) / len(P) @ params["W2"].T).sum(axis=0)


@pytest.mark.parametrize("break_gradient, broken", [
    (_bias_summed_over_everything, "b2"), (_missing_one_over_m, "W1"),
    (_missing_weight_decay, "W2"), (_relu_mask_forgotten, "b1"),
])
def test_gradient_comparison_catches_a_deliberately_broken_gradient(nb, break_gradient, broken):
    def broken_backward(P, Y, cache, params, l2):
        grads = nb.backward(P, Y, cache, params, l2)
        break_gradient(grads, P, Y, cache, params, l2)
        return grads

    errors = gradient_errors(nb, broken_backward, l2=0.3)
    assert errors[broken] > 1e-2, errors
    assert all(error < 1e-6 for name, error in errors.items() if name != broken), errors


def test_gradients_have_the_shapes_of_their_parameters(nb):
    params = nb.init_params(784, 64, 10, np.random.default_rng(0))
    X = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    Z2, cache = nb.forward(X, params)
    grads = nb.backward(nb.softmax(Z2), nb.one_hot(np.array([0, 5, 9]), 10), cache, params, 1e-4)
    assert {name: grad.shape for name, grad in grads.items()} == PARAM_SHAPES


# --- Softmax, log-softmax, cross-entropy ---------------------------------------------------------

EXTREME_LOGITS = np.array([[1000.0, -1000.0, 0.0], [1e30, 0.0, -1e30], [-1000.0, -1000.0, -1000.0]])


def test_softmax_rows_sum_to_one_without_overflow_for_extreme_logits(nb):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        P = nb.softmax(EXTREME_LOGITS)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(P, [[1, 0, 0], [1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-12)


def test_softmax_of_0_and_ln3_is_one_quarter_and_three_quarters(nb):
    np.testing.assert_allclose(nb.softmax(np.array([[0.0, np.log(3)]])), [[0.25, 0.75]], rtol=1e-12)


def test_softmax_is_invariant_to_adding_a_constant_to_each_row(nb):
    Z = np.random.default_rng(0).standard_normal((4, 6))
    constants = np.array([[-50.0], [0.0], [3.0], [700.0]])
    np.testing.assert_allclose(nb.softmax(Z + constants), nb.softmax(Z), rtol=1e-10)


def test_log_softmax_is_exact_and_finite_for_extreme_logits(nb):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        log_p = nb.log_softmax(np.array([[1000.0, 0.0], [-1e30, 1e30]]))
    np.testing.assert_allclose(log_p, [[0.0, -1000.0], [-2e30, 0.0]], rtol=1e-12, atol=1e-12)


def test_log_softmax_equals_log_of_softmax_on_moderate_logits(nb):
    Z = np.random.default_rng(0).uniform(-5, 5, size=(5, 10))
    by_hand = np.log(np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nb.log_softmax(Z), by_hand, rtol=1e-12)
    np.testing.assert_allclose(nb.log_softmax(Z), np.log(nb.softmax(Z)), rtol=1e-12)


def test_cross_entropy_of_0_and_ln3_with_target_1_is_minus_ln_three_quarters(nb):
    loss = nb.cross_entropy(np.array([[0.0, np.log(3)]]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(-np.log(3 / 4), rel=1e-12)


def test_cross_entropy_of_a_confident_mistake_equals_the_score_gap(nb):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = nb.cross_entropy(np.array([[1000.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(1000.0, rel=1e-12)


def test_cross_entropy_of_zero_logits_is_ln_k_averaged_over_rows(nb):
    loss = nb.cross_entropy(np.zeros((4, 10)), nb.one_hot(np.array([0, 3, 3, 9]), 10))
    assert loss == pytest.approx(np.log(10), rel=1e-6)


def test_cross_entropy_is_the_mean_of_the_row_losses(nb):
    Z = np.array([[0.0, np.log(3)], [0.0, 0.0]])
    loss = nb.cross_entropy(Z, np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert loss == pytest.approx((-np.log(3 / 4) + np.log(2)) / 2, rel=1e-12)


def test_l2_penalty_is_half_lambda_times_squared_weights_without_biases(nb):
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([100.0, 100.0]),
              "W2": np.array([[3.0], [0.0]]), "b2": np.array([100.0])}
    assert nb.l2_penalty(params, 0.5) == pytest.approx(0.25 * (1 + 4 + 9))


# --- Data preparation ----------------------------------------------------------------------------


def test_one_hot_puts_a_single_float32_one_at_each_label(nb):
    Y = nb.one_hot(np.array([2, 0, 1, 2]), 3)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_preprocess_flattens_each_image_to_a_float32_row_in_0_1(nb):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 27, 27], images[2, 0, 1] = 0, 255, 51
    X = nb.preprocess(images)
    assert X.shape == (3, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0 and X[2, 1] == np.float32(0.2)
    np.testing.assert_array_equal(X[1], images[1].ravel() / np.float32(255))


def test_split_validation_partitions_the_examples_keeping_labels_aligned(nb):
    images, labels = np.arange(20).reshape(10, 2), np.arange(10) * 10
    (train_x, train_y), (val_x, val_y) = nb.split_validation(images, labels, 3, np.random.default_rng(0))
    assert len(val_x) == len(val_y) == 3 and len(train_x) == len(train_y) == 7
    assert sorted(np.concatenate([train_x[:, 0], val_x[:, 0]])) == list(range(0, 20, 2))
    np.testing.assert_array_equal(np.concatenate([train_y, val_y]), np.concatenate([train_x, val_x])[:, 0] * 5)


# --- The model -----------------------------------------------------------------------------------


def test_init_params_draws_he_weights_and_zero_biases(nb):
    params = nb.init_params(784, 64, 10, np.random.default_rng(0))
    assert {name: value.shape for name, value in params.items()} == PARAM_SHAPES
    assert all(value.dtype == np.float32 for value in params.values())
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.1)
    assert abs(params["W1"].mean()) < 0.05 * np.sqrt(2 / 784)
    assert not params["b1"].any() and not params["b2"].any()


def test_forward_gives_m_by_10_logits_for_a_784_64_10_network(nb):
    params = nb.init_params(784, 64, 10, np.random.default_rng(0))
    Z2, (X, Z1, A1) = nb.forward(np.zeros((3, 784), dtype=np.float32), params)
    assert Z2.shape == (3, 10) and X.shape == (3, 784) and Z1.shape == A1.shape == (3, 64)


def test_forward_computes_a_relu_network_by_hand(nb):
    params = {"W1": np.array([[1.0, 2.0], [3.0, 4.0]]), "b1": np.array([0.5, 3.0]),
              "W2": np.array([[10.0], [2.0]]), "b2": np.array([-1.0])}
    # Z1 = [1 - 3 + 0.5, 2 - 4 + 3] = [-1.5, 1]; A1 = [0, 1]; Z2 = 0*10 + 1*2 - 1 = 1
    Z2, (_, Z1, A1) = nb.forward(np.array([[1.0, -1.0]]), params)
    np.testing.assert_allclose(Z1, [[-1.5, 1.0]])
    np.testing.assert_allclose(A1, [[0.0, 1.0]])
    np.testing.assert_allclose(Z2, [[1.0]])


def test_predict_and_accuracy_take_the_highest_score(nb):
    params = {"W1": np.eye(3), "b1": np.zeros(3), "W2": np.eye(3), "b2": np.zeros(3)}
    predicted = nb.predict(np.array([[0.1, 0.9, 0.2], [3.0, 1.0, 2.0], [0.0, 0.0, 5.0]]), params)
    np.testing.assert_array_equal(predicted, [1, 0, 2])
    assert nb.accuracy(predicted, np.array([1, 2, 2])) == pytest.approx(2 / 3)


def test_update_average_moves_the_average_a_fraction_toward_the_weights(nb):
    average = {"W": np.array([0.0, 10.0]), "b": np.array([1.0])}
    params = {"W": np.array([1.0, 0.0]), "b": np.array([1.0])}
    nb.update_average(average, params, 0.75)          # 0.75 * old + 0.25 * new
    np.testing.assert_allclose(average["W"], [0.25, 7.5])
    np.testing.assert_allclose(average["b"], [1.0])
    nb.update_average(average, params, 0.0)           # beta = 0: the average is the weights
    np.testing.assert_allclose(average["W"], params["W"])


# --- Shifts ---------------------------------------------------------------------------------------


def test_shift_by_zero_leaves_images_unchanged(nb):
    images = full_ink_images(20)
    np.testing.assert_array_equal(nb.shift_images(images, 0, 0), images)


@pytest.mark.parametrize("dy, dx", [(dy, dx) for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2)])
def test_shift_moves_every_image_by_exactly_dy_dx_and_fills_with_zero(nb, dy, dx):
    images = full_ink_images(5)
    shifted = nb.shift_images(images, dy, dx)
    assert all(offset_of(original, out, 2) == (dy, dx) for original, out in zip(images, shifted))


def test_shift_down_right_by_one_moves_a_single_pixel_by_hand(nb):
    image = np.zeros((1, 4, 4), dtype=np.uint8)
    image[0, 1, 2] = 200
    shifted = nb.shift_images(image, 1, 1)
    assert shifted[0, 2, 3] == 200 and shifted.sum() == 200


def test_shift_never_increases_total_ink(nb):
    images, _ = synthetic_digits(100, np.random.default_rng(0), max_shift=3)
    ink_before = images.sum(axis=(1, 2), dtype=np.int64)
    for dy, dx in [(2, 2), (-2, 1), (0, -2)]:
        assert np.all(nb.shift_images(images, dy, dx).sum(axis=(1, 2), dtype=np.int64) <= ink_before)


def test_shift_keeps_uint8_shape_and_leaves_its_input_alone(nb):
    images = full_ink_images(10)
    before = images.copy()
    shifted = nb.shift_images(images, 1, -1)
    assert shifted.dtype == np.uint8 and shifted.shape == images.shape
    np.testing.assert_array_equal(images, before)


# --- Optimiser -----------------------------------------------------------------------------------


def test_cosine_learning_rate_starts_at_peak_halves_midway_and_ends_at_zero(nb):
    assert nb.cosine_learning_rate(0, 100, 0.1) == pytest.approx(0.1, rel=1e-12)
    assert nb.cosine_learning_rate(50, 100, 0.1) == pytest.approx(0.05, rel=1e-12)
    assert nb.cosine_learning_rate(25, 100, 0.1) == pytest.approx(0.05 * (1 + np.sqrt(0.5)), rel=1e-12)
    assert nb.cosine_learning_rate(100, 100, 0.1) == pytest.approx(0.0, abs=1e-15)


def test_sgd_momentum_step_matches_two_steps_by_hand(nb):
    params = {"W": np.array([1.0, 2.0]), "b": np.array([0.0])}
    velocity = {"W": np.zeros(2), "b": np.zeros(1)}
    W = params["W"]
    nb.sgd_momentum_step(params, {"W": np.array([0.5, -1.0]), "b": np.array([1.0])}, velocity, 0.1, 0.9)
    # V = -0.1 * [0.5, -1] = [-0.05, 0.1]; W = [0.95, 2.1]
    np.testing.assert_allclose(params["W"], [0.95, 2.1], rtol=1e-12)
    nb.sgd_momentum_step(params, {"W": np.array([1.0, 0.0]), "b": np.array([0.0])}, velocity, 0.1, 0.9)
    # V = 0.9 * [-0.05, 0.1] - 0.1 * [1, 0] = [-0.145, 0.09]; W = [0.805, 2.19]
    np.testing.assert_allclose(velocity["W"], [-0.145, 0.09], rtol=1e-12)
    np.testing.assert_allclose(params["W"], [0.805, 2.19], rtol=1e-12)
    np.testing.assert_allclose(params["b"], [-0.1 - 0.09], rtol=1e-12)  # V: -0.1, then -0.09
    assert params["W"] is W  # updated in place


# --- Evaluation ----------------------------------------------------------------------------------


def test_confusion_matrix_counts_true_class_rows_by_predicted_columns(nb):
    labels, predicted = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    counts = nb.confusion_matrix(labels, predicted, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(labels))


# --- Training ------------------------------------------------------------------------------------

TRAIN_SETTINGS = dict(epochs=4, batch_size=32, learning_rate=0.1, momentum=0.9, l2=1e-4, max_shift=1,
                      averaging=0.0, progress=False)


@pytest.fixture(scope="module")
def digits(nb):
    rng = np.random.default_rng(0)
    train_images, train_labels = synthetic_digits(300, rng)
    val_images, val_labels = synthetic_digits(100, rng)
    return train_images, train_labels, nb.preprocess(val_images), val_labels


def run_train(nb, digits, seed=0, params=None, **settings):
    train_images, train_labels, X_val, val_labels = digits
    params = nb.init_params(784, 64, 10, np.random.default_rng(1)) if params is None else params
    return nb.train(params, train_images, train_labels, X_val, val_labels,
                    rng=np.random.default_rng(seed), **{**TRAIN_SETTINGS, **settings})


def test_train_reaches_high_validation_accuracy_on_separable_digits(nb, digits):
    best, history = run_train(nb, digits)
    assert max(history["val_acc"]) >= 0.95
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_train_with_weight_averaging_still_learns(nb, digits):
    _, history = run_train(nb, digits, epochs=6, averaging=0.9)
    assert max(history["val_acc"]) >= 0.95


def test_train_history_has_one_entry_per_epoch(nb, digits):
    _, history = run_train(nb, digits, epochs=3)
    assert sorted(history) == sorted(["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"])
    assert all(len(values) == 3 for values in history.values())
    assert history["epoch"] == [1, 2, 3]


def test_train_returns_the_parameters_of_the_best_validation_epoch(nb):
    # Very noisy images with half the training labels randomised: the network overfits them, so
    # validation accuracy peaks before the last epoch.
    rng = np.random.default_rng(0)
    (train_images, train_labels), (val_images, val_labels) = (synthetic_digits(n, rng, noise=140) for n in (300, 100))
    scrambled = np.random.default_rng(5).random(300) < 0.5
    train_labels[scrambled] = np.random.default_rng(6).integers(0, 10, scrambled.sum())
    X_val = nb.preprocess(val_images)
    best, history = run_train(nb, (train_images, train_labels, X_val, val_labels), epochs=12, l2=0.0,
                              max_shift=0, batch_size=16, learning_rate=0.01)
    assert history["val_acc"][-1] < max(history["val_acc"]), "precondition: the last epoch must not be the best"
    assert nb.accuracy(nb.predict(X_val, best), val_labels) == max(history["val_acc"])


def test_train_is_reproducible_with_the_same_seed(nb, digits):
    first_params, first = run_train(nb, digits, seed=3, epochs=2)
    second_params, second = run_train(nb, digits, seed=3, epochs=2)
    assert {k: v for k, v in first.items() if k != "seconds"} == {k: v for k, v in second.items() if k != "seconds"}
    for name in first_params:
        np.testing.assert_array_equal(first_params[name], second_params[name])


def test_train_does_not_mutate_the_params_passed_in(nb, digits):
    params = nb.init_params(784, 64, 10, np.random.default_rng(1))
    before = {name: value.copy() for name, value in params.items()}
    best, _ = run_train(nb, digits, params=params, epochs=1)
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])
        assert best[name] is not params[name]


# --- Saving and loading --------------------------------------------------------------------------


@pytest.fixture
def params(nb):
    params = nb.init_params(784, 64, 10, np.random.default_rng(0))
    params["b1"] += np.float32(0.25)  # non-zero biases, so that a lost bias would show
    return params


def save_raw(path, params, **changes):
    """Write an .npz with np.savez directly (not save_params), with some arrays replaced or removed."""
    arrays = {**params, **changes}
    np.savez(path, **{name: value for name, value in arrays.items() if value is not None})
    return path


def test_saved_params_load_back_equal_as_float32(nb, params, tmp_path):
    nb.save_params(tmp_path / "model.npz", params)
    loaded = nb.load_params(tmp_path / "model.npz")
    assert sorted(loaded) == sorted(PARAM_SHAPES)
    for name in params:
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], params[name])


def test_saved_extras_are_plain_arrays_readable_without_pickle(nb, params, tmp_path):
    extras = dict(hidden_size=64, l2=2e-4, dataset="mnist", test_accuracy=np.float64(0.986),
                  history_val_acc=[0.9, 0.95, 0.97], history_epoch=[1.0, 2.0, 3.0])
    nb.save_params(tmp_path / "model.npz", params, **extras)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted([*params, *extras])
        assert not any(data[key].dtype.hasobject for key in data.files)
        assert data["dataset"] == "mnist" and data["hidden_size"] == 64
        np.testing.assert_array_equal(data["history_val_acc"], extras["history_val_acc"])


def test_save_params_never_writes_a_file_that_needs_pickle(nb, params, tmp_path):
    path = tmp_path / "model.npz"
    try:
        nb.save_params(path, params, note=None, settings={"epochs": 100})  # object arrays if kept as is
    except (TypeError, ValueError):
        pass
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            assert not [key for key in data.files if data[key].dtype.hasobject]  # raises if pickled


def test_wrong_shape_is_rejected_naming_the_array_and_both_shapes(nb, params, tmp_path):
    path = save_raw(tmp_path / "model.npz", params, b1=np.zeros(63, dtype=np.float32))
    with pytest.raises(ValueError) as error:
        nb.load_params(path)
    assert "b1" in str(error.value) and "(63,)" in str(error.value) and "(64,)" in str(error.value)


def test_other_output_size_is_rejected_naming_the_array_and_both_shapes(nb, params, tmp_path):
    path = save_raw(tmp_path / "model.npz", nb.init_params(784, 64, 5, np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"W2.*\(64, 5\).*\(64, 10\)"):
        nb.load_params(path)


def test_zero_dimensional_weights_are_rejected_with_value_error(nb, params, tmp_path):
    path = save_raw(tmp_path / "model.npz", params, W1=np.float32(1.0))
    with pytest.raises(ValueError, match="W1"):
        nb.load_params(path)


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_missing_array_is_rejected_naming_it(nb, params, tmp_path, name):
    path = save_raw(tmp_path / "model.npz", params, **{name: None})
    with pytest.raises(ValueError, match=name):
        nb.load_params(path)


def test_missing_file_raises_file_not_found(nb, tmp_path):
    with pytest.raises(FileNotFoundError):
        nb.load_params(tmp_path / "no_such_model.npz")


def test_truncated_file_is_rejected(nb, params, tmp_path):
    path = tmp_path / "model.npz"
    nb.save_params(path, params)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(ValueError, match="model.npz"):
        nb.load_params(path)


def test_corrupted_bytes_inside_the_file_are_rejected(nb, params, tmp_path):
    path = tmp_path / "model.npz"
    nb.save_params(path, params)
    data = bytearray(path.read_bytes())
    data[len(data) // 3:len(data) // 3 + 16] = bytes(16)  # inside W1's numbers: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        nb.load_params(path)


def test_file_of_random_bytes_is_rejected(nb, tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match="model.npz"):
        nb.load_params(path)


def test_npy_file_instead_of_npz_is_rejected(nb, params, tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as file:
        np.save(file, params["W1"])  # a single array: np.load returns an ndarray, not an NpzFile
    with pytest.raises(ValueError, match="model.npz"):
        nb.load_params(path)


class _CreatesFileWhenUnpickled:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):  # unpickling calls open(marker, "w"), which creates the marker file
        return open, (self.marker, "w")


@pytest.mark.parametrize("name", ["W1", "b2"])
def test_object_array_is_rejected_without_being_unpickled(nb, params, tmp_path, name):
    marker = tmp_path / "unpickled"
    path = save_raw(tmp_path / "model.npz", params, **{name: np.array([_CreatesFileWhenUnpickled(marker)])})
    with pytest.raises(ValueError, match="model.npz"):
        nb.load_params(path)
    assert not marker.exists()


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected(nb, params, tmp_path, bad_value):
    params["W2"][3, 4] = bad_value
    with pytest.raises(ValueError, match="W2"):
        nb.load_params(save_raw(tmp_path / "model.npz", params))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.complex64])
def test_non_float_weights_are_rejected(nb, params, tmp_path, dtype):
    path = save_raw(tmp_path / "model.npz", params, W1=params["W1"].astype(dtype))
    with pytest.raises(ValueError, match="W1"):
        nb.load_params(path)


def test_save_params_leaves_no_temporary_file(nb, params, tmp_path):
    nb.save_params(tmp_path / "model.npz", params, epochs=3)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert zipfile.is_zipfile(tmp_path / "model.npz")


def test_save_params_creates_missing_folders(nb, params, tmp_path):
    nb.save_params(tmp_path / "a" / "b" / "model.npz", params)
    np.testing.assert_array_equal(nb.load_params(tmp_path / "a" / "b" / "model.npz")["W1"], params["W1"])


def test_failed_save_keeps_the_existing_file_and_leaves_no_temporary_file(nb, params, tmp_path):
    path = tmp_path / "model.npz"
    nb.save_params(path, params)
    other = {name: value + 1 for name, value in params.items()}
    with pytest.raises(Exception):
        nb.save_params(path, other, unsaveable=lambda: None)  # cannot be written as a plain array
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(nb.load_params(path)["W1"], params["W1"])


def test_saving_to_a_directory_path_fails_and_leaves_no_file(nb, params, tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(OSError):
        nb.save_params(tmp_path / "model.npz", params)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert os.listdir(tmp_path / "model.npz") == []
