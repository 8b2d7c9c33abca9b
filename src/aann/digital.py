"""The same network trained digitally: per-row SGD in JAX and (optionally) PyTorch.

This is the network the ideal circuit computes with the default constants
(``Km / Iref = 1/V``, ``Vamp = 1 V``, ``R_E * K_E = 1``): neuron ``j`` of a layer
outputs ``sigmoid(W[j, 0] * Vbias + sum_i W[j, i] * x_i)``, weights in the
circuit's layout ``W[l]`` of shape ``(n_out, n_in + 1)`` with column 0 the bias,
and the loss of one row is ``E = 1/2 * sum_k (Vout_k - Vtarget_k)^2`` (Eq. 2).
One row is one SGD step ``W -= lr * dE/dW``; one epoch applies every row once,
in order (or in a given order per epoch: the circuit's ``order = "shuffle"``).
With ``lr = lambda`` this is the limit the circuit tends to for small ``lambda``
(SPEC section 2), so the two are directly comparable.

* :func:`sgd_jax`: the whole run compiled into one ``lax.scan`` (the fastest
  digital baseline on a CPU).
* :func:`sgd_torch`: a plain PyTorch training loop as a user would write it
  (``nn.Sequential``, ``optim.SGD``, ``loss.backward()`` per row). PyTorch is the
  optional extra ``pip install "aann[digital]"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class DigitalRun:
    """``W_final``: per layer ``(n_out, n_in + 1)``; ``mse``: after each epoch (or empty);
    ``seconds``: wall time of the training loop alone (compilation excluded)."""

    W_final: tuple
    mse: np.ndarray
    seconds: float
    framework: str
    device: str


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


TORCH_HINT = ('PyTorch is not installed; add it with  pip install "aann[digital]"  '
              '(on this machine kind: pip install torch==2.13.0, a CPU build on disk)')


# ---------------------------------------------------------------- JAX


def _forward_jax(W, x, Vbias):
    import jax.numpy as jnp

    a = x
    for Wl in W:
        a = 1.0 / (1.0 + jnp.exp(-(Wl[:, 0] * Vbias + Wl[:, 1:] @ a)))
    return a


@lru_cache(maxsize=16)
def _compiled_sgd(n_layers: int, with_mse: bool, ordered: bool = False):
    """``run(W, X, Y, lr, Vbias, epochs_marker)``; ``ordered``: the last argument is
    instead the row order, (epochs, rows) indices into ``X``, ``Y``."""
    import jax
    import jax.numpy as jnp

    def loss(W, x, y, Vbias):
        return 0.5 * jnp.sum((_forward_jax(W, x, Vbias) - y) ** 2)

    grad = jax.grad(loss)

    def run(W, X, Y, lr, Vbias, epochs_marker):
        def row(W, xy):
            g = grad(W, xy[0], xy[1], Vbias)
            return tuple(w - lr * gw for w, gw in zip(W, g)), None

        def row_at(W, i):
            return row(W, (X[i], Y[i]))

        def epoch(W, idx):
            W, _ = jax.lax.scan(row_at, W, idx) if ordered else jax.lax.scan(row, W, (X, Y))
            if with_mse:
                out = jax.vmap(lambda x: _forward_jax(W, x, Vbias))(X)
                return W, jnp.mean((out - Y) ** 2)
            return W, jnp.zeros((), X.dtype)

        if ordered:
            return jax.lax.scan(epoch, W, epochs_marker)
        return jax.lax.scan(epoch, W, None, length=epochs_marker.shape[0])

    return jax.jit(run)


def check_order(order, epochs: int, rows: int) -> np.ndarray:
    """``order`` as (epochs, rows) integer row indices, each epoch a permutation of
    ``range(rows)`` (what :func:`aann.stimulus.row_order` gives)."""
    order = np.asarray(order)
    if order.shape != (epochs, rows) or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"order must be ({epochs}, {rows}) row indices (one permutation "
                         f"of the rows per epoch), not an array of shape {order.shape}")
    if not np.array_equal(np.sort(order, axis=1), np.broadcast_to(np.arange(rows), order.shape)):
        raise ValueError("each epoch of order must apply every row once (a permutation)")
    return order


def sgd_jax(W0, X, Y, lr: float, epochs: int, *, Vbias: float = 1.0, dtype=np.float64,
            with_mse: bool = True, warmup: bool = True, order=None) -> DigitalRun:
    """Per-row SGD for ``epochs`` epochs, compiled; ``seconds`` excludes compilation
    (with ``warmup`` a first call compiles before the timed one). ``order``: the rows
    applied in each epoch, (epochs, rows) indices (e.g. one network's
    ``RowSchedule.order``); None: every epoch in the rows' order."""
    import jax
    import jax.numpy as jnp

    W = tuple(jnp.asarray(w, dtype) for w in W0)
    X, Y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    lr, Vb = jnp.asarray(lr, dtype), jnp.asarray(Vbias, dtype)
    if order is None:
        marker = jnp.zeros((epochs, 0), dtype)  # only its length matters (a static shape)
    else:
        marker = jnp.asarray(check_order(order, epochs, X.shape[0]), jnp.int32)
    fn = _compiled_sgd(len(W), with_mse, order is not None)
    if warmup:
        jax.block_until_ready(fn(W, X, Y, lr, Vb, marker))
    t0 = time.perf_counter()
    W_final, mse = jax.block_until_ready(fn(W, X, Y, lr, Vb, marker))
    seconds = time.perf_counter() - t0
    device = jax.devices()[0].platform
    return DigitalRun(tuple(np.asarray(w, float) for w in W_final),
                      np.asarray(mse, float) if with_mse else np.zeros(0), seconds, "jax", device)


# ---------------------------------------------------------------- PyTorch


def torch_model(W0, Vbias: float = 1.0, dtype=None):
    """``nn.Sequential`` of Linear + Sigmoid layers holding the weights ``W0``.

    ``nn.Linear``'s bias is ``W[:, 0] * Vbias``; with the default ``Vbias = 1 V``
    it is the bias weight itself, so SGD on it is SGD on ``W[:, 0]``.
    """
    import torch
    from torch import nn

    if Vbias != 1.0:
        raise ValueError("the PyTorch model keeps the bias as nn.Linear's bias: Vbias must be 1 V")
    dtype = dtype or torch.float32
    layers = []
    for w in W0:
        w = np.asarray(w, float)
        lin = nn.Linear(w.shape[1] - 1, w.shape[0]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(w[:, 1:], dtype=dtype))
            lin.bias.copy_(torch.as_tensor(w[:, 0], dtype=dtype))
        layers += [lin, nn.Sigmoid()]
    return nn.Sequential(*layers)


def sgd_torch(W0, X, Y, lr: float, epochs: int, *, dtype: str = "float32",
              device: str = "cpu", with_mse: bool = False) -> DigitalRun:
    """Per-row SGD in a plain PyTorch loop (what a user writes); ``seconds`` is the loop."""
    import torch

    tdtype = getattr(torch, dtype)
    model = torch_model(W0, dtype=tdtype).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt = torch.as_tensor(np.asarray(X), dtype=tdtype, device=device)
    Yt = torch.as_tensor(np.asarray(Y), dtype=tdtype, device=device)
    mse = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, y in zip(Xt, Yt):
            opt.zero_grad()
            loss = 0.5 * ((model(x) - y) ** 2).sum()
            loss.backward()
            opt.step()
        if with_mse:
            with torch.no_grad():
                mse.append(float(((model(Xt) - Yt) ** 2).mean()))
    if device != "cpu":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    W = []
    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    for m in lin:
        w = m.weight.detach().cpu().double().numpy()
        b = m.bias.detach().cpu().double().numpy()
        W.append(np.concatenate([b[:, None], w], axis=1))
    return DigitalRun(tuple(W), np.asarray(mse), seconds, "pytorch", device)


def torch_gpu_available() -> bool:
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def jax_gpu_available() -> bool:
    import jax

    try:
        return len(jax.devices("gpu")) > 0
    except RuntimeError:
        return False
