"""The ops against PyTorch float64, first and second derivatives at random points.

PyTorch is a peer, not a dependency: this module is skipped where it is not installed
(every op is also checked against finite differences in test_ops.py, everywhere).
"""

import math

import numpy as np
import pytest

from autograd import Value, atan2, grad, maximum, minimum

torch = pytest.importorskip("torch")

# (name, chainrule function of Values, torch function of tensors, sampler of one point)
CASES = [
    ("tan", lambda x: x.tan(), torch.tan, lambda r: r.uniform(-1.3, 1.3)),
    ("asin", lambda x: x.asin(), torch.asin, lambda r: r.uniform(-0.95, 0.95)),
    ("acos", lambda x: x.acos(), torch.acos, lambda r: r.uniform(-0.95, 0.95)),
    ("atan", lambda x: x.atan(), torch.atan, lambda r: r.uniform(-5, 5)),
    ("sinh", lambda x: x.sinh(), torch.sinh, lambda r: r.uniform(-4, 4)),
    ("cosh", lambda x: x.cosh(), torch.cosh, lambda r: r.uniform(-4, 4)),
    ("log1p", lambda x: x.log1p(), torch.log1p, lambda r: r.uniform(-0.9, 5)),
    ("expm1", lambda x: x.expm1(), torch.expm1, lambda r: r.uniform(-5, 3)),
    ("atan2", lambda x: atan2(x, 1.5 - x * x), lambda x: torch.atan2(x, 1.5 - x * x),
     lambda r: r.uniform(-2, 2)),
    ("mod", lambda x: (3.0 * x) % (x + 2.5), lambda x: torch.remainder(3.0 * x, x + 2.5),
     lambda r: r.uniform(-2, 2)),
    ("maximum", lambda x: maximum(x.sin(), x * 0.5), lambda x: torch.maximum(x.sin(), x * 0.5),
     lambda r: r.uniform(-3, 3)),
    ("minimum", lambda x: minimum(x.cos(), x * x), lambda x: torch.minimum(x.cos(), x * x),
     lambda r: r.uniform(-3, 3)),
]


def torch_derivatives(f, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = f(t)
    (first,) = torch.autograd.grad(y, t, create_graph=True)
    (second,) = torch.autograd.grad(first, t, allow_unused=True)
    return y.item(), first.item(), 0.0 if second is None else second.item()


@pytest.mark.parametrize("name, ours, theirs, sample", CASES, ids=[c[0] for c in CASES])
def test_first_and_second_derivatives_match_pytorch(name, ours, theirs, sample):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    for _ in range(20):
        x = float(sample(rng))
        value, first, second = torch_derivatives(theirs, x)
        assert ours(Value(x)).data == pytest.approx(value, rel=1e-12, abs=1e-14)
        assert grad(ours)(x) == pytest.approx(first, rel=1e-10, abs=1e-12), x
        assert grad(grad(ours))(x) == pytest.approx(second, rel=1e-9, abs=1e-10), x


def test_ties_match_pytorch():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    torch.maximum(a, b).backward()
    assert grad(lambda p, q: maximum(p, q), argnums=(0, 1))(2.0, 2.0) == (a.grad.item(),
                                                                          b.grad.item())
    assert math.isclose(torch.log1p(torch.tensor(1e-20, dtype=torch.float64)).item(),
                        Value(1e-20).log1p().data)


def test_hessian_jacobian_and_jvp_match_torch_autograd_functional():
    from autograd import exp, hessian, jacobian, jvp, log1p, sin, tanh

    functional = torch.autograd.functional
    x = [0.4, -1.1, 0.7]

    def ours_f(v):
        return v[0] * v[1] * v[1] + sin(v[2] * v[0]) + log1p(v[1] * v[1])

    def theirs_f(v):
        return v[0] * v[1] * v[1] + torch.sin(v[2] * v[0]) + torch.log1p(v[1] * v[1])

    def ours_g(v):
        return [tanh(v[0] * v[1]), exp(v[2]) - v[0], v[1] ** 3]

    def theirs_g(v):
        return torch.stack([torch.tanh(v[0] * v[1]), torch.exp(v[2]) - v[0], v[1] ** 3])

    t = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(hessian(ours_f)(x), functional.hessian(theirs_f, t).numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jacobian(ours_g)(x), functional.jacobian(theirs_g, t).numpy(),
                               rtol=1e-12, atol=1e-14)
    direction = [0.3, -2.0, 0.5]
    _, theirs = functional.jvp(theirs_g, t, torch.tensor(direction, dtype=torch.float64))
    _, ours = jvp(ours_g, [x], [direction])
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)
