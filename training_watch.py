"""Stopping a training run that diverges or collapses, with a message that says what happened and what to change.

A run has diverged when a batch loss is not finite or more than DIVERGENCE_FACTOR times the loss at the
start (the larger of the first batch's loss and ln K, the loss of a network that guesses; a network that
starts out trained has a tiny first loss, which would make every later batch look diverged). It has
collapsed when, after an epoch, the validation accuracy is below 1.5 times chance (15 % for ten classes)
although the batch loss had risen COLLAPSE_FACTOR times above its start: large steps left every hidden
unit dead.
"""

import math

DIVERGENCE_FACTOR = 10
COLLAPSE_FACTOR = 1.5


class TrainingDiverged(FloatingPointError):
    """The loss became inf or nan, or grew far past where it started: the steps are too large."""


class Watch:
    """Watches one run: `batch(loss, ...)` after every batch, `epoch(val_acc, ...)` after every epoch (or `check`
    on any loss, for a loop of its own)."""

    def __init__(self, recipe, n_classes):
        self.recipe, self.n_classes = recipe, n_classes
        self.first_loss, self.peak_loss = None, 0.0

    def batch(self, loss, epoch, step, steps_per_epoch):
        """Stop (TrainingDiverged) at a batch loss that is not finite or DIVERGENCE_FACTOR times the start."""
        self.check(loss, f"in epoch {epoch}, step {step} of {steps_per_epoch}: the batch loss was")

    def check(self, loss, what):
        """Stop at a loss that is not finite or DIVERGENCE_FACTOR times the first one checked; `what` says
        where it was measured, as in "in epoch 1, step 3 of 390: the batch loss was"."""
        if self.first_loss is None:
            self.first_loss = max(loss, math.log(self.n_classes))
        if not (loss <= DIVERGENCE_FACTOR * self.first_loss):          # also true for nan and inf
            self.stop(f"{what} {loss:.3g}, against {self.first_loss:.3g} at the start")
        self.peak_loss = max(self.peak_loss, loss)

    def epoch(self, val_acc, epoch):
        """Stop (TrainingDiverged) at chance validation accuracy after the loss had risen COLLAPSE_FACTOR times."""
        if val_acc < 1.5 / self.n_classes and self.peak_loss > COLLAPSE_FACTOR * self.first_loss:
            self.stop(f"after epoch {epoch}: the validation accuracy is {val_acc:.1%}, no better than guessing one "
                      f"of {self.n_classes} classes, and the batch loss had risen to {self.peak_loss:.3g} from "
                      f"{self.first_loss:.3g}: steps that large can leave every hidden unit dead (its ReLU outputs "
                      "0 for every image, so no gradient reaches it again)")

    def stop(self, what):
        rate, momentum = self.recipe["learning_rate"], self.recipe["momentum"]
        boost = f" (with MOMENTUM = {momentum:g} a step is up to {1 / (1 - momentum):.0f} times larger)" if momentum else ""
        raise TrainingDiverged(f"training diverged {what}. The steps are too large for LEARNING_RATE = {rate:g}{boost}. "
                               f"Try a learning rate 3 to 10 times smaller, for example {rate / 10:g}.")
