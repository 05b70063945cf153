"""examples/newton.py: Newton's method with second derivatives from the engine, checked independently."""

import importlib.util
import itertools
import math

import numpy as np
import pytest
from locations import EXAMPLES

EXAMPLE = EXAMPLES / "newton.py"


@pytest.fixture(scope="module")
def newton():
    spec = importlib.util.spec_from_file_location("example_newton", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result(newton):
    return newton.main([])


def test_one_dimension_newton_converges_quadratically_and_descent_does_not(result):
    newton_x, descent_x = result["line"]["newton"], result["line"]["descent"]
    errors = [abs(x - math.log(2)) for x in newton_x]
    assert errors[6] < 1e-12
    assert errors[4] < errors[3] ** 2 and errors[5] < errors[4] ** 2  # the error squares each step
    assert abs(descent_x[-1] - math.log(2)) > 1e-3


def _torch_article_loss(torch, theta, newton):
    i, t = torch.tensor(newton.INPUTS, dtype=torch.float64), torch.tensor(newton.TARGETS, dtype=torch.float64)
    a_h = torch.sigmoid(theta[0:4].reshape(2, 2) @ i + theta[8:10])
    a_o = torch.sigmoid(theta[4:8].reshape(2, 2) @ a_h + theta[10:12])
    return 0.5 * ((t - a_o) ** 2).sum()


def test_article_hessian_equals_torch(result, newton):
    torch = pytest.importorskip("torch")
    theta = torch.tensor(result["theta0"])
    expected = torch.autograd.functional.hessian(lambda th: _torch_article_loss(torch, th, newton), theta)
    np.testing.assert_allclose(result["hessian"], expected.numpy(), rtol=1e-9, atol=1e-12)


def test_article_hessian_equals_finite_differences_of_the_gradient(result, newton):
    eps = 1e-6
    theta0 = result["theta0"]
    columns = []
    for k in range(len(theta0)):
        shift = np.zeros_like(theta0)
        shift[k] = eps
        columns.append(
            (newton.gradient_and_hessian(theta0 + shift)[1] - newton.gradient_and_hessian(theta0 - shift)[1])
            / (2 * eps)
        )
    np.testing.assert_allclose(result["hessian"], np.stack(columns, axis=1), atol=1e-8)
    np.testing.assert_allclose(result["hessian"], result["hessian"].T, atol=1e-15)


def test_damped_newton_lowers_the_loss_faster_than_gradient_descent(result):
    newton_losses, descent_losses = result["newton"], result["descent"]
    assert all(b < a for a, b in itertools.pairwise(newton_losses))  # every accepted step goes down
    assert newton_losses[-1] < descent_losses[-1] / 5
    assert newton_losses[0] == descent_losses[0] == pytest.approx(0.2156, abs=1e-4)  # E at the article's weights


def test_prints_both_columns(newton, capsys):
    newton.main(["--steps", "2"])
    out = capsys.readouterr().out
    assert "damped Newton" in out and "gradient descent" in out and "w5..w8" in out
