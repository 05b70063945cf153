"""Newton's method with gradients of gradients, next to plain gradient descent.

Newton's step divides the slope by the curvature: x ← x − f'(x) / f''(x), or with many parameters
θ ← θ − (H + λI)⁻¹ ∇E, where H is the Hessian, the matrix of second derivatives. The engine gets
the curvature the same way it gets the slope: `backward` with `create_graph=True` makes the
gradient a graph of its own, and differentiating that graph again gives second derivatives.

1. A 1-D function, f(x) = eˣ − 2x (lowest at x = ln 2, where f'' = 2): Newton doubles the correct
   digits every step; gradient descent creeps.
2. The article's 2-2-2 sigmoid network and its one training example (inputs 2.78, 2.55, targets
   0.1, 0.9, E = ½ Σ (t − a)²), its 12 parameters in one tensor θ = (w1..w8, b_h1, b_h2, b_o1, b_o2).
   The 12x12 Hessian is built row by row (row i = the gradient of ∂E/∂θᵢ). The step is damped
   (Levenberg–Marquardt): λ is raised until H + λI is safely positive definite and the step lowers
   E, and lowered after each success. Gradient descent uses the article's learning rate, 0.5.

Run:  python examples/newton.py [--steps 8]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_edu import Tensor, grad
from tinygrad_edu.check.article import INPUTS, LR, PARAMS, TARGETS

ORDER = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b_h1", "b_h2", "b_o1", "b_o2")

# ---------------------------------------------------------------------- 1. a function of one number


def f(x: Tensor) -> Tensor:
    return x.exp() - 2 * x


def derivatives(x0: float) -> tuple[float, float, float]:
    """f, f' and f'' at x0: the second derivative is the gradient of the first one's graph."""
    x = Tensor(np.array(x0), requires_grad=True)
    y = f(x)
    (slope,) = grad(y, x, create_graph=True)  # a Tensor with a graph: e^x - 2
    (curvature,) = grad(slope, x)  # e^x
    return float(y.data), float(slope.data), float(curvature)


def one_dimension(steps: int, x0: float = 2.0, lr: float = 0.2) -> dict[str, list[float]]:
    newton, descent = [x0], [x0]
    for _ in range(steps):
        _, slope, curvature = derivatives(newton[-1])
        newton.append(newton[-1] - slope / curvature)
        _, slope, _ = derivatives(descent[-1])
        descent.append(descent[-1] - lr * slope)
    return {"newton": newton, "descent": descent}


# ---------------------------------------------------------------------- 2. the article's network


def article_loss(theta: Tensor) -> Tensor:
    """E(θ) for the article's network, θ = (w1..w8, b_h1, b_h2, b_o1, b_o2)."""
    i = np.array(INPUTS)
    w_hidden, w_out = theta[0:4].reshape(2, 2), theta[4:8].reshape(2, 2)
    a_h = (w_hidden @ i + theta[8:10]).sigmoid()
    a_o = (w_out @ a_h + theta[10:12]).sigmoid()
    return 0.5 * ((np.array(TARGETS) - a_o) ** 2).sum()


def gradient_and_hessian(theta0: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """E, ∇E and the 12x12 Hessian at θ0, all from the engine."""
    theta = Tensor(theta0, requires_grad=True)
    loss = article_loss(theta)
    (gradient,) = grad(loss, theta, create_graph=True)
    rows = [grad(gradient[k], theta, retain_graph=True, allow_unused=True)[0] for k in range(len(theta0))]
    hessian = np.stack([np.zeros(len(theta0)) if r is None else r for r in rows])
    return float(loss.data), gradient.data.copy(), hessian


def loss_at(theta: np.ndarray) -> float:
    return float(article_loss(Tensor(theta)).data)


def newton_steps(theta: np.ndarray, steps: int, damping: float = 1e-3) -> list[float]:
    """Damped Newton: solve (H + λI) d = ∇E, keep θ − d if it lowers E, else raise λ and retry."""
    losses = [loss_at(theta)]
    for _ in range(steps):
        loss, grad, hessian = gradient_and_hessian(theta)
        # H + λI must be positive definite for d to point downhill: start λ above -(lowest eigenvalue)
        damping = max(damping, 1e-3 - np.linalg.eigvalsh(hessian)[0])
        while True:
            step = np.linalg.solve(hessian + damping * np.eye(len(theta)), grad)
            if loss_at(theta - step) < loss or damping > 1e6:
                break
            damping *= 4
        theta = theta - step
        damping /= 4
        losses.append(loss_at(theta))
    return losses


def descent_steps(theta: np.ndarray, steps: int, lr: float = LR) -> list[float]:
    losses = [loss_at(theta)]
    for _ in range(steps):
        t = Tensor(theta, requires_grad=True)
        article_loss(t).backward()
        theta = theta - lr * t.grad
        losses.append(loss_at(theta))
    return losses


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="steps of each method (default 8)")
    args = parser.parse_args(argv)

    line = one_dimension(args.steps)
    print("1. f(x) = e^x - 2x from x = 2; the minimum is at ln 2 = 0.693147...")
    print(f"{'step':>4}  {'Newton x':>12}  {'gradient descent x (lr 0.2)':>28}")
    for k, (xn, xd) in enumerate(zip(line["newton"], line["descent"])):
        print(f"{k:>4}  {xn:12.9f}  {xd:28.9f}")

    theta0 = np.array([PARAMS[name] for name in ORDER], dtype=np.float64)
    _, _, hessian = gradient_and_hessian(theta0)
    print("\n2. The article's network. Hessian of E w.r.t. w5..w8 at the article's weights:")
    print(np.array2string(hessian[4:8, 4:8], precision=6, suppress_small=True))
    newton = newton_steps(theta0, args.steps)
    descent = descent_steps(theta0, args.steps)
    print(f"\n{'step':>4}  {'E, damped Newton':>18}  {'E, gradient descent (lr 0.5)':>30}")
    for k, (en, ed) in enumerate(zip(newton, descent)):
        print(f"{k:>4}  {en:18.3e}  {ed:30.3e}")
    return {"line": line, "hessian": hessian, "newton": newton, "descent": descent, "theta0": theta0}


if __name__ == "__main__":
    main()
