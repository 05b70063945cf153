"""A parameter or sub-module whose name contains '.' would share a state_dict key with a sub-module's entry
(save and load would keep one of them): it is refused when set, as PyTorch refuses it."""

from collections import OrderedDict

import numpy as np
import pytest

from tinygrad_edu import ParameterNameError, Tensor, Value, nn


def weight():
    return Tensor(np.ones((2, 2), np.float32), requires_grad=True)


CASES = {
    "tensor parameter": lambda: weight(),
    "value parameter": lambda: Value(1.0),
    "value grid parameter": lambda: [[Value(1.0), Value(2.0)]],
    "sub-module": lambda: nn.Linear(2, 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_dotted_name_is_refused_and_nothing_is_registered(case):
    model = nn.Sequential(OrderedDict(a=nn.Linear(2, 2)))
    before = list(model.state_dict())
    with pytest.raises(ParameterNameError, match=r"'a\.weight'.*'a_weight'") as error:
        setattr(model, "a.weight", CASES[case]())
    assert isinstance(error.value, KeyError)  # PyTorch's type for the same refusal
    assert "Use a name without dots" in str(error.value) and not str(error.value).startswith('"')
    assert list(model.state_dict()) == before
    assert len(list(model.parameters())) == 2


def test_sequential_from_an_ordered_dict_refuses_dotted_keys():
    with pytest.raises(ParameterNameError, match=r"cannot register a sub-module named 'head\.0'"):
        nn.Sequential(OrderedDict([("head.0", nn.Linear(2, 2))]))


def test_an_empty_name_is_refused():
    with pytest.raises(ParameterNameError, match="needs a name"):
        setattr(nn.Linear(2, 2), "", weight())


def test_plain_attributes_with_dots_are_left_alone():
    """Only what state_dict would name is checked: a number or a string under any name is not a parameter."""
    model = nn.Linear(2, 2)
    setattr(model, "note.v1", "kept")
    assert getattr(model, "note.v1") == "kept"
    assert list(model.state_dict()) == ["weight", "bias"]


def test_pytorch_refuses_the_same_names():
    torch = pytest.importorskip("torch")
    model = torch.nn.Module()
    with pytest.raises(KeyError, match=r'contain "\."'):
        setattr(model, "a.b", torch.nn.Parameter(torch.ones(2)))
    with pytest.raises(KeyError, match=r'contain "\."'):
        model.add_module("a.b", torch.nn.Linear(2, 2))
