"""Benchmark 1: the scalar engine against micrograd, on micrograd's own demo.

The workload is micrograd's `demo.ipynb`: an MLP 2-16-16-1 (ReLU hidden layers, linear output)
built neuron by neuron from scalar Values, on 100 two-moons points with labels -1/+1, the SVM
max-margin loss plus L2,

    L = mean_i relu(1 - y_i * score_i) + 1e-4 * Σ p²,

and one full forward + backward + SGD step (learning rate 1 - 0.9 k/100) per iteration.
Both engines start from the *same* weights (micrograd's random init, copied into ours) and must
report the same loss to 1e-9, so the times below are for the same arithmetic.

Our engine runs two ways:
  op by op      the same code as micrograd's `Neuron.__call__`: sum((wi*xi ...), b).relu()
  fused neuron  tinygrad_edu.weighted_sum(w, x, b).relu(): one node per neuron instead of 2n

Times are means over consecutive steps (a full collection of the cyclic GC lands in some steps
only) with the min..max of single steps, and the share of the time spent in the collector.

The "own process" rows run micrograd and our op-by-op model each in a fresh Python that imports
only itself and this file (the data comes in as numbers), interleaved with the other rows: the
collector's full collections walk every object of a process, and scikit-learn, loaded here for
make_moons, adds ~70,000 of them that a learner's script on tinygrad_edu (with its own make_moons)
does not have.

Run:  python benchmarks/bench_scalar_moons.py [--repeats 5] [--steps 10] [--quick]
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import common

from tinygrad_edu import Value, gc_paused, weighted_sum

ALPHA = 1e-4  # L2 strength, as in micrograd's demo
CHECK_STEPS = 3  # steps over which the losses must agree
TOLERANCE = 1e-9
GC_PAUSED = "(op by op, cyclic GC paused)"
COMPILED = "tinygrad_edu compiled (optim.SGD)"
OWN = ", own process"  # the suffix of the rows run in a fresh process (see the module docstring)

# Initial weights, engine-neutral: for each layer, for each neuron, (weights, bias, has_relu).
Init = list[list[tuple[list[float], float, bool]]]


# ---------------------------------------------------------------------- data and initial weights


def moons(seed: int) -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data: make_moons(100, noise=0.1), labels mapped to -1/+1, as Python numbers.

    The demo feeds NumPy float64 scalars into Value; we pass Python floats to both engines, which is
    the faster choice for micrograd (NumPy scalar arithmetic is slower than float arithmetic).
    """
    datasets = common.require("sklearn.datasets", "scikit-learn")
    X, y = datasets.make_moons(n_samples=100, noise=0.1, random_state=seed)
    return X.tolist(), (2 * y - 1).tolist()


def micrograd_init(seed: int) -> Init:
    """micrograd's own MLP(2, [16, 16, 1]) init (uniform(-1, 1) weights, zero bias), read out as floats."""
    from micrograd.nn import MLP

    random.seed(seed)
    model = MLP(2, [16, 16, 1])
    return [[([w.data for w in n.w], float(n.b.data), n.nonlin) for n in layer.neurons] for layer in model.layers]


def fallback_init(seed: int) -> Init:
    """The same init drawn by hand, for when micrograd is not installed."""
    rng = random.Random(seed)
    sizes = [2, 16, 16, 1]
    return [
        [([rng.uniform(-1, 1) for _ in range(nin)], 0.0, i != len(sizes) - 2) for _ in range(nout)]
        for i, (nin, nout) in enumerate(itertools.pairwise(sizes))
    ]


# ---------------------------------------------------------------------- the models
# One tiny MLP per engine, built neuron by neuron like micrograd's nn.py; only the neuron differs.


class ScalarMLP:
    """An MLP of scalar Values: `layers[l][j] = (weights, bias, relu?)` and a neuron function."""

    def __init__(self, value: type, init: Init, neuron: Callable[..., Any]) -> None:
        self.layers = [[([value(w) for w in ws], value(b), relu) for ws, b, relu in layer] for layer in init]
        self.neuron = neuron
        self.params = [p for layer in self.layers for ws, b, _ in layer for p in (*ws, b)]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = [self.neuron(ws, b, x, relu) for ws, b, relu in layer]
        return x[0]


def op_by_op_neuron(ws: list[Any], b: Any, x: list[Any], relu: bool) -> Any:
    """micrograd's Neuron.__call__, verbatim in shape: n multiplications, n additions, a relu."""
    act = sum((wi * xi for wi, xi in zip(ws, x)), b)
    return act.relu() if relu else act


def fused_neuron(ws: list[Value], b: Value, x: list[Any], relu: bool) -> Value:
    """The same neuron as one weighted-sum node (the article's Σ w·x + b), then a relu."""
    act = weighted_sum(ws, x, b)
    return act.relu() if relu else act


# ---------------------------------------------------------------------- one training step


def svm_loss(model: ScalarMLP, inputs: list[list[Any]], labels: list[int]) -> Any:
    """micrograd demo's loss: mean max-margin hinge + ALPHA * Σ p², written as the demo writes it."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.params)
    return data_loss + reg_loss


def make_trainer(value: type, reset: Callable[[Any], None], wrap_inputs: bool) -> Callable[..., list[float]]:
    """A function that trains `model` for `steps` SGD steps and returns the loss of each step.

    It also appends the seconds each step took to `train.step_times` (consecutive steps: a full
    collection of the cyclic GC lands in some steps only, so a mean over them is the fair figure).

    `reset` zeroes one parameter's gradient the engine's way (micrograd: 0, ours: None).
    `wrap_inputs` makes every input a Value, as micrograd's demo does (`list(map(Value, xrow))`).
    """

    def train(model: ScalarMLP, X: list[list[float]], labels: list[int], steps: int) -> list[float]:
        history = []
        for k in range(steps):
            start = time.perf_counter()
            inputs = [list(map(value, row)) for row in X] if wrap_inputs else X
            loss = svm_loss(model, inputs, labels)
            for p in model.params:
                reset(p)
            loss.backward()
            lr = 1.0 - 0.9 * (k % 100) / 100
            for p in model.params:
                p.data -= lr * p.grad
            history.append(loss.data)
            step_times.append(time.perf_counter() - start)
        return history

    step_times: list[float] = []
    train.step_times = step_times  # type: ignore[attr-defined]
    return train


class CompiledTrainer:
    """The op-by-op step written as a compiled step: optim.SGD, its learning-rate schedule set through
    `param_groups` before each call, the loss returned (read outside). Each `train` call starts from `init`
    with a freshly compiled step: its first call traces, the second runs the replay and the eager step and
    compares, the others replay; `first_calls` keeps the seconds of the first two of every `train` call.
    """

    def __init__(self, init: Init) -> None:
        import tinygrad_edu
        from tinygrad_edu import optim

        self.init = init
        self.model = ScalarMLP(Value, init, op_by_op_neuron)
        self.opt = optim.SGD(self.model.params, lr=1.0)

        def one_step(inputs: Any, labels: Any) -> Any:
            self.opt.zero_grad()
            loss = svm_loss(self.model, inputs, labels)
            loss.backward()
            self.opt.step()
            return loss

        self.compile = lambda: tinygrad_edu.compile(one_step)
        self.first_calls: list[tuple[float, float]] = []  # per train call: seconds of the trace, of the checked call
        self.trace_cpu: list[float] = []  # per train call: the trace's CPU seconds (what it costs on a core of its own)
        self.step_times: list[float] = []

    def __call__(self, model: Any, X: list[list[float]], labels: list[int], steps: int) -> list[float]:
        fresh = [v for layer in self.init for ws, b, _ in layer for v in (*ws, b)]
        for p, v in zip(self.model.params, fresh):
            p.data, p.grad = float(v), None
        self.opt.state.clear()
        self.step_times = []
        step, first = self.compile(), []
        history = []
        for k in range(steps):
            start, cpu = time.perf_counter(), time.process_time()
            self.opt.param_groups[0]["lr"] = 1.0 - 0.9 * (k % 100) / 100
            loss = step(X, labels)
            history.append(loss.data)
            seconds = time.perf_counter() - start
            if k == 0:
                self.trace_cpu.append(time.process_time() - cpu)
            if k < 2:
                first.append(seconds)  # not a step time: the trace, and the checked call
            else:
                self.step_times.append(seconds)
        self.first_calls.append((first[0], first[1] if len(first) > 1 else math.nan))
        return history


def _zero(p: Any) -> None:
    p.grad = 0


def _none(p: Any) -> None:
    p.grad = None


# ---------------------------------------------------------------------- main


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=5, steps=10)
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.steps = 2, 3  # the compiled row: a trace, the checked call, a replay
    common.print_header("scalar engine vs micrograd: MLP 2-16-16-1 on make_moons(100)", args)

    X, labels = moons(args.seed)
    micrograd = common.optional_import("micrograd", "the reference of this benchmark")
    init = micrograd_init(args.seed) if micrograd else fallback_init(args.seed)

    # name -> (Value class, neuron, how to reset a grad, wrap inputs in Values, pause the cyclic GC)
    engines: dict[str, tuple[type, Callable[..., Any], Callable[[Any], None], bool, bool]] = {
        "tinygrad_edu op by op": (Value, op_by_op_neuron, _none, True, False),
        "tinygrad_edu fused neuron": (Value, fused_neuron, _none, False, False),
        # Not a fair row, a diagnosis: how much of "op by op" is Python's cyclic garbage collector,
        # which runs on allocation counts even though our graphs hold no cycles.
        GC_PAUSED: (Value, op_by_op_neuron, _none, True, True),
    }
    if micrograd:
        from micrograd.engine import Value as MicroValue

        engines = {"micrograd": (MicroValue, op_by_op_neuron, _zero, True, False), **engines}

    compiled = CompiledTrainer(init)
    engines[COMPILED] = (Value, op_by_op_neuron, _none, True, False)

    def case(name: str, steps: int) -> tuple[list[float], list[float], float]:
        """Per-step seconds, the losses, and the share of the time spent in the cyclic GC."""
        if name == COMPILED:
            gc.collect()
            with gc_clock() as in_gc:
                start = time.perf_counter()
                history = compiled(None, X, labels, steps)
                seconds = time.perf_counter() - start
            return compiled.step_times, history, in_gc[0] / seconds
        value, neuron, reset, wrap, pause_gc = engines[name]
        model = ScalarMLP(value, init, neuron)
        train = make_trainer(value, reset, wrap)
        gc.collect()  # the last case's garbage, outside the clock
        with gc_clock() as in_gc, gc_paused() if pause_gc else contextlib.nullcontext():
            start = time.perf_counter()
            history = train(model, X, labels, steps)
            seconds = time.perf_counter() - start
        return train.step_times, history, in_gc[0] / seconds

    # Same arithmetic first: every engine's loss over the first steps, against the first engine's.
    print(f"loss check over the first {CHECK_STEPS} steps (same initial weights, tolerance {TOLERANCE:g}):")
    reference_name = next(iter(engines))
    histories = {name: case(name, CHECK_STEPS)[1] for name in engines}
    for name, history in histories.items():
        diff = max(abs(a - b) for a, b in zip(history, histories[reference_name]))
        losses = ", ".join(f"{v:.12f}" for v in history)
        print(f"  {name:<30} losses {losses}   max |diff| vs {reference_name} = {diff:.1e}")
        assert diff <= TOLERANCE, f"{name}: loss differs from {reference_name} by {diff:g} > {TOLERANCE:g}"
    print()

    names = list(engines)
    if micrograd:
        names += ["micrograd" + OWN, "tinygrad_edu op by op" + OWN]
    steps: dict[str, list[float]] = {name: [] for name in names}
    gc_share: dict[str, list[float]] = {name: [] for name in names}
    objects: dict[str, int] = {}

    def run(name: str) -> float:
        if name.endswith(OWN):
            child = run_in_own_process(name.removesuffix(OWN), X, labels, init, args.steps)
            diff = max(abs(a - b) for a, b in zip(child["losses"], histories[reference_name]))
            assert diff <= TOLERANCE, f"{name}: loss differs from {reference_name} by {diff:g} > {TOLERANCE:g}"
            step_times, share, objects[name] = child["step_times"], child["gc_share"], child["objects"]
        else:
            step_times, _, share = case(name, args.steps)
        steps[name] += step_times
        gc_share[name].append(share)
        return 0.0

    common.interleaved({name: (lambda n=name: run(n)) for name in names}, args.repeats)
    rows = []
    for name, runs in steps.items():
        mean = statistics.fmean(runs)
        peer = "micrograd" + OWN if name.endswith(OWN) else "micrograd"  # own-process rows: against each other
        base = statistics.fmean(steps[peer]) if micrograd else None
        vs = base is not None and name != peer
        ratio = common.ratio(mean, base) if vs else "-"
        faster = common.speedup(mean, base) + " faster" if vs else "-"
        share = f"{100 * statistics.fmean(gc_share[name]):.0f}%"
        rows.append([name, common.fmt_time(mean * 1e3), common.spread(runs), share, ratio, faster])
    print(
        f"ms per step (forward + backward + SGD on 100 points): mean over {args.repeats} runs x {args.steps} "
        "consecutive steps, min..max of single steps;"
    )
    print("GC share = time inside the cyclic collector (gc.callbacks) / run time;")
    print("ratio = our time / micrograd's (below 1: we are faster), speedup = micrograd's time / ours:")
    common.print_table(["engine", "ms/step", "min..max", "GC share", "ratio vs micrograd", "speedup"], rows)
    if micrograd:

        def round_means(name: str) -> list[float]:
            runs = steps[name]
            return [statistics.fmean(runs[i : i + args.steps]) for i in range(0, len(runs), args.steps)]

        for ours, peer in (("tinygrad_edu op by op", "micrograd"), ("tinygrad_edu op by op" + OWN, "micrograd" + OWN)):
            paired = common.paired_ratio(round_means(peer), round_means(ours))
            print(f"speedup of {ours} over {peer}, round by round (median, min..max): {paired}")
    if objects:
        here = len(gc.get_objects())
        own = ", ".join(f"{name}: {count:,}" for name, count in objects.items())
        print(f"objects the collector walks besides the graphs: {here:,} in this process; before training, {own}")
        print(
            f"rows ending '{OWN}' ran in a fresh process each, and their ratio is against micrograd's own-process row"
        )
    if micrograd:
        compiled_summary(compiled, steps, args.steps)
    print(f"{GC_PAUSED} is a diagnosis, not a peer: the same op-by-op run with gc.disable() inside the clock,")
    print("showing how much of the op-by-op time is Python's cyclic garbage collector (triggered by allocation")
    print("counts, so it runs even though tinygrad_edu's graphs hold no reference cycles).")


def compiled_summary(compiled: CompiledTrainer, steps: dict[str, list[float]], per_round: int) -> None:
    """The compiled row against micrograd round by round, and what compiling costs up front."""

    def round_means(runs: list[float], n: int) -> list[float]:
        return [statistics.fmean(runs[i : i + n]) for i in range(0, len(runs), n)]

    replays = steps[COMPILED]
    micro, eager = round_means(steps["micrograd"], per_round), round_means(steps["tinygrad_edu op by op"], per_round)
    n_compiled = max(1, len(replays) // max(1, len(micro)))
    rounds = [replays[i : i + n_compiled] for i in range(0, len(replays), n_compiled)]
    paired = common.paired_ratio(micro, [statistics.fmean(r) for r in rounds])
    print(f"speedup of {COMPILED} over micrograd, round by round (median, min..max): {paired} (bar: >= 100x)")
    firsts = compiled.first_calls[-len(rounds) :]  # the timed rounds (the loss check compiled once before them)
    traces, checked = [t for t, _ in firsts], [c for _, c in firsts]
    print(
        f"compiled: first call (trace + generate + compile the 65k-node step) {statistics.median(traces):.2f} s "
        f"({min(traces):.2f}..{max(traces):.2f}, {len(traces)} rounds; bar: <= 3 s); second call (replay + the "
        f"eager step + comparison) {statistics.median(checked):.2f} s; replay "
        f"{statistics.median(replays) * 1e3:.2f} ms (median)"
    )
    cpu = compiled.trace_cpu[-len(rounds) :]
    print(
        f"compiled: the first call's CPU time (process time: its cost on a core of its own, whatever the load) "
        f"{statistics.median(cpu):.2f} s ({min(cpu):.2f}..{max(cpu):.2f})"
    )
    totals = [t + c + 98 * statistics.median(r) for t, c, r in zip(traces, checked, rounds)]
    paired = common.paired_ratio(totals, [100 * e for e in eager])
    print(
        f"100 steps including compilation: {statistics.median(totals):.2f} s compiled vs "
        f"{100 * statistics.median(eager):.2f} s eager op by op (round by round: {paired}; bar: < 0.33x) and "
        f"{100 * statistics.median(micro):.2f} s micrograd"
    )


def run_in_own_process(engine: str, X: list[list[float]], labels: list[int], init: Init, steps: int) -> dict[str, Any]:
    """`steps` op-by-op training steps of `engine` ("micrograd" or ours) in a fresh Python (see the docstring)."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = f"import sys; sys.path.insert(0, {here!r}); import bench_scalar_moons as b; b.own_process_child()"
    job = json.dumps({"engine": engine, "X": X, "labels": labels, "init": init, "steps": steps})
    done = subprocess.run([sys.executable, "-c", code], input=job, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def own_process_child() -> None:
    """The child of `run_in_own_process`: the job on stdin, step times, GC share and losses on stdout."""
    job = json.load(sys.stdin)
    gc.collect()
    baseline = len(gc.get_objects())  # what the collector walks besides the graphs
    if job["engine"] == "micrograd":
        from micrograd.engine import Value as MicroValue

        value, reset = MicroValue, _zero
    else:
        value, reset = Value, _none
    model = ScalarMLP(value, job["init"], op_by_op_neuron)
    train = make_trainer(value, reset, True)
    gc.collect()
    with gc_clock() as in_gc:
        start = time.perf_counter()
        history = train(model, job["X"], job["labels"], job["steps"])
        seconds = time.perf_counter() - start
    result = {"step_times": train.step_times, "gc_share": in_gc[0] / seconds, "losses": history}
    print(json.dumps(result | {"objects": baseline}))


@contextlib.contextmanager
def gc_clock() -> Iterator[list[float]]:
    """Seconds spent inside the cyclic garbage collector during the block (via `gc.callbacks`)."""
    total, started = [0.0], [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            total[0] += time.perf_counter() - started[0]

    gc.callbacks.append(callback)
    try:
        yield total
    finally:
        gc.callbacks.remove(callback)


if __name__ == "__main__":
    main()
