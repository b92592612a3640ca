"""The deeper networks of section 12: any number of layers, inverted dropout, their gradient check,
training with the notebook's own `train`, and saving and loading them."""

import numpy as np
import pytest

from conftest import synthetic_digits


def two_layer_problem(nb, seed=0, m=32):
    rng = np.random.default_rng(seed)
    params = nb.init_params(784, 16, 10, rng)
    params["b1"] += rng.standard_normal(16).astype(np.float32) * 0.1
    X = rng.random((m, 784), dtype=np.float32)
    Y = nb.one_hot(rng.integers(0, 10, size=m), 10)
    return params, X, Y


def test_init_network_has_a_weight_matrix_and_a_bias_per_layer_with_he_scale(nb):
    params = nb.init_network([784, 512, 256, 10], np.random.default_rng(0))
    assert {name: value.shape for name, value in params.items()} == {
        "W1": (784, 512), "b1": (512,), "W2": (512, 256), "b2": (256,), "W3": (256, 10), "b3": (10,)}
    assert all(value.dtype == np.float32 for value in params.values())
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / 512), rel=0.02)
    assert not any(params[f"b{l}"].any() for l in (1, 2, 3))


def test_two_layers_deep_forward_and_backward_equal_forward_and_backward(nb):
    params, X, Y = two_layer_problem(nb)
    Z, cache = nb.forward(X, params)
    Z_deep, cache_deep = nb.deep_forward(X, params)
    np.testing.assert_array_equal(Z_deep, Z)
    grads = nb.backward(nb.softmax(Z), Y, cache, params, 1e-3)
    grads_deep = nb.deep_backward(nb.softmax(Z_deep), Y, cache_deep, params, 1e-3)
    for name in params:
        np.testing.assert_array_equal(grads_deep[name], grads[name])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_deep_gradient_check_passes(nb, seed, dropout):
    errors = nb.deep_gradient_check(np.random.default_rng(seed), dropout=dropout)
    assert sorted(errors) == sorted(f"{kind}{l}" for l in range(1, 5) for kind in "Wb")
    assert max(errors.values()) < 1e-5, errors   # a ReLU kink can push one entry above 1e-7


def test_deep_gradient_check_catches_a_backward_pass_that_forgets_the_dropout_mask(nb, monkeypatch):
    correct_backward = nb.deep_backward

    def forgets_the_mask(P, Y, cache, params, l2):
        return correct_backward(P, Y, [(A, Z, None) for A, Z, _ in cache], params, l2)

    monkeypatch.setattr(nb, "deep_backward", forgets_the_mask)
    errors = nb.deep_gradient_check(np.random.default_rng(0), dropout=0.5)
    assert max(errors.values()) > 1e-2


def test_dropout_masks_hidden_layers_only_and_keeps_the_expected_activation(nb):
    rng = np.random.default_rng(0)
    params = nb.init_network([50, 400, 300, 10], rng)
    X = rng.random((500, 50), dtype=np.float32)
    _, cache = nb.deep_forward(X, params, dropout=0.3, rng=rng)
    masks = [M for _, _, M in cache]
    assert masks[-1] is None                               # never on the output scores
    for M in masks[:-1]:
        assert set(np.unique(M)) == {0, np.float32(1 / 0.7)}
        assert np.mean(M == 0) == pytest.approx(0.3, abs=0.01)
    A1_dropped, Z1 = cache[1][0], cache[0][1]
    assert A1_dropped.mean() == pytest.approx(nb.relu(Z1).mean(), rel=0.02)   # inverted dropout


def test_without_dropout_there_are_no_masks_and_the_pass_is_deterministic(nb):
    rng = np.random.default_rng(0)
    params = nb.init_network([20, 8, 8, 3], rng)
    X = rng.random((5, 20), dtype=np.float32)
    Z, cache = nb.deep_forward(X, params)
    assert all(M is None for _, _, M in cache)
    np.testing.assert_array_equal(nb.deep_forward(X, params)[0], Z)


def test_l2_penalty_counts_every_weight_matrix_and_no_bias(nb):
    params = {"W1": np.ones((2, 3)), "b1": np.ones(3), "W2": np.ones((3, 4)), "b2": np.ones(4),
              "W3": np.full((4, 1), 2.0), "b3": np.ones(1)}
    assert nb.l2_penalty(params, 0.5) == pytest.approx(0.25 * (6 + 12 + 16))


DEEP_RECIPE = dict(epochs=4, batch_size=64, learning_rate=0.05, schedule="cosine", momentum=0.9, l2=1e-4, shift=1,
                   averaging=0.9, dropout=0.2)


def test_train_fits_a_three_layer_network_with_dropout(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(1500, rng, max_shift=1)
    val_images, val_labels = synthetic_digits(300, rng, max_shift=1)
    params = nb.init_network([784, 64, 32, 10], rng)
    best, history = nb.train(params, (images, labels), (nb.preprocess(val_images), val_labels), DEEP_RECIPE, rng,
                             forward=nb.deep_forward, backward=nb.deep_backward, progress=False)
    assert sorted(best) == sorted(params) and history["epoch"] == [1, 2, 3, 4]
    assert max(history["val_acc"]) >= 0.95
    predicted = nb.deep_forward(nb.preprocess(val_images), best)[0].argmax(axis=1)
    assert nb.accuracy(predicted, val_labels) == max(history["val_acc"])   # the kept weights are the best epoch's


def test_train_applies_the_recipes_dropout_while_training_and_none_when_evaluating(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(256, rng)
    dropouts = []

    def deep_forward(X, params, **options):
        dropouts.append(options.get("dropout", 0.0))
        return nb.deep_forward(X, params, **options)

    nb.train(nb.init_network([784, 16, 10], rng), (images, labels), (nb.preprocess(images[:50]), labels[:50]),
             dict(DEEP_RECIPE, epochs=1, dropout=0.3), rng, forward=deep_forward, backward=nb.deep_backward,
             progress=False)
    assert dropouts == [0.3] * 4 + [0.0] * 2     # 4 training batches, then the two evaluations of the epoch


def test_a_deep_network_saves_and_loads_back_with_its_shapes_checked(nb, tmp_path):
    params = nb.init_network([784, 32, 16, 10], np.random.default_rng(0))
    nb.save_params(tmp_path / "deep.npz", params, layer_sizes=[784, 32, 16, 10], dropout=0.2)
    loaded = nb.load_params(tmp_path / "deep.npz")
    assert sorted(loaded) == sorted(params)                # the extras are not weights
    for name in params:
        np.testing.assert_array_equal(loaded[name], params[name])


def test_a_deep_file_whose_layers_do_not_chain_is_rejected_naming_the_array(nb, tmp_path):
    params = nb.init_network([784, 32, 16, 10], np.random.default_rng(0))
    params["W2"] = np.zeros((31, 16), dtype=np.float32)   # layer 1 gives 32 values, layer 2 takes 31
    np.savez(tmp_path / "deep.npz", **params)
    with pytest.raises(ValueError, match=r"W2 has shape \(31, 16\).*784-32-16-10.*\(32, 16\)"):
        nb.load_params(tmp_path / "deep.npz")


def test_a_deep_file_with_a_missing_bias_is_rejected_listing_what_it_holds(nb, tmp_path):
    params = nb.init_network([784, 32, 16, 10], np.random.default_rng(0))
    del params["b3"]
    np.savez(tmp_path / "deep.npz", **params)
    with pytest.raises(ValueError, match=r"holds \['W1', 'W2', 'W3', 'b1', 'b2'\], but a model file holds"):
        nb.load_params(tmp_path / "deep.npz")


def test_a_file_without_any_weights_is_rejected(nb, tmp_path):
    np.savez(tmp_path / "empty.npz", epochs=np.array(3))
    with pytest.raises(ValueError, match="holds no weights"):
        nb.load_params(tmp_path / "empty.npz")


class HighestValues:
    """Stands in for a NumPy generator whose uniform() always returns the top of the range."""

    def uniform(self, low, high, size):
        return np.full(size, float(high))


@pytest.fixture(scope="module")
def digits():
    images, _ = synthetic_digits(8, np.random.default_rng(3))
    images[:, :3, :] = 0            # keep the ink away from the border, so a shift loses none of it
    images[:, -3:, :] = 0
    images[:, :, :3] = 0
    images[:, :, -3:] = 0
    return images


def test_random_affine_without_distortion_returns_the_images(nb, digits):
    out = nb.random_affine(digits, np.random.default_rng(0), 0, 0, 0)
    assert out.dtype == np.float32 and out.shape == digits.shape
    np.testing.assert_array_equal(out, digits)


def test_random_affine_by_whole_pixels_is_the_shift_of_section_5(nb, digits):
    out = nb.random_affine(digits, HighestValues(), 0, 0, 2)
    np.testing.assert_allclose(out, nb.shift_images(digits, 2, 2), atol=1e-3)


def test_random_affine_by_a_quarter_turn_is_a_rotation_of_the_pixel_grid(nb, digits):
    out = nb.random_affine(digits, HighestValues(), 90, 0, 0)
    assert any(np.allclose(out, np.rot90(digits, k, axes=(1, 2)), atol=1e-3) for k in (1, -1))


def test_affine_transform_by_plain_numbers_moves_every_image_alike(nb, digits):
    np.testing.assert_allclose(nb.affine_transform(digits, 0, 1, 0, 0), digits, atol=1e-4)
    np.testing.assert_allclose(nb.affine_transform(digits, 0, 1, -1, 2), nb.shift_images(digits, -1, 2), atol=1e-3)
    turned = nb.affine_transform(digits, np.pi / 2, 1, 0, 0)
    assert any(np.allclose(turned, np.rot90(digits, k, axes=(1, 2)), atol=1e-3) for k in (1, -1))


def test_random_affine_gives_each_image_its_own_distortion_and_keeps_the_ink(nb, digits):
    same = np.repeat(digits[:1], 8, axis=0)
    out = nb.random_affine(same, np.random.default_rng(0), 12, 0.1, 2)
    assert len({image.tobytes() for image in out}) == 8
    assert out.min() >= 0 and out.max() <= 255
    ink = out.sum(axis=(1, 2)) / same[0].sum(dtype=np.float64)
    assert np.all((ink > 0.75) & (ink < 1.3))          # scaling by ±10 % changes the area by about ±20 %


def test_train_passes_every_training_batch_through_augment(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(256, rng)
    seen = []

    def augment(batch, generator):
        seen.append(batch)
        return batch.astype(np.float32)

    nb.train(nb.init_network([784, 16, 10], rng), (images, labels), (nb.preprocess(images[:50]), labels[:50]),
             dict(DEEP_RECIPE, epochs=2, shift=0, dropout=0.0), rng, forward=nb.deep_forward,
             backward=nb.deep_backward, augment=augment, progress=False)
    assert [batch.shape for batch in seen] == [(64, 28, 28)] * 8
    training_images = {image.tobytes() for image in images}
    assert all(image.tobytes() in training_images for batch in seen for image in batch)   # unshifted originals


def test_train_trains_on_what_augment_returns(nb):
    rng = np.random.default_rng(0)
    images, labels = synthetic_digits(256, rng)
    blank = lambda batch, generator: np.zeros(batch.shape, dtype=np.float32)   # noqa: E731
    _, history = nb.train(nb.init_network([784, 16, 10], rng), (images, labels), (nb.preprocess(images), labels),
                          dict(DEEP_RECIPE, epochs=3, shift=0, dropout=0.0), rng, forward=nb.deep_forward,
                          backward=nb.deep_backward, augment=blank, progress=False)
    assert max(history["val_acc"]) < 0.3     # blank images teach nothing about the digits


def test_evaluate_in_chunks_gives_the_loss_and_accuracy_of_all_rows_at_once(nb):
    rng = np.random.default_rng(0)
    params = nb.init_network([784, 32, 10], rng)
    X = rng.random((1003, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=1003)
    Z = nb.deep_forward(X, params)[0]
    expected_loss = nb.cross_entropy(Z, nb.one_hot(labels, 10))
    expected_accuracy = nb.accuracy(Z.argmax(axis=1), labels)
    for chunk_size in (7, 500, 1003, 5000):
        loss, accuracy = nb.evaluate(X, labels, params, nb.deep_forward, chunk_size=chunk_size)
        assert accuracy == expected_accuracy
        assert loss == pytest.approx(expected_loss, rel=1e-5)
