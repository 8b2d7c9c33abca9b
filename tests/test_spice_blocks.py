"""Each block law evaluated by ngspice equals the native (JAX) law to 1e-9 relative.

The B-source expressions are the ones the netlist writer puts in every neuron
(``neuron_expressions``), driven by PWL sweeps of their inputs; the native law
is evaluated at the input voltages ngspice read back.
"""


import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.blocks import SPICE, Expr
from aann.engines.spice.netlist import neuron_expressions
from aann.engines.spice.ngspice import run_ngspice

pytestmark = pytest.mark.ngspice

RTOL = 1e-9


def _pwl(name, node, values):
    t = np.linspace(0.0, 1e-9, len(values))
    pts = " ".join(f"{float(ti)!r} {float(vi)!r}" for ti, vi in zip(t, values))
    return f"{name} {node} 0 PWL({pts})"


def _run(lines, save):
    text = "\n".join(["* block law sweep", *lines, ".save " + " ".join(f"v({n})" for n in save),
                      # Newton stops within reltol; make that far below the 1e-9 asked
                      ".options reltol=1e-13 vntol=1e-16 abstol=1e-20",
                      ".tran 1e-11 1e-9", ".end"]) + "\n"
    plot = run_ngspice(text)[-1]
    return {n: plot[f"v({n})"] for n in save}


def _close(spice, native):
    native = np.asarray(native)
    scale = np.max(np.abs(native))
    np.testing.assert_allclose(spice, native, rtol=RTOL, atol=RTOL * 1e-3 * scale)


def _sweeps(rng, n=161):
    a = np.concatenate([np.linspace(-3, 3, n - 40), rng.uniform(-3, 3, 40)])
    b = np.concatenate([np.tile(np.linspace(-2, 2, 11), n // 11 + 1)[:n - 40],
                        rng.uniform(-2, 2, 40)])
    return a, b


MULTIPLIERS = [aann.IdealMultiplier(), aann.ParasiticMultiplier(),
               aann.ParasiticMultiplier(KI=50e-6, Voff=0.05),
               aann.IdealMultiplier(Voff1=0.02, Voff=-0.03, Ioff=2e-6),
               aann.ParasiticMultiplier(KI=50e-6, Voff1=-0.01, Voff=0.05, Ioff=-1e-6)]


@pytest.mark.parametrize("mult", MULTIPLIERS, ids=["ideal", "parasitic", "parasitic-Voff",
                                                   "ideal-offsets", "parasitic-offsets"])
def test_multiplier_current_and_product(mult, rng):
    circuit = aann.Circuit(sizes=(1, 1), multipliers=mult)  # every role
    ex = neuron_expressions(circuit, 0)
    a, b = _sweeps(rng)
    product = mult.product(Expr("v(w1)"), Expr("v(x1)"), m=SPICE)
    out = _run([_pwl("Vw", "w1", a), _pwl("Vx", "x1", b),
                # the forward multiplier's current (as in the neuron) into a 1 Ohm resistor
                f"Bm 0 im I={ex['Imult'][1]}", "Rim im 0 1",
                f"Bp prod 0 V={product}"], ["w1", "x1", "im", "prod"])
    _close(out["im"], mult.output(jnp.asarray(out["w1"]), jnp.asarray(out["x1"])))
    _close(out["prod"], mult.product(jnp.asarray(out["w1"]), jnp.asarray(out["x1"])))


@pytest.mark.parametrize("constants", [{}, {"Vamp": 0.8, "Iref": 50e-6, "Kd": 0.5, "Vref": 0.7}])
def test_activation_and_derivative(constants, rng):
    act = aann.Activation(**{k: v for k, v in constants.items() if k in ("Vamp", "Iref")})
    der = aann.Derivative(**{k: v for k, v in constants.items() if k in ("Kd", "Vref")})
    circuit = aann.Circuit(sizes=(1, 1), activation=act, derivative=der)
    ex = neuron_expressions(circuit, 0)
    inet = np.concatenate([np.linspace(-2e-3, 2e-3, 201), rng.uniform(-5e-4, 5e-4, 40)])
    # Inet arrives as a current into the neuron's sense resistor Ru, as in the netlist.
    out = _run([_pwl("Vs", "s", inet), "Bs 0 inet I=v(s)", f"Ru inet 0 {der.Ru!r}",
                f"Bvout vout 0 V={ex['Vout']}", f"Bvd vd 0 V={ex['Vd']}"],
               ["s", "inet", "vout", "vd"])
    Inet = jnp.asarray(out["s"])
    np.testing.assert_allclose(out["inet"] / der.Ru, out["s"], rtol=1e-12, atol=1e-20)
    _close(out["vout"], act.Vout(Inet))
    _close(out["vd"], der.Vd(Inet))


@pytest.mark.parametrize("limit", ["none", "tanh", "clip"])
def test_charging_source(limit, rng):
    charging = aann.ChargingSource(current_limit=limit, Imax=50e-6)
    circuit = aann.Circuit(sizes=(1, 1), charging=charging)
    ex = neuron_expressions(circuit, 0)
    d, x = _sweeps(rng)
    vt = np.tile([1.0, 0.5, 0.0, 1.0], len(d) // 4 + 1)[:len(d)]
    out = _run([_pwl("Vd", "vdelta", d * 1e-2), _pwl("Vx", "x1", x), _pwl("Vt", "vteach", vt),
                f"Bch 0 ich I={ex['Icharged'][1]}", "Rch ich 0 1"],
               ["vdelta", "x1", "vteach", "ich"])
    Vgrad = circuit.multiplier.product(jnp.asarray(out["vdelta"]), jnp.asarray(out["x1"]))
    _close(out["ich"], charging.current(jnp.asarray(out["vteach"]), Vgrad))
