"""Optimizers with PyTorch's update rules: ``step()`` applies one update, ``zero_grad()``
clears the gradients (which otherwise accumulate)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Value

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]


class Optimizer:
    """Holds the parameters; subclasses define ``step``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        # each parameter once, in order (a Value hashes by identity): one update per step
        self.params = list(dict.fromkeys(params))
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not all(isinstance(p, Value) for p in self.params):
            raise TypeError(f"{type(self).__name__}: every parameter must be a Value")
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def update_arrays(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """The update ``step()`` makes, on arrays: ``theta`` (the parameters' numbers in
        ``params`` order) is updated in place from ``grad``. The arithmetic is step()'s,
        element by element, so the numbers are the same. What ``fit(jit=True)`` calls;
        an optimizer without it is stepped through its Values instead."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as in PyTorch:

        g = grad + weight_decay * theta
        v = momentum * v + g          (v = g on the first step)
        theta <- theta - lr * v

    With momentum 0 this is the lecture's  theta <- theta - lr * dL/dtheta.
    """

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay!r}")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self._velocity: list[float] | None = None

    def step(self) -> None:
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        if momentum == 0.0 and decay == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        gradients = [p.grad + decay * p.data for p in self.params]
        if momentum:
            if self._velocity is None:
                self._velocity = gradients
            else:
                self._velocity = [momentum * v + g for v, g in zip(self._velocity, gradients)]
            gradients = self._velocity
        for p, g in zip(self.params, gradients):
            p.data -= lr * g

    def update_arrays(self, theta: np.ndarray, grad: np.ndarray) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * theta
        if self.momentum:
            if self._velocity is None:
                self._velocity = grad.copy()
            else:
                self._velocity = self.momentum * np.asarray(self._velocity) + grad
            grad = self._velocity
        theta -= self.lr * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba), as in PyTorch:

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        if eps <= 0.0:
            raise ValueError(f"Adam: eps must be > 0, got {eps!r}")
        if not (isinstance(weight_decay, (int, float)) and 0.0 <= weight_decay < math.inf):
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, got "
                             f"{weight_decay!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)
        self._t = 0

    #: AdamW decays the parameters themselves, not through the gradient
    _decoupled = False

    def step(self) -> None:
        beta1, beta2 = self.betas
        self._t += 1
        correction1 = 1.0 - beta1**self._t
        correction2 = 1.0 - beta2**self._t
        lr, decay, decoupled = self.lr, self.weight_decay, self._decoupled
        for i, p in enumerate(self.params):
            if decoupled:
                p.data *= 1.0 - lr * decay
                g = p.grad
            else:
                g = p.grad + decay * p.data
            self._m[i] = m = beta1 * self._m[i] + (1.0 - beta1) * g
            self._v[i] = v = beta2 * self._v[i] + (1.0 - beta2) * g * g
            p.data -= lr * (m / correction1) / (math.sqrt(v / correction2) + self.eps)

    def update_arrays(self, theta: np.ndarray, grad: np.ndarray) -> None:
        beta1, beta2 = self.betas
        self._t += 1
        correction1 = 1.0 - beta1**self._t
        correction2 = 1.0 - beta2**self._t
        if self._decoupled:
            theta *= 1.0 - self.lr * self.weight_decay
            g = grad
        else:
            g = grad + self.weight_decay * theta
        self._m = m = beta1 * np.asarray(self._m) + (1.0 - beta1) * g
        self._v = v = beta2 * np.asarray(self._v) + (1.0 - beta2) * g * g
        theta -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's AdamW:

        theta <- theta (1 - lr * weight_decay)
        then Adam's step with the gradient alone (no decay term in g)

    Adam's ``weight_decay`` adds ``weight_decay * theta`` to the gradient, where the
    moment estimates rescale it; AdamW shrinks the weights directly. PyTorch's default
    ``weight_decay`` is 0.01, and so is this one's.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
