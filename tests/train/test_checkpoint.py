"""Checkpoints: round trips, and every way a file can be bad leaves the model (and the old file) intact."""

import os
import pickle

import numpy as np
import pytest

from tinygrad_edu import Tensor, TinygradEduError, nn
from tinygrad_edu.train import checkpoint as ckpt
from tinygrad_edu.train.checkpoint import CheckpointError, load, save


def make_model(seed, hidden=3, engine="tensor", dtype=np.float32):
    return nn.Sequential(
        nn.Linear(2, hidden, generator=seed, engine=engine, dtype=dtype),
        nn.Sigmoid(),
        nn.Linear(hidden, 2, generator=seed + 1, engine=engine, dtype=dtype),
        engine=engine,
    )


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


X = np.array([[2.78, 2.55], [7.63, 2.76]])


def test_round_trip_restores_parameters_and_outputs(tmp_path):
    source, target = make_model(0), make_model(100)
    path = tmp_path / "model.npz"
    save(source, path)
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file left behind
    assert load(target, path) is target
    assert_same_state(target.state_dict(), source.state_dict())
    np.testing.assert_array_equal(target(Tensor(X, dtype=np.float32)).data, source(Tensor(X, dtype=np.float32)).data)


def test_file_is_plain_numpy_with_pytorch_names(tmp_path):
    model = make_model(0)
    path = tmp_path / "plain"
    save(model, path)
    assert os.path.exists(path) and not os.path.exists(str(path) + ".npz")  # the exact name, nothing appended
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files) - {ckpt.FORMAT_KEY}
        assert names == {"0.weight", "0.bias", "2.weight", "2.bias"}
        np.testing.assert_array_equal(data["0.weight"], model[0].weight.data)
        assert data["0.weight"].shape == (3, 2)


def test_tensor_checkpoint_loads_into_the_scalar_engine(tmp_path):
    tensor_model, value_model = make_model(0, dtype=np.float64), make_model(5, engine="value")
    path = tmp_path / "m.npz"
    save(tensor_model, path)
    load(value_model, path)
    sample = [float(v) for v in X[1]]
    got = [v.data for v in value_model(sample)]
    expected = tensor_model(Tensor(X[1:])).data[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_plain_state_dict_npz_without_format_key_loads(tmp_path):
    source, target = make_model(0), make_model(1)
    path = tmp_path / "foreign.npz"
    np.savez(path, **source.state_dict())
    load(target, path)
    assert_same_state(target.state_dict(), source.state_dict())


# ---------------------------------------------------------------------- bad files


def good_bytes(tmp_path, model):
    path = tmp_path / "good.npz"
    save(model, path)
    return path.read_bytes()


def check_rejected(tmp_path, payload, match):
    model = make_model(7)
    before = snapshot(model)
    path = tmp_path / "bad.npz"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError, match=match) as info:
        load(model, path)
    assert isinstance(info.value, TinygradEduError) and isinstance(info.value, ValueError)
    assert_same_state(model.state_dict(), before)


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.6, 0.95])
def test_truncated_file_is_rejected(tmp_path, keep):
    data = good_bytes(tmp_path, make_model(0))
    check_rejected(tmp_path, data[: int(len(data) * keep)], "not a readable checkpoint")


def test_corrupted_array_bytes_are_caught_by_the_crc(tmp_path):
    model = make_model(0)
    data = bytearray(good_bytes(tmp_path, model))
    weight = model[2].weight.data.tobytes()
    at = bytes(data).find(weight)
    assert at > 0  # np.savez stores arrays uncompressed, so the raw bytes are in the file
    data[at + 3] ^= 0xFF
    check_rejected(tmp_path, bytes(data), "not a readable checkpoint")


def test_not_a_checkpoint_at_all(tmp_path):
    check_rejected(tmp_path, b"this is a text file, not a zip archive\n" * 10, "not a readable checkpoint")


def test_single_npy_array_is_rejected(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    check_rejected(tmp_path, path.read_bytes(), "one array")


def test_pickled_objects_are_refused_not_run(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.weight": np.array([object()], dtype=object)})
    check_rejected(tmp_path, path.read_bytes(), "not a readable checkpoint")
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"0.weight": [1.0]}))
    check_rejected(tmp_path, raw.read_bytes(), "not a readable checkpoint")


def test_newer_format_is_rejected(tmp_path):
    path = tmp_path / "new.npz"
    np.savez(path, **make_model(0).state_dict(), **{ckpt.FORMAT_KEY: np.array(ckpt.FORMAT_VERSION + 1)})
    check_rejected(tmp_path, path.read_bytes(), "newer")


def test_mismatched_shapes_and_names_are_rejected(tmp_path):
    bigger = make_model(0, hidden=4)
    check_rejected(tmp_path, good_bytes(tmp_path, bigger), r"0\.weight is \(4, 2\).*\(3, 2\)")
    state = make_model(0).state_dict()
    del state["2.bias"]
    state["extra"] = np.zeros(2)
    path = tmp_path / "renamed.npz"
    np.savez(path, **state)
    check_rejected(tmp_path, path.read_bytes(), r"(?s)missing keys.*2\.bias.*unexpected keys.*extra")


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(make_model(0), tmp_path / "nope.npz")


# ---------------------------------------------------------------------- failed saves


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = make_model(0)
    save(old, path)
    old_bytes = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")  # something written, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space"):
        save(make_model(1), path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.npz"]  # the temp file was removed
    fresh = make_model(9)
    load(fresh, path)
    assert_same_state(fresh.state_dict(), old.state_dict())


def test_interrupted_rename_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save(make_model(0), path)
    old_bytes = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(make_model(1), path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.npz"]
