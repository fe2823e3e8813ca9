"""Never a silent inf or nan: backward, grad and jit refuse alike, with the op named."""

import json
import math
import os
import re
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from autograd import Value, dot, grad, jit, logsumexp, value_and_grad
from autograd.files import read_json, write_atomic
from nn import MLP

# -- the examples that used to return inf or nan ------------------------------------


def test_backward_refuses_an_infinite_gradient_naming_the_op():
    x = Value(1e-310)
    with pytest.raises(OverflowError, match=r"backward through log\(1e-310\).*local "
                                            r"derivative inf"):
        x.log().backward()


def test_grad_refuses_inf_minus_inf():
    with pytest.raises(OverflowError, match=r"backward through div\(5e-324, 5e-324\)"):
        grad(lambda x: x / x)(5e-324)


def test_nested_grad_refuses_an_overflowing_second_derivative():
    with pytest.raises(OverflowError, match=r"backward through div\(1\.0, 1e-160\)"):
        grad(grad(lambda x: x.log().sigmoid()))(1e-160)


def test_grad_and_backward_follow_one_rule_for_a_zero_times_infinite_derivative():
    f = lambda x: (x ** 0.5).cos()  # d cos = -sin(0) = 0, d sqrt = inf at 0
    with pytest.raises(ZeroDivisionError, match=r"pow\(0\.0, 0\.5\)"):
        grad(f)(0.0)
    with pytest.raises(ZeroDivisionError, match=r"pow\(0\.0, 0\.5\)"):
        f(Value(0.0)).backward()
    with pytest.raises(ZeroDivisionError, match=r"pow\(0\.0, 0\.5\)"):
        jit(f)(0.0)


def test_nested_grad_never_differentiates_with_respect_to_a_constant():
    assert grad(grad(lambda x: x / 1e-300))(1e8) == 0.0
    assert grad(grad(lambda x: x * x / 4.0))(3.0) == 0.5
    assert grad(grad(lambda x: 2.0 / x))(2.0) == pytest.approx(0.5, abs=1e-15)


def test_the_graph_command_refuses_a_nan_derivative():
    result = subprocess.run([sys.executable, "-m", "nn", "graph", "x/x", "x=5e-324"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # as sqrt(x - 2)
    assert "nan" not in result.stdout and "div(5e-324, 5e-324)" in result.stderr


# -- jit checks what eager checks ---------------------------------------------------


@pytest.mark.parametrize("f, x, error, message", [
    (lambda x: (x * x).tanh(), 1e200, OverflowError, r"mul: result inf"),
    (lambda x: (x * 1e300 - x * 1e300).relu(), 1e10, OverflowError, r"mul: result inf"),
    (lambda x: x.sqrt(), 0.0, ZeroDivisionError, r"backward through sqrt\(0\.0\)"),
    (lambda x: (x - 2.0).sqrt() * 0.0 + x, 1.0, ValueError, r"sqrt: argument must be >= 0"),
])
def test_jit_refuses_what_eager_refuses_with_the_same_message(f, x, error, message):
    compiled = jit(f)
    compiled(3.0)  # traced and compiled where everything is fine
    with pytest.raises(error, match=message):
        compiled(x)
    with pytest.raises(error, match=message):
        value_and_grad(f)(x)


def test_jit_runs_the_checks_of_a_node_whose_result_is_unused():
    def f(x):
        (x - 2.0).sqrt()  # dropped, but eager refuses it for x < 2
        return x * 2.0

    compiled = jit(f)
    assert compiled(3.0) == (6.0, 2.0)
    with pytest.raises(ValueError, match=r"sqrt: argument must be >= 0, got -1\.0"):
        compiled(1.0)
    with pytest.raises(ValueError, match="sqrt"):
        compiled.batch(np.array([3.0, 1.0]), batched=(0,))


def test_jit_checks_a_local_derivative_no_gradient_reaches():
    f = lambda x: x.log().step() + x  # step's derivative 0 hides log's
    with pytest.raises(OverflowError, match=r"log\(1e-310\)"):
        value_and_grad(f)(1e-310)
    compiled = jit(f)
    compiled(0.5)
    with pytest.raises(OverflowError, match=r"log\(1e-310\)"):
        compiled(1e-310)


# -- the property: eager backward, grad and jit agree on random graphs ---------------

POINTS = [0.0, 5e-324, 1e-310, 1e-160, 1e-8, 0.5, 1.0, 2.0, 3.0, 700.0, 710.0, 1e8, 1e150,
          1e200, 1e300]
UNARY = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "step", "neg"]
BINARY = ["add", "sub", "mul", "div", "pow", "dot", "logsumexp"]
EXPONENTS = [0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -0.5]

instruction = st.one_of(
    st.tuples(st.sampled_from(UNARY), st.integers(0, 100)),
    st.tuples(st.sampled_from(BINARY), st.integers(0, 100), st.integers(0, 100),
              st.sampled_from(EXPONENTS)),
)


def build(program, n_inputs):
    """f(*xs): each instruction applies an op to earlier nodes (inputs or results),
    so subexpressions are shared and some results go unused; the last is returned."""
    def f(*xs):
        nodes = list(xs)
        for step in program:
            a = nodes[step[1] % len(nodes)]
            if len(step) == 2:
                nodes.append(-a if step[0] == "neg" else getattr(a, step[0])())
                continue
            op, _, j, c = step
            b = nodes[j % len(nodes)]
            if op == "pow":
                nodes.append(a ** c)
            elif op == "dot":  # one n-ary node; backward has its own unrolled path
                nodes.append(dot([a, b], [b, a], a))
            elif op == "logsumexp":
                nodes.append(logsumexp([a, b, a]))
            else:
                nodes.append({"add": a + b, "sub": a - b, "mul": a * b}[op] if op != "div"
                             else a / b)
        return nodes[-1]
    return f


def outcome(run):
    try:
        value, grads = run()
    except (ArithmeticError, ValueError) as error:
        return type(error)
    assert math.isfinite(value) and all(math.isfinite(g) for g in grads)  # never inf or nan
    return value, list(grads)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.lists(instruction, min_size=1, max_size=8),
       xs=st.lists(st.tuples(st.sampled_from(POINTS), st.booleans()), min_size=1, max_size=3))
def test_eager_backward_grad_and_jit_agree_including_refusals(program, xs):
    xs = [-x if negative else x for x, negative in xs]
    f = build(program, len(xs))
    argnums = tuple(range(len(xs)))

    def eager():
        leaves = [Value(x) for x in xs]
        out = f(*leaves)
        out.backward()
        return out.data, [v.grad for v in leaves]

    def by_grad():
        value, grads = value_and_grad(f, argnums)(*xs)
        return value, grads

    compiled = jit(f, argnums)
    try:
        compiled(*[0.7] * len(xs))  # traced where the graph is built without refusals
    except (ArithmeticError, ValueError):
        assume(False)

    results = [outcome(eager), outcome(by_grad), outcome(lambda: compiled(*xs))]
    event("refused" if isinstance(results[0], type) else "computed")
    if any(isinstance(r, type) for r in results):
        assert results[0] == results[1] == results[2], results
        return
    (v0, g0), (v1, g1), (v2, g2) = results
    for value in (v1, v2):
        assert math.isclose(value, v0, rel_tol=1e-9, abs_tol=1e-300)
    for grads in (g1, g2):
        assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) for a, b in zip(grads, g0))


# -- the graph command never hangs and never prints a traceback -----------------------


def _command(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd,
                          capture_output=True, timeout=120)


def test_undecodable_bytes_in_argv_are_a_usage_error(tmp_path):
    result = _command(b"graph", b"\xff", b"x=1", cwd=tmp_path)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert b"not valid text" in result.stderr


@pytest.mark.needs_dot
def test_rendering_is_stopped_at_the_time_limit(tmp_path):
    expression = "+".join(["x"] * 60)  # took dot more than 300 s
    started = time.monotonic()
    result = _command("graph", expression, "x=1", "-o", str(tmp_path / "g.svg"),
                      "--timeout", "2")
    assert time.monotonic() - started < 60
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"did not finish laying out the graph" in result.stderr
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.needs_dot
@pytest.mark.parametrize("target, message", [
    ("/proc/nope/g.svg", b"cannot write /proc/nope/g.svg"),
    ("/", b"it is a folder"),
])
def test_output_errors_are_one_line(tmp_path, target, message):
    result = _command("graph", "x*2", "x=1", "-o", target, cwd=tmp_path)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert result.stderr.strip().count(b"\n") == 0 and message in result.stderr


# -- files: atomic writes replace only regular files; loads refuse what is malformed ---


def test_a_write_refuses_a_fifo_and_a_device(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(IsADirectoryError, match="folder"):
        write_atomic(tmp_path, "x")


def test_a_write_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_write_removes_stale_temporaries_of_a_killed_save_only(tmp_path):
    path = tmp_path / "model.json"
    stale, fresh = tmp_path / ".model.json.abcd1234.tmp", tmp_path / ".model.json.wxyz5678.tmp"
    other = tmp_path / ".other.json.abcd1234.tmp"
    for leftover in (stale, fresh, other):
        leftover.write_text("half a file")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_atomic(path, "{}")
    assert not stale.exists()  # a killed save's leftover
    assert fresh.exists()  # may be a save running right now
    assert other.exists()  # another file's


@pytest.mark.parametrize("content, problem", [
    (b'{"a": 1, "a": 2}', "appears twice"),
    (b'{"a": ' + b"9" * 401 + b"}", "401 digits"),
    (b'{"a": 1e400}', "beyond the range of a float"),
    (b'{"a": NaN}', "NaN is not a number JSON allows"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a": "\xff\xfe"}', "not UTF-8 text"),
    (b'{"a": ', "not valid JSON"),
])
def test_read_json_names_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        read_json(path)
    assert str(path) in str(info.value)


def _saved_model(tmp_path):
    model = MLP(2, [3, 2], seed=0)
    path = model.save(tmp_path / "m.json")
    return model, path, json.loads(path.read_text())


@pytest.mark.parametrize("spoil, problem", [
    (lambda d: d["parameters"].update({"layers.0.neurons.0.w.0": 10 ** 400}),
     "an integer with 401 digits"),
    (lambda d: d["parameters"].update({"layers.0.neurons.0.w.0": "1.0"}),
     "is not a finite number"),
    (lambda d: d.update(version=True), "format version True"),
])
def test_a_hostile_model_file_is_a_value_error_and_changes_nothing(tmp_path, spoil, problem):
    model, path, saved = _saved_model(tmp_path)
    spoil(saved)
    path.write_text(json.dumps(saved))
    before = model.state_dict()
    with pytest.raises(ValueError, match=problem):
        model.load(path)
    assert model.state_dict() == before


def test_load_state_dict_refuses_huge_integers_and_reports_non_string_keys():
    model = MLP(2, [2], seed=0)
    with pytest.raises(ValueError, match="is not a finite number"):
        model.load_state_dict({**model.state_dict(), "layers.0.neurons.0.b": 10 ** 400})
    with pytest.raises(ValueError, match=r"unexpected 0"):
        model.load_state_dict({**model.state_dict(), 0: 1.0})


def test_jit_batch_near_the_overflow_edge_agrees_with_eager():
    """Two numbers near 1.8e308 overflow their checksum, not themselves: no false alarm."""
    compiled = jit(lambda x: x.sinh())
    compiled(1.0)
    values, grads = compiled.batch(np.array([710.45, 1.0]), batched=(0,))
    assert values[0] == pytest.approx(value_and_grad(lambda x: x.sinh())(710.45)[0])
    assert np.isfinite(grads).all()
    with pytest.raises(OverflowError, match=r"sinh: sinh\(711\.0\) overflows"):
        compiled.batch(np.array([711.0, 1.0]), batched=(0,))


def test_jvp_names_the_op_whose_local_derivative_is_not_finite():
    from autograd import jvp

    with pytest.raises(ZeroDivisionError, match=r"jvp through sqrt\(0\.0\)"):
        jvp(lambda x: x.sqrt(), [0.0], [1.0])
