"""diffrax's explicit Runge-Kutta solvers with their stages unrolled, for fixed steps.

diffrax runs the stages of a step in a loop (``eqxi.while_loop`` over the
Butcher tableau's rows, with the first step of an FSAL method decided inside
it), so that one code path serves every tableau and reverse-mode autodiff. On
a CPU, for the circuit's small arrays, that loop costs about as much as the
stages themselves (measured: one Tsit5 step of 1000 networks of 2-8-1, 805 us
in diffrax's loop, 437 us unrolled). :func:`unrolled` gives the same solver
class with ``step`` written as straight-line code from the same tableau: the
same stages and weights, tested to step identically (1e-12) to diffrax's. The
native engine uses it only on its fixed-step fast path; ``diffeqsolve``
(adaptive stepping, waveforms) keeps diffrax's own solvers.
"""

from __future__ import annotations

from functools import cache

import diffrax
import jax


def _combine(y0, h, weights, ks):
    """``y0 + h * sum_i weights[i] * ks[i]`` over a pytree, skipping zero weights
    (``y0 = None``: the sum alone)."""
    used = [(float(w), k) for w, k in zip(weights, ks) if w != 0]

    def leaf(y, *k):
        total = sum(w * x for (w, _), x in zip(used, k))
        return h * total if y is None else y + h * total

    if y0 is None:
        return jax.tree.map(lambda *k: leaf(None, *k), *(k for _, k in used))
    return jax.tree.map(leaf, y0, *(k for _, k in used))


@cache
def unrolled(cls: type) -> type:
    """``cls`` (a diffrax explicit Runge-Kutta solver class) with its stages unrolled.

    Its solver state is ``f(t0, y0)`` for an FSAL tableau (the last stage of a
    step is the first of the next) and None otherwise. Any other class is
    returned as it is.
    """
    if not issubclass(cls, diffrax.AbstractERK):
        return cls

    class Unrolled(cls):
        def init(self, terms, t0, t1, y0, args):
            return terms.vf(t0, y0, args) if self.tableau.fsal else None

        def derivative_at_start(self, solver_state):
            """``dy/dt`` at the start of the next step, when the state holds it (FSAL)."""
            return solver_state if self.tableau.fsal else None

        def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
            del made_jump  # the fast path never jumps within a segment
            tableau, h = self.tableau, t1 - t0
            ks = [solver_state if tableau.fsal else terms.vf(t0, y0, args)]
            for c, a in zip(tableau.c, tableau.a_lower):
                ks.append(terms.vf(t0 + float(c) * h, _combine(y0, h, a, ks), args))
            y1 = _combine(y0, h, tableau.b_sol, ks)
            y_error = _combine(None, h, tableau.b_error, ks)
            dense_info = {"y0": y0, "y1": y1}
            return (y1, y_error, dense_info, ks[-1] if tableau.fsal else None,
                    diffrax.RESULTS.successful)

    Unrolled.__name__ = Unrolled.__qualname__ = f"Unrolled{cls.__name__}"
    return Unrolled
