"""Unit tests of the functions defined in neural_network_from_scratch.ipynb.

The functions are the notebook's own (loaded by notebook_functions, not copied). Each is checked
against something independent of it: central differences of a loss written out here, cases
computed by hand, or properties that any correct version must have.
"""


import numpy as np
import pytest

from conftest import LESSON, defined_names, synthetic_digits

PARAM_SHAPES = {"W1": (784, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}
GRADIENT_ORDER = ["Z2", "W2", "b2", "A1", "Z1", "W1", "b1"]   # backward computes them in this order


# --- Helpers: an independent loss and central differences -----------------------------------


def relu_by_hand(Z):
    return np.maximum(Z, 0)


def cross_entropy_by_hand(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def loss_by_hand(X, y, params, l2, g=relu_by_hand):
    """Mean cross-entropy + (l2/2)(|W1|^2 + |W2|^2) of the network with activation g, in plain NumPy."""
    Z = g(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    return cross_entropy_by_hand(Z, y) + l2 / 2 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def differences(f, x, h=1e-6):
    """Central differences of the scalar f(x) with respect to every entry of the array x."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (f(plus) - f(minus)) / (2 * h)
    return grad


def central_differences(X, y, params, l2, name, g=relu_by_hand):
    return differences(lambda value: loss_by_hand(X, y, {**params, name: value}, l2, g), params[name])


def max_relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12))


def small_problem(m=5, n_in=6, n_hidden=7, n_out=4):
    """A seeded float64 problem with non-zero biases: X, integer labels y, params."""
    rng = np.random.default_rng(42)
    X, y = rng.standard_normal((m, n_in)), rng.integers(0, n_out, size=m)
    params = {"W1": rng.standard_normal((n_in, n_hidden)), "b1": rng.standard_normal(n_hidden) * 0.5,
              "W2": rng.standard_normal((n_hidden, n_out)), "b2": rng.standard_normal(n_out) * 0.5}
    assert np.abs(X @ params["W1"] + params["b1"]).min() > 1e-3  # no pre-activation near ReLU's kink
    return X, y, params


def gradient_errors(nb, backward, l2=0.3, activation=None, derivative=None, g=relu_by_hand):
    """Largest relative error, per parameter, between `backward` and central differences of
    loss_by_hand (with activation g), on small_problem(); activation and derivative, if given,
    are passed to the notebook's forward and backward."""
    X, y, params = small_problem()
    Z2, cache = nb.forward(X, params, **({"activation": activation} if activation else {}))
    grads = backward(nb.softmax(Z2), np.eye(params["b2"].size)[y], cache, params, l2,
                     **({"activation_derivative": derivative} if derivative else {}))
    return {name: max_relative_error(grads[name], central_differences(X, y, params, l2, name, g))
            for name in params}


# --- Gradients -------------------------------------------------------------------------------


def test_backward_matches_central_differences_with_weight_decay_and_biases(nb):
    errors = gradient_errors(nb, nb.backward, l2=0.3)
    assert all(error < 1e-6 for error in errors.values()), errors


def test_backward_matches_central_differences_without_weight_decay(nb):
    errors = gradient_errors(nb, nb.backward, l2=0.0)
    assert all(error < 1e-6 for error in errors.values()), errors


def test_backward_with_tanh_matches_central_differences(nb):
    errors = gradient_errors(nb, nb.backward, activation=np.tanh, derivative=nb.tanh_derivative, g=np.tanh)
    assert all(error < 1e-6 for error in errors.values()), errors


def test_backward_intermediate_gradients_match_central_differences(nb):
    X, y, params = small_problem()
    Z2, (_, Z1, A1) = nb.forward(X, params)
    grads = nb.backward(nb.softmax(Z2), np.eye(4)[y], (X, Z1, A1), params, 0.3)
    W2, b2 = params["W2"], params["b2"]
    by_hand = {"Z2": differences(lambda Z: cross_entropy_by_hand(Z, y), Z2),            # the loss from each
               "A1": differences(lambda A: cross_entropy_by_hand(A @ W2 + b2, y), A1),  # tensor onwards
               "Z1": differences(lambda Z: cross_entropy_by_hand(relu_by_hand(Z) @ W2 + b2, y), Z1)}
    errors = {name: max_relative_error(grads[name], expected) for name, expected in by_hand.items()}
    assert all(error < 1e-6 for error in errors.values()), errors


def test_notebook_gradient_check_reports_all_seven_errors_below_1e_7_in_backward_order(nb):
    errors = nb.gradient_check(np.random.default_rng(0))
    assert list(errors) == GRADIENT_ORDER
    assert all(error < 1e-7 for error in errors.values()), errors


def scaled_dA1_backward(correct_backward, factor=2.0):
    """backward with dA1 multiplied by `factor`, and the rest of the hidden layer's chain rule applied to it."""
    def backward(P, Y, cache, params, l2, activation_derivative=None):
        grads = correct_backward(P, Y, cache, params, l2)
        X, Z1, _ = cache
        grads["A1"] = factor * grads["A1"]
        grads["Z1"] = grads["A1"] * (Z1 > 0)
        grads["W1"] = X.T @ grads["Z1"] + l2 * params["W1"]
        grads["b1"] = grads["Z1"].sum(axis=0)
        return grads
    return backward


def test_notebook_gradient_check_flags_a_wrong_dA1_and_every_row_computed_from_it(nb):
    errors = nb.gradient_check(np.random.default_rng(0), backward=scaled_dA1_backward(nb.backward))
    assert {name for name, error in errors.items() if error > 1e-2} == {"A1", "Z1", "W1", "b1"}, errors
    assert all(errors[name] < 1e-7 for name in ("Z2", "W2", "b2")), errors


def test_notebook_gradient_check_flags_a_wrong_activation_derivative_from_dZ1_on(nb):
    errors = nb.gradient_check(np.random.default_rng(0),   # sign(z) is -1, not 0, where z < 0
                               backward=lambda *args: nb.backward(*args, activation_derivative=np.sign))
    assert {name for name, error in errors.items() if error > 1e-2} == {"Z1", "W1", "b1"}, errors


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


def test_gradients_have_the_shapes_of_their_tensors(nb):
    params = nb.init_params(784, 64, 10, np.random.default_rng(0))
    X = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    Z2, cache = nb.forward(X, params)
    grads = nb.backward(nb.softmax(Z2), nb.one_hot(np.array([0, 5, 9]), 10), cache, params, 1e-4)
    assert {name: grad.shape for name, grad in grads.items()} == {**PARAM_SHAPES, "Z2": (3, 10), "A1": (3, 64),
                                                                  "Z1": (3, 64)}


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


def test_forward_uses_the_activation_it_is_given(nb):
    X, _, params = small_problem()
    Z2, (_, Z1, A1) = nb.forward(X, params, activation=np.tanh)
    np.testing.assert_allclose(A1, np.tanh(X @ params["W1"] + params["b1"]), rtol=1e-12)
    np.testing.assert_allclose(Z2, A1 @ params["W2"] + params["b2"], rtol=1e-12)


def test_relu_and_its_derivative_by_hand(nb):
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(nb.relu(z), [0, 0, 0, 0.5, 2])
    np.testing.assert_array_equal(nb.relu_derivative(z), [0, 0, 0, 1, 1])   # 0 at the kink, as the notebook says
    assert nb.relu_derivative(z).dtype == np.float32


def test_sigmoid_is_the_logistic_function_and_finite_for_extreme_scores(nb):
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(nb.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_array_equal(nb.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_activation_derivative_matches_central_differences(nb, name):
    g, dg = {"sigmoid": (nb.sigmoid, nb.sigmoid_derivative), "tanh": (np.tanh, nb.tanh_derivative),
             "relu": (nb.relu, nb.relu_derivative), "identity": (nb.identity, nb.identity_derivative)}[name]
    z = np.array([-4.0, -1.3, -0.2, 0.3, 1.1, 5.0])          # away from ReLU's kink
    numerical = np.array([(g(np.array([v + 1e-6])) - g(np.array([v - 1e-6])))[0] / 2e-6 for v in z])
    np.testing.assert_allclose(dg(z), numerical, rtol=1e-6, atol=1e-9)


def test_without_an_activation_the_two_layers_are_one_linear_map(nb):
    X, _, params = small_problem()
    Z2 = nb.forward(X, params, activation=nb.identity)[0]
    W, b = params["W1"] @ params["W2"], params["b1"] @ params["W2"] + params["b2"]
    np.testing.assert_allclose(Z2, X @ W + b, rtol=1e-10, atol=1e-12)


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


# --- Optimiser -----------------------------------------------------------------------------------


def test_cosine_learning_rate_starts_at_peak_halves_midway_and_ends_at_zero(nb):
    assert nb.learning_rate_at(0, 100, 0.1, "cosine") == pytest.approx(0.1, rel=1e-12)
    assert nb.learning_rate_at(50, 100, 0.1, "cosine") == pytest.approx(0.05, rel=1e-12)
    assert nb.learning_rate_at(25, 100, 0.1, "cosine") == pytest.approx(0.05 * (1 + np.sqrt(0.5)), rel=1e-12)
    assert nb.learning_rate_at(100, 100, 0.1, "cosine") == pytest.approx(0.0, abs=1e-15)


def test_constant_learning_rate_stays_at_peak(nb):
    assert [nb.learning_rate_at(step, 100, 0.1, "constant") for step in (0, 50, 100)] == [0.1, 0.1, 0.1]


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


# --- Vanishing gradients ------------------------------------------------------------------------


def test_weight_gradient_size_of_a_single_zero_layer_by_hand(nb):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 5)), np.eye(4)[[0, 1, 2, 3, 0, 1]]
    sizes = nb.weight_gradient_sizes(np.tanh, nb.tanh_derivative, lambda n: 0.0, X, Y, rng, depth=1)
    dW = X.T @ (np.full((6, 4), 0.25) - Y) / 6      # zero weights: every class gets probability 1/4
    assert sizes == [pytest.approx(np.sqrt(np.mean(dW ** 2)), rel=1e-12)]


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_gradients_do_not(nb):
    rng = np.random.default_rng(0)
    X, Y = rng.random((64, 784)), np.eye(10)[rng.integers(0, 10, 64)]
    sigmoid = nb.weight_gradient_sizes(nb.sigmoid, nb.sigmoid_derivative, lambda n: 1 / n, X, Y, rng)
    relu = nb.weight_gradient_sizes(nb.relu, nb.relu_derivative, lambda n: 2 / n, X, Y, rng)
    assert len(sigmoid) == len(relu) == 8
    assert sigmoid[0] / sigmoid[-1] < 1e-2        # each sigmoid layer multiplies the gradient by 1/4 or less
    assert 0.1 < relu[0] / relu[-1] < 10


# --- Evaluation ----------------------------------------------------------------------------------


def test_confusion_matrix_counts_true_class_rows_by_predicted_columns(nb):
    labels, predicted = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    counts = nb.confusion_matrix(labels, predicted, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(labels))

def test_nearest_mean_picks_the_class_of_the_closest_mean_image(nb):
    means = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 3.0]])
    X = np.array([[0.1, 0.2], [0.9, 1.4], [0.2, 2.5], [0.6, 0.6], [-1.0, 1.6]])
    by_hand = np.argmin(((X[:, None, :] - means[None, :, :]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_array_equal(nb.nearest_mean(X, means), by_hand)
    assert list(by_hand) == [0, 1, 2, 1, 2]


def test_reliability_bins_by_confidence_and_weights_the_gaps_by_share(nb):
    confidence, correct = np.array([1.0, 0.95, 0.55, 0.15]), np.array([True, False, True, True])
    share, mean_confidence, bin_accuracy, ece = nb.reliability(confidence, correct)
    np.testing.assert_allclose(share, [0, 0.25, 0, 0, 0, 0.25, 0, 0, 0, 0.5])   # confidence 1 is in the last bin
    np.testing.assert_allclose(mean_confidence[[1, 5, 9]], [0.15, 0.55, 0.975])
    np.testing.assert_allclose(bin_accuracy[[1, 5, 9]], [1.0, 1.0, 0.5])
    assert ece == pytest.approx(0.25 * 0.85 + 0.25 * 0.45 + 0.5 * 0.475)


def test_coverage_curve_counts_the_answers_at_or_above_each_threshold(nb):
    coverage, answered_accuracy = nb.coverage_curve(np.array([0.9, 0.6, 0.3]), np.array([True, False, True]),
                                                    [0.0, 0.6, 0.95])
    np.testing.assert_allclose(coverage, [1, 2 / 3, 0])
    np.testing.assert_allclose(answered_accuracy, [2 / 3, 1 / 2, np.nan])   # no answer: no accuracy


def test_a_calibrated_predictor_has_an_ece_near_zero_and_an_over_confident_one_does_not(nb):
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.1, 1.0, 200_000)
    calibrated = rng.random(confidence.shape) < confidence          # right with the probability it claims
    over_confident = rng.random(confidence.shape) < confidence / 2  # right half as often as it claims
    assert nb.reliability(confidence, calibrated)[3] < 0.01
    assert nb.reliability(confidence, over_confident)[3] > 0.2


def test_coverage_falls_as_the_threshold_rises_and_is_complete_at_zero(nb):
    rng = np.random.default_rng(1)
    confidence, correct = rng.random(1000), rng.random(1000) < 0.8
    coverage, _ = nb.coverage_curve(confidence, correct, np.linspace(0, 1, 101))
    assert coverage[0] == 1.0
    assert np.all(np.diff(coverage) <= 0)


def test_points_on_a_line_put_all_their_variance_on_the_first_principal_axis(nb):
    t = np.linspace(-1, 1, 50)
    A = np.outer(t, [1.0, 2.0, -2.0]) + [5.0, 0.0, 1.0]             # 50 points on one line in 3-D
    points, shares = nb.pca_2d(A)
    assert shares[0] == pytest.approx(1.0) and shares[1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(points[:, 0]), 3 * np.abs(t), atol=1e-12)   # |direction| = 3


def test_pca_2d_projects_onto_the_directions_of_largest_spread(nb):
    A = np.array([[3.0, 1.0, 5.0], [1.0, 1.0, 5.0], [2.0, 1.1, 5.0], [2.0, 0.9, 5.0]])   # spread: 2 in x, 0.2 in y
    points, shares = nb.pca_2d(A)
    np.testing.assert_allclose(np.abs(points), [[1, 0], [1, 0], [0, 0.1], [0, 0.1]], atol=1e-12)
    np.testing.assert_allclose(shares, [2 / 2.02, 0.02 / 2.02])


def test_accuracies_under_a_distortion_that_changes_nothing_are_the_plain_accuracies(nb, digits):
    train_images, train_labels, _, _ = digits
    networks = {"trained": run_train(nb, digits, epochs=1)[0], "initial": nb.init_params(784, 64, 10,
                                                                                         np.random.default_rng(1))}
    found = nb.accuracies_under(lambda images, level: nb.preprocess(images), 0, train_images, train_labels, networks,
                                chunk_size=70)
    assert found == {name: nb.accuracy(nb.predict(nb.preprocess(train_images), network), train_labels)
                     for name, network in networks.items()}


# --- Training ------------------------------------------------------------------------------------

RECIPE = dict(epochs=4, batch_size=32, learning_rate=0.1, schedule="cosine", momentum=0.9, l2=1e-4, shift=1,
              averaging=0.0)


@pytest.fixture(scope="module")
def digits(nb):
    rng = np.random.default_rng(0)
    train_images, train_labels = synthetic_digits(300, rng)
    val_images, val_labels = synthetic_digits(100, rng)
    return train_images, train_labels, nb.preprocess(val_images), val_labels


def run_train(nb, digits, seed=0, params=None, **changes):
    """train on `digits` by RECIPE with some of its settings changed; keyword options of train pass through."""
    train_images, train_labels, X_val, val_labels = digits
    params = nb.init_params(784, 64, 10, np.random.default_rng(1)) if params is None else params
    options = {key: changes.pop(key) for key in ("forward", "backward", "on_epoch") if key in changes}
    return nb.train(params, (train_images, train_labels), (X_val, val_labels), dict(RECIPE, **changes),
                    np.random.default_rng(seed), progress=False, **options)


def test_train_reaches_high_validation_accuracy_on_separable_digits(nb, digits):
    best, history = run_train(nb, digits)
    assert max(history["val_acc"]) >= 0.95
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_train_with_weight_averaging_still_learns(nb, digits):
    _, history = run_train(nb, digits, epochs=6, averaging=0.9)
    assert max(history["val_acc"]) >= 0.95


def test_train_with_a_constant_learning_rate_and_without_shifts_still_learns(nb, digits):
    _, history = run_train(nb, digits, schedule="constant", shift=0)
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
                              shift=0, batch_size=16, learning_rate=0.01)
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


def test_train_checks_its_recipe_before_training(nb, digits):
    epochs_seen = []
    with pytest.raises(ValueError, match="BATCH_SIZE = 301 is larger than the 300 training images"):
        run_train(nb, digits, batch_size=301, on_epoch=epochs_seen.append)
    with pytest.raises(ValueError, match="MOMENTUM = 1.0 is not allowed"):
        run_train(nb, digits, momentum=1.0, on_epoch=epochs_seen.append)
    assert epochs_seen == []


def test_a_diverging_run_raises_training_diverged_within_its_first_epoch(nb, digits):
    with pytest.raises(nb.TrainingDiverged) as error:
        run_train(nb, digits, learning_rate=50.0)
    assert isinstance(error.value, FloatingPointError)
    assert "diverged in epoch 1, step" in str(error.value) and "LEARNING_RATE = 50" in str(error.value)


def forward_replacing_the_scores_at_step(nb, step, scores):
    """The notebook's forward, except that its `step`-th call returns scores(Z) instead of Z."""
    calls = []

    def forward(X, params):
        calls.append(X)
        Z, cache = nb.forward(X, params)
        return (scores(Z) if len(calls) == step else Z), cache
    return forward


def test_a_nan_loss_stops_training_at_the_step_where_it_appears(nb, digits):
    forward = forward_replacing_the_scores_at_step(nb, 3, lambda Z: Z * np.nan)
    with pytest.raises(nb.TrainingDiverged, match=r"in epoch 1, step 3 of 9: the batch loss was nan"):
        run_train(nb, digits, forward=forward)


# --- Every function works without the notebook's globals ------------------------------------------------

def tiny_inputs(nb):
    """Small inputs for every function: 40 synthetic images, their rows and labels, a 784-8-10 network."""
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(40, rng)
    params = nb.init_params(784, 8, 10, rng)
    return dict(images=images, labels=labels, X=nb.preprocess(images), Y=nb.one_hot(labels, 10), params=params,
                cache=nb.forward(nb.preprocess(images), params)[1], history={key: [1.0] for key in nb.HISTORY})


CALLS = {   # name -> its call on tiny_inputs (t), with a check of what it returns that any right version passes
    "preprocess": lambda nb, t: nb.preprocess(t["images"]).shape == (40, 784),
    "one_hot": lambda nb, t: nb.one_hot(t["labels"], 10).sum() == 40,
    "split_validation": lambda nb, t: len(nb.split_validation(t["images"], t["labels"], 5, np.random.default_rng(0))[1][0]) == 5,
    "init_params": lambda nb, t: nb.init_params(3, 2, 4, np.random.default_rng(0))["W2"].shape == (2, 4),
    "copy_params": lambda nb, t: all(copy is not t["params"][name] and np.array_equal(copy, t["params"][name])
                                     for name, copy in nb.copy_params(t["params"]).items()),
    "relu": lambda nb, t: nb.relu(np.array([-1.0, 2.0])).tolist() == [0, 2],
    "relu_derivative": lambda nb, t: nb.relu_derivative(np.array([-1.0, 2.0])).tolist() == [0, 1],
    "softmax": lambda nb, t: np.allclose(nb.softmax(np.zeros((2, 4))), 0.25),
    "log_softmax": lambda nb, t: np.allclose(nb.log_softmax(np.zeros((2, 4))), -np.log(4)),
    "cross_entropy": lambda nb, t: np.isclose(nb.cross_entropy(np.zeros((40, 10)), t["Y"]), np.log(10)),
    "l2_penalty": lambda nb, t: nb.l2_penalty({"W1": np.ones(2), "b1": np.ones(9)}, 1.0) == 1.0,
    "forward": lambda nb, t: nb.forward(t["X"], t["params"])[0].shape == (40, 10),
    "predict": lambda nb, t: nb.predict(t["X"], t["params"]).shape == (40,),
    "accuracy": lambda nb, t: nb.accuracy(np.array([1, 2]), np.array([1, 3])) == 0.5,
    "backward": lambda nb, t: nb.backward(nb.softmax(nb.forward(t["X"], t["params"])[0]), t["Y"], t["cache"], t["params"],
                                          0.0)["W1"].shape == (784, 8),
    "numerical_gradient": lambda nb, t: np.allclose(nb.numerical_gradient(lambda: float(np.sum(x ** 2)),
                                                                          x := np.array([1.0, -2.0, 3.0])), 2 * x),
    "rel_error": lambda nb, t: nb.rel_error(np.array([1.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(0.2),
    "gradient_check": lambda nb, t: max(nb.gradient_check(np.random.default_rng(0)).values()) < 1e-7,
    "sgd_epoch": lambda nb, t: nb.sgd_epoch(nb.copy_params(t["params"]), t["images"], t["labels"], 8, 0.1,
                                            np.random.default_rng(0)) is None,
    "sgd_momentum_step": lambda nb, t: nb.sgd_momentum_step({"w": np.ones(1)}, {"w": np.ones(1)}, {"w": np.zeros(1)},
                                                            0.5, 0.9) is None,
    "learning_rate_at": lambda nb, t: nb.learning_rate_at(0, 10, 0.1, "cosine") == 0.1,
    "random_shift": lambda nb, t: nb.random_shift(t["images"], np.random.default_rng(0), 1).shape == (40, 28, 28),
    "update_average": lambda nb, t: nb.update_average({"w": np.zeros(1)}, {"w": np.ones(1)}, 0.5) is None,
    "evaluate": lambda nb, t: nb.evaluate(t["images"], t["labels"], t["params"]) == pytest.approx(
        (nb.cross_entropy(Z := nb.forward(t["X"], t["params"])[0], t["Y"]), np.mean(Z.argmax(axis=1) == t["labels"]))),
    "train": lambda nb, t: nb.train(t["params"], (t["images"], t["labels"]), (t["X"], t["labels"]), dict(RECIPE, epochs=1),
                                    np.random.default_rng(0), progress=False)[1]["epoch"] == [1.0],
    "print_ladder": lambda nb, t: nb.print_ladder({"plain": (t["params"], t["history"])}, 1) is None,
    "identity": lambda nb, t: nb.identity(t["X"]) is t["X"],
    "identity_derivative": lambda nb, t: nb.identity_derivative(np.zeros(3)).tolist() == [1, 1, 1],
    "linear_forward": lambda nb, t: nb.linear_forward(t["X"], {"W1": np.zeros((784, 10)), "b1": np.ones(10)})[0].sum() == 400,
    "linear_backward": lambda nb, t: nb.linear_backward(t["Y"], t["Y"], t["X"], {"W1": np.zeros((784, 10))}, 0.0)[
        "b1"].tolist() == [0] * 10,
    "sigmoid": lambda nb, t: nb.sigmoid(np.zeros(1)).tolist() == [0.5],
    "sigmoid_derivative": lambda nb, t: nb.sigmoid_derivative(np.zeros(1)).tolist() == [0.25],
    "tanh_derivative": lambda nb, t: nb.tanh_derivative(np.zeros(1)).tolist() == [1.0],
    "spirals": lambda nb, t: nb.spirals(5, 3, np.random.default_rng(0))[0].shape == (15, 2),
    "fit_toy": lambda nb, t: nb.fit_toy(*nb.spirals(5, 3, np.random.default_rng(0)), nb.relu, nb.relu_derivative,
                                        np.random.default_rng(0), steps=3)(np.zeros((2, 2))).shape == (2,),
    "weight_gradient_sizes": lambda nb, t: len(nb.weight_gradient_sizes(np.tanh, nb.tanh_derivative, lambda n: 1 / n,
                                                                        t["X"], t["Y"], np.random.default_rng(0), 2, 4)) == 2,
    "nearest_mean": lambda nb, t: nb.nearest_mean(np.eye(2), np.eye(2)).tolist() == [0, 1],
    "confusion_matrix": lambda nb, t: nb.confusion_matrix(t["labels"], t["labels"], 10).trace() == 40,
    "reliability": lambda nb, t: nb.reliability(np.array([0.95]), np.array([True]))[3] == pytest.approx(0.05),
    "coverage_curve": lambda nb, t: nb.coverage_curve(np.array([0.5]), np.array([True]), [0.0])[0].tolist() == [1.0],
    "accuracies_under": lambda nb, t: list(nb.accuracies_under(lambda images, level: nb.preprocess(images), 0, t["images"],
                                                               t["labels"], {"net": t["params"]})) == ["net"],
    "pca_2d": lambda nb, t: nb.pca_2d(t["X"][:, 300:320])[0].shape == (40, 2),
    "nearest_mean_accuracy": lambda nb, t: nb.nearest_mean_accuracy(np.eye(10)[t["labels"]], t["labels"]) == 1.0,
}


def test_every_function_loaded_from_the_lesson_is_called_below(nb):
    exported = [name for name in defined_names(LESSON) if hasattr(nb, name)]
    assert sorted(exported) == sorted(CALLS)
    assert not hasattr(nb, "forward_and_backward")            # it times the notebook's own batch: a global


@pytest.mark.parametrize("name", list(CALLS))
def test_the_function_runs_without_the_notebooks_globals(nb, name):
    assert CALLS[name](nb, tiny_inputs(nb))
