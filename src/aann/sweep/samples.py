"""Monte Carlo's view of a store: :class:`MonteCarlo`, the yield of a run of
:func:`aann.montecarlo` with its files (``montecarlo.csv``, ``summary.json`` with the
Wilson interval, ``final_mse_histogram.png``).

A Monte Carlo run is a sweep of one point whose seeds are its samples
(:func:`aann.sweep.plan.samples_sweep`): run ``k`` of its store is sample ``k``.
:meth:`MonteCarlo.from_store` reads the store back; *learned* is
:func:`aann.metrics.learned`, the one definition.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checkpoint import hash_arrays
from ..errors import ValidationError
from ..io import atomic_write, ensure_writable_dir, read_weights
from ..metrics import DEFAULT_GOAL, Goal
from ..metrics import learned as _learned
from ..prepare import stack_weights
from ..spec import Config
from .runner import _jsonable
from .store import STORE, Store

FORMAT = 2  # of the fingerprint (1: the parts/ files of before the one store)
COLUMNS = ("sample", "seed", "final_mse", "learned", "diverged")  # + final_<metric>
Z95 = 1.96  # the normal quantile of a two-sided 95 % interval (the usual rounding)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n``.

    ``(c - h, c + h)`` with ``p = successes / n``, ``c = (p + z^2 / 2n) / (1 + z^2 / n)``
    and ``h = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)``.
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValidationError(f"a Wilson interval needs 0 <= successes <= n and n > 0 "
                              f"(got {successes} of {n})")
    p, zz = successes / n, z * z
    centre = (p + zz / (2 * n)) / (1 + zz / n)
    half = z / (1 + zz / n) * math.sqrt(p * (1 - p) / n + zz / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class MonteCarlo:
    """The outcome of :func:`aann.montecarlo`: per sample ``k`` (index ``k`` of each
    array) its initial weights' seed, final MSE (V^2; NaN when not finite), final value
    of every metric (``finals``, by name; ``finals["mse"]`` is ``final_mse``) and
    divergence flag.

    ``config``: the description as run (``training.seeds`` = the number of samples,
    ``training.record = "mse"``); ``goal``: the value of ``metric`` a sample must
    reach (:class:`aann.metrics.Goal`); ``batch``: samples per batch;
    ``shared_weights``: every sample started from one given weight set; ``engine``:
    the engine's name, version and settings; ``wall_seconds``: the time the batches
    took, summed (those of an earlier run included after a resume).
    """

    config: Config
    samples: int
    seeds: np.ndarray
    final_mse: np.ndarray
    diverged: np.ndarray
    goal: float = DEFAULT_GOAL.value
    wall_seconds: float = 0.0
    batch: int = 0
    shared_weights: bool = False
    engine: dict | None = None
    finals: dict | None = None
    metric: str = "mse"

    def __post_init__(self):
        self.finals = {"mse": self.final_mse, **{k: v for k, v in (self.finals or {}).items()
                                                 if k != "mse"}}

    @classmethod
    def from_store(cls, out_dir, config: Config, shared: dict | None, batch: int) -> MonteCarlo:
        """The run in the store of ``out_dir`` (``config``: as run; ``shared``: the one
        weight set every sample started from, or None; ``batch``: samples per batch)."""
        store = Store.existing(out_dir)
        try:
            meta, runs, names = store.meta(), store.runs(), store.metric_names()
            wall, goal = store.wall_seconds(), store.goal()
        finally:
            store.close()
        n = int(meta["runs"])
        finals = {name: np.full(n, np.nan) for name in names}
        diverged = np.zeros(n, bool)
        for r in runs:  # run k is sample k
            for name in names:
                finals[name][r["run"]] = r["finals"][name]
            diverged[r["run"]] = r["diverged_epoch"] is not None
        finals = {k: np.where(np.isfinite(v), v, np.nan) for k, v in finals.items()}
        seeds = np.full(n, shared["seed"], np.int64) if shared else np.arange(n, dtype=np.int64)
        return cls(config=config, samples=n, seeds=seeds, final_mse=finals["mse"],
                   diverged=diverged, goal=goal.value, metric=goal.metric, wall_seconds=wall,
                   batch=batch, shared_weights=shared is not None,
                   engine=json.loads(meta.get("engine") or "null"), finals=finals)

    @property
    def goal_(self) -> Goal:
        """The goal as a :class:`aann.metrics.Goal`."""
        return Goal(self.metric, self.goal)

    @property
    def learned(self) -> np.ndarray:
        """Per sample: reached the goal (default final MSE below 0.01 V^2) and did not
        diverge (:func:`aann.metrics.learned`)."""
        return _learned(self.finals, self.diverged, self.goal_)

    @property
    def n_learned(self) -> int:
        return int(self.learned.sum())

    @property
    def yield_(self) -> float:
        """The fraction of samples that learned."""
        return self.n_learned / self.samples

    def wilson(self, z: float = Z95) -> tuple[float, float]:
        """The Wilson score interval of the yield (``z = 1.96``: 95 %)."""
        return wilson_interval(self.n_learned, self.samples, z)

    @property
    def samples_per_second(self) -> float | None:
        return self.samples / self.wall_seconds if self.wall_seconds > 0 else None

    def to_csv(self) -> str:
        """``sample,seed,final_mse,learned,diverged`` with ``final_<name>`` after
        ``final_mse`` for every other metric; ``learned``/``diverged`` are 1 or 0, the
        final values exact (they read back as the same floats) or ``nan``."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        others = [k for k in self.finals if k != "mse"]
        w.writerow([*COLUMNS[:3], *(f"final_{k}" for k in others), *COLUMNS[3:]])
        learned = self.learned
        for k in range(self.samples):
            w.writerow([k, int(self.seeds[k]), repr(float(self.final_mse[k])),
                        *(repr(float(self.finals[m][k])) for m in others), int(learned[k]),
                        int(self.diverged[k])])
        return out.getvalue()

    def summary(self) -> dict:
        """What ``summary.json`` holds: the yield, its 95 % Wilson interval, counts,
        the spread of the final MSE, the mismatch, how the run was done."""
        lo, hi = self.wilson()
        m, t = self.config.mismatch, self.config.training
        engine = self.engine or {}
        return {
            "samples": self.samples,
            "goal": self.goal,
            **({} if self.metric == "mse" else {"goal_metric": self.metric}),
            "learned": self.n_learned,
            "diverged": int(self.diverged.sum()),
            "yield": self.yield_,
            "yield_wilson_95": [lo, hi],
            **{f"final_{name}": self._spread(v) for name, v in self.finals.items()},
            "mismatch": m.to_dict(),
            "mismatch_active": m.active,
            "mismatch_note": None if m.active else (
                "no [mismatch] sigma is set: every sample is the nominal circuit, so the "
                "samples differ only in their initial weights"),
            "initial_weights": (f"one given set for every sample (seed {int(self.seeds[0])})"
                                if self.shared_weights else
                                f"sample k: aann.random_weights(sizes, k, {t.init_range:g})"),
            "batch": self.batch,
            "batches": -(-self.samples // self.batch) if self.batch else None,
            "wall_seconds": self.wall_seconds,
            "samples_per_second": self.samples_per_second,
            "engine": engine.get("name"),
            "engine_version": engine.get("version"),
            "engine_settings": engine.get("settings"),
            "settings": self.config.to_dict(),
        }

    def _spread(self, values) -> dict:
        finite = values[np.isfinite(values)]
        return {"min": _num(finite.min()) if finite.size else None,
                "median": _num(np.median(finite)) if finite.size else None,
                "mean": _num(finite.mean()) if finite.size else None,
                "max": _num(finite.max()) if finite.size else None,
                "not_finite": int(self.samples - finite.size)}

    def summary_line(self) -> str:
        """One line for people: yield, its interval, divergences, wall time."""
        lo, hi = self.wilson()
        rate = self.samples_per_second
        return (f"yield {self.n_learned}/{self.samples} = {100 * self.yield_:.1f} % "
                f"(95 % Wilson interval {100 * lo:.1f} .. {100 * hi:.1f} %) at "
                + (f"final MSE < {self.goal:g}" if self.metric == "mse" else
                   self.goal_.describe())
                + f"; {int(self.diverged.sum())} diverged; {self.wall_seconds:.1f} s"
                + (f" ({rate:.0f} samples/s)" if rate else ""))

    def save(self, out_dir, plots: bool = True) -> Path:
        """Write montecarlo.csv, summary.json and final_mse_histogram.png, each atomically."""
        out = ensure_writable_dir(out_dir)
        atomic_write(out / "montecarlo.csv", self.to_csv())
        atomic_write(out / "summary.json",
                     json.dumps(self.summary(), indent=1, default=str, allow_nan=False))
        if plots:
            from .. import plots as P

            P.save(histogram(self), out / "final_mse_histogram.png")
        return out


def histogram(mc: MonteCarlo, bins: int = 40):
    """The final MSE of every sample (log scale), learned / not learned / diverged
    stacked, the goal (on the MSE) as a dashed line."""
    import matplotlib.pyplot as plt

    from ..plots import STYLE

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(constrained_layout=True)
        v = mc.final_mse
        shown = np.isfinite(v) & (v > 0)
        groups = [(v[shown & mc.learned], "learned", "tab:green"),
                  (v[shown & ~mc.learned & ~mc.diverged], "not learned", "tab:orange"),
                  (v[shown & mc.diverged], "diverged", "tab:red")]
        groups = [g for g in groups if g[0].size]
        if groups:
            lo, hi = v[shown].min(), v[shown].max()
            if mc.metric == "mse":
                lo, hi = min(lo, mc.goal), max(hi, mc.goal)
            edges = np.geomspace(lo / 1.05, hi * 1.05, bins + 1)
            ax.hist([g[0] for g in groups], bins=edges, stacked=True,
                    label=[g[1] for g in groups], color=[g[2] for g in groups])
        if mc.metric == "mse":  # a goal on another metric has no place on this axis
            ax.axvline(mc.goal, color="k", linestyle="--", label=f"goal {mc.goal:g} V$^2$")
        ax.set_xscale("log")
        ax.set_xlabel("final MSE [V$^2$]")
        ax.set_ylabel("samples")
        lo, hi = mc.wilson()
        missing = int((~shown).sum())
        ax.set_title(f"{mc.config.network.topology}, {mc.samples} samples: yield "
                     f"{100 * mc.yield_:.1f} % ({100 * lo:.1f}..{100 * hi:.1f} %, 95 % Wilson)"
                     + (f"; {missing} not finite" if missing else ""), fontsize=8)
        ax.legend(fontsize=7)
        return fig


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


# --- the front end's inputs (aann.montecarlo) ------------------------------------------

def fingerprint(cfg: Config, n: int, batch: int, goal, shared, engine, kept: tuple) -> dict:
    """What must match to resume: the settings, the initial weights, the goal, the
    metrics ``kept``, the number of samples and the batch layout, the engine and its
    options."""
    settings = cfg.to_dict()
    settings["training"] = {**settings["training"], "init_weights": None}  # its hash below
    weights = "seed k" if shared is None else hash_arrays(
        [np.asarray([shared["seed"]], float), *shared["layers"]])
    options = {k: v for k, v in getattr(engine, "__dict__", {}).items()
               if k not in ("workers", "timeout", "workdir", "keep_files", "executable")}
    fp = {"format": FORMAT, "samples": n, "batch": batch, "goal": goal.value,
          "goal_metric": goal.metric, "metrics": list(kept),
          "initial_weights": weights, "engine": {"name": engine.name, "options": options},
          "settings": settings}
    return json.loads(json.dumps(fp, default=_jsonable))


def stored_run(out: Path, resume: bool) -> dict | None:
    """The meta of the Monte Carlo run stored in ``out`` (None: none); refuses a sweep's
    folder, an unfinished run without ``resume`` and ``resume`` without a run."""
    meta, done = None, 0
    if (out / STORE).is_file():
        store = Store(out / STORE)
        try:
            meta = store.meta()
            done = store.count() if meta else 0
        finally:
            store.close()
    if meta is not None and meta.get("kind") != "montecarlo":
        raise ValidationError(f"{out} holds a sweep ({STORE}), not a Monte Carlo run; "
                              "choose another --out")
    if resume and meta is None:
        raise ValidationError(f"cannot resume: there is no unfinished Monte Carlo run in {out} "
                              f"({out / STORE} is missing or empty); run without --resume first")
    if not resume and meta is not None and 0 < done < int(meta["runs"]):
        raise ValidationError(
            f"{out} holds finished batches of an unfinished Monte Carlo run ({done} of "
            f"{meta['runs']} samples); continue it with --resume (resume=True), or choose "
            "another --out")
    return meta


def one_weight_set(cfg: Config, init_weights) -> dict | None:
    """The one weight set every sample starts from, ``{"seed", "layers"}``, or None."""
    init_weights = cfg.training.init_weights if init_weights is None else init_weights
    if init_weights is None:
        return None
    if isinstance(init_weights, (str, bytes)) or hasattr(init_weights, "__fspath__"):
        networks = read_weights(init_weights, cfg.network.sizes)
        if len(networks) != 1:
            raise ValidationError(
                f"initial weights {init_weights} hold {len(networks)} networks; a Monte Carlo "
                "run starts every sample from one set: give a file with one network "
                "({\"layers\": [...]}), or none (sample k then starts from seed k)")
        net = networks[0]
    elif isinstance(init_weights, dict):
        net = {"seed": init_weights.get("seed", 0), "layers": init_weights.get("layers")}
    else:
        net = {"seed": 0, "layers": init_weights}
    try:
        layers = list(net["layers"])
    except TypeError:
        raise ValidationError("init_weights must be a weights file with one network or one "
                              "network's per-layer weight arrays") from None
    stacked = stack_weights(cfg, [{"layers": layers}])  # shapes and finiteness checked
    return {"seed": net["seed"], "layers": [w[0] for w in stacked]}
