"""benchmarks/fused_numpy.py, the step written for speed alone, computes what the notebook's `train` computes.

benchmark.py reports its time next to the notebook's; that comparison only means something if both
train the same network on the same batches with the same updates, which is what is checked here.
"""

import sys

import numpy as np
import pytest

from conftest import REPO_ROOT, synthetic_digits

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import fused_numpy  # noqa: E402

SETTINGS = dict(batch_size=32, momentum=0.9, l2=1e-3, max_shift=2, averaging=0.99)
LEARNING_RATE = 0.1


def fused_recipe(nb, params, images, labels, rng, epochs):
    total_steps = epochs * (len(images) // SETTINGS["batch_size"])
    return fused_numpy.FusedRecipe(params, images, labels, rng=rng, **SETTINGS,
                                   learning_rate_at=lambda t: nb.cosine_learning_rate(t, total_steps, LEARNING_RATE))


@pytest.mark.parametrize("dy", range(-3, 4))
@pytest.mark.parametrize("dx", range(-3, 4))
def test_shifted_batch_is_the_notebooks_shift_then_preprocess(nb, dy, dx):
    images, labels = synthetic_digits(40, np.random.default_rng(7 * (dy + 3) + dx + 3), max_shift=2)
    images[:, 0, :] = images[:, -1, :] = images[:, :, 0] = images[:, :, -1] = 255   # ink on every edge
    params = nb.init_params(784, 16, 10, np.random.default_rng(0))
    recipe = fused_recipe(nb, params, images, labels, np.random.default_rng(0), epochs=1)
    batch = np.random.default_rng(1).permutation(40)[:SETTINGS["batch_size"]]   # rows out of order
    recipe.load_shifted_batch(batch, dy, dx)
    np.testing.assert_array_equal(recipe.X, nb.preprocess(nb.shift_images(images[batch], dy, dx)))


def test_two_epochs_give_the_same_weights_as_the_notebooks_train(nb):
    rng = np.random.default_rng(3)
    images, labels = synthetic_digits(400, rng, max_shift=2)
    X_val, val_labels = nb.preprocess(images[:50]), labels[:50]
    params = nb.init_params(784, 24, 10, rng)
    state = rng.bit_generator.state

    best, history = nb.train(params, images, labels, X_val, val_labels, epochs=2, learning_rate=LEARNING_RATE,
                             rng=rng, progress=False, **SETTINGS)
    fused_rng = np.random.default_rng()
    fused_rng.bit_generator.state = state
    recipe = fused_recipe(nb, params, images, labels, fused_rng, epochs=2)
    for _ in range(2):
        recipe.train_epoch()

    assert history["val_acc"][-1] == max(history["val_acc"])   # so `train` returned the last average
    assert recipe.step == 2 * (400 // SETTINGS["batch_size"])
    for name in params:
        assert recipe.average[name].dtype == np.float32
        np.testing.assert_array_equal(recipe.average[name], best[name], err_msg=name)   # same operations, same order
    assert not np.allclose(recipe.average["W1"], params["W1"])  # it did train


def test_the_starting_weights_are_not_modified(nb):
    images, labels = synthetic_digits(100, np.random.default_rng(0))
    params = nb.init_params(784, 8, 10, np.random.default_rng(0))
    before = {name: value.copy() for name, value in params.items()}
    fused_recipe(nb, params, images, labels, np.random.default_rng(0), epochs=1).train_epoch()
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])



@pytest.mark.parametrize("stages", [2, 3, 4])
def test_an_epoch_of_the_first_stages_does_those_stages_on_consecutive_batches(nb, stages):
    rng = np.random.default_rng(5)
    images, labels = synthetic_digits(100, rng)
    params = nb.init_params(784, 12, 10, rng)
    recipe = fused_recipe(nb, params, images, labels, rng, epochs=1)
    state = rng.bit_generator.state
    recipe.train_epoch(stages=stages)

    expected = {name: value.copy() for name, value in params.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    average = {name: value.copy() for name, value in params.items()}
    X, B = nb.preprocess(images), SETTINGS["batch_size"]
    for step, start in enumerate(range(0, 100 // B * B, B)):   # rows in stored order, no shift
        X_batch, Y_batch = X[start:start + B], nb.one_hot(labels[start:start + B], 10)
        Z, cache = nb.forward(X_batch, expected)
        grads = nb.backward(nb.softmax(Z), Y_batch, cache, expected, SETTINGS["l2"] if stages > 2 else 0.0)
        if stages > 2:
            nb.sgd_momentum_step(expected, grads, velocity, recipe.learning_rate_at(step), SETTINGS["momentum"])
        if stages > 3:
            nb.update_average(average, expected, SETTINGS["averaging"])

    assert recipe.step == (0 if stages == 2 else 100 // B)
    for name in params:
        np.testing.assert_array_equal(recipe.grads[name], grads[name], err_msg=name)   # the last batch's
        np.testing.assert_array_equal(recipe.params[name], expected[name], err_msg=name)
        np.testing.assert_array_equal(recipe.average[name], average[name], err_msg=name)
    if stages > 2:
        assert not np.allclose(recipe.params["W1"], params["W1"])
    assert rng.bit_generator.state == state   # no permutation, no shifts drawn


def test_the_first_stage_is_the_five_products_on_consecutive_batches(nb):
    rng = np.random.default_rng(6)
    images, labels = synthetic_digits(100, rng)
    params = nb.init_params(784, 12, 10, rng)
    recipe = fused_recipe(nb, params, images, labels, rng, epochs=1)
    recipe.A1[:] = rng.random(recipe.A1.shape)   # what a previous step would have left
    A1 = recipe.A1.copy()
    recipe.train_epoch(stages=1)

    B = SETTINGS["batch_size"]
    X = nb.preprocess(images[(100 // B - 1) * B:100 // B * B])   # the last batch
    Z2 = A1 @ params["W2"]
    dA1 = Z2 @ params["W2"].T
    np.testing.assert_allclose(recipe.Z1, X @ params["W1"], rtol=1e-5)
    np.testing.assert_allclose(recipe.Z2, Z2, rtol=1e-5)
    np.testing.assert_allclose(recipe.grads["W2"], A1.T @ Z2, rtol=1e-5)
    np.testing.assert_allclose(recipe.dA1, dA1, rtol=1e-5)
    np.testing.assert_allclose(recipe.grads["W1"], X.T @ dA1, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(recipe.A1, A1)
    for name in params:
        np.testing.assert_array_equal(recipe.params[name], params[name])
    assert recipe.step == 0
