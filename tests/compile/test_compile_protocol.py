"""compile reads the graph through graph.Node's public protocol (parents, op, order, constant, ...), never
through a node's private fields, as drawing and explain do (STYLE.md 16)."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from locations import ROOT

from tinygrad_edu import Tensor, Value

# What Value and Tensor keep in their slots behind the protocol.
PRIVATE = {"_a", "_b", "_da", "_db", "_many", "_op", "_order", "_parents", "_locals", "_saved", "_needs", "_vc"}
# tensor_code.py (the tensor side, another issue's owner) still reads `_saved`/`_needs`/`_op` of Tensor nodes.
SCALAR_SIDE = sorted(p for p in (ROOT / "tinygrad_edu" / "compile").glob("*.py") if p.name != "tensor_code.py")


def _private_reads(source: str) -> list[str]:
    """`x._op`-style reads and writes of a node's private fields, except on `self` (a class's own fields)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id == "self"):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", SCALAR_SIDE, ids=lambda p: p.name)
def test_compile_reads_nodes_only_through_the_protocol(path) -> None:
    assert _private_reads(path.read_text(encoding="utf-8")) == []


def test_the_reader_finds_a_planted_private_read() -> None:
    assert _private_reads("def f(node):\n    return node._parents\n") == ["line 2: node._parents"]
    assert _private_reads("class S:\n    def f(self):\n        return self._op\n") == []


def test_constant_is_the_number_an_op_folded_in() -> None:
    x, y = Value(1.5), Value(-2.0)
    assert (x * 2).constant == 2.0 and (x + 3).constant == 3.0 and (x**3).constant == 3.0
    assert (x - 0.5).constant == -0.5  # a - c is a + (-c)
    assert (x * y).constant is None and (x + y).constant is None and x.exp().constant is None
    assert x.constant is None  # a leaf
    assert (Tensor(np.ones(2), requires_grad=True) * 2.0).constant is None  # the tensor engine keeps none
