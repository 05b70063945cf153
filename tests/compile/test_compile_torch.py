"""A compiled step against PyTorch, where PyTorch defines the answer: float64, several SGD-momentum and Adam steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, optim

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("which", ["sgd", "adam"])
def test_compiled_mlp_matches_pytorch(which: str) -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) * 0.5 for s in ((6, 4), (6,), (3, 6), (3,))]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = optim.SGD(ours, lr=0.1, momentum=0.9) if which == "sgd" else optim.Adam(ours, lr=0.05)
    topt = torch.optim.SGD(theirs, lr=0.1, momentum=0.9) if which == "sgd" else torch.optim.Adam(theirs, lr=0.05)

    @tg.compile
    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        w1, b1, w2, b2 = ours
        loss = tg.cross_entropy(tg.linear(tg.linear(x, w1, b1).tanh(), w2, b2), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(6):
        x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
        loss = step(x, y)
        topt.zero_grad()
        w1, b1, w2, b2 = theirs
        tx = torch.tensor(x)
        tloss = torch.nn.functional.cross_entropy(torch.tanh(tx @ w1.T + b1) @ w2.T + b2, torch.tensor(y))
        tloss.backward()
        topt.step()
        assert abs(float(loss.data) - tloss.item()) < 1e-10
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-10)
    assert step.traces == 2  # the first step makes the momentum buffer / Adam's averages: the next ones trace again
