"""The notebook's training step written for speed alone, in NumPy: how close to the floor can NumPy get?

benchmark.py times this next to the notebook's `train` and the floor (section 2). It is not the
notebook's code and is not meant to be read as a tutorial: it is the answer to "what if readability
did not matter?". Same network, same recipe and the same random numbers as the notebook's `train`
(one permutation per epoch, one shift per batch drawn from the same generator, the same cosine
schedule, momentum, L2 on the weights, weight averaging), so from the same start it computes the
same weights (tests/test_fused_numpy.py checks that), but every array a step needs is allocated once:

- all parameters live in one flat float32 vector, W1, b1, W2, b2 being views into it, and so do
  their gradients; the L2 term, the momentum update and the averaging are then 2 + 4 + 3
  whole-vector operations instead of a few per parameter (the L2 term multiplies by a mask that
  holds λ for the weights and 0 for the biases);
- every matrix product and element-wise operation writes into a preallocated buffer (`out=`);
- the batch is gathered with `np.take(..., out=)` from the images stored as rows of 784 bytes,
  and a shift by (dy, dx) becomes a shift of the row by 28·dy + dx positions, done while
  converting to float32, after which the one or two columns that wrapped around are zeroed;
- softmax and the cross-entropy gradient work in place on the scores, and P − Y becomes
  "subtract 1 at each row's label", so the one-hot matrix is never built.

benchmark.py also runs the step a part at a time (`train_epoch(stages=k)`, parts in STAGES): the
five products alone, as the floor, but on a new batch each step; then with the element-wise work
of the forward and backward pass, the update, the averaging and the loading of each batch added
one after another. What each addition costs on top of the floor is where the rest of the
notebook's epoch goes.
"""

import numpy as np

IMAGE_SIDE = 28
N_IN = IMAGE_SIDE * IMAGE_SIDE
PIXEL_MAX = np.float32(255)
PARAM_NAMES = ("W1", "b1", "W2", "b2")
# What benchmark.py adds, one after another, to the five matrix products on one batch (the floor).
STAGES = ("a new batch each step", "element-wise forward and backward", "L2 and momentum update", "weight averaging",
          "gather and shift each batch")


class FusedRecipe:
    """Trains the notebook's 784-H-K network from `params` with the notebook's recipe, one epoch per call.

    `learning_rate_at(step)` gives the learning rate of step 0, 1, ... counted over all epochs, and
    `rng` is the generator the epochs draw their permutations and shifts from, as `train` does.
    """

    def __init__(self, params, train_images, train_labels, *, batch_size, momentum, l2, max_shift, averaging,
                 learning_rate_at, rng):
        self.images = np.ascontiguousarray(train_images).reshape(len(train_images), N_IN)
        self.labels = np.asarray(train_labels)
        self.batch_size, self.momentum, self.max_shift, self.averaging = batch_size, momentum, max_shift, averaging
        self.learning_rate_at, self.rng, self.step = learning_rate_at, rng, 0

        shapes = {name: params[name].shape for name in PARAM_NAMES}
        sizes = [int(np.prod(shape)) for shape in shapes.values()]
        self.flat = np.concatenate([params[name].ravel() for name in PARAM_NAMES]).astype(np.float32)
        self.params = self._views(self.flat, shapes, sizes)
        self.flat_grad = np.empty_like(self.flat)
        self.grads = self._views(self.flat_grad, shapes, sizes)
        self.velocity = np.zeros_like(self.flat)
        self.flat_average = self.flat.copy()
        self.average = self._views(self.flat_average, shapes, sizes)
        self.scratch = np.empty_like(self.flat)
        self.l2_mask = np.concatenate([np.full(size, l2 if name.startswith("W") else 0, np.float32)
                                       for name, size in zip(PARAM_NAMES, sizes)])

        B, H, K = batch_size, shapes["W1"][1], shapes["W2"][1]
        self.batch_bytes = np.empty((B, N_IN), np.uint8)
        self.X = np.empty((B, N_IN), np.float32)
        self.Z1, self.A1, self.dA1 = (np.zeros((B, H), np.float32) for _ in range(3))
        self.relu_mask = np.empty((B, H), bool)
        self.Z2 = np.zeros((B, K), np.float32)
        self.row_values = np.empty((B, 1), np.float32)
        self.rows = np.arange(B)
        self.converted = None   # all images as float32, made by the first epoch without "gather and shift"

    @staticmethod
    def _views(flat, shapes, sizes):
        offsets = np.cumsum([0] + sizes)
        return {name: flat[start:end].reshape(shapes[name])
                for name, start, end in zip(PARAM_NAMES, offsets[:-1], offsets[1:])}

    def load_shifted_batch(self, batch, dy, dx):
        """self.X <- the images at `batch`, moved down by dy and right by dx, as float32 in [0, 1]."""
        np.take(self.images, batch, axis=0, out=self.batch_bytes)
        offset = IMAGE_SIDE * dy + dx           # output pixel f of a row is input pixel f - offset
        X, source = self.X, self.batch_bytes
        if offset >= 0:
            np.divide(source[:, :N_IN - offset], PIXEL_MAX, out=X[:, offset:])
            X[:, :offset] = 0
        else:
            np.divide(source[:, -offset:], PIXEL_MAX, out=X[:, :N_IN + offset])
            X[:, N_IN + offset:] = 0
        pixels = X.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
        if dx > 0:                              # these columns received the end of the row above
            pixels[:, :, :dx] = 0
        elif dx < 0:
            pixels[:, :, IMAGE_SIDE + dx:] = 0

    def training_step(self, batch, dy, dx):
        self.load_shifted_batch(batch, dy, dx)
        self.gradients(self.X, self.labels[batch])
        self.update()
        self.update_average()

    def gradients(self, X, labels):
        """self.grads <- the gradients of the loss on the batch X (float32 rows) with these integer labels."""
        p, g = self.params, self.grads
        Z1, A1, dA1, Z2, row_values = self.Z1, self.A1, self.dA1, self.Z2, self.row_values
        # forward
        np.matmul(X, p["W1"], out=Z1)
        Z1 += p["b1"]
        np.maximum(Z1, 0, out=A1)
        np.matmul(A1, p["W2"], out=Z2)
        Z2 += p["b2"]
        # softmax in place, then dZ2 = (P - Y) / B in place
        np.max(Z2, axis=1, keepdims=True, out=row_values)
        Z2 -= row_values
        np.exp(Z2, out=Z2)
        np.sum(Z2, axis=1, keepdims=True, out=row_values)
        Z2 /= row_values
        Z2[self.rows, labels] -= 1
        Z2 /= np.float32(len(X))
        # backward, into the views of the flat gradient
        np.matmul(A1.T, Z2, out=g["W2"])
        np.sum(Z2, axis=0, out=g["b2"])
        np.matmul(Z2, p["W2"].T, out=dA1)
        np.greater(Z1, 0, out=self.relu_mask)
        dA1 *= self.relu_mask
        np.matmul(X.T, dA1, out=g["W1"])
        np.sum(dA1, axis=0, out=g["b1"])

    def products(self, X):
        """Only the five matrix products of a step on the batch X, into the step's buffers, as the floor times them."""
        p, g = self.params, self.grads
        np.matmul(X, p["W1"], out=self.Z1)
        np.matmul(self.A1, p["W2"], out=self.Z2)
        np.matmul(self.A1.T, self.Z2, out=g["W2"])
        np.matmul(self.Z2, p["W2"].T, out=self.dA1)
        np.matmul(X.T, self.dA1, out=g["W1"])

    def update(self):
        """L2 and momentum on the whole parameter vector, then the next step."""
        np.multiply(self.flat, self.l2_mask, out=self.scratch)
        self.flat_grad += self.scratch
        self.velocity *= self.momentum
        np.multiply(self.flat_grad, self.learning_rate_at(self.step), out=self.scratch)
        self.velocity -= self.scratch
        self.flat += self.velocity
        self.step += 1

    def update_average(self):
        """W̄ <- β·W̄ + (1 - β)·W on the whole parameter vector."""
        np.subtract(self.flat, self.flat_average, out=self.scratch)
        self.scratch *= 1 - self.averaging
        self.flat_average += self.scratch

    def train_epoch(self, stages=len(STAGES)):
        """One pass over the training images (the last incomplete batch skipped), as `train` makes it.

        With fewer `stages`, only the first ones of STAGES run, which is how benchmark.py measures what
        each part of the step adds to the floor (with one, only the five products). Without the last
        stage, batch i is rows i·B to (i+1)·B of the images converted to float32 once, unshifted, and no
        random numbers are drawn; without the update, the weights stay as they are.
        """
        m, batch_size = len(self.images), self.batch_size
        starts = range(0, m // batch_size * batch_size, batch_size)
        if stages == len(STAGES):
            order = self.rng.permutation(m)
            for start in starts:
                dy, dx = self.rng.integers(-self.max_shift, self.max_shift + 1, size=2)
                self.training_step(order[start:start + batch_size], int(dy), int(dx))
            return
        if self.converted is None:
            self.converted = self.images / PIXEL_MAX
        for start in starts:
            rows = slice(start, start + batch_size)
            if stages == 1:
                self.products(self.converted[rows])
                continue
            self.gradients(self.converted[rows], self.labels[rows])
            if stages >= 3:
                self.update()
            if stages >= 4:
                self.update_average()
