"""The line pointer follows values through dicts, lists of lists, torch tensors and return expressions, and
shows a statement over several lines whole."""

import numpy as np
import pytest

from tinygrad_edu.check.locate import locate

SOURCE = """import numpy as np


def in_a_dict(x):
    grads = {}
    grads["w"] = x * 3.0
    return grads


def in_a_list(x):
    rows = [list(r) for r in x * 3.0]
    return rows


def in_the_return(x):
    y = x + 1.0
    return {"w": y * 3.0 - 3.0}


def over_lines(x):
    out = (
        x * 3.0
    )
    return out


def in_torch(x):
    import torch

    t = torch.tensor(x) * 3.0
    return {"w": t}
"""


@pytest.fixture
def user(tmp_path):
    path = tmp_path / "user.py"
    path.write_text(SOURCE)
    namespace: dict = {}
    exec(compile(SOURCE, str(path), "exec"), namespace)
    return str(path), namespace


X = np.array([[1.0, 2.0], [3.0, 4.5]])


@pytest.mark.parametrize(
    ("fn", "line", "text"),
    [
        ("in_a_dict", 6, 'grads["w"] = x * 3.0'),
        ("in_a_list", 11, "rows = [list(r) for r in x * 3.0]"),
        ("in_the_return", 17, 'return {"w": y * 3.0 - 3.0}'),
        ("over_lines", 21, "out = (x * 3.0)"),
    ],
)
def test_the_line_that_holds_the_value_is_found(user, fn, line, text):
    path, namespace = user
    assert locate(path, lambda: namespace[fn](X), [X * 3.0]) == (line, text)


def test_a_torch_tensor_is_read_as_an_array(user):
    pytest.importorskip("torch")
    path, namespace = user
    assert locate(path, lambda: namespace["in_torch"](X), [X * 3.0]) == (30, "t = torch.tensor(x) * 3.0")
