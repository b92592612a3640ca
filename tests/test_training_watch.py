"""training_watch.Watch: a run is stopped (TrainingDiverged) at the first batch loss that is not finite or
more than DIVERGENCE_FACTOR times the loss at the start, and after an epoch whose validation accuracy is no
better than chance once the loss had risen COLLAPSE_FACTOR times; the message says where and what to change.
Losses are fed by hand; the notebook's `train` calling Watch is tested with train."""

import math

import pytest

import training_watch
from training_watch import TrainingDiverged, Watch

LN_10 = math.log(10)            # the loss of a network that guesses one of 10 classes
ADVICE = ("The steps are too large for LEARNING_RATE = 0.5 (with MOMENTUM = 0.9 a step is up to 10 times larger). "
          "Try a learning rate 3 to 10 times smaller, for example 0.05.")


def watch(learning_rate=0.5, momentum=0.9, n_classes=10):
    return Watch({"learning_rate": learning_rate, "momentum": momentum}, n_classes)


def test_a_loss_up_to_ten_times_ln_k_passes_and_the_next_one_above_stops_the_run_saying_where():
    run = watch()
    run.batch(2.0, 1, 1, 9)                        # below ln 10: the start counts as ln 10
    run.batch(10 * LN_10, 1, 2, 9)
    with pytest.raises(TrainingDiverged) as error:
        run.batch(10 * LN_10 * 1.001, 2, 3, 9)
    assert str(error.value) == ("training diverged in epoch 2, step 3 of 9: the batch loss was 23, against 2.3 at "
                                f"the start. {ADVICE}")


def test_a_first_loss_above_ln_k_is_the_start_the_others_are_compared_with():
    run = watch()
    run.batch(5.0, 1, 1, 9)
    run.batch(50.0, 1, 2, 9)
    with pytest.raises(TrainingDiverged, match="the batch loss was 50.1, against 5 at the start"):
        run.batch(50.1, 1, 3, 9)


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_a_loss_that_is_not_finite_stops_the_run_at_that_step(loss):
    run = watch()
    run.batch(2.3, 1, 1, 9)
    with pytest.raises(TrainingDiverged, match=rf"^training diverged in epoch 1, step 2 of 9: the batch loss was {loss}"):
        run.batch(loss, 1, 2, 9)


def test_a_nan_first_loss_stops_the_run_at_once():
    with pytest.raises(TrainingDiverged, match="step 1 of 9: the batch loss was nan"):
        watch().batch(math.nan, 1, 1, 9)


def test_the_divergence_factor_is_the_one_the_module_names(monkeypatch):
    monkeypatch.setattr(training_watch, "DIVERGENCE_FACTOR", 1000)
    run = watch()
    run.batch(2.3, 1, 1, 9)
    run.batch(900.0, 1, 2, 9)                      # below 1000 times the start
    with pytest.raises(TrainingDiverged):
        run.batch(2400.0, 1, 3, 9)                     # above 1000 times ln 10


def test_training_diverged_is_a_floating_point_error():
    assert issubclass(TrainingDiverged, FloatingPointError)


def test_without_momentum_the_advice_leaves_momentum_out():
    run = watch(learning_rate=2.0, momentum=0.0)
    run.batch(2.3, 1, 1, 9)
    with pytest.raises(TrainingDiverged) as error:
        run.batch(math.inf, 1, 2, 9)
    assert str(error.value).endswith("The steps are too large for LEARNING_RATE = 2. Try a learning rate 3 to 10 "
                                     "times smaller, for example 0.2.")


def test_chance_accuracy_after_the_loss_rose_one_and_a_half_times_is_a_collapse():
    run = watch()
    for step, loss in enumerate([2.3, 3.5, 2.4], start=1):       # peak 3.5: above 1.5 × 2.3 = 3.45
        run.batch(loss, 1, step, 3)
    with pytest.raises(TrainingDiverged) as error:
        run.epoch(0.1, 1)
    assert str(error.value).startswith(
        "training diverged after epoch 1: the validation accuracy is 10.0%, no better than guessing one of 10 "
        "classes, and the batch loss had risen to 3.5 from 2.3: steps that large can leave every hidden unit dead")
    assert str(error.value).endswith(ADVICE)


def test_chance_accuracy_without_a_rise_of_the_loss_is_slow_learning_not_a_collapse():
    run = watch()
    for step, loss in enumerate([2.3, 3.4, 2.3], start=1):       # peak 3.4: below 3.45
        run.batch(loss, 1, step, 3)
    run.epoch(0.1, 1)


def test_a_rise_of_the_loss_with_better_than_chance_accuracy_is_not_a_collapse():
    run = watch()
    run.batch(2.3, 1, 1, 2)
    run.batch(20.0, 1, 2, 2)
    run.epoch(0.15, 1)                             # 1.5 / 10: just better than chance
    with pytest.raises(TrainingDiverged):
        run.epoch(0.149, 2)


def test_chance_is_one_in_k_for_k_classes():
    run = watch(n_classes=2)
    run.batch(0.7, 1, 1, 2)
    run.batch(2.0, 1, 2, 2)
    run.epoch(0.76, 1)                             # 1.5 / 2 = 0.75
    with pytest.raises(TrainingDiverged, match="is 74.0%, no better than guessing one of 2 classes"):
        run.epoch(0.74, 2)


def test_check_compares_any_loss_with_the_first_it_was_given_and_names_where_it_was_measured():
    run = watch()
    run.check(3.0, "before training: the validation loss was")       # above ln 10: the start is 3
    run.check(30.0, "in one epoch: the validation loss grew to")
    with pytest.raises(TrainingDiverged) as error:
        run.check(float("inf"), "in one epoch: the validation loss grew to")
    assert str(error.value) == f"training diverged in one epoch: the validation loss grew to inf, against 3 at the start. {ADVICE}"


def test_check_and_batch_share_the_start_and_the_peak_a_collapse_is_judged_by():
    run = watch()
    run.check(LN_10, "before training: the validation loss was")
    run.batch(1.6 * LN_10, 1, 1, 9)                                  # 1.6 times the start checked before
    with pytest.raises(TrainingDiverged, match="after epoch 1: the validation accuracy is 10.0%"):
        run.epoch(0.10, 1)
