"""Checkpoints with the optimizer: resuming from a file gives the numbers of never stopping, bit for bit;
old files (format 1) still load; a file that does not fit changes neither the model nor the optimizer."""

import copy
import json
import zipfile

import numpy as np
import pytest
from locations import TESTS

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.nn import functional as F
from tinygrad_edu.train import checkpoint as ckpt
from tinygrad_edu.train.checkpoint import CheckpointError, load, read_state_dict, save

X = np.random.default_rng(0).normal(size=(8, 2))
Y = np.random.default_rng(1).normal(size=(8, 2))
FORMAT_1 = TESTS / "train" / "data" / "checkpoint_format1.npz"  # written by save() at commit 6d6c3a8


def model(engine="tensor", seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, engine=engine), nn.Tanh(), nn.Linear(3, 2, generator=g, engine=engine)
    )


def train_step(net, opt):
    opt.zero_grad()
    if net.engine == "value":
        loss = F.mse_loss([net(row) for row in X.tolist()], Y.tolist())
    else:
        loss = F.mse_loss(net(Tensor(X.astype(np.float32))), Y.astype(np.float32))
    loss.backward()
    opt.step()


MAKERS = {
    "adam": lambda p, lr=0.05: optim.Adam(p, lr=lr, betas=(0.8, 0.99), weight_decay=0.01),
    "sgd": lambda p, lr=0.05: optim.SGD(p, lr=lr, momentum=0.9, dampening=0.1),
}


def snapshot(net, opt):
    return {k: v.copy() for k, v in net.state_dict().items()}, opt.state_dict()


def assert_same(a, b):
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize("maker", sorted(MAKERS))
def test_resuming_from_a_checkpoint_gives_the_numbers_of_never_stopping(tmp_path, engine, maker):
    net = model(engine)
    opt = MAKERS[maker](net.parameters())
    for _ in range(3):
        train_step(net, opt)
    path = tmp_path / "run.npz"
    save(net, path, optimizer=opt)

    resumed = model(engine, seed=42)  # other weights, another learning rate: all must come from the file
    resumed_opt = MAKERS[maker](resumed.parameters(), lr=0.5)
    assert load(resumed, path, optimizer=resumed_opt) is resumed
    assert resumed_opt.param_groups[0]["lr"] == 0.05
    assert resumed_opt.param_groups[0] == {**opt.param_groups[0], "params": resumed_opt.param_groups[0]["params"]}
    for _ in range(3):
        train_step(net, opt)
        train_step(resumed, resumed_opt)
    assert_same(resumed.state_dict(), net.state_dict())


def test_the_optimizer_lives_under_a_reserved_prefix_and_a_model_alone_ignores_it(tmp_path):
    net = model()
    opt = optim.Adam(net.parameters(), lr=0.01)
    train_step(net, opt)
    path = tmp_path / "m.npz"
    save(net, path, optimizer=opt)
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files)
        assert int(data[ckpt.FORMAT_KEY]) == ckpt.FORMAT_VERSION == 2
        groups = json.loads(str(data["__optimizer__/param_groups"]))
        np.testing.assert_array_equal(data["__optimizer__/state/0/exp_avg"], opt.state[net[0].weight]["exp_avg"])
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} < names
    assert {n for n in names if n.startswith("__optimizer__/state/0/")} == {
        f"__optimizer__/state/0/{b}" for b in ("step", "exp_avg", "exp_avg_sq")
    }
    assert groups["type"] == "Adam" and groups["param_groups"][0]["lr"] == 0.01
    assert set(read_state_dict(path)) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    other = model(seed=5)
    load(other, path)  # no optimizer asked for: the model loads, the optimizer entries are skipped
    assert_same(other.state_dict(), net.state_dict())


def test_a_format_1_file_still_loads():
    """The fixture was written by today's save() before the format bump (its numbers copied from then)."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    load(net, FORMAT_1)
    np.testing.assert_array_equal(
        net[2].weight.data, np.array([[-0.199795201420784, 0.5626588463783264, -0.20933468639850616]], np.float32)
    )
    np.testing.assert_array_equal(net[2].bias.data, np.array([0.33318760991096497], np.float32))
    with np.load(FORMAT_1) as data:
        assert int(data[ckpt.FORMAT_KEY]) == 1
        for key, array in net.state_dict().items():
            np.testing.assert_array_equal(array, data[key])


def test_asking_for_optimizer_state_a_file_lacks_changes_nothing():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    opt = optim.Adam(net.parameters())
    before = snapshot(net, opt)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load(net, FORMAT_1, optimizer=opt)
    assert_same(net.state_dict(), before[0])


def test_another_kind_of_optimizer_is_refused(tmp_path):
    net = model()
    save(net, tmp_path / "adam.npz", optimizer=optim.Adam(net.parameters()))
    other = model(seed=3)
    sgd = optim.SGD(other.parameters(), lr=0.1)
    before = snapshot(other, sgd)
    with pytest.raises(CheckpointError, match="state of a Adam optimizer, not of a SGD"):
        load(other, tmp_path / "adam.npz", optimizer=sgd)
    assert_same(other.state_dict(), before[0])


def test_optimizer_state_that_does_not_fit_leaves_model_and_optimizer_as_they_were(tmp_path):
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train_step(net, opt)
    path = tmp_path / "m.npz"
    save(net, path, optimizer=opt)
    # Same model, but an optimizer over only part of it: the state's parameter count does not fit.
    other = model(seed=7)
    partial = optim.SGD(other[0].parameters(), lr=0.3, momentum=0.5)
    train_step(other, partial)
    before_model, before_opt = snapshot(other, partial)
    with pytest.raises(CheckpointError, match="does not fit this optimizer"):
        load(other, path, optimizer=partial)
    assert_same(other.state_dict(), before_model)
    assert partial.param_groups[0]["lr"] == 0.3
    np.testing.assert_array_equal(
        partial.state[other[0].weight]["momentum_buffer"], before_opt["state"][0]["momentum_buffer"]
    )


def test_a_damaged_optimizer_entry_is_a_checkpoint_error(tmp_path):
    net = model()
    opt = optim.Adam(net.parameters())
    path = tmp_path / "m.npz"
    save(net, path, optimizer=opt)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["__optimizer__/param_groups"] = np.array("{not json")
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"optimizer state in .* is damaged"):
        load(model(seed=1), path, optimizer=optim.Adam(model(seed=1).parameters()))


def test_names_the_format_reserves_are_refused_when_saving(tmp_path):
    class Odd:
        def state_dict(self):
            return {"__optimizer__/state/0/step": np.zeros(1)}

        def load_state_dict(self, state, strict=True):
            pass

    with pytest.raises(CheckpointError, match="reserve"):
        save(Odd(), tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_the_resume_contract_is_pytorchs():
    """PyTorch: a model and an optimizer restored from their state dicts continue exactly (what save/load keeps)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)

    def make():
        net = torch.nn.Linear(2, 2)
        return net, torch.optim.Adam(net.parameters(), lr=0.05)

    def step(n, o):
        o.zero_grad()
        torch.nn.functional.mse_loss(n(x), y).backward()
        o.step()

    net, opt = make()
    for _ in range(3):
        step(net, opt)
    twin, twin_opt = make()
    twin.load_state_dict(copy.deepcopy(net.state_dict()))  # as torch.save + torch.load would hand them over
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    for _ in range(3):
        step(net, opt)
        step(twin, twin_opt)
    assert torch.equal(net.weight, twin.weight)


# ---------------------------------------------------------------------- declared sizes (item 5)


def npy_bytes(shape, dtype="<f4", payload=b"\0" * 12):
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_member_declaring_a_huge_array_is_refused_before_allocating(tmp_path, compression):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("0.weight.npy", npy_bytes((10**11,)))
    net = model()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"declares shape \(100000000000,\) of float32"):
        load(net, path)
    assert_same(net.state_dict(), before)


def test_a_member_whose_directory_entry_claims_a_huge_size_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0.weight.npy", npy_bytes((3,)))
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the central directory entry: uncompressed size at bytes 24-27
    data[entry + 24 : entry + 28] = (2**32 - 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="claims 4294967295 bytes"):
        read_state_dict(path)
