"""Build a Value graph from an arithmetic expression given as text, safely.

``parse_expression("tanh(w*x + b)", {"w": 0.5, "x": 2.0, "b": -1.0})``
parses the text with Python's :mod:`ast` and builds it from Values, walking
an allow-list of node types: numbers, variable names, ``+ - * / **``, unary
``-`` and ``+``, and calls of the engine's functions. Nothing is ever
evaluated by Python itself -- no ``eval``, no attribute access, no other
names -- so ``__import__('os').system('id')`` is refused before anything
runs, and a huge exponent is a float overflow error, not an endless integer
computation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping

from .engine import Value, as_value

__all__ = ["FUNCTIONS", "ExpressionError", "parse_expression"]

MAX_LENGTH = 2_000
MAX_NODES = 500

#: the functions an expression may call, each with one argument
FUNCTIONS = {
    name: getattr(Value, name)
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "step", "abs", "sin", "cos",
                 "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1")
}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


class ExpressionError(ValueError):
    """The expression is not allowed or cannot be computed; the message says why."""


def parse_expression(
    text: str, values: Mapping[str, float]
) -> tuple[Value, dict[str, Value]]:
    """Build ``text`` with Values; returns (output, {name: input Value}).

    Every variable in the expression needs a value in ``values``; each becomes
    a leaf Value labelled with its name. Raises :class:`ExpressionError` for
    anything outside the allow-list, an unknown variable, or a domain error
    (log of a negative number, overflow, division by zero).
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; "
                              f"the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a valid expression: {error.msg} "
                              f"(column {error.offset})") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"the expression has {count} syntax nodes; the limit is "
                              f"{MAX_NODES}")
    for name in values:
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function name; use another variable name")
    inputs = {name: Value(value, name) for name, value in values.items()}
    builder = _Builder(inputs)
    try:
        out = builder.build(tree.body)
    except (ArithmeticError, ValueError, TypeError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"cannot compute the expression: {error}") from None
    out = as_value(out, "expression")
    return out, {name: v for name, v in inputs.items() if name in builder.used}


class _Builder:
    def __init__(self, inputs: dict[str, Value]) -> None:
        self.inputs = inputs
        self.used: set[str] = set()

    def build(self, node: ast.AST) -> Value | float:
        """Iterative post-order walk: deep nesting cannot hit the recursion limit."""
        results: dict[int, Value | float] = {}
        stack: list[tuple[ast.AST, bool]] = [(node, False)]
        while stack:
            current, ready = stack.pop()
            if not ready:
                stack.append((current, True))
                stack.extend((child, False) for child in reversed(self._operands(current)))
                continue
            operands = [results.pop(id(child)) for child in self._operands(current)]
            results[id(current)] = self._combine(current, operands)
        return results[id(node)]

    def _operands(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise _refuse(node, _operator_name(node.op))
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise _refuse(node, _operator_name(node.op))
            return [node.operand]
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                raise _refuse(node.func, f"attribute access (.{node.func.attr})")
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                what = repr(node.func.id) if isinstance(node.func, ast.Name) else "an expression"
                raise _refuse(node, f"calling {what}")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ExpressionError(f"{node.func.id}() takes exactly one argument "
                                      f"(column {node.col_offset + 1})")
            return [node.args[0]]
        if isinstance(node, (ast.Constant, ast.Name)):
            return []
        raise _refuse(node, _describe(node))

    def _combine(self, node: ast.AST, operands: list[Value | float]) -> Value | float:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _refuse(node, f"the constant {value!r}; only numbers are allowed")
            if not math.isfinite(float(value)):
                raise ExpressionError(f"the constant {value!r} is not finite")
            return float(value)
        if isinstance(node, ast.Name):
            if node.id not in self.inputs:
                hint = (" (it is a function: call it, as in tanh(x))" if node.id in FUNCTIONS
                        else f"; give it a value as {node.id}=NUMBER")
                raise ExpressionError(f"the variable {node.id!r} has no value{hint}")
            self.used.add(node.id)
            return self.inputs[node.id]
        if isinstance(node, ast.BinOp):
            a, b = operands
            if not isinstance(a, Value) and not isinstance(b, Value):
                a = as_value(a, "expression")  # a constant node: arithmetic stays in the graph
            return _BINARY[type(node.op)](a, b)
        if isinstance(node, ast.UnaryOp):
            (a,) = operands
            return _UNARY[type(node.op)](as_value(a, "expression"))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        (a,) = operands
        return FUNCTIONS[node.func.id](as_value(a, "expression"))


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access", ast.Starred: "starred arguments",
        ast.Lambda: "lambda", ast.Subscript: "subscripts",
        ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if-expressions",
        ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions",
        ast.NamedExpr: "assignment", ast.JoinedStr: "strings",
    }
    return kinds.get(type(node), type(node).__name__)


_OPERATOR_NAMES = {
    ast.BitXor: "the operator ^ (in Python, ^ is bitwise xor: write a power as x**2)",
    ast.Mod: "the operator %",
    ast.FloorDiv: "the operator // (write / for division)",
    ast.MatMult: "the operator @",
    ast.BitAnd: "the operator &",
    ast.BitOr: "the operator |",
    ast.LShift: "the operator <<",
    ast.RShift: "the operator >>",
    ast.Invert: "the operator ~",
    ast.Not: "the operator not",
}


def _operator_name(op: ast.AST) -> str:
    return _OPERATOR_NAMES.get(type(op), f"the operator {type(op).__name__}")


def _refuse(node: ast.AST, what: str) -> ExpressionError:
    column = getattr(node, "col_offset", None)
    where = f" (column {column + 1})" if column is not None else ""
    return ExpressionError(f"not allowed{where}: {what}. Expressions may use numbers, "
                           "variables, + - * / **, parentheses and the functions "
                           f"{', '.join(FUNCTIONS)}")
