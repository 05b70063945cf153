"""`tinygrad-edu check FILE`: run your own hand-written backprop against autodiff.

FILE is a Python file that defines one of these entry points:

    gradients(state, inputs, targets) -> {name: dE/dparam}
    step(state, inputs, targets, lr)  -> {name: param after one SGD step}   (the gradient is (old − new) / lr)

`state` is the state dict of `nn.Sequential(Linear(n0, n1), Sigmoid(), Linear(n1, n2), Sigmoid(), ...)`
(names `0.weight` (out, in), `0.bias`, `2.weight`, ...; NumPy float64 arrays, copies you may change);
`inputs` and `targets` are one sample (1-D arrays); the error is E = ½ Σ (target − output)². Optional
names in FILE: `SIZES` (layer widths, default [2, 2, 2], the article's network), `STATE` (default:
the article's weights for [2, 2, 2], else random from --seed), `INPUTS`, `TARGETS` (default: the
article's 2.78, 2.55 → 0.1, 0.9) and `LR` (default 0.5).

    tinygrad-edu check examples/article_code/level1.py
    tinygrad-edu check examples/article_code/level2.py --json

Exits 0 when every gradient matches autodiff, 1 when some differ (the report says how).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import sys
import traceback
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="compare a hand-written backprop (a Python file) with autodiff, and diagnose the difference",
        description=__doc__.split("\n\n", 1)[1].split("    tinygrad-edu check", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="Python file defining gradients(state, inputs, targets) or step(..., lr)")
    parser.add_argument("--engine", choices=("value", "tensor"), default="tensor", help="autodiff engine")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed for a random STATE when SIZES is not [2, 2, 2]")
    parser.add_argument(
        "--graph", metavar="PATH", help="also draw the graph, wrong parameters red; .html: step through it"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import nn
    from ..check import article, compare_gradients
    from ..errors import TinygradEduError

    user = _load(args.file)
    sizes = list(getattr(user, "SIZES", [2, 2, 2]))
    layers: list[Any] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out, dtype=np.float64, engine=args.engine, generator=args.seed), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    state = getattr(user, "STATE", article.state_dict() if sizes == [2, 2, 2] else None)
    if state is not None:
        model.load_state_dict({k: np.asarray(v, dtype=np.float64) for k, v in state.items()})
    inputs = np.asarray(getattr(user, "INPUTS", article.INPUTS), dtype=np.float64)
    targets = np.asarray(getattr(user, "TARGETS", article.TARGETS), dtype=np.float64)
    lr = float(getattr(user, "LR", article.LR))
    if hasattr(user, "gradients"):
        manual = user.gradients
    elif hasattr(user, "step"):

        def manual(state: dict[str, Any], x: Any, t: Any) -> Any:
            return user.step(state, x, t, lr), lr

    else:
        raise TinygradEduError(
            f"check: {args.file} defines neither gradients(state, inputs, targets) nor "
            "step(state, inputs, targets, lr); "
            "see `tinygrad-edu check --help` for the entry points"
        )

    def loss_fn(output: Any, target: Any) -> Any:
        return nn.functional.mse_loss(output, target.tolist(), reduction="half_sum")

    entry = "gradients" if hasattr(user, "gradients") else "step"

    def guarded(state: dict[str, Any], x: Any, t: Any) -> Any:
        """The user's code may raise anything: one line naming their file and line, not a traceback."""
        try:
            return manual(state, x, t)
        except Exception as error:
            where = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == os.path.abspath(args.file)]
            line = f", line {where[-1].lineno}" if where else ""
            raise TinygradEduError(
                f"check: {args.file}{line}: your {entry}() raised {type(error).__name__}: {error}"
            ) from error

    report = compare_gradients(model, loss_fn, inputs, targets, guarded)
    if args.json:
        print(report.to_json())
    else:
        print(f"{args.file}: network {sizes}, {args.engine} engine, E = ½ Σ (target − output)², lr {lr}\n")
        print(report)
    if args.graph:
        _write_graph(report, args.graph, to_stderr=args.json)
    return 0 if report.ok else 1


def _write_graph(report: Any, path: str, to_stderr: bool) -> None:
    """The report's graph (wrong parameters red) as DOT source, or rendered by Graphviz's `dot`."""
    from ..errors import TinygradEduError

    fmt = path.rpartition(".")[2].lower()
    if fmt == "html":  # the step-through page, wrong parameters marked, manual vs autodiff in their tooltips
        from ..viz import steps

        root, model = report._graph["root"], report._graph["model"]
        steps(root, params=model, highlight=_marks(report, model), title="Your backprop against autodiff").save(path)
        print(f"wrote {path}", file=sys.stderr if to_stderr else sys.stdout)
        return
    dot = report.draw()
    if fmt == "dot":
        Path(path).write_text(dot.source)
    else:
        try:
            Path(path).write_bytes(dot.pipe(format=fmt if fmt in ("svg", "png", "pdf") else "svg"))
        except Exception as error:  # graphviz raises its own types when `dot` is missing or fails
            fallback = Path(path).with_suffix(".dot")
            fallback.write_text(dot.source)
            raise TinygradEduError(
                f"--graph: could not run Graphviz's `dot` ({error}); the DOT source is in {fallback}. "
                "Install Graphviz (apt install graphviz / brew install graphviz), or pass a .dot path"
            ) from None
    print(f"wrote {path}", file=sys.stderr if to_stderr else sys.stdout)


def _marks(report: Any, model: Any) -> dict[Any, tuple[str, str]]:
    """Each parameter -> (fill, tooltip): red where your gradient is wrong; the tooltip says manual vs autodiff."""
    import numpy as np

    marks = {}
    for name, param in model.named_parameters():
        key = next((p.name for p in report.params if name == p.name or name.startswith(p.name + ".")), None)
        if key is None:
            continue
        check = report[key]
        auto, manual = check.autodiff, check.manual
        if name != key and manual is not None and manual.shape == auto.shape:  # one scalar of the parameter
            element = tuple(int(i) for i in name[len(key) + 1 :].split("."))
            auto, manual = auto[element], manual[element]
        wrong = manual is None or np.shape(manual) != np.shape(auto) or not np.allclose(manual, auto, 1e-7, 1e-10)
        text = f"{name}: manual {'missing' if manual is None else np.array2string(np.asarray(manual), precision=6)}"
        text += f" vs autodiff {np.array2string(np.asarray(auto), precision=6)}"
        marks[param] = ("#e31a1c" if wrong else "#a6cee3", text + (" (WRONG)" if wrong else " (ok)"))
    return marks


def _load(path: str) -> Any:
    """Import the user's file as a module, with its folder on sys.path for its own imports."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"check: no such file {path!r}")
    spec = importlib.util.spec_from_file_location(f"_tinygrad_edu_user_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise ImportError(f"check: cannot import {path!r} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up there
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(file.parent.resolve()))
    return module
