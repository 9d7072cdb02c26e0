"""``calculator``: exact arithmetic by walking the AST, and every hostile expression
refused in words, at once (``9**9**9`` is refused before it is computed)."""

from __future__ import annotations

import pytest

from switchboard.services.principal import Principal
from switchboard.services.tools.builtin.calculator import MAX_CHARS, Calculator
from switchboard.services.tools.contract import ToolContext

CONTEXT = ToolContext(Principal(1, "ada", "user"))


async def calc(expression: object) -> tuple[str, bool]:
    out = await Calculator().run({"expression": expression}, CONTEXT)
    return out.text, out.is_error


@pytest.mark.parametrize(("expression", "value"), [
    ("2 + 2", "4"), ("0.1 + 0.2", "0.3"), ("(17.5 * 12) / 7", "30"), ("7 // 2", "3"),
    ("-7 % 3", "2"), ("2 ** 10", "1024"), ("2^10", "1024"), ("2 ** -2", "0.25"),
    ("3 \u00d7 4 \u2212 1 \u00f7 2", "11.5"), ("sqrt(2) * (3 + 4)^2", "98"),
    ("round(pi, 4)", "3.1416"), ("log(8, 2)", "3"), ("log10(1000)", "3"),
    ("cos(0) + sin(0)", "1"), ("max(1, 5, 3) - min(4, 2)", "3"), ("factorial(20)",
                                                                 "2432902008176640000"),
    ("gcd(12, 18) + lcm(4, 6)", "18"), ("10 ** 30", "1" + "0" * 30), ("e", "2.71828182845905"),
    ("((((((1 + 2))))))", "3"), ("+".join(["1"] * 100), "100"), ("abs(-3.5)", "3.5"),
    ("hypot(3, 4)", "5"),
])
async def test_values(expression: str, value: str) -> None:
    assert await calc(expression) == (value, False)


@pytest.mark.parametrize(("expression", "error"), [
    ("9**9**9", "more than about 1,000 digits"),
    ("10 ** 100000", "more than about 1,000 digits"),
    ("2.0 ** 100000", "too large"),
    ("(10**900) * (10**900)", "more than about 1,000 digits"),
    ("factorial(100000)", "at most 450!"),
    ("1e308 * 10", "not a finite number"),
    ("1 / 0", "division by zero"),
    ("sqrt(-1)", "math error"),
    ("__import__('os').system('true')", "only the listed functions can be called"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("x + 1", "unknown name 'x'"),
    ("sqrt", "it is a function"),
    ("(1).__class__", "Attribute is not arithmetic"),
    ("[1, 2][0]", "is not arithmetic"),
    ("'a' * 3", "is not a number"),
    ("True + 1", "is not a number"),
    ("lambda: 1", "Lambda is not arithmetic"),
    ("max(*[1, 2])", "plain arguments"),
    ("round(1.5, ndigits=1)", "plain arguments"),
    ("sqrt(1, 2, 3)", "does not take"),
    ("1 << 100000", "not supported"),
    ("2 +", "not valid arithmetic"),
    ("", "empty"),
    ("1\x00", "not valid arithmetic"),
    ("(" * 400 + "1" + ")" * 400, "not valid arithmetic"),
    ("-" * 900 + "1", "nested more than"),
    ("+".join(["(" + "+".join(["1"] * 20) + ")"] * 20), "too long"),
    ("+".join(["1"] * 400), "nested more than 120"),
    ("1" * (MAX_CHARS + 1), "at most 1,000"),
    ("9" * 2000, "at most 1,000"),
])
async def test_refusals(expression: str, error: str) -> None:
    text, is_error = await calc(expression)
    assert is_error and error in text, text
    assert text.startswith("calculator: ")


async def test_argument_that_is_not_text() -> None:
    for bad in (None, 42, ["1+1"]):
        text, is_error = await calc(bad)
        assert is_error and "needs an 'expression' string" in text
    out = await Calculator().run({}, CONTEXT)
    assert out.is_error


def test_spec_is_what_models_are_told() -> None:
    spec = Calculator.spec
    assert spec.name == spec.wire_name == "calculator" and spec.source == "builtin"
    assert spec.parameters["required"] == ["expression"]
    assert "sqrt" in spec.description and "eval" not in spec.description
