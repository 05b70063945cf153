"""A compiled tensor step leaves `zero_grad()` out of its code only where backward then sets every gradient it
clears; wherever one would stay None (a parameter the loss does not reach, a zero_grad after the update) or a
subclass's zero_grad does more, the call stays, and every replay still leaves what eager leaves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_compile_replay import _equal, _state

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

LEFT_OUT = "zero_grad(): left out"


def _batches(n: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(n)]


def _compare(build: Any, poke: Any = None) -> str:
    """Run an eager and a compiled copy side by side (with `poke(model)` before each call); the source."""
    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    for k, x in enumerate(_batches()):
        if poke is not None:
            poke(model_e)
            poke(model_c)
        loss_e, loss_c = step_e(x), compiled(x)
        assert _equal(np.asarray(loss_e.data), np.asarray(loss_c.data)), f"loss differs at step {k}"
        for i, (a, b) in enumerate(zip(_state(model_e, opt_e), _state(model_c, opt_c), strict=True)):
            assert _equal(a, b), f"state item {i} differs after step {k}"
    return compiled.source


class _Net(nn.Module):
    def __init__(self, unused: bool) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 2, generator=0)
        if unused:
            self.spare = nn.Linear(3, 2, generator=1)  # registered, so zero_grad clears it, but never used

    def forward(self, x: Any) -> Any:
        return self.layer(x)


def _model(unused: bool = False) -> Any:
    return _Net(unused)


def _usual_step(model: Any, opt: Any, clear: Any) -> Any:
    """`clear.zero_grad()` (looked up at each call), a loss, backward, `opt.step()`: most tests' step."""

    def step(x: Any) -> Any:
        clear.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize("owner", ["optimizer", "model"])
def test_zero_grad_before_backward_is_left_out_when_backward_sets_every_grad(owner: str) -> None:
    def build() -> Any:
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.1)

        return model, opt, _usual_step(model, opt, opt if owner == "optimizer" else model)

    source = _compare(build)
    assert f"{owner}.zero_grad()  #" not in source and f"# {owner}.{LEFT_OUT}" in source


@pytest.mark.parametrize("owner", ["optimizer", "model"])
def test_zero_grad_stays_when_a_parameter_gets_no_gradient(owner: str) -> None:
    """The spare layer's `.grad` is set by hand before every call: only the zero_grad clears it again."""

    def build() -> Any:
        model = _model(unused=True)
        opt = optim.SGD(model.parameters(), lr=0.1)

        return model, opt, _usual_step(model, opt, opt if owner == "optimizer" else model)

    def poke(model: Any) -> None:
        model.spare.weight.grad = np.ones((2, 3), np.float32)

    source = _compare(build, poke)
    assert f"{owner}.zero_grad()  #" in source and LEFT_OUT not in source


def test_zero_grad_after_the_update_stays() -> None:
    def build() -> Any:
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any) -> Any:
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()  # PyTorch's other habit: clear at the end, so .grad is None between steps
            return loss

        return model, opt, step

    source = _compare(build)
    assert "optimizer.zero_grad()  #" in source and LEFT_OUT not in source


def test_a_subclass_zero_grad_stays_and_its_extra_work_runs_at_every_replay() -> None:
    class Counting(optim.SGD):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.cleared = 0

        def zero_grad(self) -> None:
            self.cleared += 1
            super().zero_grad()

    opts = []

    def build() -> Any:
        model = _model()
        opt = Counting(model.parameters(), lr=0.1)
        opts.append(opt)

        return model, opt, _usual_step(model, opt, opt)

    source = _compare(build)
    assert LEFT_OUT not in source
    eager, compiled = opts
    assert eager.cleared == len(_batches())
    assert compiled.cleared == eager.cleared + 1  # (+1: the second call also runs the eager step, to compare)


def test_two_zero_grads_the_first_left_out_the_second_kept() -> None:
    """The first is followed by a backward that sets every gradient; the second, at the end, is not."""

    def build() -> Any:
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss

        return model, opt, step

    source = _compare(build)
    assert source.count(LEFT_OUT) == 1 and source.count("optimizer.zero_grad()  #") == 1


@pytest.mark.parametrize("make", ["momentum", "adam"])
def test_zero_grad_stays_when_the_update_runs_before_backward(make: str) -> None:
    """zero_grad(), step(), backward(): the update reads the gradients zero_grad cleared (None: it skips them),
    not the ones backward sets after it; leaving zero_grad out would update with the last call's gradients."""

    def build() -> Any:
        model = _model()
        params = list(model.parameters())
        opt = optim.SGD(params, lr=0.1, momentum=0.9) if make == "momentum" else optim.Adam(params, lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            opt.step()
            loss = (model(x) ** 2).mean()
            loss.backward()
            return loss

        return model, opt, step

    source = _compare(build)
    assert "optimizer.zero_grad()  #" in source and LEFT_OUT not in source


def test_model_zero_grad_stays_when_parameters_lists_fewer_than_it_clears() -> None:
    """Module.zero_grad clears every registered parameter; a model whose parameters() leaves one out (a
    frozen part) still has that one cleared, so the call stays."""

    class Frozen(_Net):
        def parameters(self) -> Any:
            return iter([self.layer.weight, self.layer.bias])

    def build() -> Any:
        model = Frozen(unused=True)
        opt = optim.SGD(model.parameters(), lr=0.1)

        return model, opt, _usual_step(model, opt, model)

    models = []

    def poke(model: Any) -> None:
        models.append(model) if model not in models else None
        model.spare.weight.grad = np.ones((2, 3), np.float32)

    source = _compare(build, poke)
    assert "model.zero_grad()  #" in source and LEFT_OUT not in source
    assert all(m.spare.weight.grad is None for m in models)


def test_a_zero_grad_set_on_the_optimizer_object_stays() -> None:
    opts = []

    def build() -> Any:
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.1)
        opt.cleared = 0

        def counting() -> None:
            opt.cleared += 1
            optim.SGD.zero_grad(opt)

        opt.zero_grad = counting
        opts.append(opt)

        return model, opt, _usual_step(model, opt, opt)

    source = _compare(build)
    assert LEFT_OUT not in source
    eager, compiled = opts
    assert compiled.cleared == eager.cleared + 1 == len(_batches()) + 1
