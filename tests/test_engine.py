"""The engine's laws: construction, structure, backward semantics, memory, errors."""

import gc
import math
import sys
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, enable_grad, is_grad_enabled, no_grad, topological_order

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


# -- construction ------------------------------------------------------------


@pytest.mark.parametrize("raw", [3, True, 2.5, np.float32(1.5), np.int64(7), np.float64(-2.0),
                                 np.array(4.0), np.bool_(True)])
def test_data_is_converted_to_float(raw):
    v = Value(raw)
    assert type(v.data) is float and v.data == float(raw)
    assert v.grad == 0.0 and v.op == "" and v.parents == () and v.is_leaf


@pytest.mark.parametrize("raw", ["1.0", None, [1.0], 1 + 2j, np.array([1.0, 2.0])])
def test_non_numeric_data_is_a_type_error_naming_the_type(raw):
    with pytest.raises(TypeError, match=type(raw).__name__):
        Value(raw)


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
def test_non_finite_data_is_refused(raw):
    with pytest.raises(ValueError, match="finite"):
        Value(raw)


def test_value_of_value_points_to_detach():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))


def test_op_and_parents_are_read_only():
    y = Value(1.0) * 2
    with pytest.raises(AttributeError):
        y.op = "add"
    with pytest.raises(AttributeError):
        y.parents = ()


def test_repr_shows_data_grad_op_and_label():
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(a.tanh()).startswith("Value(data=0.964") and "op='tanh'" in repr(a.tanh())


@pytest.mark.parametrize("other", ["x", None, [1.0], {1: 2}])
def test_non_numeric_operand_is_a_type_error_naming_the_type(other):
    x = Value(1.0)
    for op in (lambda: x + other, lambda: other * x, lambda: x / other, lambda: x**other):
        with pytest.raises(TypeError, match=type(other).__name__):
            op()


def test_complex_operand_is_refused():
    with pytest.raises(TypeError, match="complex"):
        Value(1.0) * 2j


def test_numpy_arrays_broadcast_over_values():
    x = Value(2.0)
    out = np.array([1.0, 2.0]) * x
    assert out.dtype == object and [v.data for v in out] == [2.0, 4.0]


# -- domain errors: clear, never nan or complex ------------------------------


@pytest.mark.parametrize(
    "expr, error, words",
    [
        (lambda: Value(-1.0).log(), ValueError, ["log", "-1.0"]),
        (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "-4.0"]),
        (lambda: Value(-8.0) ** 0.5, ValueError, ["pow", "-8.0", "0.5"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["pow", "-8.0"]),
        (lambda: (-2) ** Value(0.5), ValueError, ["pow", "-2.0"]),
        (lambda: Value(-2.0) ** Value(2.0), ValueError, ["pow", "-2.0", "base"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["pow", "0.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["div", "1.0", "0.0"]),
        (lambda: 1 / Value(0.0), ZeroDivisionError, ["div"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp", "1000.0"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["pow", "10.0"]),
        (lambda: Value(1e200) * 1e200, OverflowError, ["mul", "1e+200"]),
    ],
)
def test_domain_errors_name_the_op_and_operand(expr, error, words):
    with pytest.raises(error) as info:
        expr()
    for word in words:
        assert word in str(info.value)


def test_negative_base_with_integer_exponent_is_fine():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


def test_sigmoid_saturates_instead_of_overflowing():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_derivative_undefined_at_a_point_is_a_clear_error():
    x = Value(0.0)
    y = x.sqrt()  # sqrt(0) = 0 is fine; its slope is infinite
    with pytest.raises(ZeroDivisionError, match="backward through sqrt"):
        y.backward()


# -- backward semantics ------------------------------------------------------


def test_chain_rule_on_a_small_expression():
    # L = (a*b + c) * f, worked by hand
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert (L.grad, f.grad, d.grad, c.grad, e.grad) == (1.0, 4.0, -2.0, -2.0, -2.0)
    assert (a.grad, b.grad) == (-2.0 * -3.0, -2.0 * 2.0)


def test_shared_subexpressions_sum_over_paths():
    a = Value(3.0)
    b = a + a  # two edges from a
    c = b * b  # two edges from b
    c.backward()
    assert b.grad == 2 * b.data
    assert a.grad == 2 * b.grad  # = 4 * (2a) = 24
    assert a.grad == 24.0


@settings(max_examples=50, deadline=None)
@given(finite, finite, finite)
def test_linearity_of_backward(x, alpha, beta):
    # d/dx (alpha f + beta g) = alpha f' + beta g'
    v = Value(x)
    (alpha * v.sin() + beta * v * v).backward()
    assert v.grad == pytest.approx(alpha * math.cos(x) + beta * 2 * x, rel=1e-12, abs=1e-12)


def test_leaves_accumulate_and_interior_nodes_hold_the_last_pass():
    x = Value(3.0)
    h = x * x
    y = h * 2
    y.backward()
    assert (x.grad, h.grad) == (12.0, 2.0)
    y.backward()  # leaves accumulate, like PyTorch's .grad
    assert (x.grad, h.grad) == (24.0, 2.0)
    y.zero_grad()
    assert (x.grad, h.grad, y.grad) == (0.0, 0.0, 0.0)
    y.backward(grad=0.5)  # seed d(something)/dy
    assert x.grad == 6.0


def test_backward_of_a_leaf():
    x = Value(1.5)
    x.backward()
    assert x.grad == 1.0


def test_constants_are_leaves_without_grad_bookkeeping():
    x = Value(2.0)
    y = x * 3
    y.backward()
    const = y.parents[1]
    assert const.is_constant and const.is_leaf and const.grad == 0.0


def test_topological_order_puts_parents_first_and_is_stable():
    def build():
        a, b = Value(1.0, "a"), Value(2.0, "b")
        c = a * b
        c.label = "c"
        d = (c + a).tanh()
        d.label = "d"
        e = d * c + b
        e.label = "e"
        return e

    orders = [[n.label for n in topological_order(build())] for _ in range(5)]
    assert all(o == orders[0] for o in orders)
    order = topological_order(build())
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1].label == "e"
    for node in order:
        for p in node.parents:
            assert position[id(p)] < position[id(node)]
    assert len(order) == len({id(n) for n in order})


def test_a_million_node_chain_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    a = Value(0.5)
    y = a
    for _ in range(1_000_000):
        y = y + a  # one new node per step, no constants
    y.backward()
    assert a.grad == 1_000_001.0
    assert y.data == 0.5 * 1_000_001
    del y  # freeing a deep chain must not overflow the C stack either


def test_graphs_are_freed_by_reference_counting_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        x = Value(0.3)
        y = x
        for _ in range(20_000):
            y = (y * 0.999).tanh() + x
        y.backward()
        during = tracemalloc.get_traced_memory()[0]
        del y
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert during - before > 5_000_000  # the graph was big...
    # ...and refcounting gave it back (what stays is CPython's tuple free lists)
    assert after - before < 0.03 * (during - before)
    assert unreachable == 0  # no reference cycles were left for the collector


# -- no_grad / detach ---------------------------------------------------------


def test_no_grad_records_no_graph():
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x + 1
        with enable_grad():
            z = x * x
    assert is_grad_enabled()
    assert y.data == 5.0 and y.is_leaf and y.op == ""
    assert z.op == "mul"


def test_no_grad_as_decorator_with_and_without_parentheses():
    @no_grad
    def plain(x):
        return x * 2, is_grad_enabled()

    @no_grad()
    def called(x):
        return x * 2, is_grad_enabled()

    for fn in (plain, called):
        y, enabled = fn(Value(1.0))
        assert not enabled and y.is_leaf
        assert is_grad_enabled()
    assert plain.__name__ == "plain"


def test_no_grad_decorates_methods():
    class Model:
        scale = 3.0

        @no_grad
        def plain(self, x):
            return x * self.scale

        @no_grad()
        def called(self, x, *, offset=0.0):
            return x * self.scale + offset

    model = Model()
    assert model.plain(Value(2.0)).is_leaf
    y = model.called(Value(2.0), offset=1.0)
    assert y.is_leaf and y.data == 7.0


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_grad_enabled()


def test_no_grad_is_thread_local():
    seen = []

    def worker():
        seen.append(is_grad_enabled())
        seen.append((Value(1.0) * 2).op)

    with no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not is_grad_enabled()
    assert seen == [True, "mul"]


def test_detach_is_a_leaf_with_the_same_data():
    x = Value(2.0)
    y = (x * 3).tanh()
    d = y.detach()
    assert d.data == y.data and d.is_leaf and d is not y
    (d * x).backward()
    assert x.grad == d.data  # nothing flowed through d into its old graph
