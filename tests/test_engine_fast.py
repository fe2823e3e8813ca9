"""The engine's hot path against its reference.

Value's common methods and the backward pass are written out per op from the op table
(autograd/engine.py, "The hot path"). The class body's generic methods and
``_reference_pass`` are the reference: for every operand the fast ones must give the
same number (bit for bit), the same graph, the same refusal (class and message), the
same gradients -- and record exactly as grad mode says, in any thread.
"""

from __future__ import annotations

import math
import random
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, engine, jit, no_grad
from autograd.engine import (
    _FAST_BACKWARD,
    _FAST_BINARY,
    _FAST_UNARY,
    _REFERENCE_METHODS,
    _chain_rule_pass,
    _interior_nodes,
    _reference_pass,
)
from autograd.ops import OPS

NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-3.0, max_value=3.0),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, -1e-300, 5e-324, 1e308, -1e308,
                     709.0, 710.0, math.pi]),
)


def outcome(call):
    """What a call gives: ('ok', result) or ('error', class, message)."""
    try:
        return ("ok", call())
    except Exception as error:
        return ("error", type(error), str(error))


def shape(node):
    """A node as numbers and structure: data (bits), op, and its parents' shapes (with
    identity for leaves given by the test, so 'the same operand' is checked)."""
    if not isinstance(node, Value):
        return ("not a Value", node)
    return (node.data.hex() if type(node.data) is float else repr(node.data),
            type(node.data).__name__, node.op, node.is_constant,
            tuple(p if not p._parents and not p.is_constant else shape(p)
                  for p in node._parents))


def same_call(method, *operands):
    fast = outcome(lambda: getattr(Value, method)(*operands))
    reference = outcome(lambda: _REFERENCE_METHODS[method](*operands))
    if fast[0] == "ok" and reference[0] == "ok":
        assert shape(fast[1]) == shape(reference[1]), method
    else:
        assert fast[0] == reference[0] == "error", (method, fast, reference)
        assert fast[1:] == reference[1:], method


def test_every_fast_method_replaced_one_of_the_class_and_kept_its_documentation():
    for method in (*_FAST_BINARY, *_FAST_UNARY):
        fast = getattr(Value, method)
        assert fast is not _REFERENCE_METHODS[method]
        assert fast.__doc__ == _REFERENCE_METHODS[method].__doc__
        assert fast.__qualname__ == f"Value.{method}"


@settings(max_examples=300, deadline=None)
@given(a=NUMBERS, b=NUMBERS)
def test_binary_methods_give_the_references_numbers_graph_and_errors(a, b):
    x, y = Value(a), Value(b)
    for method in _FAST_BINARY:
        same_call(method, x, y)  # two Values
        same_call(method, x, b)  # a Value and a float (a constant node)
        same_call(method, x, x)  # the same operand twice
        if b.is_integer() and abs(b) < 1e15:
            same_call(method, x, int(b))  # an int


@settings(max_examples=300, deadline=None)
@given(a=NUMBERS)
def test_unary_methods_give_the_references_numbers_graph_and_errors(a):
    x = Value(a)
    for method in _FAST_UNARY:
        same_call(method, x)


@pytest.mark.parametrize("method", sorted(_FAST_BINARY))
def test_binary_methods_on_unusual_operands(method):
    x = Value(1.5)
    for other in (True, np.float64(2.5), np.int64(3), np.array(2.0), Value(2.0) * 1.0,
                  float("inf"), float("nan"), 10**400, "2", None, [1.0], 1 + 2j):
        same_call(method, x, other)
    # a .data assigned an int, a numpy number or something else than a number
    for bad in (3, np.float64(0.25), np.int32(2), None, "1.0", Value(1.0)):
        for first in (True, False):
            p, q = Value(2.0), Value(0.5)
            (p if first else q).data = bad
            same_call(method, p, q)
    both = Value(1.0), Value(1.0)
    both[0].data = both[1].data = 7  # int op int is an int: the generic path makes floats
    same_call(method, *both)


@pytest.mark.parametrize("method", sorted(_FAST_UNARY))
def test_unary_methods_on_a_data_that_was_assigned(method):
    for bad in (3, 0, -2, np.float64(0.25), None, "1.0", True):
        p = Value(1.0)
        p.data = bad
        same_call(method, p)


def test_the_value_exponent_goes_to_powv_and_a_constant_one_to_pow():
    x, y = Value(2.0), Value(3.0)
    assert (x ** y).op == "powv" and (x ** 3.0).op == "pow"
    assert (x ** (y * 0.0 + 3.0)).op == "powv"
    assert (x ** engine._constant(3.0, "test")).op == "pow"


def test_no_grad_makes_leaves_and_a_jit_trace_keeps_every_node_made():
    x, y = Value(2.0), Value(3.0)
    with no_grad():
        for method in (*_FAST_BINARY, *_FAST_UNARY):
            args = (x, y) if method in _FAST_BINARY else (x,)
            result = outcome(lambda m=method, a=args: getattr(Value, m)(*a))
            if result[0] == "ok":
                assert result[1].is_leaf and not result[1].is_constant, method
    assert (x * y).op == "mul" and engine._plain

    def f(a, b):
        (a * b).exp()  # made and dropped: the trace still keeps it (and its checks)
        return a / b - a.tanh()

    jf = jit(f, argnums=(0, 1))
    value, (da, db) = jf(2.0, 3.0)
    assert value == 2.0 / 3.0 - math.tanh(2.0)
    assert da == pytest.approx(1 / 3.0 - (1 - math.tanh(2.0) ** 2), rel=1e-15)
    assert db == pytest.approx(-2.0 / 9.0, rel=1e-15)
    assert "exp(" in jf.source  # the dropped node was recorded by the fast path


def test_a_switch_in_another_thread_changes_nothing_here_and_the_flag_comes_back():
    inside, release = threading.Event(), threading.Event()

    def other():
        with no_grad():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    try:
        assert not engine._plain  # a switch is active somewhere: nodes look at their thread
        x = Value(2.0)
        z = (x * x + 1.0).tanh()
        assert z.op == "tanh" and z.parents[0].op == "add"  # this thread still records
    finally:
        release.set()
        thread.join()
    assert engine._plain and engine._switches == 0
    with no_grad(), no_grad():
        assert not engine._plain
    assert engine._plain


def test_a_switch_that_raises_still_restores_the_flag():
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0.0
    assert engine._plain and engine._switches == 0


# -- the backward pass -------------------------------------------------------------

OP_CHOICES = ["add", "sub", "mul", "div", "neg", "exp", "log", "tanh", "sigmoid", "sqrt",
              "relu", "pow", "sin", "dot", "abs", "powv"]


def random_graph(seed: int, size: int = 40):
    """A random DAG over the fast ops and some others, reusing nodes; its leaves."""
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(0.2, 2.0)) for _ in range(4)]
    nodes = list(leaves)
    while len(nodes) < size:
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice(OP_CHOICES)
        try:
            if op in ("add", "sub", "mul", "div"):
                other = b if rng.random() < 0.8 else rng.uniform(-2, 2)
                if rng.random() < 0.5:
                    new = {"add": a + other, "sub": a - other, "mul": a * other,
                           "div": a / other}[op]
                else:
                    new = {"add": other + a, "sub": other - a, "mul": other * a,
                           "div": other / a}[op]
            elif op == "pow":
                new = abs(a) ** rng.choice([2.0, 0.5, -1.0, 3])
            elif op == "powv":
                new = (abs(a) + 0.1) ** b.tanh()
            elif op == "dot":
                from autograd import dot
                new = dot([a, b], [b, rng.choice(nodes)], rng.choice(nodes))
            elif op == "neg":
                new = -a
            else:
                new = getattr(a, op)()
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if abs(new.data) < 1e6:
            nodes.append(new)
    out = nodes[-1]
    for node in rng.sample(nodes, min(6, len(nodes))):
        out = out + node  # several paths to the root
    return out, leaves


def grads_after(pass_function, out, leaves, seed):
    for leaf in leaves:
        leaf.grad = 0.0
    interior = _interior_nodes(out)
    out.grad = seed
    result = outcome(lambda: pass_function(interior))
    nodes = engine.topological_order(out)
    return result[:1] + result[2:], [n.grad.hex() for n in nodes]


@pytest.mark.parametrize("seed", range(60))
def test_the_fast_pass_gives_the_references_gradients_bit_for_bit(seed):
    out, leaves = random_graph(seed)
    for g in (1.0, -0.75, 1e300):  # 1e300: some gradients overflow and are refused
        reference = grads_after(_reference_pass, out, leaves, g)
        fast = grads_after(_chain_rule_pass, out, leaves, g)
        assert fast == reference


def test_the_fast_pass_refuses_as_the_reference_does():
    for build in (lambda x: (x * 1.0).sqrt(),  # d/dx sqrt at 0 divides by zero
                  lambda x: (x + 1e-300).log(),  # 1/x overflows
                  lambda x: (x + 1.0) * 1e300):  # 1e308 * 1e300 overflows
        x = Value(0.0)
        out = build(x)
        results = []
        for function in (_reference_pass, _chain_rule_pass):
            x.grad = 0.0
            interior = _interior_nodes(out)
            out.grad = 1e308
            results.append(outcome(lambda f=function, i=interior: f(i)))
        assert results[0][0] == "error"
        assert results[0] == results[1]


@pytest.mark.parametrize("name", _FAST_BACKWARD)
def test_each_written_in_derivative_is_its_local_grads_rule(name):
    op = OPS[name]
    rng = random.Random(name)
    for _ in range(200):
        inputs = [rng.uniform(0.05, 3.0) * rng.choice([1, 1, -1] if name not in (
            "log", "sqrt") else [1]) for _ in range(op.arity)]
        try:
            out = op.forward(*inputs)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        expected = op.local_grads(*inputs, out)
        numbers = {"out": out, **{str(i): v for i, v in enumerate(inputs)}}
        written = [eval(local.format(*[repr(numbers[str(i)]) for i in range(op.arity)],
                                     out=repr(out)))
                   for local in op.code[1]]
        assert [float(v).hex() for v in written] == [float(v).hex() for v in expected]
