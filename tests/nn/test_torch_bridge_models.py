"""Models across the PyTorch bridge: `to_torch` computes the same function with copies of the same numbers and
the same state_dict keys; `from_torch(to_torch(m))` is `m` again, bit for bit; what has no counterpart is refused."""

import copy

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import ConversionError, Tensor, Value, from_torch, nn, optim, register_torch, to_torch
from tinygrad_edu.check.article_network import INPUTS, TARGETS, ArticleNetwork
from tinygrad_edu.nn import functional as F

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")

X = np.random.default_rng(5).normal(size=(4, 3))


def mlp(engine="tensor", dtype=np.float64, bias=True):
    g = np.random.default_rng(2)
    return nn.Sequential(
        nn.Linear(3, 5, generator=g, dtype=dtype, engine=engine),
        nn.Sigmoid(),
        nn.Linear(5, 4, bias=bias, generator=g, dtype=dtype, engine=engine),
        nn.ReLU(),
        nn.Linear(4, 4, generator=g, dtype=dtype, engine=engine),
        nn.Tanh(),
        nn.Identity(),
        nn.Linear(4, 2, generator=g, dtype=dtype, engine=engine),
    )


def run_ours(model, x):
    """Our model on a batch, as an array (the value engine takes the batch as a list of samples)."""
    if model.engine == "value" or tinygrad_edu.nn.engine_of(model, "tensor") == "value":
        out = model(x.tolist())
        return (
            np.array([[v.data for v in row] for row in out])
            if isinstance(out[0], list)
            else np.array([v.data for v in out])
        )
    first = next(iter(model.parameters()))  # the batch in the model's dtype, as a DataLoader gives it
    return model(Tensor(x.astype(first.dtype))).data


def run_torch(model, x, dtype=torch.float64):
    with torch.no_grad():
        return model(torch.tensor(x, dtype=dtype)).numpy()


def assert_bitwise_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and sa[key].shape == sb[key].shape, key
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


# ---------------------------------------------------------------------- to_torch


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_same_function_same_keys_copied_numbers(engine):
    model = mlp(engine)
    torch_model = to_torch(model)
    assert isinstance(torch_model, torch.nn.Sequential)
    assert [type(m).__name__ for m in torch_model] == [
        "Linear", "Sigmoid", "Linear", "ReLU", "Linear", "Tanh", "Identity", "Linear",
    ]  # fmt: skip
    assert list(torch_model.state_dict()) == list(model.state_dict())
    for key, array in model.state_dict().items():
        theirs = torch_model.state_dict()[key]
        assert theirs.dtype == torch.float64
        np.testing.assert_array_equal(theirs.numpy(), array)
    np.testing.assert_allclose(run_torch(torch_model, X), run_ours(model, X), rtol=0, atol=1e-14)


def test_the_gradients_match_too():
    model = mlp()
    torch_model = to_torch(model)
    F.mse_loss(model(Tensor(X)), np.ones((4, 2))).backward()
    torch.nn.functional.mse_loss(torch_model(torch.tensor(X)), torch.ones(4, 2, dtype=torch.float64)).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(dict(torch_model.named_parameters())[name].grad.numpy(), p.grad, atol=1e-14)


def test_no_memory_is_shared():
    model = mlp()
    torch_model = to_torch(model)
    before = model.state_dict()
    with torch.no_grad():
        for p in torch_model.parameters():
            p.add_(1.0)
    for key, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[key])
        assert not np.shares_memory(model[int(key[0])].__dict__[key[2:]].data, torch_model.state_dict()[key].numpy())


@pytest.mark.parametrize(("dtype", "torch_dtype"), [(np.float32, torch.float32), (np.float64, torch.float64)])
def test_dtype_follows_the_tensor_model(dtype, torch_dtype):
    torch_model = to_torch(mlp("tensor", dtype))
    assert {p.dtype for p in torch_model.parameters()} == {torch_dtype}


def test_a_value_engine_model_becomes_float64_even_from_float32_numbers():
    model = nn.Sequential(nn.Linear(2, 2, engine="value", generator=0), nn.Sigmoid())
    assert {p.dtype for p in to_torch(model).parameters()} == {torch.float64}


def test_the_articles_network_layer_and_neuron():
    network = nn.Network([nn.Layer.random(2, 3, generator=0)], nn.Layer.random(3, 2, generator=1))
    torch_network = to_torch(network)
    assert list(torch_network.state_dict()) == list(network.state_dict())
    x = [0.3, -1.2]
    with torch.no_grad():
        np.testing.assert_allclose(torch_network(torch.tensor(x, dtype=torch.float64)).numpy(),
                                   [v.data for v in network(x)], atol=1e-15)  # fmt: skip
    neuron = nn.Neuron([0.1, 0.2], 0.5)
    with torch.no_grad():
        assert abs(to_torch(neuron)(torch.tensor(x, dtype=torch.float64)).item() - neuron(x).data) < 1e-15
    # the article network as Sequential gives the same torch function
    sequential = to_torch(network.to_sequential())
    xs = torch.tensor([x], dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(sequential(xs).numpy(), torch_network(xs).numpy(), atol=1e-15)


def test_the_audits_article_network_and_its_training():
    """check.article_network.ArticleNetwork (one Value per article name) trains on in PyTorch: 3 + 3 steps == 6."""

    def steps(network, optimizer, n):
        for _ in range(n):
            optimizer.zero_grad()
            out = network([Value(x, requires_grad=False) for x in INPUTS])
            F.mse_loss(out, list(TARGETS), reduction="half_sum").backward()
            optimizer.step()

    reference = ArticleNetwork()
    steps(reference, optim.SGD(reference.parameters(), lr=0.5, momentum=0.9), 6)
    network = ArticleNetwork()
    optimizer = optim.SGD(network.parameters(), lr=0.5, momentum=0.9)
    steps(network, optimizer, 3)
    torch_network = to_torch(network)
    assert list(torch_network.state_dict()) == [
        "w1",
        "w2",
        "w3",
        "w4",
        "w5",
        "w6",
        "w7",
        "w8",
        "b_h1",
        "b_h2",
        "b_o1",
        "b_o2",
    ]
    torch_optimizer = to_torch(optimizer, torch_network)
    x, t = torch.tensor(INPUTS, dtype=torch.float64), torch.tensor(TARGETS, dtype=torch.float64)
    for _ in range(3):
        torch_optimizer.zero_grad()
        (0.5 * ((torch_network(x) - t) ** 2).sum()).backward()
        torch_optimizer.step()
    for name, value in reference.state_dict().items():
        assert abs(torch_network.state_dict()[name].item() - float(value)) < 1e-12, name


@pytest.mark.parametrize(
    ("loss", "torch_loss"),
    [
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")),
        (nn.MSELoss(reduction="half_sum"), None),
        (nn.BCELoss(), torch.nn.BCELoss()),
        (nn.BCELoss(reduction="sum"), torch.nn.BCELoss(reduction="sum")),
    ],
    ids=["mse", "mse sum", "mse half_sum", "bce", "bce sum"],
)
def test_losses(loss, torch_loss):
    p = np.random.default_rng(0).uniform(0.05, 0.95, size=(3, 2))
    t = np.random.default_rng(1).uniform(size=(3, 2))
    converted = to_torch(loss)
    if torch_loss is not None:
        assert type(converted) is type(torch_loss) and converted.reduction == torch_loss.reduction
    got = converted(torch.tensor(p), torch.tensor(t)).item()
    expected = 0.5 * ((p - t) ** 2).sum() if torch_loss is None else torch_loss(torch.tensor(p), torch.tensor(t)).item()
    assert got == pytest.approx(expected, abs=1e-15)
    assert got == pytest.approx(loss(Tensor(p), t).item(), abs=1e-14)


def test_cross_entropy_and_max_margin_losses():
    logits = np.random.default_rng(0).normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    ce = to_torch(nn.CrossEntropyLoss(reduction="sum"))
    assert ce(torch.tensor(logits), torch.tensor(labels)).item() == pytest.approx(
        nn.CrossEntropyLoss(reduction="sum")(Tensor(logits), labels).item(), abs=1e-13
    )
    scores = np.random.default_rng(1).normal(size=(5, 1))
    signs = np.array([1, -1, 1, -1, -1])
    hinge = to_torch(nn.MaxMarginLoss())
    assert hinge(torch.tensor(scores), torch.tensor(signs)).item() == pytest.approx(
        np.maximum(0, 1 - scores[:, 0] * signs).mean(), abs=1e-15
    )


def test_a_container_without_forward_and_a_sequential_subclass_convert():
    class Heads(nn.Module):  # no forward: a container, as a ModuleList is
        def __init__(self):
            super().__init__()
            self.scale = Tensor(np.array([2.0, 3.0]), requires_grad=True)
            self.body = mlp()
            self.heads = nn.ModuleList([nn.Linear(2, 1, generator=0, dtype=np.float64) for _ in range(2)])

    class MyMLP(nn.Sequential):  # only builds its layers: its forward is Sequential's
        def __init__(self):
            super().__init__(nn.Linear(3, 2, generator=0, dtype=np.float64), nn.Sigmoid())

    heads = Heads()
    torch_heads = to_torch(heads)
    assert list(torch_heads.state_dict()) == list(heads.state_dict())
    assert isinstance(torch_heads.heads, torch.nn.ModuleList) and isinstance(torch_heads.body, torch.nn.Sequential)
    np.testing.assert_array_equal(torch_heads.scale.detach().numpy(), [2.0, 3.0])
    torch_mlp = to_torch(MyMLP())
    assert isinstance(torch_mlp, torch.nn.Sequential)
    np.testing.assert_allclose(run_torch(torch_mlp, X), run_ours(MyMLP(), X), atol=1e-15)
    back = from_torch(torch_heads)
    assert_bitwise_same_state(back, heads)


def test_a_shared_layer_stays_shared():
    layer = nn.Linear(2, 2, generator=0, dtype=np.float64)
    torch_model = to_torch(nn.Sequential(layer, nn.Tanh(), layer))
    assert torch_model[0] is torch_model[2]
    back = from_torch(torch_model)
    assert back[0] is back[2]


def test_torchs_random_numbers_are_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    to_torch(mlp())
    assert torch.equal(torch.rand(3), expected)


def test_training_mode_is_carried():
    model = mlp().eval()
    torch_model = to_torch(model)
    assert not torch_model.training and not torch_model[1].training
    assert not from_torch(torch_model).training


# ---------------------------------------------------------------------- round trips


def round_trip_cases():
    g = np.random.default_rng(9)
    return {
        "tensor float64": (mlp("tensor"), "tensor"),
        "tensor float32": (mlp("tensor", np.float32), "tensor"),
        "tensor no bias": (mlp("tensor", bias=False), "tensor"),
        "value": (mlp("value"), "value"),
        "value no bias": (mlp("value", bias=False), "value"),
        "value pinned activations": (
            nn.Sequential(nn.Linear(3, 2, engine="value", generator=g), nn.Sigmoid(engine="value")),
            "value",
        ),
        "network": (
            nn.Network([nn.Layer.random(3, 4, g), nn.Layer.random(4, 3, g)], nn.Layer.random(3, 2, g)),
            "value",
        ),
        "layer": (nn.Layer.random(3, 2, g), "value"),
        "neuron": (nn.Neuron.random(3, g), "value"),
        "module list": (nn.ModuleList([mlp(), nn.Tanh()]), "tensor"),
        "the audit's article network": (ArticleNetwork(), "value"),
        "loss": (nn.MSELoss(reduction="half_sum"), "tensor"),
    }


@pytest.mark.parametrize("case", list(round_trip_cases()))
def test_from_torch_of_to_torch_is_the_model_again_bit_for_bit(case):
    model, engine = round_trip_cases()[case]
    back = from_torch(to_torch(model), engine=engine)
    assert type(back) is type(model)
    assert repr(back) == repr(model)
    assert_bitwise_same_state(back, model)
    assert [type(m) for m in back.modules()] == [type(m) for m in model.modules()]
    if isinstance(model, nn.Sequential):
        np.testing.assert_array_equal(run_ours(back, X), run_ours(model, X))
    # and the default engine is the one the model was made on
    assert repr(from_torch(to_torch(model))) == repr(model)


def test_no_memory_is_shared_on_the_way_back():
    torch_model = to_torch(mlp())
    back = from_torch(torch_model)
    with torch.no_grad():
        torch_model[0].weight.add_(1.0)
    np.testing.assert_array_equal(back.state_dict()["0.weight"], mlp().state_dict()["0.weight"])


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_a_model_built_in_torch_comes_over_on_either_engine(engine):
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Sigmoid())
    model = from_torch(torch_model, engine=engine)
    assert nn.engine_of(model) == engine
    assert list(model.state_dict()) == list(torch_model.state_dict())
    if engine == "tensor":
        assert model[0].weight.dtype == np.float32
    expected = run_torch(torch_model, X, torch.float32)
    np.testing.assert_allclose(run_ours(model, X.astype(np.float32)), expected, rtol=1e-5, atol=1e-6)


def test_a_torch_container_with_its_own_parameters():
    box = torch.nn.Module()
    box.scale = torch.nn.Parameter(torch.tensor([[1.5, 2.5]], dtype=torch.float64))
    box.offset = torch.nn.Parameter(torch.tensor(0.25, dtype=torch.float64))
    box.head = torch.nn.Linear(2, 1).double()
    for engine in ("tensor", "value"):
        ours = from_torch(box, engine=engine)
        assert list(ours.state_dict()) == ["scale", "offset", "head.weight", "head.bias"]
        np.testing.assert_array_equal(ours.state_dict()["scale"], [[1.5, 2.5]])
        assert float(ours.state_dict()["offset"]) == 0.25
    assert type(from_torch(box, engine="value").offset) is Value


# ---------------------------------------------------------------------- refusals


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 2, generator=0, dtype=np.float64)

    def forward(self, x):
        return self.inner(x).relu() * 2


def test_a_custom_forward_is_refused_in_one_line_naming_it_and_register_torch():
    with pytest.raises(ConversionError) as caught:
        to_torch(nn.Sequential(nn.Linear(3, 3, generator=0), Block()))
    message = str(caught.value)
    assert "\n" not in message
    assert "Block" in message and "'1'" in message and "register_torch(Block, fn)" in message


def test_a_custom_activation_is_refused_not_mistaken_for_its_base():
    class Swish(nn.Sigmoid):
        function = staticmethod(lambda x: x * F.sigmoid(x))

    with pytest.raises(ConversionError, match="Swish"):
        to_torch(Swish())


def test_register_torch_teaches_a_custom_module():
    class TorchBlock(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return torch.relu(self.inner(x)) * 2

    register_torch(Block, lambda m: TorchBlock(to_torch(m.inner)))
    register_torch(TorchBlock, lambda m, engine: _block_from(m, engine))
    try:
        block = Block()
        torch_block = to_torch(nn.Sequential(block))
        np.testing.assert_allclose(run_torch(torch_block, X), block(Tensor(X)).data, atol=1e-15)
        back = from_torch(torch_block)
        assert type(back[0]) is Block
        assert_bitwise_same_state(back, nn.Sequential(block))
    finally:
        tinygrad_edu.torch_bridge.modules._USER_TO.pop(Block)
        tinygrad_edu.torch_bridge.modules._USER_FROM.pop(TorchBlock)


def _block_from(m, engine):
    block = Block()
    block.inner = from_torch(m.inner, engine=engine)
    return block


def test_register_torch_as_a_decorator_and_a_one_argument_converter_back():
    class TorchBlock(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return torch.relu(self.inner(x)) * 2

    @register_torch(Block)
    def block_to_torch(module):
        return TorchBlock(to_torch(module.inner))

    register_torch(TorchBlock, lambda m: _block_from(m, "tensor"))  # a converter for one engine takes the module only
    try:
        block = Block()
        back = from_torch(to_torch(block))
        assert type(back) is Block
        assert_bitwise_same_state(back, block)
        np.testing.assert_array_equal(back(Tensor(X)).data, block(Tensor(X)).data)
    finally:
        tinygrad_edu.torch_bridge.modules._USER_TO.pop(Block)
        tinygrad_edu.torch_bridge.modules._USER_FROM.pop(TorchBlock)


def test_a_registered_converter_with_other_keys_is_refused():
    register_torch(Block, lambda m: torch.nn.Linear(3, 2))  # keys weight, bias: not inner.weight, inner.bias
    try:
        with pytest.raises(ConversionError, match=r"different state_dicts.*inner\.weight"):
            to_torch(Block())
    finally:
        tinygrad_edu.torch_bridge.modules._USER_TO.pop(Block)


@pytest.mark.parametrize(
    ("layer", "name"),
    [
        (torch.nn.Conv2d(1, 1, 1), "torch.nn.Conv2d"),
        (torch.nn.Dropout(), "torch.nn.Dropout"),
        (torch.nn.LeakyReLU(), "torch.nn.LeakyReLU"),
        (torch.nn.BatchNorm1d(3), "torch.nn.BatchNorm1d"),
    ],
)
def test_torch_layers_we_do_not_have_are_refused_by_name(layer, name):
    with pytest.raises(ConversionError) as caught:
        from_torch(torch.nn.Sequential(torch.nn.Linear(3, 3), layer))
    message = str(caught.value)
    assert "\n" not in message and f"{name} (at '1') has no counterpart" in message
    assert f"register_torch({name}, fn)" in message


def test_a_torch_module_with_its_own_forward_is_refused_by_name():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x) * 2

    with pytest.raises(ConversionError, match="Net has its own forward\\(\\)"):
        from_torch(Net())


@pytest.mark.parametrize(
    ("loss", "setting"),
    [
        (torch.nn.MSELoss(reduction="none"), "reduction='none'"),
        (torch.nn.CrossEntropyLoss(label_smoothing=0.1), "label_smoothing=0.1"),
        (torch.nn.BCELoss(weight=torch.ones(2)), "weight="),
    ],
)
def test_torch_loss_settings_we_do_not_have_are_refused_by_name(loss, setting):
    with pytest.raises(ConversionError, match=setting.replace("(", "\\(")):
        from_torch(loss)


def test_the_articles_network_needs_the_value_engine():
    torch_network = to_torch(nn.Network([nn.Layer.random(2, 2, 0)], nn.Layer.random(2, 2, 1)))
    with pytest.raises(ConversionError, match="engine='value'"):
        from_torch(torch_network, engine="tensor")


def test_dtypes_without_a_counterpart_are_refused():
    with pytest.raises(ConversionError, match="bfloat16"):
        from_torch(torch.nn.Linear(2, 2, dtype=torch.bfloat16))


def test_wrong_arguments():
    with pytest.raises(TypeError, match="expected a tinygrad_edu Module or optimizer"):
        to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"expected a torch\.nn\.Module"):
        from_torch(mlp())
    with pytest.raises(ValueError, match="engine must be 'tensor' or 'value'"):
        from_torch(torch.nn.Linear(2, 2), engine="numpy")
    with pytest.raises(TypeError, match=r"neither a tinygrad_edu\.nn\.Module nor a torch\.nn\.Module"):
        register_torch(int, lambda m: m)


def test_a_conversion_leaves_the_model_alone():
    model = mlp()
    before = copy.deepcopy(model.state_dict())
    to_torch(model)
    assert_bitwise_same_state(model, mlp())
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
