"""gradcheck must pass correct derivatives and catch wrong ones, saying where."""

import math

import pytest

from autograd import GradcheckError, gradcheck
from autograd.engine import apply
from autograd.ops import Op

# A deliberately wrong rule: claims d/dx sin(x) = sin(x).
WRONG_SIN = Op("bad_sin", "bad_sin", math.sin, lambda x, out: (out,), 1)

# Right first derivative (2x), but written so that its own derivative is wrong:
# the rule returns 2 * x.data (a constant) instead of 2 * x, so d2/dx2 comes out 0.
WRONG_SECOND = Op("bad_square", "sq", lambda x: x * x,
                  lambda x, out: (2.0 * (x if type(x) is float else x.data),), 1)


def test_passes_a_correct_function():
    assert gradcheck(lambda x, y: (x * y).tanh() + y.exp() / x, [0.7, -0.3], order=2) is True


def test_catches_a_wrong_first_derivative_and_names_the_input():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * 2 + apply(WRONG_SIN, b), [0.1, 1.0])
    message = str(info.value)
    assert "input index 1" in message and "df/dx[1]" in message
    assert "numerical" in message and "analytical" in message
    assert repr(math.sin(1.0))[:6] in message  # the wrong analytical value is shown
    assert repr(math.cos(1.0))[:6] in message  # next to the right numerical one


def test_catches_a_wrong_second_derivative_only_with_order_2():
    f = lambda x: apply(WRONG_SECOND, x) * 3
    assert gradcheck(f, [1.5], order=1)
    with pytest.raises(GradcheckError, match=r"d2f/dx\[0\]dx\[0\]"):
        gradcheck(f, [1.5], order=2)


def test_tolerances_are_respected():
    # A slightly wrong derivative passes a loose check and fails a tight one.
    slightly = Op("slightly", "s", lambda x: x * x, lambda x, out: (2 * x * (1 + 1e-4),), 1)
    f = lambda x: apply(slightly, x)
    assert gradcheck(f, [1.0], atol=0.0, rtol=1e-3)
    with pytest.raises(GradcheckError):
        gradcheck(f, [1.0], atol=0.0, rtol=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="empty"):
        gradcheck(lambda: 1.0, [])
    with pytest.raises(ValueError, match="order"):
        gradcheck(lambda x: x, [1.0], order=0)
    with pytest.raises(TypeError, match=r"inputs\[0\]"):
        gradcheck(lambda x: x, ["a"])
