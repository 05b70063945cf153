"""Differential fuzzing of PROGRAMS, not expressions: training steps with in-place updates, against PyTorch (float64).

Hypothesis draws a program of steps on one small model (3-4-2, tanh): forward passes whose losses are
kept, backward on any kept loss (with or without retain_graph, so twice through a released graph is
tried), optimizer steps, zero_grad, in-place writes to the input and the weights under no_grad, `+=`
on the input outside no_grad (refused for a leaf that requires grad) and `losses[i] += losses[j]`.
The same program runs on both engines, step by step. After each step either both raised (ours a
tinygrad_edu error that is a RuntimeError, as PyTorch's), and the program ends there, or neither did
and every weight, gradient, input and kept loss agrees. So an optimizer step between forward and
backward must raise exactly where PyTorch raises: no silent difference in either direction.

A second test trains in one thread while another evaluates under no_grad (or trains a second model,
its optimizer stepping under no_grad), with a tiny switch interval so that the threads really
interleave; the trained weights must equal PyTorch's, trained one model after the other.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, no_grad, optim

torch = pytest.importorskip("torch")

TOL = {"rtol": 1e-10, "atol": 1e-12}


class Pair:
    """The same model, input, optimizer and kept losses on both engines."""

    def __init__(self, seed: int, x_grad: bool, adam: bool) -> None:
        self.ours = nn.Sequential(
            nn.Linear(3, 4, dtype=np.float64, generator=seed),
            nn.Tanh(),
            nn.Linear(4, 2, dtype=np.float64, generator=seed + 1),
        )
        self.theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
        self.theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in self.ours.state_dict().items()})
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((5, 3))
        self.target = rng.standard_normal((5, 2))
        self.x = [Tensor(x.copy(), requires_grad=x_grad), torch.tensor(x.copy(), requires_grad=x_grad)]
        self.params = [list(self.ours.parameters()), list(self.theirs.parameters())]
        if adam:
            self.opt = [optim.Adam(self.params[0], lr=0.05), torch.optim.Adam(self.params[1], lr=0.05)]
        else:
            self.opt = [
                optim.SGD(self.params[0], lr=0.1, momentum=0.9),
                torch.optim.SGD(self.params[1], lr=0.1, momentum=0.9),
            ]
        self.losses: list[list] = [[], []]

    # one method per kind of step; `side` 0 is tinygrad_edu, 1 is PyTorch

    def forward(self, side: int, kind: str, scale: float) -> None:
        """A loss of one of a few shapes, so that different ops save different inputs (and outputs)."""
        model = self.ours if side == 0 else self.theirs
        target = self.target if side == 0 else torch.tensor(self.target)
        x = self.x[side]
        out = model(x)
        if kind == "mse":
            loss = ((out - target) ** 2).mean()
        elif kind == "exp":  # Exp saves its output
            loss = (out * 0.5).exp().mean()
        elif kind == "view":  # Mul saves a view of the input: a write to x must be seen through it
            loss = (out * x[:, :2]).sum()
        else:  # log_softmax, and a weight used directly (Mul saves the parameter)
            last = self.params[side][2]
            loss = out.log_softmax(dim=1).mean() + (last * last).sum()
        self.losses[side].append(loss * scale)

    def backward(self, side: int, i: int, retain: bool) -> None:
        if self.losses[side]:
            self.losses[side][i % len(self.losses[side])].backward(retain_graph=retain)

    def step(self, side: int) -> None:
        self.opt[side].step()

    def zero_grad(self, side: int) -> None:
        self.opt[side].zero_grad()

    def x_add(self, side: int, c: float) -> None:
        grad_off = no_grad() if side == 0 else torch.no_grad()
        with grad_off:
            self.x[side] += c

    def x_mul(self, side: int, c: float) -> None:  # outside no_grad: refused when x requires grad
        self.x[side] *= c

    def w_sub(self, side: int, j: int, c: float) -> None:
        grad_off = no_grad() if side == 0 else torch.no_grad()
        with grad_off:
            self.params[side][j % 4] -= c

    def load(self, side: int) -> None:  # the same numbers, written in place: the versions change
        model = self.ours if side == 0 else self.theirs
        model.load_state_dict(model.state_dict())

    def x_detach_mul(self, side: int, c: float) -> None:  # through detach(): the same data, the same counter
        self.x[side].detach().mul_(c)

    def acc(self, side: int, i: int, j: int) -> None:
        losses = self.losses[side]
        if losses:
            losses[i % len(losses)] += losses[j % len(losses)]

    def check(self, where: str) -> None:
        def np_(t):
            return None if t is None else (t.data if type(t) is Tensor else t.detach().numpy())

        def grad(t):
            return None if t.grad is None else np_(t.grad) if type(t) is not Tensor else t.grad

        pairs = [("x", *self.x)] + [(f"param {k}", a, b) for k, (a, b) in enumerate(zip(*self.params))]
        for name, a, b in pairs:
            np.testing.assert_allclose(np_(a), np_(b), **TOL, err_msg=f"{where}: {name} value")
            ga, gb = grad(a), grad(b)
            assert (ga is None) == (gb is None), f"{where}: {name}.grad is {ga} here, {gb} in PyTorch"
            if ga is not None:
                np.testing.assert_allclose(ga, gb, **TOL, err_msg=f"{where}: {name}.grad")
        for k, (a, b) in enumerate(zip(*self.losses)):
            np.testing.assert_allclose(a.item(), b.item(), **TOL, err_msg=f"{where}: loss {k}")


small = st.floats(-0.5, 0.5, allow_nan=False).filter(lambda c: abs(c) > 1e-3)
FORWARD = st.tuples(st.just("forward"), st.sampled_from(["mse", "exp", "view", "softmax"]), st.sampled_from([1.0, 0.5]))
BACKWARD = st.tuples(st.just("backward"), st.integers(0, 5), st.booleans())
STEPS = st.one_of(  # forward, backward and step twice: they are what the version checks are about
    FORWARD,
    FORWARD,
    BACKWARD,
    BACKWARD,
    st.tuples(st.just("step")),
    st.tuples(st.just("step")),
    st.tuples(st.just("zero_grad")),
    st.tuples(st.just("x_add"), small),
    st.tuples(st.just("x_mul"), st.sampled_from([0.5, 2.0])),
    st.tuples(st.just("w_sub"), st.integers(0, 3), small),
    st.tuples(st.just("acc"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("load")),
    st.tuples(st.just("x_detach_mul"), st.sampled_from([0.5, 2.0])),
)
PROGRAMS = st.tuples(st.integers(0, 100), st.booleans(), st.booleans(), st.lists(STEPS, min_size=1, max_size=25))


def run_program(program) -> int | None:
    """Run it on both engines; the index of the step where both raised, or None if none did."""
    seed, x_grad, adam, steps = program
    pair = Pair(seed, x_grad, adam)
    for n, (kind, *args) in enumerate(steps):
        outcome = []
        for side in (0, 1):
            try:
                getattr(pair, kind)(side, *args)
                outcome.append(None)
            except RuntimeError as error:
                outcome.append(error)
        where = f"step {n} {kind}{tuple(args)}"
        ours, theirs = outcome
        assert (ours is None) == (theirs is None), f"{where}: tinygrad_edu raised {ours!r}, PyTorch {theirs!r}"
        if ours is not None:
            assert isinstance(ours, tg.TinygradEduError), f"{where}: {ours!r} is not a tinygrad_edu error"
            return n  # both refused; what a half-done backward leaves behind is not compared
        pair.check(where)
    return None


@settings(max_examples=60, deadline=None)
@given(PROGRAMS)
def test_programs_with_in_place_updates_match_pytorch(program):
    run_program(program)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(PROGRAMS)
def test_programs_with_in_place_updates_match_pytorch_many(program):
    run_program(program)


def test_the_classic_mistake_raises_where_pytorch_does():
    # forward, backward, step, forward, step (too early), backward: both engines refuse the last step
    first = [("forward", "mse", 1.0), ("backward", 0, False), ("step",), ("forward", "mse", 1.0)]
    assert run_program((0, True, False, [*first, ("step",), ("backward", 1, False)])) == 5
    assert run_program((0, True, False, [*first, ("backward", 1, False), ("step",)])) is None  # the right order
    # a second pass through a released graph, and an in-place write to the input it saved
    assert run_program((1, False, True, [("forward", "mse", 1.0), ("backward", 0, False), ("backward", 0, True)])) == 2
    assert run_program((2, False, False, [("forward", "mse", 1.0), ("x_add", 0.25), ("backward", 0, False)])) == 2


# ---------------------------------------------------------------------- threads


def _train(pair: Pair, side: int, steps: int, errors: list) -> None:
    """`steps` plain training steps of `pair`'s model on one engine (each step: zero_grad, forward, backward, step)."""
    model = pair.ours if side == 0 else pair.theirs
    target = pair.target if side == 0 else torch.tensor(pair.target)
    try:
        for _ in range(steps):
            pair.opt[side].zero_grad()
            loss = ((model(pair.x[side]) - target) ** 2).mean()
            loss.backward()
            pair.opt[side].step()
    except Exception as error:  # reported by the test, not lost in the thread
        errors.append(error)


def _evaluate(model, x, stop: threading.Event, errors: list) -> None:
    try:
        while not stop.is_set():
            with no_grad():
                model(x)
    except Exception as error:
        errors.append(error)


def _threaded_run(seed: int, steps: int, beside: str) -> None:
    """Train on our engine in a thread while another thread evaluates under no_grad, or trains too."""
    pairs = [Pair(seed, x_grad=False, adam=seed % 2 == 1), Pair(seed + 50, x_grad=True, adam=seed % 2 == 0)]
    for pair in pairs:  # PyTorch, in this thread, one after the other: the reference
        _train(pair, 1, steps, [])
    errors: list = []
    stop = threading.Event()
    trainers = [threading.Thread(target=_train, args=(pairs[0], 0, steps, errors))]
    if beside == "no_grad":
        other = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, generator=seed + 7), nn.Tanh())
        helper = threading.Thread(target=_evaluate, args=(other, Tensor(np.ones((8, 3))), stop, errors))
    else:  # two threads whose optimizers step (each step runs under no_grad)
        trainers.append(threading.Thread(target=_train, args=(pairs[1], 0, steps, errors)))
        helper = threading.Thread(target=stop.wait)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads every few bytecodes: the races happen
    try:
        helper.start()
        for thread in trainers:
            thread.start()
        for thread in trainers:
            thread.join()
        stop.set()
        helper.join()
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert tg.is_grad_enabled()  # no thread left grad mode off for the others
    for pair in pairs[: len(trainers)]:
        for k, (a, b) in enumerate(zip(*pair.params)):
            np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL, err_msg=f"param {k}")


@pytest.mark.parametrize("beside", ["no_grad", "training"])
@pytest.mark.parametrize("seed", [0, 1])
def test_training_beside_another_thread_matches_pytorch(seed, beside):
    _threaded_run(seed, steps=150, beside=beside)
