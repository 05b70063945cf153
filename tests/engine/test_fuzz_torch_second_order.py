"""Differential fuzzing of second derivatives: the random graphs of test_fuzz_torch, differentiated twice.

Each plan is recorded on our engine and replayed on PyTorch (float64) exactly as in test_fuzz_torch;
then both take the first gradient of the same weighted loss with `create_graph=True`, a random
weighted sum S of those gradients, and the gradient of S: a Hessian-vector product through every
op of the graph, which must agree to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu import Tensor
from tinygrad_edu.autograd import grad

torch = pytest.importorskip("torch")
fuzz = pytest.importorskip("test_fuzz_torch")

RTOL = ATOL = 1e-9


def _weighted_sum(nodes, weights, zero):
    total = zero
    for node, w in zip(nodes, weights):
        if node is not None:
            total = total + (node * w).sum()
    return total


def check_second_order(plan) -> None:
    shapes, steps, seed = plan
    rng = np.random.default_rng(seed)
    rec = fuzz.Recorder([rng.uniform(-2, 2, size=s) for s in shapes])
    for step in steps:
        fuzz.record(rec, step, rng)
    ours = rec.nodes
    theirs, tleaves = fuzz.replay(rec.program, rec.leaf_data)
    cs = [rng.uniform(-1, 1, size=node.shape) for node in ours]
    vs = [rng.uniform(-1, 1, size=t.shape) for t in tleaves]
    leaves = [ours[i] for i in rec.leaf_ids]

    loss_ours = _weighted_sum(ours, cs, Tensor(np.array(0.0)))
    loss_theirs = _weighted_sum(theirs, [torch.as_tensor(c) for c in cs], torch.tensor(0.0, dtype=torch.float64))
    firsts_ours = grad(loss_ours, leaves, create_graph=True, allow_unused=True)
    firsts_theirs = torch.autograd.grad(loss_theirs, tleaves, create_graph=True, allow_unused=True)
    for k, (a, b) in enumerate(zip(firsts_ours, firsts_theirs)):
        got = np.zeros(leaves[k].shape) if a is None else a.data
        want = np.zeros(leaves[k].shape) if b is None else b.detach().numpy(force=True)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"first gradient of leaf {k}")

    s_ours = _weighted_sum(firsts_ours, vs, Tensor(np.array(0.0)))
    s_theirs = _weighted_sum(firsts_theirs, [torch.as_tensor(v) for v in vs], torch.tensor(0.0, dtype=torch.float64))
    seconds_ours = grad(s_ours, leaves, allow_unused=True) if s_ours.requires_grad else (None,) * len(leaves)
    seconds_theirs = (
        torch.autograd.grad(s_theirs, tleaves, allow_unused=True) if s_theirs.requires_grad else (None,) * len(leaves)
    )
    for k, (a, b) in enumerate(zip(seconds_ours, seconds_theirs)):
        got = np.zeros(leaves[k].shape) if a is None else np.asarray(a)
        want = np.zeros(leaves[k].shape) if b is None else b.numpy(force=True)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"second derivative, leaf {k}")


@settings(max_examples=80, deadline=None)
@given(fuzz.tensor_plans())
def test_second_derivatives_of_random_graphs_match_torch(plan):
    check_second_order(plan)
