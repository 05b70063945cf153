"""The textbook delta rule in tinygrad_edu.check.reference matches autodiff to 1e-12 on random networks."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ShapeError, Tensor, nn
from tinygrad_edu.check import reference


def sequential(sizes, engine="tensor"):
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out, dtype=np.float64, engine=engine), nn.Sigmoid()]
    return nn.Sequential(*layers)


def autodiff_grads(model, x, t):
    model.zero_grad()
    out = model(Tensor(x))
    nn.functional.mse_loss(out, t, reduction="half_sum").backward()
    return {name: p.grad.copy() for name, p in model.named_parameters()}


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5),
    seed=st.integers(0, 2**32 - 1),
    batch=st.sampled_from([None, 1, 3]),
)
def test_reference_matches_autodiff_on_random_networks(sizes, seed, batch):
    rng = np.random.default_rng(seed)
    model = sequential(sizes)
    state = {k: rng.normal(0, 1.5, v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    shape_x = (sizes[0],) if batch is None else (batch, sizes[0])
    shape_t = (sizes[-1],) if batch is None else (batch, sizes[-1])
    x, t = rng.uniform(-3, 3, shape_x), rng.uniform(0, 1, shape_t)
    manual = reference.gradients(state, x, t)
    auto = autodiff_grads(model, x, t)
    assert set(manual) == set(auto)
    for name in auto:
        np.testing.assert_allclose(manual[name], auto[name], rtol=0, atol=1e-12, err_msg=name)


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(3)
    state = {"0.weight": rng.normal(size=(3, 2)), "0.bias": rng.normal(size=3)}
    state |= {"2.weight": rng.normal(size=(2, 3)), "2.bias": rng.normal(size=2)}
    x, t = np.array([0.3, -1.2]), np.array([0.2, 0.7])
    grads = reference.gradients(state, x, t)
    eps = 1e-6
    for key, array in state.items():
        for index in np.ndindex(array.shape):
            plus = {k: v.copy() for k, v in state.items()}
            minus = {k: v.copy() for k, v in state.items()}
            plus[key][index] += eps
            minus[key][index] -= eps
            up = reference.backprop(reference.layers_from_state(plus), x, t).loss
            down = reference.backprop(reference.layers_from_state(minus), x, t).loss
            assert grads[key][index] == pytest.approx((up - down) / (2 * eps), abs=1e-8)


def test_reference_on_the_article_deltas():
    from tinygrad_edu.check import article

    result = reference.backprop(reference.layers_from_state(article.state_dict()), article.INPUTS, article.TARGETS)
    manual = article.manual_numbers()
    assert result.delta[1][0] == pytest.approx(manual["delta_o1"], abs=1e-15)
    assert result.delta[0][1] == pytest.approx(manual["delta_h2"], abs=1e-15)
    assert result.loss == pytest.approx(manual["E"], abs=1e-15)


def test_reference_shape_errors():
    with pytest.raises(ShapeError, match="layer 0"):
        reference.backprop([(np.zeros((2, 3)), np.zeros(2))], np.zeros(2), np.zeros(2))
    with pytest.raises(ShapeError, match="bias"):
        reference.layers_from_state({"0.weight": np.zeros((2, 2))})
