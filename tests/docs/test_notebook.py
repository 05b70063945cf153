"""examples/tutorial.ipynb runs end to end, and its printed numbers are the article's (the `notebook` extra).

Skipped when nbclient, nbformat or ipykernel is not installed; `.ci/run` installs them.
"""

from __future__ import annotations

import html
import math
import re
import shutil
from pathlib import Path

import pytest
from locations import EXAMPLES

NOTEBOOK = EXAMPLES / "tutorial.ipynb"


def _stdout(cell: dict) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def test_tutorial_notebook_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    printed = "".join(_stdout(cell) for cell in code)

    # The article's forward pass, computed here independently in plain floats.
    def sigmoid(s: float) -> float:
        return 1 / (1 + math.exp(-s))

    a_h1, a_h2 = sigmoid(0.1 * 2.78 + 0.2 * 2.55 + 0.5), sigmoid(0.3 * 2.78 + 0.4 * 2.55 + 0.12)
    a_o1, a_o2 = sigmoid(0.5 * a_h1 + 0.6 * a_h2 + 0.2), sigmoid(0.7 * a_h1 + 0.8 * a_h2 + 0.4)
    E = 0.5 * ((0.1 - a_o1) ** 2 + (0.9 - a_o2) ** 2)
    assert f"E = {E:.6f}" in printed
    w5_new = 0.5 - 0.5 * (a_o1 - 0.1) * a_o1 * (1 - a_o1) * a_h1
    assert f"w5 after one step: {w5_new:.6f}" in printed

    # The inline drawing: Jupyter displayed the Digraph as SVG (Graphviz's `dot` makes it).
    draw_cell = next(cell for cell in code if "draw(E" in cell.source)
    kinds = {key for out in draw_cell.outputs for key in out.get("data", {})}
    if shutil.which("dot"):
        assert "image/svg+xml" in kinds, kinds
        svg = next(out["data"]["image/svg+xml"] for out in draw_cell.outputs if "image/svg+xml" in out.get("data", {}))
        assert ">w5<" in svg and "weights.0" not in svg  # the article's names (article_names), not the state dict's
        # Weights named by a dict: no neuron box would hold them, so none is drawn (each weight beside its sum).
        assert "Layer(2→2)" not in svg and "Neuron</text>" not in svg and ">w8<" in svg

    # The step-through page, inline: the article's loss as one step, its deltas and its closing update.
    page_cell = next(cell for cell in code if "steps(E" in cell.source)
    page = html.unescape(
        next(out["data"]["text/html"] for out in page_cell.outputs if "text/html" in out.get("data", {}))
    )
    assert page.startswith("<iframe") and "s_o1.grad is the article's δ_o1" in page
    assert f"w5′ = 0.5 − 0.5 × {(w5_new - 0.5) / -0.5:.6g} = {w5_new:.6g}" in page

    # The training run reached the article's 100% and plotted its loss as a PNG.
    match = re.search(r"'accuracy': ([0-9.]+)", printed)
    assert match and float(match.group(1)) == 1.0, printed
    assert "predicted classes: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]" in printed
    plot_cell = next(cell for cell in code if "plt.show()" in cell.source)
    assert any("image/png" in out.get("data", {}) for out in plot_cell.outputs)
