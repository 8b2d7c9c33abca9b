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
* :func:`rule_sgd`: the digital baseline of any learning rule (``[training] rule``,
  :mod:`aann.rules`) and block laws: one step per row whose update is a circuit's own
  charging currents, ``W <- W + I(W, x, y, Vteach) t_row / C``, every network of a
  batch at once (``vmap``). With the ideal circuit of the paper's rule it is
  :func:`sgd_jax` (the same arithmetic, up to rounding).
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


def sgd_flops(sizes) -> dict:
    """Floating-point operations of per-row SGD of the network ``sizes`` (the circuit's
    layout: column 0 the bias weight, its input ``Vbias``), counted per operation (a
    multiply-add is 2, ``exp`` 1), per row:

    * ``forward``: per layer ``2 n_out (n_in + 1)`` (the weighted sum, bias included) and
      ``4 n_out`` (the sigmoid ``1 / (1 + exp(-z))``: negate, exp, add, divide);
    * ``backward``: the output deltas ``(a - y) a (1 - a)``, 4 per output; per layer
      above the first the hidden deltas ``(W[:, 1:]^T delta) a (1 - a)``, ``2 n_out n_in
      + 3 n_in``; the gradient ``delta x^T``, 1 per weight;
    * ``update``: ``W - lr g``, 2 per weight;

    ``row`` their sum, ``inference`` the forward pass alone."""
    sizes = [int(n) for n in sizes]
    layers = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(n_out * (n_in + 1) for n_in, n_out in layers)
    forward = sum(2 * n_out * (n_in + 1) + 4 * n_out for n_in, n_out in layers)
    backward = 4 * sizes[-1] + sum(2 * n_out * n_in + 3 * n_in
                                   for n_in, n_out in layers[1:]) + weights
    update = 2 * weights
    return {"forward": forward, "backward": backward, "update": update,
            "row": forward + backward + update, "inference": forward}


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


# ---------------------------------------------------------------- any rule


@dataclass(frozen=True)
class RuleRun:
    """What :func:`rule_sgd` gives, for a batch of B networks. ``W_final``: per layer
    (B, n_out, n_in + 1); ``metrics``: name -> (B, epochs), each after every epoch;
    ``seconds``: wall time of the compiled run, every network at once (compilation
    excluded, ``compile_seconds``)."""

    W_final: tuple
    metrics: dict
    seconds: float
    compile_seconds: float
    device: str

    def networks(self) -> list[DigitalRun]:
        """One :class:`DigitalRun` per network (``seconds``: the batch's share, the
        wall time over B; ``mse``: the ``mse`` recorded, or empty)."""
        B = self.W_final[0].shape[0]
        mse = self.metrics.get("mse")
        return [DigitalRun(tuple(w[b] for w in self.W_final),
                           np.zeros(0) if mse is None else mse[b], self.seconds / B, "jax",
                           self.device) for b in range(B)]


def _rule_run(circuit, W, rows, order, Vteach, dt, which, substeps=1):
    """One network: ``epochs`` epochs of per-row steps ``W + I dt / C`` (``dt`` =
    ``t_row / substeps``, ``substeps`` of them per row), rows ``order`` (epochs, rows) at
    ``Vteach`` (epochs,); the metrics ``which`` after every epoch."""
    import jax

    from . import metrics as _metrics

    C = circuit.capacitances()
    X, Y = rows.X, rows.Y

    def step(W, x, y, v):
        currents, _ = circuit.charging_currents(W, x, y, v)
        return tuple(w + I * (dt / c) for w, I, c in zip(W, currents, C))

    def row(state, i):
        W, v = state
        x, y = X[i], Y[i]
        if substeps == 1:
            return (step(W, x, y, v), v), None
        W = jax.lax.fori_loop(0, substeps, lambda _, W: step(W, x, y, v), W)
        return (W, v), None

    def epoch(W, e):
        idx, v = e
        (W, _), _ = jax.lax.scan(row, (W, v), idx)
        values = _metrics.evaluate(circuit, W, rows, which) if which else {}
        return W, values

    W, values = jax.lax.scan(epoch, W, (order, Vteach))
    return W, values if which else {}


@lru_cache(maxsize=32)
def _compiled_rule(which: tuple, batched_order: bool, treedef, axes: tuple | None,
                   substeps: int = 1):
    import jax

    def run(circuit, W, rows, order, Vteach, dt):
        circuit_axes = None if axes is None else jax.tree.unflatten(treedef, axes)
        return jax.vmap(lambda c, w, o: _rule_run(c, w, rows, o, Vteach, dt, which,
                                                  substeps),
                        in_axes=(circuit_axes, 0, 0 if batched_order else None))(
            circuit, W, order)

    return jax.jit(run)


def rule_sgd(circuit, W0, X, Y, t_row: float, epochs: int, *, order=None, Vteach=1.0,
             rows=None, metrics=("mse",), axes: tuple | None = None, substeps: int = 1,
             dtype=np.float64) -> RuleRun:
    """Digital SGD under ``circuit``'s learning rule and block laws: per row the step
    ``W <- W + I(W, x, y, Vteach) t_row / C``, ``I`` the charging currents
    (:meth:`aann.Circuit.charging_currents`, settled: no poles) and ``C`` the weight
    capacitors, compiled (``lax.scan`` over epochs and rows) for every network of the
    batch at once (``vmap``).

    Give it the *ideal* circuit of a rule (:func:`aann.baselines.rule_circuit`): then
    it is that rule trained digitally, with the rule's own arrays (fixed feedback
    matrices are leaves of ``circuit.rule``). Under the paper's rule with the ideal
    blocks ``I t_row / C = -lambda dE/dW``, exactly the step of :func:`sgd_jax`.

    ``W0``: per layer (B, n_out, n_in + 1); ``X``, ``Y``: the training rows (V);
    ``order``: the rows of each epoch, (epochs, rows) shared or (B, epochs, rows) per
    network (default: in order); ``Vteach``: V, one value or one per epoch (0 in an
    epoch: no learning); ``metrics``: names of :mod:`aann.metrics` evaluated after every
    epoch with ``circuit``'s forward pass, on ``rows`` (an :class:`aann.metrics.Rows`;
    default the training rows ``X``, ``Y``); ``axes``: leaf by leaf of ``circuit``, 0
    where a constant leads with the B networks (:attr:`aann.Prepared.axes`), None:
    one circuit for all. ``substeps``: each row as that many steps of ``t_row /
    substeps`` (Euler steps of the circuit's own flow within a row: many of them tend to
    the circuit at that ``t_row``; 1, the default, is the digital rule)."""
    import jax
    import jax.numpy as jnp

    from . import metrics as _metrics

    W = tuple(jnp.asarray(w, dtype) for w in W0)
    if any(w.ndim != 3 for w in W) or len({w.shape[0] for w in W}) != 1:
        raise ValueError("W0 must give every layer as (networks, n_out, n_in + 1)")
    B = W[0].shape[0]
    X, Y = np.asarray(X, dtype), np.asarray(Y, dtype)
    if order is None:
        order = np.tile(np.arange(X.shape[0]), (epochs, 1))
    order = np.asarray(order)
    if order.ndim == 3:
        if order.shape[0] == 1:
            order = order[0]
        elif order.shape[0] != B:
            raise ValueError(f"order has {order.shape[0]} networks' rows; W0 has {B}")
    for o in (order if order.ndim == 3 else order[None]):
        check_order(o, epochs, X.shape[0])
    Vteach = np.broadcast_to(np.asarray(Vteach, dtype), (epochs,))
    if rows is None:
        rows = _metrics.Rows(jnp.asarray(X), jnp.asarray(Y))
    which = tuple(metrics)
    leaves, treedef = jax.tree.flatten(circuit)
    if axes is not None:
        axes = tuple(axes)
        if len(axes) != len(leaves):
            raise ValueError(f"axes must give one entry per constant of the circuit "
                             f"({len(leaves)}), not {len(axes)}")
        if all(a is None for a in axes):
            axes = None
    if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
        raise ValueError(f"substeps must be a whole number >= 1, not {substeps!r}")
    fn = _compiled_rule(which, order.ndim == 3, treedef, axes, substeps)
    args = (circuit, W, rows, jnp.asarray(order, jnp.int32), jnp.asarray(Vteach),
            jnp.asarray(t_row / substeps, dtype))
    t0 = time.perf_counter()
    compiled = fn.lower(*args).compile()
    t1 = time.perf_counter()
    W_final, values = jax.block_until_ready(compiled(*args))
    seconds = time.perf_counter() - t1
    return RuleRun(tuple(np.asarray(w, float) for w in W_final),
                   {k: np.asarray(v, float) for k, v in values.items()}, seconds, t1 - t0,
                   jax.devices()[0].platform)


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
