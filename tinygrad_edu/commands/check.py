"""`tinygrad-edu check FILE`: run your own hand-written backprop against autodiff.

check RUNS THE CODE IN FILE (in a child process, stopped after --timeout seconds): only check files you trust.
FILE is a Python file that defines one of these entry points:

    gradients(state, inputs, targets) -> {name: dE/dparam}
    step(state, inputs, targets, lr)  -> {name: param after one step}   (the gradient is (old − new) / lr)

and, optionally, error(state, inputs, targets) -> the error your code reports for that sample (checked
against the outputs' error with one-hot targets).

`state` is the state dict of `nn.Sequential(Linear(n0, n1), act, Linear(n1, n2), act, ...)` (names
`0.weight` (out, in), `0.bias`, `2.weight`, ...; NumPy float64 arrays, copies you may change);
`inputs` and `targets` are one sample (1-D) or a batch (2-D). Settings FILE may give (each checked;
docs/checking.md lists them all): SIZES (default [2, 2, 2], the article's network), ACTIVATION (sigmoid,
tanh, relu, identity; one, or one per layer), LOSS (as --loss), STATE, INPUTS, TARGETS, LR (default 0.5),
LR_SCHEDULE (a list, or a function of the step), CLIP (a gradient norm) and OPTIMIZER ({"name": "sgd",
"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, {"name": "adam", "betas": (0.9, 0.999)} or
"adam-efficient"): a step() is also run --steps times against that optimizer's rule.

Exit status: 0 every check matches, 1 mistakes found (the report says which and why),
2 usage or input error (a file that does not load, crashes, exits early, runs past --timeout, or gives
a setting of the wrong type or a misspelt name), 3 cannot check this file (it does something the
checker does not model; one line says what).

    tinygrad-edu check examples/article_code/level1.py
    tinygrad-edu check examples/article_code/level2.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .argtypes import check_output, count, positive_float, tolerance

LOSSES = ("half-sum", "half-sum-batch-mean", "mean", "sum", "bce", "bce-mean", "cross-entropy", "cross-entropy-mean")
EXIT_CANNOT_CHECK = 3  # the file does something the checker cannot model: said in one line, never guessed at
PAGE_TITLE = "Your backprop against autodiff · red: a parameter whose gradient you computed wrong"
GRAPH_TIMEOUT = 30.0  # seconds `dot` may take to lay out --graph's drawing; past it the DOT source is left


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="compare a hand-written backprop (a Python file, whose code it runs) with autodiff, and diagnose it",
        description=__doc__.split("\n\n", 1)[1].split("    tinygrad-edu check", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="Python file defining gradients(state, inputs, targets) or step(..., lr)")
    parser.add_argument("--engine", choices=("value", "tensor"), default="tensor", help="autodiff engine")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="the model's dtype")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed for a random STATE when SIZES is not [2, 2, 2]")
    parser.add_argument(
        "--rtol", type=tolerance, help="relative tolerance (default from the dtypes: 1e-7 float64, 1e-4 float32)"
    )
    parser.add_argument("--atol", type=tolerance, help="absolute tolerance (default 1e-12 float64, 1e-7 float32)")
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default=None,
        help="the loss your code differentiates (default: the file's LOSS, else half-sum, the article's "
        "E = ½ Σ (target − output)²)",
    )
    parser.add_argument(
        "--steps", type=count(1, 1000), default=3, help="steps of step() compared with the optimizer (default 3)"
    )
    parser.add_argument("--timeout", type=positive_float, default=60.0, help="seconds FILE may run (default 60)")
    parser.add_argument(
        "--graph", metavar="PATH", help="also draw the graph, wrong parameters red (.html: step through it)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check FILE: its code runs in a child process that only answers with arrays; the verdict is computed here."""
    from ..check.userfile import check_file
    from ..errors import CannotCheckError, TinygradEduError

    if not Path(args.file).is_file():
        raise TinygradEduError(f"no such file {args.file!r}")
    if args.graph:
        check_output("--graph", args.graph)  # before the file runs, so a bad path is the only message
    try:
        result = check_file(
            args.file,
            engine=args.engine,
            seed=args.seed,
            rtol=args.rtol,
            atol=args.atol,
            loss=args.loss,
            steps=args.steps,
            dtype=args.dtype,
            timeout=args.timeout,
            echo=sys.stderr if args.json else None,  # under --json stdout stays one JSON document
        )
    except CannotCheckError as error:
        print(f"tinygrad-edu check: cannot check this file: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except TinygradEduError as error:
        raise TinygradEduError(str(error).removeprefix("check: ")) from None
    except RecursionError:
        raise TinygradEduError(f"{args.file}: infinite recursion (RecursionError)") from None
    if args.json:
        print(json.dumps({"ok": result.ok, **result.data}, indent=2, ensure_ascii=False, default=_plain))
    else:
        print(result.text)
    if args.graph:
        try:
            wrote = _write_graph(args.file, result, args.graph)
        except OSError as error:  # the disk filled up, the folder went away: one line, not a traceback
            raise TinygradEduError(f"--graph: {error}") from None
        print(wrote, file=sys.stderr if args.json else sys.stdout)
    return 0 if result.ok else 1


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _write_graph(file: str, result: Any, path: str) -> str:
    """The report's graph (wrong parameters red), written by viz's `render`: atomically, `dot` under a time-out."""
    from ..errors import RenderError, TinygradEduError
    from ..viz import render

    report = result.report
    if report is None:
        raise TinygradEduError(
            "--graph: this file has no gradient report to draw (its step() is compared step by step with the "
            "optimizer's rule, as for Adam, or its mistake is in the update rule, not the gradient)"
        )
    fmt = path.rpartition(".")[2].lower()
    if fmt == "html":  # the step-through page, wrong parameters marked, manual vs autodiff in their tooltips
        from ..viz import steps

        root, model = report._graph["root"], report._graph["model"]
        marks, calls = _marks(report, model), report._graph.get("calls")
        page = steps(root, params=model, calls=calls, highlight=marks, title=PAGE_TITLE)
        page.save(path)
        return f"wrote {path}"
    try:  # any other suffix gets SVG, as before; `dot` missing or too slow leaves the DOT source next to it
        render(report.draw(), path, timeout=GRAPH_TIMEOUT)
    except RenderError as error:
        raise RenderError(f"--graph: {error}") from None
    return f"wrote {path}"


def _marks(report: Any, model: Any) -> dict[Any, tuple[str, str]]:
    """Each parameter -> (fill, tooltip): red where your gradient is wrong; the tooltip says manual vs autodiff."""
    import numpy as np

    from ..check.compare import WRONG_FILL, parameter_element

    marks = {}
    keys = [p.name for p in report.params]
    for name, param in model.named_parameters():
        found = parameter_element(name, keys)
        if found is None:
            continue
        key, element = found
        check = report[key]
        auto, manual = check.autodiff, check.manual
        if name != key and manual is not None and manual.shape == auto.shape:  # one scalar of the parameter
            auto, manual = auto[element], manual[element]
        wrong = manual is None or np.shape(manual) != np.shape(auto) or not np.allclose(manual, auto, 1e-7, 1e-10)
        text = f"{name}: manual {'missing' if manual is None else _numbers(manual)} vs autodiff {_numbers(auto)}"
        marks[param] = (WRONG_FILL if wrong else "#a6cee3", text + (" (WRONG)" if wrong else " (ok)"))
    return marks


def _numbers(values: Any) -> str:
    """Six significant digits, as the report's table and the page's arithmetic print them (`fold.short`), one line."""
    import numpy as np

    from ..viz.fold import short

    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return short(float(array))
    return "[" + ", ".join(_numbers(row) for row in array) + "]"
