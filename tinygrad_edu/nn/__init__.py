"""`tinygrad_edu.nn`: layers, losses and the Module contract, with PyTorch's names, on both engines.

    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))                   # Tensors
    model = nn.Sequential(nn.Linear(2, 3, engine="value"), nn.Sigmoid(), nn.Linear(3, 2, engine="value"))

The article's own vocabulary (`Neuron`, `Layer`, `Network`, on `Value`) lives in `nn.scalar`.
"""

from . import functional, init
from .layers import ENGINES, Identity, Linear, ReLU, Sigmoid, Tanh
from .losses import BCELoss, CrossEntropyLoss, MSELoss
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
    "Module",
    "ModuleList",
    "Network",
    "Neuron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
]
