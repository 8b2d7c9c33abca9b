"""One results type for every engine: learning curves, weights, waveforms, diagnostics."""

from __future__ import annotations

import csv
import enum
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import results_views as views
from .datasets import Dataset
from .energy import Energy, run_energy
from .engines.base import EngineInfo, EpochRecords, Run
from .io import atomic_write, ensure_writable_dir, weights_to_json
from .metrics import DEFAULT_GOAL, Goal, ordered
from .metrics import learned as _learned
from .spec import Config

MSE_GOAL = DEFAULT_GOAL.value  # the "converged" threshold of the summary table (V^2)
ENERGY_KEYS = ("blocks", "power_static", "energy_charging", "energy_training", "energy_epoch",
               "energy_inference", "area", "supply_power_measured", "energy_assumptions")
"""The keys of summary.json that :meth:`aann.energy.Energy.summary` gives."""


class Divergence(enum.StrEnum):
    """Why a run is flagged as diverged; each value is the message summary.json records."""

    MSE_NOT_FINITE = "MSE is NaN/Inf"
    WEIGHTS_NOT_FINITE = "weights NaN/Inf"
    BEYOND_BOUND = "|Vw| > constants.Vw_bound"
    STEP_ERROR = ("solver step error > solver.max_step_error (steps too long: raise "
                  "solver.steps or use stepping = 'adaptive')")
    SOLVER_FAILED = "the solver failed"


@dataclass(repr=False, eq=False)
class Results:
    """What a training run produced; arrays have the network (seed) as first axis.

    ``metrics[name][b, e]`` is metric ``name`` (:mod:`aann.metrics`) after epoch
    ``e + 1``, ``mse[b, e]`` the MSE; ``W_epoch[l][b, e]`` the
    weights of layer ``l`` after that epoch (V; None with ``training.record =
    "mse"``), ``W_min[b, e]``/``W_max[b, e]`` their extremes (always kept);
    ``peak_current[l][b]`` the largest ``|Icharged|`` of each capacitor over the
    run (A).
    """

    config: Config
    seeds: list
    W_init: tuple
    metrics: dict  # name -> (B, epochs)
    W_epoch: tuple | None
    W_final: tuple
    peak_current: tuple
    solver_ok: np.ndarray
    waveforms: dict | None = None
    engine: str = "native"
    wall_seconds: float = 0.0
    step_error: np.ndarray | None = None  # (B, epochs) largest fixed-step error estimate, V
    engine_info: EngineInfo | None = None  # version, settings, edge time, per-process figures
    rows: int = 0  # data rows per epoch; 0 under a PWL stimulus
    circuit_seconds: float = 0.0  # circuit time simulated, s
    breakpoints: int | None = None  # PWL breakpoints of a waveform stimulus
    W_min: np.ndarray | None = None  # (B, epochs), V; from W_epoch when not given
    W_max: np.ndarray | None = None
    samples: list | None = None  # Monte Carlo sample of each network ([mismatch]), or None
    settling: float | None = None  # the circuit's settling time (s); None: from the config
    retention: float | None = None  # the shortest R_leak * C of the circuit that ran (s);
    # None: from the config (0: no leakage)
    coords: dict | None = None  # labels of each network beyond seed and sample (a study's
    # point, swept keys...): name -> one value per network
    dataset: Dataset | None = None  # the encoded rows trained on (and held out), V; None
    # under a PWL stimulus
    energy: Energy | None = None  # power, energy and area (aann.energy); None: results
    # saved before they were kept

    def __post_init__(self):
        if self.coords is not None:
            self.coords = {k: list(v) for k, v in self.coords.items()}
            for k, v in self.coords.items():
                if len(v) != len(self.seeds):
                    raise ValueError(f"coords[{k!r}] has {len(v)} values for "
                                     f"{len(self.seeds)} networks")
        if self.W_min is None or self.W_max is None:
            self.W_min, self.W_max = EpochRecords.extremes(self.W_epoch)

    # --- for people and notebooks (aann.results_views) ---------------------------

    def __repr__(self) -> str:
        """At most 7 lines whatever the run: topology, engine, networks, epochs, how
        many learned, the final MSE range, what was recorded, wall time."""
        return "\n".join(views.repr_lines(self))

    def _repr_html_(self) -> str:
        """Jupyter: the repr's lines and the summary table (the first 20 networks)."""
        return views.repr_html(self)

    def __eq__(self, other) -> bool:
        """Equal settings, engine info, seeds and figures, and arrays equal exactly
        (NaN equal to NaN; shapes and dtypes too)."""
        if not isinstance(other, Results):
            return NotImplemented
        return not views.differences(self, other)

    __hash__ = None  # mutable, compared by value

    @classmethod
    def load(cls, path) -> Results:
        """The results :meth:`save` wrote to the folder ``path`` (from its lossless
        archive ``results.npz``), equal to the saved ones. A folder without the
        archive is a :class:`aann.ValidationError` naming it."""
        return cls(**views.read_archive(path))

    def to_dataframe(self, what: str = "mse"):
        """A pandas DataFrame in long form (needs ``pip install "aann[notebook]"``).

        ``"mse"``: one row per network and epoch, columns ``network, seed, sample,
        epoch, mse`` (V^2; ``sample``: the Monte Carlo sample, ``<NA>`` without
        ``[mismatch]`` samples). ``"weights"``: the final weights, one row per
        capacitor, columns ``network, seed, sample, layer, neuron, input, epoch, Vw``
        (``layer`` from 1; ``neuron`` j and ``input`` i index ``Wl[j][i]`` as in
        weights.json, input 0 the bias; ``epoch``: the epochs done). ``"trajectories"``:
        the same for the weights after every epoch, epoch 0 the initial weights
        (needs ``training.record = "weights"``).
        """
        return views.to_dataframe(self, what)

    def to_xarray(self):
        """An xarray Dataset (needs ``pip install "aann[notebook]"``): ``mse``,
        ``W_min``, ``W_max``, ``step_error`` (network, epoch); per layer L from 1
        ``W_init_lL``, ``W_final_lL``, ``peak_current_lL`` (network, neuron_lL,
        input_lL) and ``W_epoch_lL`` (network, epoch, neuron_lL, input_lL) when
        recorded; ``solver_ok`` (network); the waveforms (network, time, ...) when
        recorded. Coordinates: ``network`` 0..B-1 with ``seed`` (and ``sample``)
        on it, ``epoch`` 1..E. ``attrs``: topology, engine, the settings as JSON."""
        return views.to_xarray(self)

    @property
    def plot(self) -> views.ResultsPlot:
        """Figures as matplotlib Axes: ``res.plot.learning_curves()``,
        ``res.plot.waveforms()``, ``res.plot.weights()`` (weight trajectories)."""
        return views.ResultsPlot(self)

    @classmethod
    def from_run(cls, prepared, run: Run, wall_seconds: float) -> Results:
        """The results of ``run``, an engine's run of ``prepared`` (one way for all engines)."""
        stimulus = prepared.stimulus
        return cls(config=prepared.config, seeds=list(prepared.seeds), W_init=prepared.W0,
                   metrics=ordered(run.metrics), W_epoch=run.W_epoch, W_min=run.W_min,
                   W_max=run.W_max, W_final=run.W_final,
                   peak_current=run.peak_current, solver_ok=run.solver_ok,
                   waveforms=run.waveforms, engine=run.info.name, wall_seconds=wall_seconds,
                   step_error=run.step_error, engine_info=run.info, rows=prepared.rows,
                   circuit_seconds=prepared.circuit_seconds,
                   breakpoints=None if stimulus is None else int(np.size(stimulus.time)),
                   samples=None if prepared.samples is None else list(prepared.samples),
                   settling=prepared.circuit.settling_time(),
                   retention=_retention(prepared.circuit),
                   dataset=None if prepared.schedule is None else prepared.schedule.dataset,
                   energy=run_energy(prepared, run))

    @property
    def n_networks(self) -> int:
        return len(self.seeds)

    @property
    def mse(self) -> np.ndarray:
        """(B, epochs) the MSE after each epoch, V^2 (``metrics["mse"]``)."""
        return self.metrics["mse"]

    @property
    def epochs_done(self) -> int:
        return self.mse.shape[1]

    def final(self, metric: str = "mse") -> np.ndarray:
        """Per network, ``metric`` after the last epoch (NaN without epochs)."""
        values = self.metrics[metric]
        return values[:, -1] if values.shape[1] else np.full(self.n_networks, np.nan)

    def learned(self, goal: Goal = DEFAULT_GOAL) -> np.ndarray:
        """Per network: reached ``goal`` (default final MSE < 0.01 V^2) and did not
        diverge (:func:`aann.metrics.learned`, the one definition every study uses)."""
        return _learned(self.final(goal.metric), self.diverged_epoch, goal)

    def first_epoch_below(self, goal: float | Goal = MSE_GOAL) -> np.ndarray:
        """Per network, the first epoch (1-based) that reaches ``goal`` (a number: MSE <
        it); 0 if never."""
        goal = goal if isinstance(goal, Goal) else Goal("mse", goal)
        return goal.first_epoch(self.metrics[goal.metric])

    @property
    def peak_current_max(self) -> np.ndarray:
        """Per network, the largest charging current of any capacitor (A)."""
        return np.max(np.stack([p.reshape(p.shape[0], -1).max(axis=1)
                                for p in self.peak_current]), axis=0)

    @property
    def weight_range(self) -> np.ndarray:
        """Per network, (min, max) of every weight over every epoch end (V)."""
        return np.stack([self.W_min.min(axis=1), self.W_max.max(axis=1)], axis=1)

    def _divergence(self):
        """Per network: first bad epoch (0: none) and the :class:`Divergence` (None)."""
        bound = self.config.constants.Vw_bound
        checks = [(Divergence.MSE_NOT_FINITE, ~np.isfinite(self.mse))] if self.epochs_done else []
        # (B, epochs); a waveform run has one "epoch", its end. NaN propagates to both.
        nonfinite = ~(np.isfinite(self.W_min) & np.isfinite(self.W_max))
        beyond = (np.abs(self.W_min) > bound) | (np.abs(self.W_max) > bound)
        checks += [(Divergence.WEIGHTS_NOT_FINITE, nonfinite), (Divergence.BEYOND_BOUND, beyond)]
        if self.step_error is not None and self.step_error.shape == nonfinite.shape:
            limit = self.config.solver.max_step_error
            checks.append((Divergence.STEP_ERROR, ~(self.step_error <= limit)))
        first = np.zeros(self.n_networks, int)
        reason = [None] * self.n_networks
        for why, bad in checks:
            e = np.where(bad.any(axis=1), bad.argmax(axis=1) + 1, 0)
            for b in range(self.n_networks):
                if e[b] and (not first[b] or e[b] < first[b]):
                    first[b], reason[b] = e[b], why
        for b in range(self.n_networks):
            if not first[b] and not self.solver_ok[b]:
                first[b], reason[b] = max(self.epochs_done, 1), Divergence.SOLVER_FAILED
        return first, reason

    @property
    def diverged_epoch(self) -> np.ndarray:
        """Per network, the first epoch whose weights are NaN/Inf or beyond
        ``constants.Vw_bound``, or whose MSE is not finite, or in which a fixed
        solver step's error estimate exceeded ``solver.max_step_error``, or at
        which the solver failed; 0 when the run stayed sane."""
        return self._divergence()[0]

    @property
    def diverged_reason(self) -> list:
        """Per network, the :class:`Divergence` it is flagged for (None when it is not)."""
        return self._divergence()[1]

    def limits(self) -> dict[str, str]:
        """One plain sentence per physical limit the run breaks: ``current``, the
        charging current against ``Imax`` (the slew rate against ``Imax / C``), and
        ``retention``, the weights' ``R_leak * C`` against the run's length, and
        ``settling``, the blocks' settling time against ``t_row``."""
        c = self.config.constants
        out = {}
        peak = float(np.max(self.peak_current_max, initial=0.0))
        if peak > c.Imax * (1 + 1e-9):
            out["current"] = (
                f"The charging current reaches {peak / c.Imax:.3g} x Imax ({c.Imax:g} A): the "
                f"weights move at up to {peak / c.C:.3g} V/s, beyond the slew limit Imax/C = "
                f"{c.Imax / c.C:.3g} V/s a real source allows; run slower (longer t_row, "
                "smaller Keta) or set [nonideal] current_limit.")
        retention = self.retention_seconds
        if retention is not None and self.circuit_seconds > retention:
            out["retention"] = (
                f"The weights' retention R_leak*C = {retention:.3g} s is shorter than the "
                f"run ({self.circuit_seconds:.3g} s): a weight that learning does not "
                "refresh decays within it.")
        settling = self.settling_time
        if settling > self.config.training.t_row:
            out["settling"] = (
                f"The blocks' poles settle in {settling:.3g} s (1 %), longer than a row "
                f"(t_row = {self.config.training.t_row:.3g} s): each row is learned from "
                "signals still moving from the previous one; run slower or widen the "
                "blocks' bandwidth (f3dB).")
        return out

    @property
    def retention_seconds(self) -> float | None:
        """The shortest ``R_leak * C`` of the weight capacitors of the circuit that ran
        (s): how long a weight that learning does not refresh holds; None without
        leakage."""
        if self.retention is not None:
            return self.retention or None
        c, n = self.config.constants, self.config.nonideal  # results made before it was kept
        return n.R_leak * c.C if n.R_leak > 0 else None

    @property
    def settling_time(self) -> float:
        """Seconds the charging currents take to settle to 1 % after a row edge through
        the blocks' poles of the circuit that ran (:meth:`aann.Circuit.settling_time`);
        0 without poles."""
        if self.settling is not None:
            return self.settling
        from .circuit import build_circuit  # results made before this was kept

        return build_circuit(self.config).settling_time()

    def summary(self) -> dict:
        """The figures of the summary table, per network, plus the settings.

        The same keys for every engine (docs/train.md, "Outputs"); a figure an
        engine does not have is None.
        """
        Imax = self.config.constants.Imax
        peak = self.peak_current_max
        first = self.first_epoch_below()
        diverged, reason = self._divergence()
        learned = self.learned()
        info = self.engine_info or EngineInfo(self.engine, "unknown", {})
        return {
            "settings": self.config.to_dict(),
            "engine": self.engine,
            "engine_version": info.version,
            "engine_settings": info.settings,
            "t_edge": info.t_edge,
            "stimulus": "rows" if self.breakpoints is None else "waveform",
            "rows": self.rows,
            "breakpoints": self.breakpoints,
            "lambda": self.config.lam,
            "epochs_done": self.epochs_done,
            "wall_seconds": self.wall_seconds,
            "circuit_seconds": self.circuit_seconds,
            "Imax": Imax,
            "slew_limit": Imax / self.config.constants.C,
            "retention_seconds": self.retention_seconds,
            "settling_time": self.settling_time,
            "limits_broken": list(self.limits().values()),
            "process_seconds": info.process_seconds,
            "time_points": info.time_points,
            **(self.energy.summary() if self.energy is not None else
               dict.fromkeys(ENERGY_KEYS)),
            "networks": [
                {"seed": self.seeds[b],
                 "sample": None if self.samples is None else self.samples[b],
                 **{f"final_{name}": _num(v[b, -1]) if self.epochs_done else None
                    for name, v in self.metrics.items()},
                 DEFAULT_GOAL.key: int(first[b]) or None,
                 "learned": bool(learned[b]),
                 "peak_current": _num(peak[b]),
                 "peak_over_Imax": _num(peak[b] / Imax),
                 "max_dVw_dt": _num(peak[b] / self.config.constants.C),
                 "weight_min": _num(self.weight_range[b, 0]),
                 "weight_max": _num(self.weight_range[b, 1]),
                 "diverged_at_epoch": int(diverged[b]) or None,
                 "diverged_because": reason[b].value if reason[b] else None,
                 "max_step_error": (_num(self.step_error[b].max())
                                    if self.step_error is not None and self.step_error.size
                                    else None)}
                for b in range(self.n_networks)],
        }

    def weights_networks(self, which: str = "final") -> list[dict]:
        layers = self.W_final if which == "final" else self.W_init
        return [{"seed": s, "layers": [np.asarray(W[b]) for W in layers]}
                for b, s in enumerate(self.seeds)]

    def mse_csv(self) -> str:
        """``seed,epoch,mse`` and a column per other metric, one line per network and
        epoch (what ``mse.csv`` holds)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["seed", "epoch", *self.metrics])
        values = list(self.metrics.values())
        for b, seed in enumerate(self.seeds):
            for e in range(self.epochs_done):
                w.writerow([seed, e + 1, *(repr(float(v[b, e])) for v in values)])
        return out.getvalue()

    def waveforms_csv(self, network: int = 0) -> str:
        """``time`` (s), ``Vin1..``, ``Vtarget1..``, ``Vout1..``, ``Vteach`` of one network."""
        wf = self.waveforms
        cols, header = [wf["time"]], ["time"]
        for name in ("Vin", "Vtarget", "Vout"):
            a = wf[name][network]
            cols += [a[:, i] for i in range(a.shape[1])]
            header += [f"{name}{i + 1}" for i in range(a.shape[1])]
        cols.append(wf["Vteach"][network])
        header.append("Vteach")
        out = io.StringIO()
        out.write(",".join(header) + "\n")
        np.savetxt(out, np.column_stack(cols), delimiter=",", fmt="%.12g")
        return out.getvalue()

    def save(self, out_dir, plots: bool = True) -> Path:
        """Write mse.csv, weights.json, summary.json, results.npz (the lossless archive
        :meth:`load` reads), learning_curves.png (and accuracy.png for a
        classification), the encoded data rows (train.csv, and
        test.csv with held-out rows: columns x1.., y1.., as a data set CSV) and, with
        waveforms, waveforms.csv and waveforms.png. Every file is written atomically."""
        out = ensure_writable_dir(out_dir)
        views.write_archive(self, out)
        atomic_write(out / "mse.csv", self.mse_csv())
        atomic_write(out / "weights.json", weights_to_json(self.weights_networks()))
        atomic_write(out / "summary.json", json.dumps(self.summary(), indent=1, default=str))
        if self.dataset is not None:  # the rows as the circuit saw them, to check a result
            atomic_write(out / "train.csv", self.dataset.to_csv())
            if self.dataset.test is not None:
                atomic_write(out / "test.csv", self.dataset.test.to_csv())
        if self.waveforms is not None:
            atomic_write(out / "waveforms.csv", self.waveforms_csv())
        if plots:
            P = views._plots()  # aann.plots, keeping a notebook's backend
            if self.epochs_done:
                P.save(P.learning_curves(self), out / "learning_curves.png")
                if "train_accuracy" in self.metrics:
                    P.save(P.accuracy_curves(self), out / "accuracy.png")
            if self.waveforms is not None:
                P.save(P.waveforms(self), out / "waveforms.png")
        return out


def _retention(circuit) -> float:
    """The shortest ``R_leak * C`` (s) of ``circuit``'s weight capacitors (per network
    and per instance where those vary), 0 without leakage."""
    def per_weight(x):  # a value per network (B,) lines up with (B, n_out, n_in + 1)
        x = np.asarray(x, float)
        return x.reshape(x.shape + (1, 1)) if x.ndim == 1 else x

    taus = []
    for l in range(len(circuit.sizes) - 1):
        node = circuit.block("charging", l)
        R, C = np.broadcast_arrays(per_weight(node.R_leak), per_weight(node.C))
        taus.extend((R * C)[R > 0].tolist())
    return min(taus, default=0.0)


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
