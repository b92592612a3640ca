"""The notebook's training recipe in PyTorch (CPU), as a speed reference for benchmark.py.

The network and recipe of the notebook's `train`: 784-H-10, ReLU, float32, He initialisation, zero
biases, mean cross-entropy, SGD with momentum, weight decay on the weights only, the caller's learning-rate
schedule (benchmark.py passes the notebook's `learning_rate_at`), one random shift of up to `max_shift`
pixels per batch, weight averaging, the incomplete last batch skipped; no torch.compile. torch.optim.SGD
keeps v <- mu*v + g and steps p <- p - lr*v (the notebook: v <- mu*v - lr*g, p <- p + v): the same
update while the learning rate is constant. Written for speed: the fused SGD, index_select for the gather.
"""

import time

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SIDE, NUM_CLASSES, PIXEL_MAX = 28, 10, 255


def he_normal(fan_in, fan_out, generator):
    """(fan_out, fan_in) weights drawn from N(0, 2 / fan_in), the layout torch.nn.functional.linear expects."""
    return torch.randn(fan_out, fan_in, generator=generator) * (2 / fan_in) ** 0.5


class TorchRecipe:
    """Trains a 784-H-10 network with the notebook's recipe, one epoch per call to `train_epoch`;
    `learning_rate_at(step)` gives the learning rate of step 0, 1, ... (counted over all epochs)."""

    def __init__(self, train_images, train_labels, *, hidden_size, batch_size, momentum, l2,
                 max_shift, averaging, learning_rate_at, seed):
        self.generator = torch.Generator().manual_seed(seed)
        self.batch_size, self.max_shift, self.averaging = batch_size, max_shift, averaging
        self.learning_rate_at, self.step = learning_rate_at, 0
        # Zero-padding the uint8 images once turns every shift into a crop (the pixels shifted in are 0).
        self.padded_images = F.pad(torch.from_numpy(np.ascontiguousarray(train_images)), (max_shift,) * 4)
        self.labels = torch.from_numpy(train_labels.astype(np.int64))

        n_in = IMAGE_SIDE * IMAGE_SIDE
        self.W1 = he_normal(n_in, hidden_size, self.generator).requires_grad_()
        self.b1 = torch.zeros(hidden_size, requires_grad=True)
        self.W2 = he_normal(hidden_size, NUM_CLASSES, self.generator).requires_grad_()
        self.b2 = torch.zeros(NUM_CLASSES, requires_grad=True)
        self.parameters = [self.W1, self.b1, self.W2, self.b2]
        self.average = [p.detach().clone() for p in self.parameters]
        self.optimizer = torch.optim.SGD(
            [{"params": [self.W1, self.W2], "weight_decay": l2},
             {"params": [self.b1, self.b2], "weight_decay": 0.0}],
            lr=learning_rate_at(0), momentum=momentum, fused=True)  # fused: the fastest SGD on the CPU

    def batch_images(self, indices, dy, dx):
        """The images at `indices`, moved down by dy and right by dx, as float32 rows in [0, 1]."""
        top, left = self.max_shift - dy, self.max_shift - dx
        # index_select: several times faster than padded_images[indices] for this gather
        crops = self.padded_images.index_select(0, indices)[:, top:top + IMAGE_SIDE, left:left + IMAGE_SIDE]
        return crops.reshape(len(indices), -1).to(torch.float32).div_(PIXEL_MAX)

    def training_step(self, X, y):
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate_at(self.step)
        logits = F.linear(F.relu(F.linear(X, self.W1, self.b1)), self.W2, self.b2)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            for average, parameter in zip(self.average, self.parameters):
                average.lerp_(parameter, 1 - self.averaging)
        self.step += 1

    def train_epoch(self, max_steps=None):
        """One pass over the training images (or its first `max_steps` batches); returns the seconds it took."""
        start = time.perf_counter()
        m = len(self.labels)
        steps = m // self.batch_size if max_steps is None else min(max_steps, m // self.batch_size)
        order = torch.randperm(m, generator=self.generator)
        shifts = torch.randint(-self.max_shift, self.max_shift + 1, (steps, 2), generator=self.generator).tolist()
        for i, (dy, dx) in enumerate(shifts):
            indices = order[i * self.batch_size:(i + 1) * self.batch_size]
            self.training_step(self.batch_images(indices, dy, dx), self.labels[indices])
        return time.perf_counter() - start

    @torch.no_grad()
    def predict(self, images):
        """Predicted classes of uint8 images (m, 28, 28) by the averaged weights, as a NumPy array."""
        W1, b1, W2, b2 = self.average
        X = torch.from_numpy(np.ascontiguousarray(images)).reshape(len(images), -1).to(torch.float32) / PIXEL_MAX
        return F.linear(F.relu(F.linear(X, W1, b1)), W2, b2).argmax(dim=1).numpy()
