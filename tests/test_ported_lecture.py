"""The micrograd lecture, ported onto chainrule: the cells a student runs, as tests.

Source: Andrej Karpathy, "Neural Networks: Zero to Hero",
https://github.com/karpathy/nn-zero-to-hero, files
lectures/micrograd/micrograd_lecture_first_half_roughly.ipynb ("first half") and
lectures/micrograd/micrograd_lecture_second_half_roughly.ipynb ("second half").
MIT licence, Copyright (c) 2022 Andrej Karpathy. Cells are cited by their 0-based index
in the .ipynb. The folder holds no exercise notebook.

Expected numbers are the outputs stored in those notebooks (what they printed, and the
"{ label | data | grad }" records of the graphs they drew, read from the SVGs saved in
the .ipynb), micrograd's own engine run here, or PyTorch float64 where marked -- never
chainrule itself.
"""

# CHANGES FROM THE ORIGINAL:
# 1. The notebook's own `class Value` (cell 7) is not typed in: `from autograd import Value`
#    replaces it. Its constructor calls (`Value(2.0, label='a')`), `_prev`, `_op`,
#    `_backward()`, `backward()`, `tanh()`, `exp()`, `**` carry over unchanged.
# For the tests only (not needed to run the cells on chainrule):
# 2. `import torch` (second half, cell 12) is `pytest.importorskip("torch")` inside the tests
#    that compare with PyTorch.
# 3. `random.seed(1337)` before the MLP cells (the notebook's draws were unseeded), and
#    `print(...)` / bare expressions become asserts against the printed numbers.
# 4. `draw_dot` (cell 8) is unchanged; the tests read the records of the Digraph it builds
#    instead of rendering it.
#
# DIFFERENCES YOU WILL SEE (no line changes for them):
# - chainrule has native '-' and '/' nodes: `e - 1` is ONE node with `_op == '-'`, where the
#   lecture's Value makes `e + (-1)`, and `a / b` is ONE '/' node, where the lecture makes
#   `a * b**-1` (a '**-1' node and a '*' node). The graph of second half, cell 11 has 17
#   Value nodes here and 18 in the notebook.
# - A number used in an operation (the 1 in `e + 1`) becomes a constant node whose grad stays
#   0.0; the lecture's Value gives such a node a gradient like any leaf.
# - `o.data` is math.tanh's, 0.7071067811865477; the notebook's formula
#   (exp(2x) - 1) / (exp(2x) + 1) printed 0.7071067811865476 (one unit in the last place).
#
# The lecture's cells keep their two-space indentation and `a = ...; a.label = ...` lines:
# ruff: noqa: E702

import math
import random
from collections import Counter

import numpy as np
import pytest
from drawing_reader import drawing
from graphviz import Digraph

from autograd import Value

# -- cell 8 (both halves): trace and draw_dot, typed as in the lecture ----------------------


def trace(root):
  # builds a set of all nodes and edges in a graph
  nodes, edges = set(), set()
  def build(v):
    if v not in nodes:
      nodes.add(v)
      for child in v._prev:
        edges.add((child, v))
        build(child)
  build(root)
  return nodes, edges


def draw_dot(root):
  dot = Digraph(format='svg', graph_attr={'rankdir': 'LR'}) # LR = left to right

  nodes, edges = trace(root)
  for n in nodes:
    uid = str(id(n))
    # for any value in the graph, create a rectangular ('record') node for it
    dot.node(name = uid, label = "{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad), shape='record')  # noqa: E501, UP031
    if n._op:
      # if this value is a result of some operation, create an op node for it
      dot.node(name = uid + n._op, label = n._op)
      # and connect this node to it
      dot.edge(uid + n._op, uid)

  for n1, n2 in edges:
    # connect n1 to the op node of n2
    dot.edge(str(id(n1)), str(id(n2)) + n2._op)

  return dot


def approx(x, rel=1e-12):
    return pytest.approx(x, rel=rel, abs=1e-15)


# -- first half, cells 1-6: derivatives by nudging, now with Values -------------------------


def f(x):
  return 3*x**2 - 4*x + 5


def test_first_half_nudged_slopes():
    # cell 2: f(3.0) printed 20.0
    assert f(Value(3.0)).data == 20.0

    # cell 4 printed 2.999378523327323e-06. The difference of two nearly equal numbers: one
    # unit in the last place of f(x) moves it by 1.5e-4 relative, hence the tolerance.
    h = 0.000001
    x = Value(2/3)
    assert ((f(x + h) - f(x))/h).data == pytest.approx(2.999378523327323e-06, rel=1e-3)

    # cell 6
    h = 0.0001

    # inputs
    a = Value(2.0)
    b = Value(-3.0)
    c = Value(10.0)

    d1 = a*b + c
    c += h
    d2 = a*b + c

    assert d1.data == 4.0  # printed 'd1 4.0'
    assert d2.data == pytest.approx(4.0001, rel=1e-15)  # printed 'd2 4.0001'
    assert ((d2 - d1)/h).data == pytest.approx(0.9999999999976694, rel=1e-9)  # 'slope ...'


def test_first_half_derivative_of_f_against_micrograd():
    # f'(3) = 6*3 - 4 = 14, derived in the lecture; the reference is micrograd's engine
    from micrograd.engine import Value as MGValue

    x, mx = Value(3.0), MGValue(3.0)
    f(x).backward()
    f(mx).backward()
    assert x.grad == mx.grad == 14.0


# -- first half, cells 7, 9, 10: L = (a*b + c) * f -------------------------------------------


def build_L():
    a = Value(2.0, label='a')
    b = Value(-3.0, label='b')
    c = Value(10.0, label='c')
    e = a*b; e.label = 'e'
    d = e + c; d.label = 'd'
    f = Value(-2.0, label='f')
    L = d * f; L.label = 'L'
    return a, b, c, e, d, f, L


def test_first_half_expression_graph_and_backward():
    a, b, c, e, d, f, L = build_L()
    assert L.data == -8.0  # cell 7 printed Value(data=-8.0)

    nodes, edges = trace(L)
    assert len(nodes) == 7 and len(edges) == 6
    assert {v.label: v._op for v in nodes} == {
        'a': '', 'b': '', 'c': '', 'f': '', 'e': '*', 'd': '+', 'L': '*'}
    assert L._prev == {d, f} and d._prev == {e, c} and e._prev == {a, b}
    assert (e, d) in edges and (d, L) in edges and (L, d) not in edges

    L.backward()
    # cell 9's drawing, as saved in the notebook (10 graphviz nodes: 7 records + 3 ops)
    records, ops, n_edges = drawing(draw_dot(L))
    assert records == Counter([
        '{ L | data -8.0000 | grad 1.0000 }',
        '{ a | data 2.0000 | grad 6.0000 }',
        '{ b | data -3.0000 | grad -4.0000 }',
        '{ c | data 10.0000 | grad -2.0000 }',
        '{ d | data 4.0000 | grad -2.0000 }',
        '{ e | data -6.0000 | grad -2.0000 }',
        '{ f | data -2.0000 | grad 4.0000 }',
    ])
    assert ops == Counter({'*': 2, '+': 1})
    assert n_edges == 9

    # cell 10: one step along the gradient
    a.data += 0.01 * a.grad
    b.data += 0.01 * b.grad
    c.data += 0.01 * c.grad
    f.data += 0.01 * f.grad

    e = a * b
    d = e + c
    L = d * f

    assert L.data == approx(-7.286496)  # printed -7.286496


def test_first_half_lol_numerical_gradient():
    # cell 11: the slope of L with respect to b by nudging b
    def lol():

      h = 0.001

      a = Value(2.0, label='a')
      b = Value(-3.0, label='b')
      c = Value(10.0, label='c')
      e = a*b; e.label = 'e'
      d = e + c; d.label = 'd'
      f = Value(-2.0, label='f')
      L = d * f; L.label = 'L'
      L1 = L.data

      a = Value(2.0, label='a')
      b = Value(-3.0, label='b')
      b.data += h
      c = Value(10.0, label='c')
      e = a*b; e.label = 'e'
      d = e + c; d.label = 'd'
      f = Value(-2.0, label='f')
      L = d * f; L.label = 'L'
      L2 = L.data

      return (L2 - L1)/h  # the cell prints it

    assert lol() == pytest.approx(-3.9999999999995595, rel=1e-9)  # printed


# -- the neuron: first half cells 13-30, second half cells 9-11 -----------------------------


def build_neuron():
    # inputs x1,x2
    x1 = Value(2.0, label='x1')
    x2 = Value(0.0, label='x2')
    # weights w1,w2
    w1 = Value(-3.0, label='w1')
    w2 = Value(1.0, label='w2')
    # bias of the neuron
    b = Value(6.8813735870195432, label='b')
    # x1*w1 + x2*w2 + b
    x1w1 = x1*w1; x1w1.label = 'x1*w1'
    x2w2 = x2*w2; x2w2.label = 'x2*w2'
    x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = 'x1*w1 + x2*w2'
    n = x1w1x2w2 + b; n.label = 'n'
    return x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n


# the drawing of the neuron after backpropagation, as saved in first half cell 14 and second
# half cell 10 (15 graphviz nodes: 10 records + 5 ops, 14 edges)
NEURON_RECORDS = Counter([
    '{ b | data 6.8814 | grad 0.5000 }',
    '{ n | data 0.8814 | grad 0.5000 }',
    '{ o | data 0.7071 | grad 1.0000 }',
    '{ w1 | data -3.0000 | grad 1.0000 }',
    '{ w2 | data 1.0000 | grad 0.0000 }',
    '{ x1 | data 2.0000 | grad -1.5000 }',
    '{ x1*w1 + x2*w2 | data -6.0000 | grad 0.5000 }',
    '{ x1*w1 | data -6.0000 | grad 0.5000 }',
    '{ x2 | data 0.0000 | grad 0.5000 }',
    '{ x2*w2 | data 0.0000 | grad 0.5000 }',
])


def test_first_half_neuron_topological_order():
    *_, n = build_neuron()
    o = n.tanh(); o.label = 'o'

    # cell 16
    topo = []
    visited = set()
    def build_topo(v):
      if v not in visited:
        visited.add(v)
        for child in v._prev:
          build_topo(child)
        topo.append(v)
    build_topo(o)

    # the printed list (its order follows set iteration, so only the numbers are compared)
    printed = [6.881373587019543, 2.0, -3.0, -6.0, 0.0, 1.0, 0.0, -6.0, 0.8813735870195432,
               0.7071067811865476]
    assert sorted(v.data for v in topo) == [approx(x) for x in sorted(printed)]
    assert topo[-1] is o and len(topo) == 10
    for i, v in enumerate(topo):  # each node comes after the nodes it was made from
        assert all(topo.index(child) < i for child in v._prev)


def test_first_half_neuron_backward_by_hand_with_underscore_backward():
    x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = build_neuron()
    o = n.tanh(); o.label = 'o'
    assert o._op == 'tanh' and n._op == '+' and x1w1._op == '*' and b._op == ''

    # cells 17-22, in the order the lecture ran them
    o.grad = 1.0
    o._backward()
    n._backward()
    b._backward()  # a leaf: nothing to do
    x1w1x2w2._backward()
    x2w2._backward()
    x1w1._backward()

    records, ops, n_edges = drawing(draw_dot(o))
    assert records == NEURON_RECORDS
    assert ops == Counter({'*': 2, '+': 2, 'tanh': 1})
    assert n_edges == 14
    assert o.data == approx(0.7071067811865476)  # cell 16's printout
    assert x1.grad == approx(-1.5) and w1.grad == approx(1.0)
    assert x2.grad == approx(0.5) and w2.grad == 0.0


def test_first_half_neuron_chain_rule_by_hand_agrees_with_backward():
    x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = build_neuron()
    o = n.tanh(); o.label = 'o'

    # cells 28 up to 23, in the order the lecture ran them (execution counts 187-200)
    o.grad = 1.0
    assert 1 - o.data**2 == approx(0.4999999999999999)  # cell 29 printed it
    n.grad = 0.5
    x1w1x2w2.grad = 0.5
    b.grad = 0.5
    x1w1.grad = 0.5
    x2w2.grad = 0.5
    x2.grad = w2.data * x2w2.grad
    w2.grad = x2.data * x2w2.grad
    x1.grad = w1.data * x1w1.grad
    w1.grad = x1.data * x1w1.grad
    by_hand = {v.label: v.grad for v in trace(o)[0]}

    # the same graph again, this time backpropagated by chainrule
    x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = build_neuron()
    o = n.tanh(); o.label = 'o'
    o.backward()
    by_backward = {v.label: v.grad for v in trace(o)[0]}

    assert by_backward.keys() == by_hand.keys()
    for label, grad in by_hand.items():
        assert by_backward[label] == approx(grad, rel=1e-9), label


def test_second_half_neuron_backward_and_drawing():
    # second half, cells 9-10
    *_, n = build_neuron()
    o = n.tanh(); o.label = 'o'
    o.backward()
    records, ops, n_edges = drawing(draw_dot(o))
    assert records == NEURON_RECORDS
    assert ops == Counter({'*': 2, '+': 2, 'tanh': 1})
    assert n_edges == 14


def test_second_half_tanh_written_with_exp():
    # second half, cell 11
    *_, n = build_neuron()
    # ----
    e = (2*n).exp()
    o = (e - 1) / (e + 1)
    # ----
    o.label = 'o'
    o.backward()

    records, ops, n_edges = drawing(draw_dot(o))
    # The notebook's drawing (18 records), less what only the lecture's Value makes: the
    # '**-1' node of the division, the constant -1 of `e + (-1)`, and constants that carry
    # a gradient.
    in_both = Counter([
        '{  | data 1.7627 | grad 0.2500 }',  # 2*n
        '{  | data 4.8284 | grad 0.1464 }',  # e - 1
        '{  | data 5.8284 | grad 0.0429 }',  # e
        '{  | data 6.8284 | grad -0.1036 }',  # e + 1
    ]) + NEURON_RECORDS
    only_in_notebook = Counter([
        '{  | data -1.0000 | grad 0.1464 }',  # the -1 of e + (-1)
        '{  | data 0.1464 | grad 4.8284 }',  # (e + 1)**-1
        '{  | data 1.0000 | grad -0.1036 }',  # the 1 of e + 1
        '{  | data 2.0000 | grad 0.2203 }',  # the 2 of 2*n
    ])
    only_in_chainrule = Counter([
        '{  | data 2.0000 | grad 0.0000 }',  # the 2 of 2*n, a constant
        '{  | data 1.0000 | grad 0.0000 }',  # the 1 of e - 1, a constant
        '{  | data 1.0000 | grad 0.0000 }',  # the 1 of e + 1, a constant
    ])
    assert sum((in_both + only_in_notebook).values()) == 18  # the notebook's count
    assert records == in_both + only_in_chainrule  # 17 Value nodes
    # op nodes: the notebook has {'*': 4, '+': 4, '**-1': 1, 'exp': 1}
    assert ops == Counter({'*': 3, '+': 3, 'exp': 1, '-': 1, '/': 1})
    assert n_edges == 17 + 9  # the notebook's drawing: 28 (18 + 10)
    assert o._op == '/' and e._op == 'exp'
    num, den = sorted(o._prev, key=lambda v: v.data)  # e - 1 and e + 1
    assert (num._op, den._op) == ('-', '+')
    assert e in num._prev and e in den._prev and len(num._prev) == len(den._prev) == 2
    assert {v.data for v in num._prev | den._prev} == {e.data, 1.0}  # e and the constants


# -- first half, cells 31-32: a variable used twice ---------------------------------------------


def test_first_half_gradients_accumulate_when_a_variable_is_used_twice():
    # cell 31: the bug the lecture fixes (`=` instead of `+=` in _backward) gave a.grad 1.0
    a = Value(3.0, label='a')
    b = a + a   ; b.label = 'b'
    b.backward()
    records, ops, n_edges = drawing(draw_dot(b))
    assert records == Counter(['{ a | data 3.0000 | grad 2.0000 }',
                               '{ b | data 6.0000 | grad 1.0000 }'])
    assert ops == Counter({'+': 1}) and n_edges == 2  # one a -> + edge: _prev is a set
    assert b._prev == {a}
    assert a.grad == 2.0

    # cell 32
    a = Value(-2.0, label='a')
    b = Value(3.0, label='b')
    d = a * b    ; d.label = 'd'
    e = a + b    ; e.label = 'e'
    f = d * e    ; f.label = 'f'

    f.backward()

    records, ops, n_edges = drawing(draw_dot(f))
    assert records == Counter([
        '{ a | data -2.0000 | grad -3.0000 }',
        '{ b | data 3.0000 | grad -8.0000 }',
        '{ d | data -6.0000 | grad 1.0000 }',
        '{ e | data 1.0000 | grad -6.0000 }',
        '{ f | data -6.0000 | grad 1.0000 }',
    ])
    assert ops == Counter({'*': 2, '+': 1}) and n_edges == 9
    assert (a.grad, b.grad) == (-3.0, -8.0)


# -- second half, cells 12-13: the same neuron in PyTorch ------------------------------------

# cell 13's printout. torch.Tensor([...]) is float32, so b became 6.881373405456543 before
# .double(); that is why o is 0.70710669..., not 0.70710678...
TORCH_PRINTOUT = {'o': 0.7071066904050358, 'x2': 0.5000001283844369, 'w2': 0.0,
                  'x1': -1.5000003851533106, 'w1': 1.0000002567688737}


def test_second_half_pytorch_cell_printout():
    # the cell's inputs as PyTorch held them (float32, then double), in chainrule
    x1 = Value(2.0); x2 = Value(0.0); w1 = Value(-3.0); w2 = Value(1.0)
    b = Value(float(np.float32(6.8813735870195432)))
    n = x1*w1 + x2*w2 + b
    o = n.tanh()
    o.backward()
    got = {'o': o.data, 'x2': x2.grad, 'w2': w2.grad, 'x1': x1.grad, 'w1': w1.grad}
    assert got == {k: approx(v) for k, v in TORCH_PRINTOUT.items()}


def test_second_half_pytorch_cell_against_torch():
    torch = pytest.importorskip("torch")

    # cell 13, as in the notebook
    x1 = torch.Tensor([2.0]).double()                ; x1.requires_grad = True
    x2 = torch.Tensor([0.0]).double()                ; x2.requires_grad = True
    w1 = torch.Tensor([-3.0]).double()               ; w1.requires_grad = True
    w2 = torch.Tensor([1.0]).double()                ; w2.requires_grad = True
    b = torch.Tensor([6.8813735870195432]).double()  ; b.requires_grad = True
    n = x1*w1 + x2*w2 + b
    o = torch.tanh(n)
    o.backward()
    ran = {'o': o.data.item(), 'x2': x2.grad.item(), 'w2': w2.grad.item(),
           'x1': x1.grad.item(), 'w1': w1.grad.item()}
    assert ran == {k: approx(v) for k, v in TORCH_PRINTOUT.items()}

    # and in true float64 on both sides, the lecture's Value inputs
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         {'x1': 2.0, 'x2': 0.0, 'w1': -3.0, 'w2': 1.0, 'b': 6.8813735870195432}.items()}
    to = torch.tanh(t['x1']*t['w1'] + t['x2']*t['w2'] + t['b'])
    to.backward()
    x1, x2, w1, w2, b, *_, n = build_neuron()
    o = n.tanh()
    o.backward()
    assert o.data == approx(to.item())
    for name, v in {'x1': x1, 'x2': x2, 'w1': w1, 'w2': w2, 'b': b}.items():
        assert v.grad == approx(t[name].grad.item()), name


# -- second half, cells 14-18: Neuron, Layer, MLP and the training loop -------------------------


class Neuron:

  def __init__(self, nin):
    self.w = [Value(random.uniform(-1,1)) for _ in range(nin)]
    self.b = Value(random.uniform(-1,1))

  def __call__(self, x):
    # w * x + b
    act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b)
    out = act.tanh()
    return out

  def parameters(self):
    return self.w + [self.b]

class Layer:

  def __init__(self, nin, nout):
    self.neurons = [Neuron(nin) for _ in range(nout)]

  def __call__(self, x):
    outs = [n(x) for n in self.neurons]
    return outs[0] if len(outs) == 1 else outs

  def parameters(self):
    return [p for neuron in self.neurons for p in neuron.parameters()]

class MLP:

  def __init__(self, nin, nouts):
    sz = [nin] + nouts
    self.layers = [Layer(sz[i], sz[i+1]) for i in range(len(nouts))]

  def __call__(self, x):
    for layer in self.layers:
      x = layer(x)
    return x

  def parameters(self):
    return [p for layer in self.layers for p in layer.parameters()]


xs = [
  [2.0, 3.0, -1.0],
  [3.0, -1.0, 0.5],
  [0.5, 1.0, 1.0],
  [1.0, 1.0, -1.0],
]
ys = [1.0, -1.0, -1.0, 1.0] # desired targets


def torch_copy(n, torch):
    """The lecture MLP's weights as float64 tensors, layer by layer: (W, b) per layer."""
    return [(torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons],
                          dtype=torch.float64, requires_grad=True),
             torch.tensor([neuron.b.data for neuron in layer.neurons],
                          dtype=torch.float64, requires_grad=True))
            for layer in n.layers]


def torch_forward(layers, x, torch):
    h = torch.tensor(x, dtype=torch.float64)
    for W, b in layers:
        h = torch.tanh(W @ h + b)
    return h[0]


def lecture_parameter_count(n):
    return sum(len(neuron.w) + 1 for layer in n.layers for neuron in layer.neurons)


def test_second_half_mlp_forward_and_gradients_against_torch():
    torch = pytest.importorskip("torch")
    random.seed(1337)
    # cell 15
    x = [2.0, 3.0, -1.0]
    n = MLP(3, [4, 4, 1])
    out = n(x)
    assert isinstance(out, Value) and len(n.parameters()) == 41

    layers = torch_copy(n, torch)
    tout = torch_forward(layers, x, torch)
    assert out.data == approx(tout.item(), rel=1e-12)

    out.backward()
    tout.backward()
    torch_grads = [g for W, b in layers
                   for row, gb in zip(W.grad.tolist(), b.grad.tolist()) for g in row + [gb]]
    assert [p.grad for p in n.parameters()] == [approx(g, rel=1e-9) for g in torch_grads]


def test_second_half_training_loop_against_torch():
    torch = pytest.importorskip("torch")
    random.seed(1337)
    n = MLP(3, [4, 4, 1])
    layers = torch_copy(n, torch)
    tparams = [t for pair in layers for t in pair]

    losses, torch_losses = [], []
    # cell 17
    for k in range(20):

      # forward pass
      ypred = [n(x) for x in xs]
      loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))

      # backward pass
      for p in n.parameters():
        p.grad = 0.0
      loss.backward()

      # update
      for p in n.parameters():
        p.data += -0.1 * p.grad

      losses.append((k, loss.data))  # the cell prints k, loss.data

      # the same step in PyTorch float64
      tloss = sum((torch_forward(layers, x, torch) - ygt)**2 for ygt, x in zip(ys, xs))
      for t in tparams:
          t.grad = None
      tloss.backward()
      with torch.no_grad():
          for t in tparams:
              t += -0.1 * t.grad
      torch_losses.append(tloss.item())

    assert losses == [(k, approx(v, rel=1e-9)) for k, v in enumerate(torch_losses)]
    final = [p.data for p in n.parameters()]
    torch_final = [v for W, b in layers for row, vb in zip(W.tolist(), b.tolist())
                   for v in row + [vb]]
    assert final == [approx(v, rel=1e-9) for v in torch_final]


def test_second_half_training_loop_learns_and_its_last_printout():
    random.seed(1337)
    n = MLP(3, [4, 4, 1])
    assert lecture_parameter_count(n) == len(n.parameters()) == 41
    printed = []
    for k in range(20):
      ypred = [n(x) for x in xs]
      loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))
      for p in n.parameters():
        p.grad = 0.0
      loss.backward()
      for p in n.parameters():
        p.data += -0.1 * p.grad
      printed.append((k, loss.data))
    assert printed[-1][1] < printed[0][1] / 4
    assert all((y.data > 0) == (t > 0) for y, t in zip(ypred, ys))

    # cell 18 printed the predictions of the notebook's last step (19), and cell 17 printed
    # that step's loss: the lecture's loss expression on those numbers gives that loss
    ypred = [Value(0.9817830812439714), Value(-0.9863881624765284),
             Value(-0.9766534529377958), Value(0.9729591216966093)]
    loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))
    assert loss.data == approx(0.0017934086088756394)  # printed '19 0.0017934086088756394'
    loss.backward()
    assert [y.grad for y in ypred] == [approx(2 * (y.data - t)) for y, t in zip(ypred, ys)]
    assert math.isclose(sum(y.grad for y in ypred), 2 * sum(y.data - t for y, t in
                                                           zip(ypred, ys)), rel_tol=1e-12)
