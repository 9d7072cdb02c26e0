"""``calculator``: arithmetic a model should not do in its head.

The expression is parsed with Python's own parser (``ast.parse`` in ``eval`` mode) and
then *walked* here, node by node, against an allow-list: numbers, the operators
``+ - * / // % **``, parentheses, the constants ``pi``, ``e``, ``tau`` and the functions in
``FUNCTIONS``. Nothing is ever handed to ``eval``, so names, attributes, subscripts,
lambdas and comprehensions cannot run: they are refused by name.

Every dimension a hostile expression could grow is bounded before or while it is
computed: its length (``MAX_CHARS``, checked before parsing, which also bounds the
parser's own recursion), the number of nodes and their depth, the size of every integer
(``MAX_INT_BITS``: a power, a product, a factorial is refused *before* it is computed
when its result would be larger), so ``9**9**9`` is refused at once instead of running
for hours. Floats overflow to a clear error, never ``inf``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from typing import Any

from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec

MAX_CHARS = 1_000
MAX_NODES = 400
MAX_DEPTH = 120
"""A sum of 100 numbers nests 100 deep (left to right); far below the recursion limit."""
MAX_INT_BITS = 3_400
"""About 1,000 decimal digits: more than any answer needs, small enough to print fast."""
MAX_ARGS = 32

Number = int | float

CONSTANTS: Mapping[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Number) -> int:
    if isinstance(n, float):
        if not n.is_integer():
            raise _Refused("factorial needs a whole number")
        n = int(n)
    if n < 0:
        raise _Refused("factorial needs a number that is not negative")
    if n > 450:  # 450! has 1,001 digits
        raise _Refused("factorial: at most 450! is computed")
    return math.factorial(n)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


def _round(x: Number, digits: Number | None = None) -> Number:
    if digits is None:
        return round(x)
    if not isinstance(digits, int) or abs(digits) > 100:
        raise _Refused("round's second argument is a whole number of digits (-100 to 100)")
    return round(x, digits)


def _whole(name: str, fn: Callable[..., int]) -> Callable[..., int]:
    def call(*args: Number) -> int:
        if not all(isinstance(a, int) for a in args):
            raise _Refused(f"{name} needs whole numbers")
        return fn(*args)
    return call


FUNCTIONS: Mapping[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "cbrt": math.cbrt, "exp": math.exp,
    "log": _log, "ln": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "atan2": math.atan2,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "degrees": math.degrees, "radians": math.radians, "hypot": math.hypot,
    "abs": abs, "round": _round, "floor": math.floor, "ceil": math.ceil,
    "trunc": math.trunc, "min": min, "max": max, "factorial": _factorial,
    "gcd": _whole("gcd", math.gcd), "lcm": _whole("lcm", math.lcm),
}

_BINARY: Mapping[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.BitXor: "**",  # models write 2^10 for a power
}

DESCRIPTION = (
    "Evaluate an arithmetic expression exactly and return its value. Use it for any "
    "arithmetic instead of computing in your head. Supports numbers, + - * / // (floor "
    "division) % ** (power; ^ also means power), parentheses, the constants pi, e, tau "
    "and the functions " + ", ".join(sorted(FUNCTIONS)) + " (angles in radians; log(x) "
    "is the natural logarithm, log(x, base) any base). Whole numbers are exact; results "
    "are limited to about 1,000 digits. Example: sqrt(2) * (3 + 4)^2"
)

SPEC = ToolSpec(
    name="calculator",
    description=DESCRIPTION,
    parameters={
        "type": "object",
        "properties": {"expression": {
            "type": "string", "maxLength": MAX_CHARS,
            "description": "The expression, e.g. (17.5 * 12) / 7 or sqrt(2)",
        }},
        "required": ["expression"],
        "additionalProperties": False,
    },
    source="builtin",
    timeout_s=5.0,
    max_result_chars=4_000,
)


class _Refused(Exception):
    """An expression we will not compute, with the reason in words."""


def _check_int(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _Refused("the result has more than about 1,000 digits")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        # |base| ** exponent has about bit_length * exponent bits: refuse before computing
        if base not in (0, 1, -1) and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
            raise _Refused("the result has more than about 1,000 digits")
        return _check_int(base ** exponent)
    result = math.pow(base, exponent)  # floats: OverflowError instead of a huge int
    return result


def _binary(op: str, left: Number, right: Number) -> Number:
    if op == "**":
        return _power(left, right)
    if op == "*" and isinstance(left, int) and isinstance(right, int) \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
        raise _Refused("the result has more than about 1,000 digits")
    if op == "+":
        return _check_int(left + right)
    if op == "-":
        return _check_int(left - right)
    if op == "*":
        return _check_int(left * right)
    if op == "/":
        return left / right
    if op == "//":
        return left // right
    return left % right


class _Evaluator:
    def __init__(self) -> None:
        self.nodes = 0

    def eval(self, node: ast.AST, depth: int = 0) -> Number:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(f"the expression is too long (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise _Refused(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Expression):
            return self.eval(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Refused(f"{value!r} is not a number")
            return _check_int(value)
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                raise _Refused(f"the operator {type(node.op).__name__} is not supported; "
                               "use + - * / // % **")
            return _binary(op, self.eval(node.left, depth + 1),
                           self.eval(node.right, depth + 1))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            value = self.eval(node.operand, depth + 1)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            hint = " (it is a function: call it with parentheses)" \
                if node.id in FUNCTIONS else ""
            raise _Refused(f"unknown name {node.id[:40]!r}{hint}; the constants are "
                           "pi, e and tau")
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise _Refused(f"{type(node).__name__} is not arithmetic; use numbers, operators, "
                       "parentheses and the listed functions")

    def _call(self, node: ast.Call, depth: int) -> Number:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = f"unknown function {node.func.id[:40]!r}" \
                if isinstance(node.func, ast.Name) else "only the listed functions can be called"
            raise _Refused(f"{what}; the functions are " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords or len(node.args) > MAX_ARGS \
                or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Refused(f"{node.func.id} takes up to {MAX_ARGS} plain arguments")
        args = [self.eval(a, depth + 1) for a in node.args]
        try:
            return _check_int(FUNCTIONS[node.func.id](*args))
        except TypeError:
            raise _Refused(f"{node.func.id} was given {len(args)} argument(s), which it "
                           "does not take") from None


_SIGNS = str.maketrans({"\u00d7": "*", "\u00f7": "/", "\u2212": "-"})
"""Multiplication, division and minus signs as people (and models) type them."""


def evaluate(expression: str) -> Number:
    """The value of ``expression``; raises ``ValueError`` with the reason in words."""
    text = expression.strip().translate(_SIGNS)
    if not text:
        raise ValueError("the expression is empty")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the expression has {len(text):,} characters; at most "
                         f"{MAX_CHARS:,} are accepted")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"the expression is not valid arithmetic ({exc.msg})") from None
    except ValueError as exc:  # a NUL character, for one
        raise ValueError(f"the expression is not valid arithmetic ({exc})") from None
    except (RecursionError, MemoryError):
        raise ValueError("the expression is nested too deeply") from None
    try:
        return _Evaluator().eval(tree)
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except OverflowError:
        raise ValueError("the result is too large to compute") from None
    except ValueError as exc:  # math domain errors: sqrt(-1), log(0)
        raise ValueError(f"math error: {exc}") from None
    except RecursionError:
        raise ValueError("the expression is nested too deeply") from None


def render(value: Number) -> str:
    """A value as a model should read it: whole numbers exact, floats to 15 significant
    digits (so 0.1 + 0.2 reads 0.3), never ``inf`` or ``nan``."""
    if isinstance(value, int):
        return str(value)
    if math.isinf(value) or math.isnan(value):
        raise ValueError("the result is not a finite number")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


class Calculator:
    """The ``calculator`` tool."""

    spec = SPEC

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        expression = arguments.get("expression")
        if not isinstance(expression, str):
            return ToolOutput("calculator needs an 'expression' string, such as "
                              "\"(2 + 3) * 4\"", is_error=True)
        try:
            result = render(evaluate(expression))
        except ValueError as exc:
            return ToolOutput(f"calculator: {exc}", is_error=True)
        return ToolOutput(result, structured={"result": result},
                          meta={"expression": expression[:200]})
