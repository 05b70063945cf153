"""`tinygrad_edu.nn`: layers, losses and the Module contract, with PyTorch's names, on both engines.

    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))                   # Tensors
    model = nn.Sequential(nn.Linear(2, 3, engine="value"), nn.Sigmoid(), nn.Linear(3, 2, engine="value"))

The article's own vocabulary (`Neuron`, `Layer`, `Network`, on `Value`) lives in `nn.scalar`;
`engine_of(x)` says which engine a model, a parameter or an output belongs to.
"""

from . import functional, init
from .engines import ENGINES, engine_of
from .layers import Identity, Linear, ReLU, Sigmoid, Tanh
from .losses import BCELoss, CrossEntropyLoss, MaxMarginLoss, MSELoss, max_margin_loss
from .module import IncompatibleKeys, Module, ModuleList, Sequential
from .scalar import Layer, Network, Neuron

__all__ = [
    "ENGINES",
    "BCELoss",
    "CrossEntropyLoss",
    "Identity",
    "IncompatibleKeys",
    "Layer",
    "Linear",
    "MSELoss",
    "MaxMarginLoss",
    "Module",
    "ModuleList",
    "Network",
    "Neuron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "engine_of",
    "functional",
    "init",
    "max_margin_loss",
]
