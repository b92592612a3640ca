"""The gradient-check helpers of checks.py (numerical_gradient, rel_error, verdict, print_gradient_check)
against derivatives and errors computed by hand; the practice checks are tests/test_practice.py's."""

import numpy as np
import pytest

from checks import numerical_gradient, print_gradient_check, rel_error, verdict


def test_numerical_gradient_of_a_cubic_is_three_x_squared_and_the_array_is_restored():
    x = np.array([[-2.0, 0.5], [1.0, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(grad, 3 * before ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_float32_array_is_float64():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = numerical_gradient(lambda: float(np.sum(x.astype(np.float64) * [3.0, -4.0])), x, h=1e-2)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [3.0, -4.0], rtol=1e-5)


def test_rel_error_is_the_largest_elementwise_relative_difference():
    a, b = np.array([1.0, 10.0, 0.0]), np.array([1.0, 9.0, 0.0])      # 0, 1/19, and 0/0 counted as 0
    assert rel_error(a, b) == pytest.approx(1 / 19)


@pytest.mark.parametrize("error, expected", [(0.0, "ok"), (9.9e-8, "ok"), (1e-7, "look closer"),
                                             (9.9e-3, "look closer"), (1e-2, "BROKEN"), (np.inf, "BROKEN")])
def test_verdict_thresholds_are_1e_7_and_1e_2(error, expected):
    assert verdict(error) == expected


def test_print_gradient_check_prints_one_row_per_tensor(capsys):
    print_gradient_check({"W1": 2.9e-8, "b2": 0.5})
    assert capsys.readouterr().out == "dW1 : relative error 2.9e-08  ok\ndb2 : relative error 5.0e-01  BROKEN\n"
