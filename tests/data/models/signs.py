"""A model whose outputs are not all positive: a linear sum of normals that crosses zero, and a
constant. Used by tests/cli/test_any_sign.py."""

from uncertainty import Model


def signs(a: dict) -> dict:
    return {"balance": a["a"] + 2.0 * a["b"] - a["c"], "constant": 0.0 * a["a"] + 3.0}


MODEL = Model(signs, {"balance": "USD", "constant": "x"}, name="signs")
