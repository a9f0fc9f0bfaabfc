"""Activation functions and the first-layer assumptions the constructions rely on.

001_d33223a708772bec.txt, Assumption 2.3: near 0 the activation is approximated by
``phi_hat(x) = m_plus * x + d`` for x >= 0 and ``m_minus * x + d`` for x < 0, with
``m_plus + m_minus != 0``. Lemma 2.4 then represents the identity as
``x ~ (phi(x) - phi(-x)) / (m_plus + m_minus)``. Only the univariate first-layer blocks (and the
block layers of 2L) use this approximation; every other layer computes the activation exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Activation", "get_activation", "activation_from_module", "ACTIVATION_NAMES", "SUPPORTED_ACTIVATION_MODULES"]

ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")


@dataclass(frozen=True)
class Activation:
    """An activation with the constants of 001_d33223a708772bec.txt, Assumption 2.3.

    Attributes
    ----------
    name : str
        One of ``ACTIVATION_NAMES``.
    m_plus, m_minus : float
        Slopes of the piecewise-linear approximation right and left of 0.
    intercept : float
        ``d = phi(0)``.
    lipschitz : float
        Lipschitz constant T (Lemma 2.8).
    cubic : float
        ``|phi(x) - phi_hat(x)| <= cubic * |x|**3`` near 0; 0 where phi_hat is exact
        (relu, leaky_relu, identity). tanh: 1/3, sigmoid: 1/48 (section 2.1.1).
    negative_slope : float
        alpha of leaky_relu (0 otherwise).

    >>> a = get_activation("leaky_relu", negative_slope=0.1)
    >>> a.m_plus + a.m_minus, a(np.array([-1.0, 2.0])).tolist()
    (1.1, [-0.1, 2.0])
    """

    name: str
    m_plus: float
    m_minus: float
    intercept: float
    lipschitz: float
    cubic: float
    negative_slope: float = 0.0

    @property
    def needs_sign_split(self) -> bool:
        """True when phi(w x) differs for positive and negative w (m_plus != m_minus), so a
        univariate block splits its neurons by the sign of their first weight (001, Thm 2.5)."""
        return self.m_plus != self.m_minus

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if self.name == "relu":
            return np.maximum(x, 0)
        if self.name == "leaky_relu":
            return np.where(x >= 0, x, self.negative_slope * x)
        if self.name == "tanh":
            return np.tanh(x)
        if self.name == "sigmoid":
            return 0.5 * (np.tanh(0.5 * x) + 1.0)
        return x

    def to_torch(self):
        """The matching torch module (imports torch)."""
        from torch import nn

        if self.name == "relu":
            return nn.ReLU()
        if self.name == "leaky_relu":
            return nn.LeakyReLU(self.negative_slope)
        if self.name == "tanh":
            return nn.Tanh()
        if self.name == "sigmoid":
            return nn.Sigmoid()
        return nn.Identity()

    def to_json(self) -> dict:
        return {"name": self.name, "negative_slope": self.negative_slope}


def get_activation(name: str, *, negative_slope: float = 0.01) -> Activation:
    """The activation called ``name`` (one of ``ACTIVATION_NAMES``).

    >>> get_activation("sigmoid").intercept
    0.5
    """
    if not isinstance(name, str):
        raise TypeError(f"activation: expected a name from {ACTIVATION_NAMES}, got {type(name).__name__}")
    if name == "relu":
        return Activation("relu", 1.0, 0.0, 0.0, 1.0, 0.0)
    if name == "leaky_relu":
        alpha = float(negative_slope)
        if not (alpha > 0 and np.isfinite(alpha)):
            raise ValueError(f"negative_slope: expected a finite float > 0, got {negative_slope}")
        return Activation("leaky_relu", 1.0, alpha, 0.0, max(1.0, alpha), 0.0, alpha)
    if name == "tanh":
        return Activation("tanh", 1.0, 1.0, 0.0, 1.0, 1.0 / 3.0)
    if name == "sigmoid":
        return Activation("sigmoid", 0.25, 0.25, 0.5, 0.25, 1.0 / 48.0)
    if name == "identity":
        return Activation("identity", 1.0, 1.0, 0.0, 1.0, 0.0)
    raise ValueError(f"activation: expected one of {ACTIVATION_NAMES}, got {name!r}")


_TORCH_NAMES = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
                "Identity": "identity"}
SUPPORTED_ACTIVATION_MODULES = tuple(_TORCH_NAMES)


def activation_from_module(module) -> Activation:
    """The activation of a torch module (ReLU, LeakyReLU, Tanh, Sigmoid, Identity).

    >>> import torch
    >>> activation_from_module(torch.nn.Tanh()).name
    'tanh'
    """
    kind = type(module).__name__
    if kind not in _TORCH_NAMES:
        raise ValueError(
            f"target: unsupported activation module {kind}; expected one of {sorted(_TORCH_NAMES)}"
        )
    return get_activation(_TORCH_NAMES[kind], negative_slope=getattr(module, "negative_slope", 0.01))
