"""PyTorch interop: our state_dict loads into the same torch.nn model (strict) and gives the same results."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import functional as F

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")


def torch_twin(dtype):
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2))
    return ref.to(dtype)


def ours(engine="tensor", dtype=np.float32, seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, dtype=dtype, engine=engine),
        nn.Sigmoid(),
        nn.Linear(3, 2, generator=g, dtype=dtype, engine=engine),
    )


X = np.random.default_rng(1).normal(size=(7, 2)).astype(np.float32)
LABELS = np.array([0, 1, 1, 0, 1, 0, 0])


def test_state_dict_loads_into_torch_strict_and_matches_in_float32():
    model = ours()
    ref = torch_twin(torch.float32)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()}, strict=True)

    x = Tensor(X, requires_grad=True)
    loss = F.cross_entropy(model(x), LABELS)
    loss.backward()
    xt = torch.from_numpy(X.copy()).requires_grad_(True)
    ref_loss = torch.nn.functional.cross_entropy(ref(xt), torch.from_numpy(LABELS))
    ref_loss.backward()

    assert abs(loss.item() - ref_loss.item()) < 1e-6
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=0, atol=1e-6)
    for name, p in model.named_parameters():
        ref_grad = dict(ref.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad, ref_grad, rtol=0, atol=1e-6, err_msg=name)


def test_torch_state_dict_loads_into_ours():
    torch.manual_seed(0)
    ref = torch_twin(torch.float32)
    model = ours(seed=5)
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    with torch.no_grad():
        expected = ref(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model(Tensor(X)).data, expected, rtol=0, atol=1e-6)


def test_value_engine_model_matches_torch_in_float64():
    model = ours(engine="value")
    ref = torch_twin(torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()}, strict=True)
    sample = X[0].astype(np.float64)
    out = model(sample.tolist())
    loss = F.cross_entropy(out, int(LABELS[0]))
    loss.backward()
    ref_loss = torch.nn.functional.cross_entropy(ref(torch.from_numpy(sample)[None]), torch.from_numpy(LABELS[:1]))
    ref_loss.backward()
    assert abs(loss.data - ref_loss.item()) < 1e-12
    ref_grads = {k: v.grad.numpy() for k, v in ref.named_parameters()}
    for name, p in model.named_parameters():  # e.g. "0.weight.2.1" is ref's 0.weight[2, 1]
        key, index = ".".join(name.split(".")[:2]), tuple(int(i) for i in name.split(".")[2:])
        assert abs(p.grad - ref_grads[key][index]) < 1e-12, name


def test_linear_init_has_torchs_range():
    # PyTorch draws weight and bias from U(-1/sqrt(in), 1/sqrt(in)); with 4096 draws both reach near the bound.
    layer = nn.Linear(64, 64, generator=0)
    ref = torch.nn.Linear(64, 64)
    for ours_p, ref_p in ((layer.weight, ref.weight), (layer.bias, ref.bias)):
        bound = 1 / 8
        assert np.abs(ours_p.data).max() <= bound and ref_p.detach().abs().max().item() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 / 8
