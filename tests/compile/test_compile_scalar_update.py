"""The scalar engine's update written out (compile/scalar_update.py): the article's w5 ← w5 − lr · ∂E/∂w5 as a
line of the step, with every setting it assumed checked at each call. Compared with the eager step by equality,
number and type, while the settings change under it."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.compile.article import article_step


def _build(opt_class: Any = optim.SGD, **settings: Any) -> tuple[Any, Any, Any]:
    model = nn.Sequential(
        nn.Linear(2, 3, generator=0, engine="value"),
        nn.Tanh(engine="value"),
        nn.Linear(3, 1, generator=1, engine="value"),
    )
    opt = opt_class(model.parameters(), **settings)

    def step(xs: Any, ys: Any) -> Any:
        opt.zero_grad()
        loss = nn.max_margin_loss([model(x)[0] for x in xs], ys)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


XS, YS = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8], [0.1, 0.1]], [1, -1, 1, -1]


def test_the_article_step_writes_its_update_as_the_article_does() -> None:
    step, _ = article_step()
    source = step.source
    update = source[source.index("# ---- update") :]
    assert "params.w5.data = params.w5.data - lr * params.w5.grad  # w5 ← w5 - lr * ∂E/∂w5" in update
    assert update.count(".data = ") == 12  # w1–w8 and four biases, one line each


def test_changed_settings_take_the_optimizers_own_branch() -> None:
    """A schedule, a learning rate of another type, weight decay switched on and off: eager and compiled agree."""
    model_e, opt_e, step_e = _build(lr=0.2)
    model_c, opt_c, step_c = _build(lr=0.2)
    compiled = tg.compile(step_c)
    changes: list[dict[str, Any]] = [
        {},
        {"lr": 0.15},
        {"lr": np.float32(0.1)},  # float32 × float rounds to float32: the written line would not
        {"lr": 1},
        {"lr": 0.1, "weight_decay": 0.01},
        {"weight_decay": 0.0},
        {"lr": 0.05},
    ]
    for k, change in enumerate(changes):
        for opt in (opt_e, opt_c):
            opt.param_groups[0].update(change)
        assert step_e(XS, YS).data == compiled(XS, YS).data, f"loss differs at step {k}"
        eager = [p.data for p in model_e.parameters()]
        replay = [p.data for p in model_c.parameters()]
        assert eager == replay, f"parameters differ after step {k} ({change})"
        assert [type(x) for x in eager] == [type(x) for x in replay], f"a parameter's type differs after step {k}"
    assert compiled.traces == 1  # the settings are checked by the code, not by re-tracing


def test_momentum_and_adam_keep_the_optimizers_step() -> None:
    """Their rule reads its state (buffers, step counts): the code calls step(), which reads it at every call."""
    for opt_class, settings in ((optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.01})):
        model_e, _, step_e = _build(opt_class, **settings)
        model_c, _, step_c = _build(opt_class, **settings)
        compiled = tg.compile(step_c)
        for _ in range(4):
            assert step_e(XS, YS).data == compiled(XS, YS).data
        assert [p.data for p in model_e.parameters()] == [p.data for p in model_c.parameters()]
        assert "optimizer.step()  #" in compiled.source and ".data = " not in compiled.source


def test_an_optimizer_with_a_step_of_its_own_is_called() -> None:
    """A subclass that overrides step() may do what _update does not show (here: count its calls): the code
    calls it, so it runs at every replay."""

    class Counted(optim.SGD):
        calls = 0

        def step(self, closure: Any = None) -> Any:
            type(self).calls += 1
            return super().step(closure)

    model_e, _, step_e = _build(optim.SGD, lr=0.3)
    model_c, _, step_c = _build(Counted, lr=0.3)
    compiled = tg.compile(step_c)
    for _ in range(4):
        assert step_e(XS, YS).data == compiled(XS, YS).data
    assert [p.data for p in model_e.parameters()] == [p.data for p in model_c.parameters()]
    assert ".data = " not in compiled.source
    assert Counted.calls == 5  # four calls, and the second call's check runs the eager step once more


def test_a_step_whose_gradients_reach_no_parameter_and_numpy_settings() -> None:
    """No parameter gets a gradient: nothing to write (it was an empty block, a SyntaxError). A NumPy weight
    decay, which repr() would spell as a name the code does not have: the optimizer's own step() is called."""
    from tinygrad_edu import Value

    for decay in (0.0, np.float64(0.01)):
        eager_w, compiled_w = Value(3.0), Value(3.0)
        unused_e, unused_c = Value(1.0), Value(1.0)
        opt_e = optim.SGD([eager_w, unused_e], lr=0.1, weight_decay=decay)
        opt_c = optim.SGD([compiled_w, unused_c], lr=0.1, weight_decay=decay)

        def make(w: Any, opt: Any) -> Any:
            def step(x: Any) -> Any:
                opt.zero_grad()
                loss = x * w
                loss.backward()
                opt.step()
                return loss

            return step

        def constant_step(x: Any) -> Any:  # no parameter in the graph at all
            opt_c.zero_grad()
            loss = x * 2.0
            loss.backward()
            opt_c.step()
            return loss

        compiled = tg.compile(make(compiled_w, opt_c))
        eager = make(eager_w, opt_e)
        for k in range(4):
            assert eager(Value(k + 1.0)).data == compiled(Value(k + 1.0)).data
            assert (eager_w.data, unused_e.data) == (compiled_w.data, unused_c.data)
        untouched = tg.compile(constant_step)
        for k in range(3):
            assert untouched(Value(k + 1.0)).data == 2.0 * (k + 1.0)
        assert unused_c.data == 1.0
