"""The SPICE engine: the same circuit exported to ngspice, run, and read back.

``netlist`` writes the text (pure), ``ngspice`` runs the subprocess and checks
its messages, ``raw`` reads its output. :class:`Ngspice` is the engine object;
it returns the same :class:`aann.engines.base.Run` as the native engine.

What is measured, and how:

* weights after each epoch: the weight node voltages read from the raw file at
  exactly ``t = epoch * rows * t_row`` (a PWL breakpoint, so ngspice has a time
  point there; linear interpolation between time points otherwise);
* every metric after each epoch (:mod:`aann.metrics`, the MSE first): the forward
  pass of :class:`aann.circuit.Circuit` (the same block laws as the netlist) over
  every training row and every held-out row with those weights -- the SPEC's
  definition (weights frozen, forward only, as with ``Vteach = 0``); running that
  in SPICE too would need a second transient per epoch and give the same numbers;
* peak charging current: the charging currents computed from the weights and
  source voltages read at every ngspice time point (the same laws as the
  B-sources), their largest magnitude per capacitor;
* charging charge (:attr:`aann.Run.charge`): those currents' magnitudes integrated over
  the time points (trapezoids), per capacitor;
* static supply power (:attr:`aann.Run.supply_power`): ``-Vdd * i(Vdd)``, the source
  every block instance draws its ``Isupply`` from (:func:`netlist.supply_lines`),
  averaged over the run;
* waveforms: ``Vin``, ``Vtarget``, ``Vteach`` and the output layer's ``Vout``
  as ngspice computed them, interpolated onto the native engine's sample grid.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ... import metrics as _metrics
from ...cancellation import Autozero, Chopper, Switches, row_period, sample_times
from ...errors import SimulationError, ValidationError
from ...progress import progress_bar
from ..base import Engine, EngineInfo, EpochRecords, Run, check_options
from .netlist import (
    SUPPLY,
    SpiceOptions,
    az_node,
    edge_time,
    network_netlist,
    vout,
    weight_nodes,
    with_edges,
)
from .ngspice import find_ngspice, run_ngspice, version
from .raw import RawPlot, read_raw

__all__ = ["Ngspice", "SpiceOptions", "edge_time", "find_ngspice", "network_netlist",
           "read_raw", "run_ngspice", "simulate_rows_ngspice", "version", "with_edges"]


def _interp(t_query, t, y):
    """Values of ``y`` (points, ...) at ``t_query``, linear between ngspice time points."""
    y = np.asarray(y)
    flat = y.reshape(y.shape[0], -1)
    out = np.stack([np.interp(t_query, t, flat[:, k]) for k in range(flat.shape[1])], axis=-1)
    return out.reshape(len(t_query), *y.shape[1:])


def simulate_rows_ngspice(circuit, W0, schedule, n_samples: int = 0, progress: bool = False,
                          options: SpiceOptions | None = None, workers: int = 2,
                          timeout: float | None = 3600, workdir=None, keep_files: bool = False,
                          executable: str | None = None, record_weights: bool = True,
                          axes: tuple | None = None) -> Run:
    """Run a batch of networks through a row schedule in ngspice, one process per network.

    ``W0``: per layer, arrays (B, n_out, n_in + 1) in V. A zero ``t_edge`` in the
    schedule becomes ``options.edge_fraction * t_row`` (a PWL source needs a
    finite edge); compare with a native run of the same edge time. Up to
    ``workers`` ngspice processes run at once. ``workdir`` keeps the netlists and
    raw files (``net<b>.cir``, ``net<b>.raw``) there. ``n_samples > 0`` records
    waveforms at that many samples per segment (the native engine's grid).
    ``record_weights``: return the weights after each epoch (else only their extremes).
    ``axes`` (:attr:`aann.Prepared.axes`): leaf by leaf, 0 where the circuit's constant
    leads with the network axis (e.g. Monte Carlo samples), None where it is shared;
    network b's netlist is written with its own. None: one circuit for all.
    """
    options = options or SpiceOptions()
    exe = find_ngspice(executable)  # fail early, with the install hint
    schedule = with_edges(schedule, options)
    W0 = tuple(np.asarray(w, float) for w in W0)
    B = W0[0].shape[0]
    sizes = tuple(circuit.sizes)
    nodes = weight_nodes(sizes)
    E, R = schedule.epochs, schedule.order.shape[-1]
    cancel = circuit.cancellation
    period = row_period(cancel, schedule.t_row)  # with autozero the phase before every row
    t_epoch = (np.arange(E) + 1) * R * period
    duration = E * R * period
    rows = _metrics.Rows.of(schedule.dataset)
    def circuit_of(b: int):
        if axes is None:
            return circuit
        leaves = [x if a is None else np.asarray(x)[b]
                  for x, a in zip(jax.tree.leaves(circuit), axes)]
        return jax.tree.unflatten(jax.tree.structure(circuit), leaves)

    which = _metrics.names(schedule.dataset)

    def read_back_functions(b: int):
        """The compiled metrics and charging currents of network b's circuit (closed over:
        one pair for a shared circuit, one per network of a batched one)."""
        c = circuit_of(b)

        def currents(W, x, y, vt, switch, held, switch2):
            """The charging currents at one time point: the chopper's sign ``switch`` (and
            the sources' own chopper's ``switch2``), or autozero's phase signal ``switch``
            (the sources off while it is 1) and the held values ``held`` (plus Q_inj /
            C_az) as the netlist reads them."""
            if isinstance(cancel, Chopper):
                return c.charging_currents(W, x, y, vt, switches=Switches(
                    sign=switch, inner=switch2 if cancel.charging_periods else None))[0]
            if isinstance(cancel, Autozero):
                held = tuple(h + cancel.Q_inj / cancel.C_az for h in held)
                I = c.charging_currents(W, x, y, vt, switches=Switches(held=held))[0]
                return tuple((1 - switch) * i for i in I)
            return c.charging_currents(W, x, y, vt)[0]

        return (jax.jit(jax.vmap(lambda W: _metrics.evaluate(c, W, rows, which))),
                jax.jit(jax.vmap(currents)))

    shared_functions = None if axes is not None else read_back_functions(0)
    waveforms = n_samples > 0
    grid = sample_times(schedule, cancel, n_samples) if waveforms else None

    def one(b: int):
        text = network_netlist(circuit_of(b), [w[b] for w in W0], schedule, network=b,
                               options=options)
        started = time.perf_counter()
        plots = run_ngspice(text, workdir=None if workdir is None else Path(workdir),
                            name=f"net{b}", timeout=timeout, executable=exe, keep=keep_files)
        seconds = time.perf_counter() - started
        return plots[-1], seconds

    def _collect(plot: RawPlot, b: int):
        t = plot.sweep
        if t.size < 2 or t[-1] < duration * (1 - 1e-9):
            raise SimulationError(
                f"ngspice stopped at t = {t[-1] if t.size else 0:g} s of {duration:g} s "
                f"(network {b}); see its messages with keep_files=True")
        Wt = [np.stack([np.stack([plot[f"v({n})"] for n in row], -1) for row in layer], -2)
              for layer in nodes]  # per layer (points, n_out, n_in + 1)
        W_epoch = [_interp(t_epoch, t, w) for w in Wt]
        metrics_fn, current_fn = shared_functions or read_back_functions(b)
        metrics = {k: np.asarray(v) for k, v in
                   metrics_fn(tuple(jnp.asarray(w) for w in W_epoch)).items()}
        x = np.stack([plot[f"v(vin{i + 1})"] for i in range(sizes[0])], -1)
        y = np.stack([plot[f"v(vtarget{k + 1})"] for k in range(sizes[-1])], -1)
        vt = plot["v(vteach)"]
        switch = plot["v(vchop)"] if isinstance(cancel, Chopper) else \
            plot["v(vphase)"] if isinstance(cancel, Autozero) else np.zeros_like(vt)
        held = tuple(np.stack([np.stack([plot[f"v({az_node(l + 2, j + 1, i)})"]
                                         for i in range(w.shape[2])], -1)
                               for j in range(w.shape[1])], -2) for l, w in enumerate(Wt)) \
            if isinstance(cancel, Autozero) else tuple(np.zeros_like(w) for w in Wt)
        switch2 = plot["v(vchop2)"] if isinstance(cancel, Chopper) and cancel.charging_periods \
            else np.zeros_like(vt)
        peak = [np.zeros(w.shape[1:]) for w in Wt]
        charge = [np.zeros(w.shape[1:]) for w in Wt]  # integral |Icharged| dt, trapezoids
        last = None  # the previous chunk's last time and |currents|
        for s in range(0, t.size, 20000):  # chunks bound the memory
            cur = current_fn(tuple(jnp.asarray(w[s:s + 20000]) for w in Wt),
                             jnp.asarray(x[s:s + 20000]), jnp.asarray(y[s:s + 20000]),
                             jnp.asarray(vt[s:s + 20000]), jnp.asarray(switch[s:s + 20000]),
                             tuple(jnp.asarray(h[s:s + 20000]) for h in held),
                             jnp.asarray(switch2[s:s + 20000]))
            peak = [np.maximum(p, np.abs(np.asarray(c)).max(axis=0)) for p, c in zip(peak, cur)]
            ts, mag = t[s:s + 20000], [np.abs(np.asarray(c)) for c in cur]
            if last is not None:
                ts, mag = np.concatenate([[last[0]], ts]), [np.concatenate([a[None], m])
                                                            for a, m in zip(last[1], mag)]
            charge = [q + np.trapezoid(m, ts, axis=0) for q, m in zip(charge, mag)]
            last = (ts[-1], [m[-1] for m in mag])
        supply = -float(circuit_of(b).Vdd) * float(np.mean(plot[f"i({SUPPLY.lower()})"]))
        wave = None
        if waveforms:
            out = np.stack([plot[f"v({vout(len(sizes), k + 1)})"] for k in range(sizes[-1])], -1)
            wave = {"Vin": _interp(grid, t, x), "Vtarget": _interp(grid, t, y),
                    "Vout": _interp(grid, t, out), "Vteach": np.interp(grid, t, vt)}
        W_final = [_interp(np.array([duration]), t, w)[0] for w in Wt]
        return {"metrics": metrics, "W_epoch": W_epoch, "W_final": W_final, "peak": peak,
                "wave": wave, "points": int(t.size), "charge": charge, "supply": supply}

    results = [None] * B
    seconds = [0.0] * B
    # ngspice gives no progress of its own in batch mode: count finished networks.
    with progress_bar(progress, B, "ngspice", "networks") as advance, \
            ThreadPoolExecutor(max_workers=max(1, min(workers, B))) as pool:
        futures = {pool.submit(one, b): b for b in range(B)}
        for fut in futures:
            b = futures[fut]
            plot, seconds[b] = fut.result()
            # read back here, in the calling thread: the worker threads only wait for
            # ngspice (two threads compiling the same JAX function at once crashed XLA)
            results[b] = _collect(plot, b)
            advance()

    settings = {"options": dataclasses.asdict(options), "workers": workers, "timeout": timeout}
    info = EngineInfo("ngspice", version(exe), settings, schedule.t_edge,
                      process_seconds=seconds, time_points=[r["points"] for r in results])
    W_epoch = tuple(np.stack([r["W_epoch"][l] for r in results]) for l in range(len(nodes)))
    W_min, W_max = EpochRecords.extremes(W_epoch)
    return Run(
        metrics={k: np.stack([r["metrics"][k] for r in results]) for k in which},
        W_epoch=W_epoch if record_weights else None, W_min=W_min, W_max=W_max,
        W_final=tuple(np.stack([r["W_final"][l] for r in results]) for l in range(len(nodes))),
        peak_current=tuple(np.stack([r["peak"][l] for r in results]) for l in range(len(nodes))),
        solver_ok=np.ones(B, bool),
        waveforms=None if not waveforms else {
            "time": grid, **{k: np.stack([r["wave"][k] for r in results])
                             for k in ("Vin", "Vtarget", "Vout", "Vteach")}},
        step_error=None,
        info=info,
        charge=tuple(np.stack([r["charge"][l] for r in results]) for l in range(len(nodes))),
        supply_power=np.array([r["supply"] for r in results]),
    )


class Ngspice(Engine):
    """The SPICE engine: the behavioural netlist of each network run in ngspice.

    Options: ``workers`` (ngspice processes at once), ``timeout`` (s per process,
    None: no limit), ``workdir`` (keep the netlists and raw files there),
    ``keep_files``, ``executable`` (default: ``$AANN_NGSPICE`` or ``ngspice`` on
    the PATH), and every field of :class:`SpiceOptions` by name
    (``Ngspice(reltol=1e-10, method="trap")``) or as ``options=SpiceOptions(...)``.
    """

    name: ClassVar[str] = "ngspice"
    batches_circuits: ClassVar[bool] = True  # one netlist per network, each its own constants
    OPTIONS = ("workers", "timeout", "workdir", "keep_files", "executable", "options")

    def __init__(self, *, workers: int = 2, timeout: float | None = 3600, workdir=None,
                 keep_files: bool = False, executable: str | None = None,
                 options: SpiceOptions | None = None, **spice_options):
        check_options(self.name, spice_options, [f.name for f in
                                                 dataclasses.fields(SpiceOptions)])
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValidationError(f"Ngspice(workers={workers!r}): a positive integer")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValidationError(f"Ngspice(timeout={timeout!r}): seconds > 0, or None")
        self.workers, self.timeout, self.workdir = workers, timeout, workdir
        self.keep_files, self.executable = bool(keep_files), executable
        self.options = dataclasses.replace(options or SpiceOptions(), **spice_options)

    @classmethod
    def from_options(cls, **options) -> Ngspice:
        return cls(**options)

    def __repr__(self):
        return (f"Ngspice(workers={self.workers}, timeout={self.timeout}, "
                f"options={self.options})")

    def check(self, prepared, **kw) -> None:
        super().check(prepared, **kw)
        if prepared.circuit.charging.noisy:
            raise ValidationError(
                "noise ([nonideal] temperature, shot_noise) is simulated by the native engine "
                "only (ngspice's transient noise sources cannot be made to match it); use "
                "engine='native', or set temperature = 0 and shot_noise = false")
        find_ngspice(self.executable)  # missing: the install hint, before anything runs

    def run_rows(self, prepared, *, waveforms, progress, checkpoint, resume) -> Run:
        n_samples = prepared.config.solver.samples_per_row if waveforms else 0
        return simulate_rows_ngspice(
            prepared.circuit, prepared.W0, prepared.schedule, n_samples, progress,
            options=self.options, workers=self.workers, timeout=self.timeout,
            workdir=self.workdir, keep_files=self.keep_files, executable=self.executable,
            record_weights=prepared.config.training.record == "weights",
            axes=prepared.axes)
