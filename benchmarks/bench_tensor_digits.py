"""Benchmark 2: the tensor engine against hand-written NumPy and PyTorch CPU, on the digits data.

The workload: an MLP 64-128-64-10 with sigmoid hidden layers and softmax cross-entropy, trained by
plain SGD on `sklearn.datasets.load_digits()` scaled to [0, 1], float32, at batch 32 and 1024:

    h1 = σ(x W1ᵀ + b1),  h2 = σ(h1 W2ᵀ + b2),  z = h2 W3ᵀ + b3,  L = mean_i -log softmax(z_i)[y_i]

Four implementations start from the same float32 weights and must agree on the first step's loss
(and on the updated weights) to ~1e-5:
  tinygrad_edu fused  linear / .sigmoid() / cross_entropy / backward(), then an SGD update under no_grad
  numpy by hand       the same forward pass and the backprop written out by hand, as a good student would
  tinygrad_edu @ +    the same written as learners do: `(h @ W + b).sigmoid()`, a new Tensor per
                      batch, the update on `.data` outside no_grad
  torch               PyTorch CPU with its default threads, and with 1 thread

At batch 32 the arrays are tiny and the time goes to per-op Python overhead; at 1024 to the
matrix products, which all three hand to a BLAS.

Run:  python benchmarks/bench_tensor_digits.py [--repeats 7] [--steps 50] [--quick]
"""

from __future__ import annotations

import contextlib
import itertools
import resource
import time
from collections.abc import Callable
from typing import Any

import common
import numpy as np

import tinygrad_edu
from tinygrad_edu import Tensor, optim
from tinygrad_edu.compile import layouts

SIZES = (64, 128, 64, 10)
LR = 0.1
BATCHES = (32, 1024)
TOLERANCE = 1e-5
# Steps each implementation runs before its clock starts, every round: what the first calls cost is not a
# cost per step. Those are the allocator's first arrays and BLAS's threads for every row, a compiled step's
# trace and its checked second call, and CPython specializing the bytecode of a function it has not run
# before (PEP 659): the compiled step's generated function is new at every round (the other rows' code is
# not) and runs ~25% slower over its first ~10 calls. With 2 warm-up steps, that alone put the compiled
# row at ~1.0x numpy instead of ~0.95x.
WARM_UP = 20

Params = list[np.ndarray]  # [W1, b1, W2, b2, W3, b3], weights (out, in) as in PyTorch
Batch = tuple[np.ndarray, np.ndarray]  # (x float32 (B, 64), y int64 (B,))


# ---------------------------------------------------------------------- data and weights


def digits() -> tuple[np.ndarray, np.ndarray]:
    """load_digits(): 1797 8x8 images with pixels 0..16, scaled to [0, 1] float32; labels int64."""
    data = common.require("sklearn.datasets", "scikit-learn").load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def make_batches(X: np.ndarray, y: np.ndarray, size: int, count: int, seed: int) -> list[Batch]:
    """`count` batches of exactly `size` rows, drawn in shuffled order, as contiguous arrays.

    The batches are cut before the clock starts, so the benchmark times the training step only,
    the same for every implementation.
    """
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(X)) for _ in range(size * count // len(X) + 1)])
    return [
        (np.ascontiguousarray(X[idx]), np.ascontiguousarray(y[idx]))
        for idx in (order[i * size : (i + 1) * size] for i in range(count))
    ]


def init_params(seed: int) -> Params:
    """PyTorch's nn.Linear init: W, b ~ U(-1/√in, 1/√in), drawn once in float32 and shared by all."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(SIZES):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    return params


# ---------------------------------------------------------------------- the three implementations
# Each `make_*` takes copies of the initial weights and returns (step, weights): step(x, y) trains
# on one batch and returns the loss; weights() gives the current weights as NumPy arrays.


def make_ours(params: Params) -> tuple[Callable[[Any, Any], float], Callable[[], Params]]:
    ps = [Tensor.from_numpy(p.copy(), requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3 = ps

    def step(x: Tensor, y: np.ndarray) -> float:
        h1 = tinygrad_edu.linear(x, W1, b1).sigmoid()
        h2 = tinygrad_edu.linear(h1, W2, b2).sigmoid()
        loss = tinygrad_edu.cross_entropy(tinygrad_edu.linear(h2, W3, b3), y)
        loss.backward()
        with tinygrad_edu.no_grad():
            for p in ps:
                p.data -= LR * p.grad
                p.grad = None
        return loss.item()

    return step, lambda: [p.data for p in ps]


def make_compiled(params: Params) -> tuple[Callable[[Any, Any], float], Callable[[], Params]]:
    """The fused row's step written as a compiled step: optim.SGD, returning the loss (read outside)."""
    ps = [Tensor.from_numpy(p.copy(), requires_grad=True) for p in params]
    W1, b1, W2, b2, W3, b3 = ps
    opt = optim.SGD(ps, lr=LR)

    @tinygrad_edu.compile
    def train_step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        h1 = tinygrad_edu.linear(x, W1, b1).sigmoid()
        h2 = tinygrad_edu.linear(h1, W2, b2).sigmoid()
        loss = tinygrad_edu.cross_entropy(tinygrad_edu.linear(h2, W3, b3), y)
        loss.backward()
        opt.step()
        return loss

    def step(x: np.ndarray, y: np.ndarray) -> float:
        return float(train_step(x, y).data)

    step.compiled = train_step  # type: ignore[attr-defined]
    return step, lambda: [p.data for p in ps]


def make_learner(params: Params) -> tuple[Callable[[Any, Any], float], Callable[[], Params]]:
    """The MLP as a learner writes it: `h @ W + b`, weights (in, out), the update outside no_grad."""
    W1, b1, W2, b2, W3, b3 = (Tensor(p.T.copy() if p.ndim == 2 else p.copy(), requires_grad=True) for p in params)
    ps = [W1, b1, W2, b2, W3, b3]

    def step(x: np.ndarray, y: np.ndarray) -> float:
        h = Tensor(x)  # a new Tensor per batch, as a learner would
        h = (h @ W1 + b1).sigmoid()
        h = (h @ W2 + b2).sigmoid()
        loss = tinygrad_edu.cross_entropy(h @ W3 + b3, y)
        loss.backward()
        for p in ps:  # the update on .data, outside no_grad, as learners write it
            p.data -= LR * p.grad
            p.grad = None
        return loss.item()

    return step, lambda: [p.data.T if p.ndim == 2 else p.data for p in ps]


def make_numpy(params: Params) -> tuple[Callable[[Any, Any], float], Callable[[], Params]]:
    ps = [p.copy() for p in params]
    W1, b1, W2, b2, W3, b3 = ps  # updated in place below, so these names stay valid

    def step(x: np.ndarray, y: np.ndarray) -> float:
        n = len(y)
        rows = np.arange(n)
        # forward
        a1 = 1 / (1 + np.exp(-(x @ W1.T + b1)))
        a2 = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))
        z3 = a2 @ W3.T + b3
        shifted = z3 - z3.max(axis=1, keepdims=True)  # stable softmax: exp never overflows
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])
        # backward: dL/dz3 = (softmax - onehot) / n, then the chain rule layer by layer
        dz3 = e / total
        dz3[rows, y] -= 1
        dz3 /= n
        dz2 = (dz3 @ W3) * a2 * (1 - a2)
        dz1 = (dz2 @ W2) * a1 * (1 - a1)
        grads = (dz1.T @ x, dz1.sum(axis=0), dz2.T @ a1, dz2.sum(axis=0), dz3.T @ a2, dz3.sum(axis=0))
        for p, g in zip(ps, grads):
            p -= LR * g
        return float(loss)

    return step, lambda: ps


def make_torch(params: Params) -> tuple[Callable[[Any, Any], float], Callable[[], Params]]:
    import torch
    import torch.nn.functional as F

    ps = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
    W1, b1, W2, b2, W3, b3 = ps

    def step(x: Any, y: Any) -> float:
        h1 = torch.sigmoid(F.linear(x, W1, b1))
        h2 = torch.sigmoid(F.linear(h1, W2, b2))
        loss = F.cross_entropy(F.linear(h2, W3, b3), y)
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
                p.grad = None
        return loss.item()

    return step, lambda: [p.detach().numpy() for p in ps]


# ---------------------------------------------------------------------- main


def blas_limit(threads: int) -> Any:
    """Limit NumPy's BLAS to `threads` inside the block (threadpoolctl, which scikit-learn installs)."""
    if threads <= 0:
        return contextlib.nullcontext()
    threadpoolctl = common.require("threadpoolctl", "threadpoolctl")
    return threadpoolctl.threadpool_limits(limits=threads, user_api="blas")


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=15, steps=50)
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES), help="batch sizes (default 32 1024)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="threads NumPy's BLAS may use in the NumPy-based rows (default 1: on a shared box two threads "
        "swing by 10x; 0 leaves NumPy's default)",
    )
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.steps = 2, 5
    common.print_header("tensor engine vs NumPy by hand vs PyTorch: MLP 64-128-64-10 on load_digits", args)

    torch = common.optional_import("torch", "the PyTorch rows are left out")
    print(f"NumPy's BLAS threads: {args.blas_threads or 'its default'}")
    default_threads = torch.get_num_threads() if torch is not None else 0
    if torch is not None:
        print(f"torch threads: default {default_threads}, and 1")
    X, y = digits()
    params = init_params(args.seed)

    # How each implementation wants its inputs: wrapped once, before the clock. The learner's row
    # gets plain arrays and makes its own Tensor per batch, inside the clock.
    makers: dict[str, tuple[Callable[..., Any], Callable[[Batch], tuple[Any, Any]], int]] = {
        "tinygrad_edu fused": (make_ours, lambda b: (Tensor.from_numpy(b[0]), b[1]), 0),
        "tinygrad_edu compiled": (make_compiled, lambda b: b, 0),
        "tinygrad_edu @ +": (make_learner, lambda b: b, 0),
        "numpy by hand": (make_numpy, lambda b: b, 0),
    }
    if torch is not None:
        to_torch = lambda b: (torch.from_numpy(b[0]), torch.from_numpy(b[1]))  # noqa: E731
        makers[f"torch ({default_threads} threads)"] = (make_torch, to_torch, default_threads)
        makers["torch (1 thread)"] = (make_torch, to_torch, 1)

    # Same arithmetic first: one step from the same weights on the same batch.
    print(f"first-step check (float32, tolerance {TOLERANCE:g}), batch {args.batches[0]}:")
    batch = make_batches(X, y, args.batches[0], 1, args.seed)[0]
    results = {}
    for name, (make, wrap, _) in makers.items():
        step, weights = make(params)
        loss = step(*wrap(batch))
        results[name] = (loss, [w.copy() for w in weights()])
    ref_loss, ref_weights = results["numpy by hand"]
    for name, (loss, weights) in results.items():
        dw = max(float(np.max(np.abs(a - b))) for a, b in zip(weights, ref_weights))
        print(
            f"  {name:<20} loss {loss:.7f}  |loss - numpy| {abs(loss - ref_loss):.1e}  max |weights - numpy| {dw:.1e}"
        )
        assert abs(loss - ref_loss) <= TOLERANCE, f"{name}: first-step loss differs from numpy by {loss - ref_loss:g}"
        assert dw <= TOLERANCE, f"{name}: weights after one step differ from numpy by {dw:g}"
    print()

    rows = []
    faults: dict[str, list[float]] = {}
    for size in args.batches:
        batches = make_batches(X, y, size, args.steps, args.seed)

        def case(name: str, batches: list[Batch] = batches, size: int = size) -> float:
            make, wrap, threads = makers[name]
            if threads:
                torch.set_num_threads(threads)
            step, _ = make(params)
            inputs = [wrap(b) for b in batches]
            for x, t in inputs[:WARM_UP]:  # warm-up: first calls' costs are not per step (see WARM_UP)
                step(x, t)

            def run() -> None:
                for x, t in inputs:
                    step(x, t)

            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            with blas_limit(args.blas_threads):  # (one more step after the collection: see common.timed)
                seconds, _ = common.timed(run, warm=lambda: step(*inputs[0]))
            faults.setdefault(f"{name}|{size}", []).append(
                (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / len(inputs)
            )
            return seconds / len(inputs)

        times = common.interleaved({name: (lambda n=name: case(n)) for name in makers}, args.repeats)
        med = {name: common.median(runs) for name, runs in times.items()}
        torch_1 = med.get("torch (1 thread)")
        for name, runs in times.items():
            vs_numpy = common.paired_ratio(runs, times["numpy by hand"]) if name != "numpy by hand" else "-"
            vs_torch = common.ratio(med[name], torch_1) if torch_1 and name != "torch (1 thread)" else "-"
            flt = common.median(faults[f"{name}|{size}"])
            rows.append(
                [name, size, common.fmt_time(med[name] * 1e3), common.spread(runs), vs_numpy, vs_torch, f"{flt:.0f}"]
            )

    print(f"ms per SGD step, median of {args.repeats} runs x {args.steps} steps, the cases interleaved;")
    print("vs numpy: the median of this row's time / NumPy by hand's over the runs, each pair back to back,")
    print("with their min..max; vs torch: the ratio of the medians (below 1: faster); faults = minor page")
    print("faults per step (median):")
    headers = ["implementation", "batch", "ms/step", "min..max", "vs numpy (min..max)", "vs torch 1 thread"]
    headers.append("faults/step")
    common.print_table(headers, rows)
    print("bars (issue 12): the @ + row <= 1.5x numpy at batch 32 (aim 1.2x), <= 1.2x at 1024 (aim 1.0x)")
    print("bars (issue 22): the compiled row <= 1.0x numpy at batch 32 and at 1024")
    print()
    compiled_costs(X, y, params, args)


def compiled_costs(X: np.ndarray, y: np.ndarray, params: Params, args: Any) -> None:
    """A compiled step's first call against eager steps, and what one replay allocates (tracemalloc)."""
    for size in args.batches:
        batches = make_batches(X, y, size, 12, args.seed)
        ratios = []
        for _ in range(5):  # interleaved: one first call, then eager steps on the same machine moment
            step, _ = make_compiled(params)
            layouts.same_bits.cache_clear()  # (what a first trace in a new process tries: see layouts.py)
            layouts.faster.cache_clear()
            start = time.perf_counter()
            step(*batches[0])  # trace + generate + compile
            first = time.perf_counter() - start
            fused, _ = make_ours(params)
            inputs = [(Tensor.from_numpy(b[0]), b[1]) for b in batches]
            fused(*inputs[0])
            start = time.perf_counter()
            for x, t in inputs[1:]:
                fused(x, t)
            ratios.append(first / ((time.perf_counter() - start) / (len(inputs) - 1)))
        ratios.sort()
        print(
            f"batch {size}: first call (trace + generate + compile) = {common.median(ratios):.1f} eager steps "
            f"({ratios[0]:.1f}..{ratios[-1]:.1f}, 5 runs; bar: <= 30)"
        )
        replay_memory(X, y, params, size, args.seed)


def replay_memory(X: np.ndarray, y: np.ndarray, params: Params, size: int, seed: int) -> None:
    """tracemalloc over one replay, with the previous .grad arrays still referenced (so their release
    does not hide what the replay allocates): what it keeps should be what it hands over (the fresh
    .grad arrays and the loss), and its peak little more."""
    import tracemalloc

    step, _ = make_compiled(params)
    batches = make_batches(X, y, size, 4, seed)
    for b in batches[:3]:
        step(*b)  # the trace, the checked call, one replay
    compiled = step.compiled
    old = [p.grad for p in compiled._latest.params]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = compiled(*batches[3])
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    handed = sum(p.grad.nbytes for p in compiled._latest.params) + loss.data.nbytes
    print(
        f"  one replay: kept {(after - before) / 1024:.1f} KiB for {handed / 1024:.1f} KiB handed over (the new "
        f".grad arrays and the loss; the rest is object headers); peak {(peak - before) / 1024:.1f} KiB "
        f"({len(old)} old .grad arrays held outside)"
    )


if __name__ == "__main__":
    main()
