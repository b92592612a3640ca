"""going_further.ipynb's functions (loaded from it by notebook_functions, as `nb` here; the first notebook's
as `lesson_nb`): the layers (Linear, ReLU, Dropout, BatchNorm) and NeuralNetwork, each backward pass against
finite differences in float64 and each check shown to catch a deliberate mistake; the optimiser SGD;
training a network of layers by the first notebook's recipe (train_network); folding batch normalization
into plain arrays and saving the result. (The distortions are tests/test_image_transforms.py's, model
files tests/test_model_files.py's.)"""

import copy

import numpy as np
import pytest

from conftest import GOING_FURTHER, defined_names, synthetic_digits

NOTEBOOK_UNDER_TEST = GOING_FURTHER     # conftest's `nb`: its functions; `lesson_nb`: the first notebook's


TOLERANCE = 1e-6          # float64 central differences on these small problems give about 1e-9


def passes(errors, skip=()):
    return all(error < TOLERANCE for name, error in errors.items() if name not in skip)


def batch_norm_with_parameters(nb, rng, n=4):
    layer = nb.BatchNorm(n, dtype=np.float64)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, n)
    layer.params["beta"][:] = rng.standard_normal(n)
    return layer


def batch_norm_missing_the_variance_term(nb, n):
    """The notebook's deliberately wrong BatchNorm, whose backward leaves out the term through σ²."""
    return nb.BatchNormWithoutVarianceTerm(n, dtype=np.float64)


def small_network(nb, rng, layer=None):
    """Linear, BatchNorm, ReLU, Dropout, Linear in float64, the batch norm's beta non-zero so no unit is dead."""
    net = nb.NeuralNetwork([nb.Linear(6, 5, rng, np.float64), layer or nb.BatchNorm(5, dtype=np.float64), nb.ReLU(),
                            nb.Dropout(0.3, np.random.default_rng(5)), nb.Linear(5, 4, rng, np.float64)])
    net.layers[1].params["beta"][:] = rng.standard_normal(5)
    return net


# --- the layers, one at a time -------------------------------------------------------------------------

def test_linear_is_he_initialised_with_zero_bias(nb):
    layer = nb.Linear(784, 512, np.random.default_rng(0))
    assert layer.params["W"].shape == (784, 512) and layer.params["W"].dtype == np.float32
    assert layer.params["W"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert not layer.params["b"].any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_relu_and_dropout_backward_match_finite_differences(nb, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7, 5))
    for layer in (nb.Linear(5, 3, rng, np.float64), nb.ReLU(), nb.Dropout(0.5, np.random.default_rng(seed))):
        errors = nb.layer_gradient_check(layer, X.copy(), rng)
        assert sorted(errors) == sorted(["X", *layer.params]) and passes(errors), (type(layer).__name__, errors)


def test_linear_backward_without_input_gradient_fills_its_grads_only(nb):
    rng = np.random.default_rng(0)
    layer, X = nb.Linear(5, 3, rng, np.float64, input_gradient=False), rng.standard_normal((4, 5))
    layer.forward(X, training=True)
    d_out = rng.standard_normal((4, 3))
    assert layer.backward(d_out) is None
    np.testing.assert_allclose(layer.grads["W"], X.T @ d_out)


def test_dropout_keeps_the_expected_activation_and_is_the_identity_when_not_training(nb):
    X = np.ones((400, 300), dtype=np.float32)
    layer = nb.Dropout(0.3, np.random.default_rng(0))
    out = layer.forward(X, training=True)
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.7)}
    assert (out == 0).mean() == pytest.approx(0.3, abs=0.01) and out.mean() == pytest.approx(1.0, abs=0.01)
    assert layer.forward(X, training=False) is X and nb.Dropout(0.0, np.random.default_rng(0)).forward(X, True) is X


def test_dropout_draws_its_masks_from_its_own_generator(nb):
    X = np.ones((20, 30))
    first, second = nb.Dropout(0.5, np.random.default_rng(7)), nb.Dropout(0.5, np.random.default_rng(7))
    np.random.seed(0)                                  # NumPy's global generator: not what the masks come from
    first_mask = first.forward(X, True)
    np.random.seed(1)
    np.testing.assert_array_equal(first_mask, second.forward(X, True))
    assert not np.array_equal(first.forward(X, True), first_mask)   # the generator moves on: a new mask


def test_the_layer_check_catches_a_dropout_backward_that_ignores_its_mask(nb):
    class IgnoresTheMask(nb.Dropout):
        def backward(self, d_out):
            return d_out

    rng = np.random.default_rng(0)
    errors = nb.layer_gradient_check(IgnoresTheMask(0.5, np.random.default_rng(1)), rng.standard_normal((6, 5)), rng)
    assert errors["X"] > 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_norm_backward_matches_finite_differences_in_training_mode(nb, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 4)) * [1.0, 5.0, 0.1, 2.0] + [0.0, 3.0, -2.0, 1.0]
    errors = nb.layer_gradient_check(batch_norm_with_parameters(nb, rng), X, rng)
    assert sorted(errors) == ["X", "beta", "gamma"] and passes(errors), errors


def test_in_inference_the_layers_remember_nothing_for_a_backward_pass(nb):
    rng = np.random.default_rng(0)
    net = nb.build_network([20, 8, 3], rng, batch_norm=True, dropout=0.5)
    net.forward(rng.standard_normal((5, 20)))
    assert [vars(layer).keys() & {"X", "positive", "X_hat", "inv_std"} for layer in net.layers] == [set()] * 5
    assert net.layers[3].mask is None                    # and dropout drew no mask


def test_the_layer_check_catches_a_batch_norm_backward_missing_the_variance_term(nb):
    rng = np.random.default_rng(0)
    layer = batch_norm_missing_the_variance_term(nb, 4)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, 4)
    errors = nb.layer_gradient_check(layer, rng.standard_normal((8, 4)), rng)
    assert errors["X"] > 0.01 and errors["gamma"] < TOLERANCE and errors["beta"] < TOLERANCE


def test_batch_norm_standardises_each_feature_over_the_batch_in_training(nb):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 3)) * [1.0, 50.0, 0.01] + [5.0, -3.0, 100.0]
    out = nb.BatchNorm(3, dtype=np.float64).forward(X, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-9)
    variance = X.var(axis=0)
    np.testing.assert_allclose(out.var(axis=0), variance / (variance + 1e-5), rtol=1e-9)   # eps matters for the last


def test_batch_norm_in_inference_uses_the_running_statistics(nb):
    rng = np.random.default_rng(0)
    layer = nb.BatchNorm(3, dtype=np.float64)
    batches = [rng.standard_normal((64, 3)) * [1, 2, 3] + [4, 5, 6] for _ in range(30)]
    mean, var = np.zeros(3), np.ones(3)
    for batch in batches:
        layer.forward(batch, training=True)
        mean, var = 0.9 * mean + 0.1 * batch.mean(axis=0), 0.9 * var + 0.1 * batch.var(axis=0)
    np.testing.assert_allclose(layer.running_mean, mean)
    np.testing.assert_allclose(layer.running_var, var)
    X = rng.standard_normal((5, 3))
    before = layer.running_mean.copy()
    out = layer.forward(X)
    np.testing.assert_allclose(out, (X - mean) / np.sqrt(var + layer.eps))      # gamma 1, beta 0
    np.testing.assert_array_equal(layer.running_mean, before)                   # inference changes nothing
    np.testing.assert_allclose(layer.forward(X[:1]), out[:1])                   # one image alone: the same answer


# --- the network of layers -----------------------------------------------------------------------------

def test_the_flat_parameters_are_the_layers_own_arrays_named_as_before(nb):
    net = nb.build_network([784, 32, 16, 10], np.random.default_rng(0), batch_norm=True, dropout=0.2)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Linear", "BatchNorm", "ReLU", "Dropout", "Linear", "BatchNorm", "ReLU", "Dropout", "Linear"]
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert list(net.statistics) == ["running_mean1", "running_var1", "running_mean2", "running_var2"]
    assert net.params["W2"] is net.layers[4].params["W"] and net.statistics["running_var2"] is net.layers[5].running_var
    assert [layer.input_gradient for layer in net.layers if isinstance(layer, nb.Linear)] == [False, True, True]


def test_sgd_updates_the_layers_through_the_flat_dictionary_with_weight_decay_on_weights_only(nb):
    net = nb.build_network([20, 8, 3], np.random.default_rng(0), batch_norm=True)
    before = copy.deepcopy(net)
    optimiser = nb.SGD(net.params, momentum=0.9, l2=0.1)
    optimiser.step({name: np.ones_like(value) for name, value in net.params.items()}, 0.5)
    for layer, old in zip(net.layers, before.layers):     # V = -0.5 (1 + 0.1 W) for a weight, -0.5 for the rest
        for name in layer.params:
            decay = 0.1 * old.params[name] if name == "W" else 0
            np.testing.assert_allclose(layer.params[name], old.params[name] - 0.5 * (1 + decay), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_whole_network_of_every_layer_kind_matches_finite_differences(nb, seed):
    rng = np.random.default_rng(seed)
    net = small_network(nb, rng)
    X, Y = rng.standard_normal((10, 6)), nb.one_hot(rng.integers(0, 4, 10), 4).astype(np.float64)
    errors = nb.network_gradient_check(net, X, Y)
    assert sorted(errors) == sorted(net.params)
    assert passes(errors, skip={"b1"}), errors          # b1 comes before batch norm: its gradient is 0 ...
    checked = copy.deepcopy(net)
    checked.backward((nb.softmax(checked.forward(X, training=True)) - Y) / len(Y))
    assert np.abs(checked.grads["b1"]).max() < 1e-12    # ... and backward says so


def test_the_network_check_catches_a_batch_norm_backward_missing_the_variance_term(nb):
    rng = np.random.default_rng(0)
    net = small_network(nb, rng, batch_norm_missing_the_variance_term(nb, 5))
    X, Y = rng.standard_normal((10, 6)), nb.one_hot(rng.integers(0, 4, 10), 4).astype(np.float64)
    assert nb.network_gradient_check(net, X, Y)["W1"] > 0.01


def test_the_two_layer_network_as_layers_gives_forwards_scores_and_backwards_gradients(nb, lesson_nb):
    rng = np.random.default_rng(0)
    params = lesson_nb.init_params(784, 16, 10, rng)
    params["b1"] += rng.standard_normal(16).astype(np.float32) * 0.1
    X, Y = rng.random((32, 784), dtype=np.float32), nb.one_hot(rng.integers(0, 10, size=32), 10)
    net = nb.build_network([784, 16, 10], rng)
    for name, value in net.params.items():
        value[...] = params[name]
    Z, cache = lesson_nb.forward(X, params)
    grads = lesson_nb.backward(lesson_nb.softmax(Z), Y, cache, params, 1e-3)
    np.testing.assert_array_equal(net.forward(X), Z)
    net.forward(X, training=True)
    net.backward((nb.softmax(Z) - Y) / len(Y))
    for name, grad in net.grads.items():
        np.testing.assert_allclose(grad + (1e-3 * params[name] if name[0] == "W" else 0), grads[name], rtol=1e-6)


# --- training a network of layers ----------------------------------------------------------------------

RECIPE = dict(epochs=4, batch_size=64, learning_rate=0.2, schedule="cosine", momentum=0.9, l2=1e-4, shift=1,
              averaging=0.9)


@pytest.fixture(scope="module")
def digits_data():
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(640, rng, max_shift=1)
    val_images, val_labels = synthetic_digits(200, rng, max_shift=1)
    return (images, labels), (val_images, val_labels)


def test_train_network_fits_a_network_with_batch_norm_and_dropout(nb, digits_data):
    (images, labels), (val_images, val_labels) = digits_data
    rng = np.random.default_rng(0)
    net = nb.build_network([784, 64, 32, 10], rng, batch_norm=True, dropout=0.2)
    best, history = nb.train_network(net, (images, labels), (nb.preprocess(val_images), val_labels), RECIPE, rng,
                                     progress=False)
    assert best is not net and history["epoch"] == [1.0, 2.0, 3.0, 4.0]
    assert max(history["val_acc"]) > 0.9
    assert nb.evaluate(val_images, val_labels, best, nb.network_forward)[1] == max(history["val_acc"])
    assert not np.array_equal(best.statistics["running_mean1"], net.statistics["running_mean1"])   # averaged


def test_train_network_keeps_the_batch_statistics_of_the_kept_weights_on_the_training_sample(nb, digits_data):
    (images, labels), (val_images, val_labels) = digits_data
    rng = np.random.default_rng(0)
    net = nb.build_network([784, 16, 10], rng, batch_norm=True)
    best, _ = nb.train_network(net, (images, labels), (nb.preprocess(val_images), val_labels),
                               dict(RECIPE, epochs=1, averaging=0.0), rng, progress=False)
    for name, value in net.params.items():              # averaging 0: the average is the last weights
        np.testing.assert_allclose(best.params[name], value, rtol=1e-6)
    Z1 = nb.preprocess(images) @ best.params["W1"] + best.params["b1"]   # the first BatchNorm's input, every image
    np.testing.assert_allclose(best.statistics["running_mean1"], Z1.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(best.statistics["running_var1"], Z1.var(axis=0), rtol=1e-4)
    assert not np.allclose(net.statistics["running_var1"], best.statistics["running_var1"])   # not the live ones


def test_train_network_trains_on_what_distort_returns_for_every_batch(nb, digits_data):
    (images, labels), (val_images, val_labels) = digits_data
    rng = np.random.default_rng(0)
    seen = []

    def blank(batch, generator):
        seen.append(batch.shape)
        return np.zeros(batch.shape, dtype=np.float32)

    _, history = nb.train_network(nb.build_network([784, 16, 10], rng), (images, labels),
                                  (nb.preprocess(val_images), val_labels), dict(RECIPE, epochs=2), rng, blank,
                                  progress=False)
    assert seen == [(640, 28, 28)] + [(64, 28, 28)] * 20      # the statistics sample once, then every batch
    assert max(history["val_acc"]) < 0.3                 # blank images teach nothing about the digits


def test_train_network_stops_a_diverging_run_and_refuses_bad_settings(nb, digits_data):
    (images, labels), (val_images, val_labels) = digits_data
    rng = np.random.default_rng(0)
    val_set = (nb.preprocess(val_images), val_labels)
    with pytest.raises(nb.TrainingDiverged, match="training diverged in epoch 1, step .* LEARNING_RATE = 1000"):
        nb.train_network(nb.build_network([784, 16, 10], rng), (images, labels), val_set,
                         dict(RECIPE, learning_rate=1000.0), rng, progress=False)
    with pytest.raises(ValueError, match="BATCH_SIZE = 641 is larger than the 640 training images"):
        nb.train_network(nb.build_network([784, 16, 10], rng), (images, labels), val_set,
                         dict(RECIPE, batch_size=641), rng, progress=False)


# --- folding batch normalization into plain arrays -------------------------------------------------------

@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_folded_plain_arrays_predict_what_the_network_predicts(nb, dropout):
    rng = np.random.default_rng(0)
    net = nb.build_network([784, 32, 16, 10], rng, batch_norm=True, dropout=dropout, dtype=np.float64)
    for layer in net.layers:                            # trained-looking statistics, scales and shifts
        if isinstance(layer, nb.BatchNorm):
            n = len(layer.running_mean)
            layer.running_mean[:], layer.running_var[:] = rng.standard_normal(n), rng.uniform(0.1, 4.0, n)
            layer.params["gamma"][:], layer.params["beta"][:] = rng.uniform(0.5, 2, n), rng.standard_normal(n)
        if isinstance(layer, nb.Linear):
            layer.params["b"][:] = rng.standard_normal(layer.params["b"].shape)
    X = rng.random((50, 784))
    folded = nb.fold_batch_norm(net)
    assert list(folded) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    np.testing.assert_allclose(nb.plain_forward(X, folded)[0], net.forward(X), rtol=1e-10, atol=1e-10)
    A = X                                               # relu(...relu(x W1 + b1)...) WL + bL, written out
    for l in (1, 2):
        A = np.maximum(A @ folded[f"W{l}"] + folded[f"b{l}"], 0)
    np.testing.assert_allclose(A @ folded["W3"] + folded["b3"], net.forward(X), rtol=1e-10, atol=1e-10)
    assert folded["W1"] is not net.params["W1"]         # copies: the network is left as it was


def test_folding_a_network_without_batch_norm_copies_its_arrays(nb):
    net = nb.build_network([784, 8, 10], np.random.default_rng(0))
    folded = nb.fold_batch_norm(net)
    assert all(np.array_equal(folded[name], value) for name, value in net.params.items())


def test_a_folded_network_saves_and_loads_back_with_plain_numpy(nb, tmp_path):
    net = nb.build_network([784, 32, 16, 10], np.random.default_rng(0), batch_norm=True)
    folded = nb.fold_batch_norm(net)
    nb.save_params(tmp_path / "deep.npz", folded, layer_sizes=[784, 32, 16, 10], batch_norm=True)
    with np.load(tmp_path / "deep.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted([*folded, "layer_sizes", "batch_norm"])
    loaded = nb.load_params(tmp_path / "deep.npz")
    assert all(np.array_equal(loaded[name], folded[name]) for name in folded)


def test_evaluate_in_chunks_gives_the_loss_and_accuracy_of_all_rows_at_once(nb, lesson_nb):
    rng = np.random.default_rng(0)
    net = nb.build_network([784, 32, 10], rng, batch_norm=True)
    X = rng.random((1003, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=1003)
    Z = net.forward(X)
    expected_loss = lesson_nb.cross_entropy(Z, lesson_nb.one_hot(labels, 10))         # the first notebook's, written apart
    expected_accuracy = np.mean(Z.argmax(axis=1) == labels)
    for chunk_size in (7, 500, 1003, 5000):
        loss, accuracy = nb.evaluate(X, labels, net, nb.network_forward, chunk_size=chunk_size)
        assert accuracy == expected_accuracy
        assert loss == pytest.approx(expected_loss, rel=1e-5)


# --- every function and class the notebook defines, without its globals ---------------------------------


def two_layers(nb, batch_norm=False):
    return nb.build_network([784, 6, 10], np.random.default_rng(0), batch_norm=batch_norm)


X8 = np.random.default_rng(1).random((8, 784), dtype=np.float32)
Y8 = np.eye(10, dtype=np.float32)[np.arange(8) % 10]

CALLS = {   # name -> a call on small inputs, with a check of what it returns that any right version passes
    "preprocess": lambda nb: nb.preprocess(np.full((2, 28, 28), 255, np.uint8)).tolist() == [[1.0] * 784] * 2,
    "one_hot": lambda nb: nb.one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]],
    "split_validation": lambda nb: [len(part[1]) for part in nb.split_validation(
        np.zeros((10, 28, 28)), np.arange(10), 3, np.random.default_rng(0))] == [7, 3],
    "Linear": lambda nb: np.array_equal((layer := nb.Linear(784, 3, np.random.default_rng(0))).forward(X8, True),
                                        X8 @ layer.params["W"] + layer.params["b"]),
    "ReLU": lambda nb: nb.ReLU().forward(np.array([[-1.0, 2.0]]), True).tolist() == [[0.0, 2.0]],
    "Dropout": lambda nb: nb.Dropout(0.5, np.random.default_rng(0)).forward(X8, False) is X8,
    "layer_gradient_check": lambda nb: max(nb.layer_gradient_check(
        nb.Linear(5, 4, np.random.default_rng(0), np.float64), np.random.default_rng(1).standard_normal((3, 5)),
        np.random.default_rng(2)).values()) < TOLERANCE,
    "BatchNorm": lambda nb: np.allclose(nb.BatchNorm(784).forward(X8, True).mean(axis=0), 0, atol=1e-5),
    "NeuralNetwork": lambda nb: np.array_equal(nb.NeuralNetwork([layer := nb.Linear(784, 3, np.random.default_rng(0)),
                                                                 nb.ReLU()]).forward(X8),
                                               np.maximum(layer.forward(X8, False), 0)),
    "build_network": lambda nb: [type(layer).__name__ for layer in nb.build_network(
        [784, 6, 10], np.random.default_rng(0), batch_norm=True, dropout=0.5).layers] == [
        "Linear", "BatchNorm", "ReLU", "Dropout", "Linear"],
    "softmax": lambda nb: np.allclose(nb.softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])), [[0.5, 0.5], [1.0, 0.0]]),
    "SoftmaxCrossEntropy": lambda nb: np.isclose(nb.SoftmaxCrossEntropy().forward(np.zeros((8, 10)), Y8), np.log(10)),
    "network_gradient_check": lambda nb: passes(nb.network_gradient_check(
        small_network(nb, np.random.default_rng(0)), np.random.default_rng(1).standard_normal((7, 6)),
        np.eye(4)[np.arange(7) % 4]), skip=("b1",)),
    "BatchNormWithoutVarianceTerm": lambda nb: np.array_equal(nb.BatchNormWithoutVarianceTerm(784).forward(X8, True),
                                                              nb.BatchNorm(784).forward(X8, True)),
    "SGD": lambda nb: (nb.SGD(params := {"W": np.ones(2)}, 0.9, 0.0).step({"W": np.ones(2)}, 0.5), params)[1][
        "W"].tolist() == [0.5, 0.5],
    "learning_rate_at": lambda nb: nb.learning_rate_at(50, 100, 0.4, "cosine") == pytest.approx(0.2),
    "update_average": lambda nb: (nb.update_average(average := {"w": np.zeros(1)}, {"w": np.ones(1)}, 0.75),
                                  average)[1]["w"].tolist() == [0.25],
    "random_shift": lambda nb: nb.random_shift(images := np.ones((2, 28, 28)), np.random.default_rng(0), 0) is images,
    "network_forward": lambda nb: np.array_equal(nb.network_forward(X8, net := two_layers(nb))[0], net.forward(X8)),
    "evaluate": lambda nb: nb.evaluate(X8, np.arange(8), net := two_layers(nb))[1] == np.mean(
        net.forward(X8).argmax(axis=1) == np.arange(8)),
    "recompute_statistics": lambda nb: (nb.recompute_statistics(net := two_layers(nb, batch_norm=True), X8),
                                        np.allclose(net.layers[1].running_mean, net.layers[0].forward(X8, False).mean(0),
                                                    atol=1e-6))[1],
    "train_network": lambda nb: len(nb.train_network(
        two_layers(nb), (digits := synthetic_digits(40, np.random.default_rng(0))), (nb.preprocess(digits[0]), digits[1]),
        dict(epochs=2, batch_size=8, learning_rate=0.05, schedule="cosine", momentum=0.9, l2=0.0, shift=0,
             averaging=0.0), np.random.default_rng(0), progress=False)[1]["val_acc"]) == 2,
    "first_epoch_ahead": lambda nb: nb.first_epoch_ahead({"val_acc": [0.9, 0.5, 0.95, 0.96], "seconds": [1, 2, 3, 4]},
                                                         {"val_acc": [0.8] * 4, "seconds": [1, 2, 3, 4]}) == 2,
    "fold_batch_norm": lambda nb: sorted(nb.fold_batch_norm(two_layers(nb, batch_norm=True))) == ["W1", "W2", "b1", "b2"],
    "plain_forward": lambda nb: np.allclose(nb.plain_forward(X8, nb.fold_batch_norm(net := two_layers(nb)))[0],
                                            net.forward(X8), atol=1e-5),
}


def test_every_function_and_class_of_the_notebook_needs_none_of_its_globals_and_is_called_below(nb):
    """notebook_functions leaves out a definition that reads a notebook global; here none is left out."""
    defined = defined_names(GOING_FURTHER)
    assert [name for name in defined if not hasattr(nb, name)] == []
    assert sorted(defined) == sorted(CALLS)


@pytest.mark.parametrize("name", list(CALLS))
def test_the_definition_runs_without_the_notebooks_globals(nb, name):
    assert CALLS[name](nb)
