"""Without PyTorch (hidden through sys.modules), the bridge says in one line what to install; nothing else breaks."""

import subprocess
import sys

import numpy as np
import pytest

from tinygrad_edu import MissingDependencyError, from_torch, nn, optim, register_torch, to_torch


@pytest.fixture
def no_torch(monkeypatch):
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError


def model():
    return nn.Sequential(nn.Linear(2, 2, generator=0), nn.Sigmoid())


@pytest.mark.parametrize(
    "call",
    [
        lambda: to_torch(model()),
        lambda: to_torch(optim.SGD(model().parameters(), lr=0.1), object()),
        lambda: from_torch(object()),
        lambda: register_torch(type("TorchThing", (), {}), lambda m, engine: m),
    ],
    ids=["to_torch(model)", "to_torch(optimizer)", "from_torch", "register_torch(a torch class)"],
)
def test_each_entry_point_says_in_one_line_what_to_install(no_torch, call):
    with pytest.raises(MissingDependencyError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    assert "needs PyTorch, which is not installed" in message and "pip install torch" in message
    assert isinstance(caught.value, ImportError)  # code that catches ImportError for optional packages still works


def test_the_package_imports_and_trains_without_torch(no_torch):
    m = model()
    assert np.asarray(m(np.ones((1, 2), dtype=np.float32)).data).shape == (1, 2)
    assert "torch" not in [n for n in sys.modules if sys.modules[n] is not None and n.startswith("torch")]


def test_importing_tinygrad_edu_does_not_import_torch():
    code = "import sys, tinygrad_edu; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"  # torch loads on the first to_torch / from_torch call only
