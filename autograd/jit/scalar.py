"""Scalar code generation: the traced graph as straight-line Python, one statement per
node forward and one per edge backward (``d_x = d_x + d_out * local``).

A gradient is accumulated by rebinding its name, never in place (``+=``): the same code
runs on numpy arrays in a batch, where ``d_u = d_v`` (a local derivative of 1) makes two
names share one array, and adding in place to one would change the other. Rebinding
costs nothing on floats and one new array per statement on arrays."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from typing import Any

from ..engine import _CONSTANT, Value, topological_order
from ..ops import CODE_HELPERS, INLINE_CODE
from .trace import JitError

# -- code generation ---------------------------------------------------------------

_IDENTIFIER = re.compile(r"[^0-9A-Za-z]+")


def _safe_name(text: str, taken: set[str]) -> str:
    """An identifier made of letters, digits and underscores only, not yet taken."""
    name = _IDENTIFIER.sub("_", text).strip("_") or "v"
    if (name[0].isdigit() or keyword.iskeyword(name) or name in _RESERVED
            or name.startswith("custom_")):  # (custom ops' helpers are called custom_<k>)
        name = f"v_{name}"
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    taken.add(candidate)
    return candidate


_RESERVED = {*CODE_HELPERS, "sum"}  # names the generated code calls


def _literal(x: float) -> str:
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _ordered(out: Value, recorded: Sequence[Value]) -> tuple[list[Value], set[Value]]:
    """Every node the compiled code runs, in creation order (a topological order), and
    the set of those the result depends on. Nodes f made but dropped run too, forward
    only: their domain checks are part of f."""
    order = topological_order(out)
    reachable = set(order)
    reached = set(order)
    for node in recorded:
        if node not in reached:
            for ancestor in topological_order(node):
                if ancestor not in reached:
                    reached.add(ancestor)
                    order.append(ancestor)
    order.sort(key=lambda node: node._number)
    return order, reachable


def _generate(out: Value, names: list[str], placeholders: list[Any],
              argnums: tuple[int, ...], start: int, recorded: Sequence[Value] = ()) -> str:
    order, reachable = _ordered(out, recorded)
    taken: set[str] = set()
    arg_names = [_safe_name(f"a_{name}", taken) for name in names]
    variable: dict[Value, str] = {}
    unpack = []
    for arg_name, name, ph in zip(arg_names, names, placeholders):
        if not isinstance(ph, (list, Value)):
            unpack.append(f"    # {arg_name}: static, its value is part of this trace")
        elif isinstance(ph, list):
            elements = [_safe_name(f"{name}_{j}", taken) for j in range(len(ph))]
            variable.update(zip(ph, elements))
            if elements:
                comma = "," if len(elements) == 1 else ""
                unpack.append(f"    {', '.join(elements)}{comma} = {arg_name}")
        else:
            variable[ph] = _safe_name(name, taken)
            unpack.append(f"    {variable[ph]} = {arg_name}")
    for node in order:
        if node._parents or node in variable:
            continue
        if node._operation is not _CONSTANT and node._number < start:
            raise JitError(
                f"jit: f uses a Value that is not one of its arguments ({node!r}) and not "
                "a declared parameter; its number would be frozen into the compiled code. "
                "Declare a model's parameters: jit(f, params=model.parameters()) reads "
                "their current .data on every call and adds to their .grad, as backward() "
                "does. (Or pass such Values to f as an argument, as a list of floats.)"
            )
    # interior nodes: labels where they are usable names, else v<k>
    count = 0
    for node in order:
        if node._parents:
            if node.label:
                variable[node] = _safe_name(node.label, taken)
            else:
                variable[node] = _safe_name(f"v{count}", taken)
                count += 1

    def ref(node: Value) -> str:
        return variable[node] if node in variable else _literal(node.data)

    forward, local_code = [], {}
    for node in order:
        if not node._parents:
            continue
        inputs = [ref(p) for p in node._parents]
        code = node._operation.code
        if callable(code):
            fwd, locals_ = code(inputs, variable[node])
        else:
            template, local_templates = code
            fwd = template.format(*inputs, out=variable[node])
            locals_ = [t.format(*inputs, out=variable[node]) for t in local_templates]
        forward.append(f"    {variable[node]} = {fwd}  # {node._operation.name}")
        local_code[node] = locals_

    grad_name: dict[Value, str] = {}
    backward = []
    if out._parents:
        grad_name[out] = _safe_name(f"d_{variable[out]}", taken)
        backward.append(f"    {grad_name[out]} = 1.0")
    for node in reversed(order):
        if not node._parents or node not in grad_name:
            continue  # a leaf, or no gradient reaches it (every path had a 0 factor)
        g = grad_name[node]
        for parent, local in zip(node._parents, local_code[node]):
            if parent._operation is _CONSTANT or local == "0.0":
                continue  # a constant's derivative is never used (nor checked), as in eager
            term = _term(g, local)
            if parent in grad_name:  # (rebound, not +=: see the module docstring)
                backward.append(f"    {grad_name[parent]} = {grad_name[parent]} + {term}")
            else:  # (a leaf made inside f is a number in the code, but eager checks its
                # gradient too: it gets one, never returned)
                grad_name[parent] = _safe_name(f"d_{variable.get(parent, 'leaf')}", taken)
                backward.append(f"    {grad_name[parent]} = {term}")

    # an operation no gradient reaches (every path to it has a local derivative of 0)
    # still has its local derivatives computed and checked, as eager backward does
    checks = []
    for node in reversed(order):
        if node._parents and node in reachable and node not in grad_name:
            for parent, local in zip(node._parents, local_code[node]):
                if parent._operation is not _CONSTANT and not _is_number(local):
                    name = _safe_name(f"checked_local_{len(checks)}", taken)
                    checks.append((name, f"    {name} = {local}  # d {variable[node]} / d "
                                         f"{ref(parent)}: checked, no gradient flows"))
    backward += [line for _, line in checks]

    def grad_of(node: Value) -> str:
        if node is out and not out._parents:
            return "1.0"
        return grad_name.get(node, "0.0")

    results = []
    for i in argnums:
        ph = placeholders[i]
        results.append(f"[{', '.join(grad_of(v) for v in ph)}]" if isinstance(ph, list)
                       else grad_of(ph))
    value = ref(out)
    gradients = f"({', '.join(results)}{',' if len(results) == 1 else ''})"
    numbers = [variable[node] for node in order if node._parents]
    numbers += grad_name.values()  # (gradient names never repeat a node's name)
    numbers += [name for name, _ in checks]
    lines = [
        f"def compiled({', '.join(arg_names)}):",
        "    # generated by autograd.jit from the op table: do not edit",
        *unpack,
        "    # forward: one statement per node",
        *forward,
        "    # backward: the chain rule, d_x += d_out * (d out / d x) for every edge",
        *backward,
        "    # returned: the value, the gradients, and every number computed -- the caller",
        "    # checks they are all finite; if one is not, f runs eagerly to raise its error",
        f"    return {value}, {gradients}, ({', '.join(numbers)}{',' * (len(numbers) == 1)})",
    ]
    return "\n".join(lines) + "\n"


_SIMPLE = re.compile(r"[A-Za-z_]\w*(\([\w, ]*\))?|[\d.e+-]+|\(-[\d.e+-]+\)")


def _term(g: str, local: str) -> str:
    """The chain rule's product grad(out) * local as source, simplified for 1 and -1."""
    if local == "1.0":
        return g
    if local == "-1.0":
        return f"-{g}"
    return f"{g} * {local}" if _simple(local) else f"{g} * ({local})"


def _is_number(expr: str) -> bool:
    try:
        float(expr.strip("()"))
    except ValueError:
        return False
    return True


def _simple(expr: str) -> bool:
    """True for a name, a number or a call of names: no parentheses needed after '*'."""
    return _SIMPLE.fullmatch(expr) is not None


_INLINABLE = re.compile(r"\b(" + "|".join(INLINE_CODE) + r")\((\w+)\)")


def _inline_helpers(source: str) -> str:
    """The per-sample scalar source with the calls of :data:`~autograd.ops.INLINE_CODE`'s
    helpers on a plain name written as their expressions (``relu(v3)`` becomes
    ``(v3 if v3 > 0.0 else 0.0)``). Only for floats: the batch code runs the source on
    arrays, where the helpers are numpy's."""
    return _INLINABLE.sub(lambda m: INLINE_CODE[m[1]].format(m[2]), source)
