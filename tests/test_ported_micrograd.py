"""micrograd's notebooks, ported onto chainrule: trace_graph.ipynb and demo.ipynb, as tests.

Source: Andrej Karpathy, micrograd, https://github.com/karpathy/micrograd, files
trace_graph.ipynb (its graph drawing, with the rendered gout.svg it saved) and demo.ipynb
(the moons classifier and its printed training log), and micrograd/nn.py for the Neuron
of trace_graph's cell 4. MIT licence, Copyright (c) 2020 Andrej Karpathy. Cells are cited by
their 0-based index in the .ipynb.

Expected numbers come from the outputs stored in the repository (demo.ipynb's printout,
gout.svg) or from micrograd's own engine (pip package micrograd 0.1.0) run in the test --
never from chainrule itself. tests/test_habits.py runs the demo verbatim on chainrule's own
make_moons; here it is run on the demo's exact data, against its printout and micrograd.
"""

# CHANGES FROM THE ORIGINAL:
# 1. trace_graph.ipynb cell 1 and demo.ipynb cell 2: `from micrograd.engine import Value`
#    -> `from autograd import Value`.
# 2. demo.ipynb cell 2: `from micrograd.nn import Neuron, Layer, MLP` -> `from nn import MLP`.
# 3. trace_graph.ipynb cell 4: `from micrograd import nn` / `nn.Neuron(2)` -> micrograd's
#    Neuron class (micrograd/nn.py, 20 lines) typed in below on chainrule's Value. chainrule's
#    own Neuron computes w.x + b as one fused 'dot' node, not the '*' and '+' nodes the cell
#    draws (so with it the cell runs, but draws a different graph).
# For the tests only (not needed to run the notebooks on chainrule):
# 4. demo.ipynb cell 4: `from sklearn.datasets import make_moons` -> `sklearn_make_moons`
#    below, which draws scikit-learn's numbers (scikit-learn is not installed here; chainrule's
#    own `nn.data.make_moons` makes a different, equally valid data set).
# 5. demo.ipynb cell 5: `model = MLP(2, [16, 16, 1])` is followed by a copy of the weights of
#    micrograd's `MLP(2, [16, 16, 1])` drawn after the same `random.seed(1337)`: chainrule's
#    MLP draws its initial weights from numpy, micrograd's from `random`. (`float(q.data)`:
#    micrograd's biases start as the int 0, see the note below.)
# 6. `dot.render('gout')` and `print(...)` -> asserts against gout.svg and the printout.
#
# DIFFERENCES YOU WILL SEE (no line changes for them):
# - A number used in an operation (the 2 in `x * 2`) is a constant node here whose grad stays
#   0.0; micrograd gives it a gradient like any leaf (in cell 3, 1.0 for the 2 and the 1).
# - chainrule's MLP computes each neuron's w.x + b as one 'dot' node (micrograd: n '*' nodes
#   and n '+' nodes), so sums are rounded in another order: the losses agree with micrograd's
#   to about 1e-14, not bit for bit.
# - `p.data = 0` (an int) then `p * 2.0` raises "TypeError: descriptor '__mul__' requires a
#   'float' object but received a 'int'": keep .data a float (reported to chainrule).

import random
from collections import Counter

import numpy as np
import pytest
from drawing_reader import drawing
from graphviz import Digraph
from micrograd import nn as mgnn
from micrograd.engine import Value as MGValue

from autograd import Value
from nn import MLP

# -- trace_graph.ipynb, cell 2 ----------------------------------------------------------------


def trace(root):
    nodes, edges = set(), set()
    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)
    build(root)
    return nodes, edges

def draw_dot(root, format='svg', rankdir='LR'):
    """
    format: png | svg | ...
    rankdir: TB (top to bottom graph) | LR (left to right)
    """
    assert rankdir in ['LR', 'TB']
    nodes, edges = trace(root)
    dot = Digraph(format=format, graph_attr={'rankdir': rankdir}) #, node_attr={'rankdir': 'TB'})

    for n in nodes:
        dot.node(name=str(id(n)), label = "{ data %.4f | grad %.4f }" % (n.data, n.grad), shape='record')  # noqa: E501, UP031
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))

    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)

    return dot


# -- micrograd/nn.py's Neuron, on chainrule's Value (for trace_graph's cell 4) -----------------


class Module:

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []

class Neuron(Module):

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1,1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi*xi for wi,xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


# -- trace_graph.ipynb, cell 3 ----------------------------------------------------------------


def test_trace_graph_very_simple_example():
    # a very simple example
    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    dot = draw_dot(y)

    nodes, edges = trace(y)
    assert len(nodes) == 6 and len(edges) == 5  # x, 2, x*2, 1, x*2 + 1, relu
    assert Counter(v._op for v in nodes) == Counter({'': 3, '*': 1, '+': 1, 'ReLU': 1})
    assert y._op == 'ReLU' and x._op == ''
    (s,) = y._prev
    assert s._op == '+' and x in {v for p in s._prev for v in p._prev}
    assert x.grad == 2.0 and y.data == 3.0

    # the same cell on micrograd's engine: the same nodes, numbers and drawing, but for the
    # gradient of the constants 2 and 1 (micrograd: 1.0 each; chainrule: 0.0)
    mx = MGValue(1.0)
    my = (mx * 2 + 1).relu()
    my.backward()
    mg_nodes, mg_edges = trace(my)
    assert len(mg_nodes) == len(nodes) and len(mg_edges) == len(edges)
    assert Counter(v._op for v in mg_nodes) == Counter(v._op for v in nodes)
    assert sorted(v.data for v in mg_nodes) == sorted(v.data for v in nodes)
    records, ops, n_edges = drawing(dot)
    mg_records, mg_ops, mg_n_edges = drawing(draw_dot(my))
    constants = Counter(['{ data 2.0000 | grad 1.0000 }', '{ data 1.0000 | grad 1.0000 }'])
    assert records == mg_records - constants + Counter(['{ data 2.0000 | grad 0.0000 }',
                                                        '{ data 1.0000 | grad 0.0000 }'])
    assert ops == mg_ops == Counter({'*': 1, '+': 1, 'ReLU': 1})
    assert n_edges == mg_n_edges == 8


# -- trace_graph.ipynb, cell 4: the drawing saved as gout.svg -------------------------------------

# gout.svg's records: 10 Values (15 graphviz nodes with the 5 op nodes, 14 edges)
GOUT_RECORDS = Counter([
    '{ data -0.1331 | grad 1.0000 }',  # w1*x1
    '{ data -2.0000 | grad 0.0665 }',  # x1
    '{ data 0.0000 | grad 1.0000 }',  # b
    '{ data 0.0665 | grad -2.0000 }',  # w1
    '{ data 0.1024 | grad 1.0000 }',  # b + w0*x0 + w1*x1
    '{ data 0.1024 | grad 1.0000 }',  # its relu
    '{ data 0.2355 | grad 1.0000 }',  # w0
    '{ data 0.2355 | grad 1.0000 }',  # w0*x0
    '{ data 0.2355 | grad 1.0000 }',  # b + w0*x0
    '{ data 1.0000 | grad 0.2355 }',  # x0
])


def neuron_example():
    # a simple 2D neuron
    random.seed(1337)
    n = Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()

    dot = draw_dot(y)
    return n, x, y, dot


def test_trace_graph_neuron_matches_gout_svg():
    n, _, y, dot = neuron_example()
    records, ops, n_edges = drawing(dot)
    assert records == GOUT_RECORDS
    assert ops == Counter({'*': 2, '+': 2, 'ReLU': 1})
    assert n_edges == 14
    nodes, edges = trace(y)
    assert len(nodes) == 10 and len(edges) == 9
    assert y._op == 'ReLU' and all(p._op == '' for p in n.parameters())
    assert repr(n) == 'ReLUNeuron(2)'


def test_trace_graph_neuron_against_micrograd():
    n, x, y, dot = neuron_example()
    random.seed(1337)
    mn = mgnn.Neuron(2)
    mx = [MGValue(1.0), MGValue(-2.0)]
    my = mn(mx)
    my.backward()
    assert y.data == pytest.approx(my.data, rel=1e-15)
    assert [p.data for p in n.parameters()] == [p.data for p in mn.parameters()]
    assert [p.grad for p in n.parameters()] == [p.grad for p in mn.parameters()]
    assert [v.grad for v in x] == [v.grad for v in mx]
    assert drawing(dot) == drawing(draw_dot(my))  # no constants here: the same drawing


@pytest.mark.needs_dot
def test_trace_graph_neuron_renders_like_gout_svg():
    *_, dot = neuron_example()
    svg = dot.pipe(format='svg').decode()  # cell 5 renders it to gout.svg
    assert svg.count('class="node"') == 15 and svg.count('class="edge"') == 14


# -- demo.ipynb ---------------------------------------------------------------------------------


def sklearn_make_moons(n_samples=100, noise=None):
    """scikit-learn's make_moons(n_samples, noise), shuffle=True, random_state=None: the
    same numbers from numpy's global RandomState -- first a shuffle of the sample order,
    then the Gaussian noise -- so that demo.ipynb's printout applies."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    if noise is not None:
        X += np.random.normal(scale=noise, size=X.shape)
    return X, y


# demo.ipynb, cell 7's printout: "step k loss L, accuracy A%" for k = 0..99
DEMO_LOSSES = [
    0.8958441028683222, 1.7235905336972022, 0.7429006313851131, 0.7705641260584198,
    0.3692793385976538, 0.313545481918522, 0.2814234349772435, 0.26888733313983904,
    0.2567147286057417, 0.2704862551637922, 0.24507023853658053, 0.2509905529791503,
    0.21560951851922952, 0.23090378446402726, 0.20152151227899445, 0.22574506279282217,
    0.19447987596204114, 0.21089496199246363, 0.159830773563036, 0.1845374874688392,
    0.18977522856087634, 0.19072704042579647, 0.11733695088756485, 0.12173524408232454,
    0.1261571261277045, 0.16049097780801674, 0.18747197705245805, 0.16741837891059408,
    0.09586583491455399, 0.0877878370742091, 0.11731297569011848, 0.09340146460619836,
    0.12454454903103446, 0.07984002652777272, 0.07727519232921673, 0.07661250143094483,
    0.10610492379198365, 0.09062808429265976, 0.10671887043036932, 0.05225659921975849,
    0.06016009895234464, 0.08596724533333942, 0.051121079431796, 0.052401424016428284,
    0.045306841790015734, 0.07211073370655095, 0.03334238651310234, 0.03143222795751122,
    0.03658536747111507, 0.04829139382390309, 0.09875114765619622, 0.05449063965875453,
    0.03392679435708309, 0.05261517263568441, 0.03250295251424923, 0.02888327387207822,
    0.04139151104027239, 0.018987407426128502, 0.0252383352388374, 0.02079656521341895,
    0.0325971115781023, 0.017863351693480307, 0.023008717832211683, 0.022079325463581503,
    0.029432917853529684, 0.01625151464409193, 0.02846853448326446, 0.013994365546208731,
    0.015552344843651405, 0.0338911994616017, 0.014229870065926908, 0.013255281583285504,
    0.012300277590022063, 0.012676052498355976, 0.020593811955954763, 0.011845398205364453,
    0.016012697472883086, 0.025458360239222128, 0.014382930289661911, 0.011698962425817985,
    0.012318500800515763, 0.014121117031464233, 0.011664591962446225, 0.011589314549188726,
    0.010990299347735226, 0.01098922672069161, 0.010988193757655071, 0.010987200447388707,
    0.010986246779084925, 0.010985332742365272, 0.010984458327280174, 0.010983623524308862,
    0.010982828324359073, 0.010982072718767003, 0.010981356699297042, 0.010980680258141723,
    0.010980043387921506, 0.010979446081684675, 0.010978888332907229, 0.010978370135492717,
]
DEMO_ACCURACIES = [  # percent
    50, 81, 77, 82, 84, 86, 89, 91, 91, 91, 91, 92, 91, 93, 92, 93, 92, 93, 94, 93,
    91, 93, 97, 95, 95, 95, 92, 95, 97, 96, 95, 97, 95, 97, 97, 98, 96, 99, 95, 98,
    100, 96, 99, 97, 100, 97, 99, 100, 99, 99, 96, 99, 100, 97, 99, 100, 98, 100, 100, 100,
    99, 100, 100, 100, 99, 100, 99, 100, 100, 99, 100, 100, 100, 100, 100, 100, 100, 100,
    100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
    100, 100, 100, 100,
]


def demo_model():
    """cells 3 and 5: the seeds, the data and the model, with micrograd's initial weights."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = sklearn_make_moons(n_samples=100, noise=0.1)
    y = y*2 - 1 # make y be -1 or 1

    model = MLP(2, [16, 16, 1]) # 2-layer neural network
    reference = mgnn.MLP(2, [16, 16, 1])  # micrograd's, drawn from `random` after the seed
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        p.data = float(q.data)
    assert len(model.parameters()) == 337  # cell 5 printed "number of parameters 337"
    return X, y, model, reference


def test_demo_reproduces_its_printed_training_log():
    X, y, model, _ = demo_model()

    # cell 6: loss function
    def loss(batch_size=None):

        # inline DataLoader :)
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]

        # forward the model to get scores
        scores = list(map(model, inputs))

        # svm "max-margin" loss
        losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum((p*p for p in model.parameters()))  # noqa: UP034
        total_loss = data_loss + reg_loss

        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    total_loss, acc = loss()
    # printed "Value(data=0.8958441028683222, grad=0) 0.5"
    assert total_loss.data == pytest.approx(0.8958441028683222, rel=1e-12) and acc == 0.5

    # cell 7: optimization
    printed = []
    for k in range(100):

        # forward
        total_loss, acc = loss()

        # backward
        model.zero_grad()
        total_loss.backward()

        # update (sgd)
        learning_rate = 1.0 - 0.9*k/100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

        if k % 1 == 0:
            printed.append((k, total_loss.data, acc*100))

    assert printed == [(k, pytest.approx(loss, rel=1e-9), pytest.approx(accuracy))
                       for k, (loss, accuracy) in enumerate(zip(DEMO_LOSSES, DEMO_ACCURACIES))]


def test_demo_step_by_step_against_micrograd():
    """The demo's loop on chainrule and on micrograd's engine side by side, from the same
    weights, on the same minibatches (the demo's loss(batch_size) path, which draws them
    with numpy): the loss at every step and every gradient of the first step agree."""
    X, y, model, reference = demo_model()
    np.random.seed(0)

    def loss(model, Value, Xb, yb):  # cell 6's body, for one engine and one batch
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p*p for p in model.parameters()))  # noqa: UP034
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    steps, batch_size = 15, 10
    for k in range(steps):
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
        total_loss, acc = loss(model, Value, Xb, yb)
        mg_loss, mg_acc = loss(reference, MGValue, Xb, yb)
        assert total_loss.data == pytest.approx(mg_loss.data, rel=1e-9), k
        assert acc == mg_acc

        model.zero_grad()
        total_loss.backward()
        reference.zero_grad()
        mg_loss.backward()
        if k == 0:
            grads = [p.grad for p in model.parameters()]
            assert grads == [pytest.approx(q.grad, rel=1e-9, abs=1e-15)
                             for q in reference.parameters()]
            assert sum(g != 0.0 for g in grads) > 100  # (a test that backpropagates)

        learning_rate = 1.0 - 0.9*k/100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        for p in reference.parameters():
            p.data -= learning_rate * p.grad

    assert [p.data for p in model.parameters()] == [
        pytest.approx(q.data, rel=1e-9, abs=1e-15) for q in reference.parameters()]
