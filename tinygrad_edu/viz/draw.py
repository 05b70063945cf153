"""`draw`: the computation graph ending in a `Value` or `Tensor`, as a `graphviz.Digraph`.

A pure function: it reads the graph (with `graph.walk`, an explicit stack, newest first) and returns
a Digraph; it writes no file and runs no program (that is `render`'s job). In Jupyter the Digraph
shows itself inline. Reading the picture left to right is the forward pass; the `grad` on each
node is what the backward pass, which runs right to left, left there:

    [w1 | data 0.1 | grad 0.0004] --> (Σw·x) --> [s_h1 | data 1.288 | ...] --> (sigmoid) --> ...

Two steps: `collect` decides what is shown (plain data), `emit` writes it with graphviz's API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .collect import COLOURS, collect
from .modules import ModuleCalls

if TYPE_CHECKING:
    import graphviz

__all__ = ["COLOURS", "draw"]


def draw(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    params: Any = None,
    calls: ModuleCalls | None = None,
    max_nodes: int = 500,
    collapse: bool | str = "auto",
    highlight: Mapping[Any, tuple[str, str]] | None = None,
) -> graphviz.Digraph:
    """The graph that computed `root`, one record per value and one small node per op.

    params:    an `nn.Module` (names from `named_parameters()`) or a dict name -> parameter; names
               the user gave (`name`) are used otherwise.
    calls:     what `with record_modules() as calls:` recorded while the graph was built: each
               module call is drawn as a cluster around the nodes it made (only `params`' modules
               when `params` is a Module). Without it, no clusters.
    max_nodes: with `collapse="auto"`, a bigger graph is folded into summary nodes until at most
               this many nodes are drawn; `collapse=True` folds module calls and chains always,
               `collapse=False` never.
    highlight: node -> (fill colour, tooltip), to mark nodes (e.g. wrong gradients); a node folded
               into a summary is not drawn, so it is not marked either.
    """
    from .emit import emit  # graphviz is imported on the first drawing, not by `import tinygrad_edu`

    picture = collect(
        root,
        rankdir=rankdir,
        show_data=show_data,
        show_grad=show_grad,
        params=params,
        calls=calls,
        max_nodes=max_nodes,
        collapse=collapse,
        highlight=highlight,
    )
    return emit(picture)
