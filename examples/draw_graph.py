"""Draw the backprop graph: the article's network with every value and gradient on it.

Builds the article's 2-2-2 network from scalar Values, runs one forward and one backward pass,
and writes the graph as SVG (or, without Graphviz's `dot`, as DOT source you can render later).
Then the same for a small Tensor model, where each node shows its shape, dtype and values.

Run:  python examples/draw_graph.py [output-folder]
(default: `out/` in the repository, which git ignores, or the current folder when run from elsewhere;
never over a tracked file such as docs/images/article_graph.svg)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.viz import RenderError, draw, record_modules, render


def save(root: object, path: Path, **draw_kwargs: object) -> None:
    try:
        print("wrote", render(root, path, format="svg", **draw_kwargs))
    except RenderError as error:  # no Graphviz here: the DOT source was written instead
        print(error)


def default_folder() -> Path:
    """`out/` of the repository when run inside it (git-ignored), else the current folder."""
    repo = Path(__file__).resolve().parent.parent
    here = Path.cwd().resolve()
    return repo / "out" if here == repo or repo in here.parents else here


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default_folder()

    # 1. The article's network: names from the article, gradients from one backward pass.
    with record_modules() as calls:  # which layer made which node: drawn as clusters
        E, params = article_network()
    print(f"E = {E.data:.6f}; delta_o1 = dE/db_o1 = {params['b_o1'].grad:.4f} (the article: 0.121)")

    # 2. The same drawing, as DOT text: what `draw` returns, no file written (this is what Jupyter shows).
    digraph = draw(E, params=params, calls=calls, rankdir="TB")
    print(f"the DOT source has {len(digraph.source.splitlines())} lines")

    # 3. A Tensor model: nodes show shape and dtype, and the values when a tensor has at most 6 of them.
    #    The tensor engine frees its graph in backward (as PyTorch does); retain_graph=True keeps it to draw.
    x = Tensor(np.array([[2.78, 2.55]]), name="x")
    w = Tensor(np.array([[0.1, 0.2], [0.3, 0.4]]), requires_grad=True, name="W")
    b = Tensor(np.array([0.5, 0.12]), requires_grad=True, name="b")
    loss = ((x @ w.T + b).sigmoid() ** 2).sum()
    loss.backward(retain_graph=True)
    draw(loss)  # drawn once before any file is written: a graph that cannot be drawn leaves out/ as it was

    folder.mkdir(parents=True, exist_ok=True)
    save(E, folder / "article_graph.svg", params=params, calls=calls)
    save(loss, folder / "tensor_graph.svg")


if __name__ == "__main__":
    main()
