"""Monte Carlo yield: N mismatch samples of one description, trained in batches.

Sample ``k`` is the circuit of ``[mismatch]`` draw ``k`` (:mod:`aann.mismatch`)
starting from the initial weights of seed ``k`` (``aann.random_weights(sizes, k,
init_range)``), or, with ``init_weights``, from one weight set shared by every
sample. A sample has *learned* when its final MSE is below ``goal`` and it did
not diverge; the yield is the fraction of samples that learned, given with its
Wilson score interval.

The samples run in batches, each one engine call of ``aann.train`` with
``samples=range(k0, k1)`` (network ``b`` of the batch is sample ``k0 + b``),
keeping only the MSE after each epoch (``training.record = "mse"``). A sample's
figures do not depend on the batch it runs in (tested). With ``out``, every
finished batch is written at once, atomically, to ``out/parts/`` beside a
fingerprint of the run (``parts/fingerprint.json``: the settings, the initial
weights, the goal, the number of samples and the batch size), so Ctrl-C or a
crash loses at most the batch in flight and ``resume=True`` runs only the
batches missing. The final files (``montecarlo.csv``, ``summary.json``,
``final_mse_histogram.png``) are written once every batch is done; then
``parts/`` is removed.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoint import describe_difference, hash_arrays
from .datasets import load_dataset
from .engines import Engine, get_engine
from .errors import ValidationError, short_repr
from .io import atomic_write, check_path_text, ensure_writable_dir, random_weights, read_weights
from .prepare import check_size, estimate_bytes, memory_budget, prepare, stack_weights
from .progress import progress_bar, reporting_into
from .results import MSE_GOAL
from .spec import Config
from .train import train_prepared

FORMAT = 1
COLUMNS = ("sample", "seed", "final_mse", "learned", "diverged")
PARTS = "parts"  # the folder of finished batches, inside the output folder
FINGERPRINT = "fingerprint.json"
BYTES_PER_SAMPLE = 64  # the per-sample results and their CSV text, at most (bytes)
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
    """The outcome of :func:`montecarlo`: per sample ``k`` (index ``k`` of each array)
    its initial weights' seed, final MSE (V^2; NaN when not finite) and divergence flag.

    ``config``: the description as run (``training.seeds`` = the number of samples,
    ``training.record = "mse"``); ``batch``: samples per batch; ``shared_weights``:
    every sample started from one given weight set; ``engine``: the engine's name,
    version and settings; ``wall_seconds``: the time the batches took, summed (those
    of an earlier run included after a resume).
    """

    config: Config
    samples: int
    seeds: np.ndarray
    final_mse: np.ndarray
    diverged: np.ndarray
    goal: float = MSE_GOAL
    wall_seconds: float = 0.0
    batch: int = 0
    shared_weights: bool = False
    engine: dict | None = None

    @property
    def learned(self) -> np.ndarray:
        """Per sample: final MSE below ``goal`` and not diverged."""
        return (self.final_mse < self.goal) & ~self.diverged

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
        """``sample,seed,final_mse,learned,diverged``; ``learned``/``diverged`` are 1 or 0,
        ``final_mse`` is exact (it reads back as the same float) or ``nan``."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        learned = self.learned
        for k in range(self.samples):
            w.writerow([k, int(self.seeds[k]), repr(float(self.final_mse[k])), int(learned[k]),
                        int(self.diverged[k])])
        return out.getvalue()

    def summary(self) -> dict:
        """What ``summary.json`` holds: the yield, its 95 % Wilson interval, counts,
        the spread of the final MSE, the mismatch, how the run was done."""
        lo, hi = self.wilson()
        finite = self.final_mse[np.isfinite(self.final_mse)]
        m, t = self.config.mismatch, self.config.training
        engine = self.engine or {}
        return {
            "samples": self.samples,
            "goal": self.goal,
            "learned": self.n_learned,
            "diverged": int(self.diverged.sum()),
            "yield": self.yield_,
            "yield_wilson_95": [lo, hi],
            "final_mse": {"min": _num(finite.min()) if finite.size else None,
                          "median": _num(np.median(finite)) if finite.size else None,
                          "mean": _num(finite.mean()) if finite.size else None,
                          "max": _num(finite.max()) if finite.size else None,
                          "not_finite": int(self.samples - finite.size)},
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

    def summary_line(self) -> str:
        """One line for people: yield, its interval, divergences, wall time."""
        lo, hi = self.wilson()
        rate = self.samples_per_second
        return (f"yield {self.n_learned}/{self.samples} = {100 * self.yield_:.1f} % "
                f"(95 % Wilson interval {100 * lo:.1f} .. {100 * hi:.1f} %) at final MSE < "
                f"{self.goal:g}; {int(self.diverged.sum())} diverged; {self.wall_seconds:.1f} s"
                + (f" ({rate:.0f} samples/s)" if rate else ""))

    def save(self, out_dir, plots: bool = True) -> Path:
        """Write montecarlo.csv, summary.json and final_mse_histogram.png, each atomically."""
        out = ensure_writable_dir(out_dir)
        atomic_write(out / "montecarlo.csv", self.to_csv())
        atomic_write(out / "summary.json",
                     json.dumps(self.summary(), indent=1, default=str, allow_nan=False))
        if plots:
            from . import plots as P

            P.save(histogram(self), out / "final_mse_histogram.png")
        return out


def histogram(mc: MonteCarlo, bins: int = 40):
    """The final MSE of every sample (log scale), learned / not learned / diverged
    stacked, the goal as a dashed line."""
    import matplotlib.pyplot as plt

    from .plots import STYLE

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
            lo, hi = min(lo, mc.goal), max(hi, mc.goal)
            edges = np.geomspace(lo / 1.05, hi * 1.05, bins + 1)
            ax.hist([g[0] for g in groups], bins=edges, stacked=True,
                    label=[g[1] for g in groups], color=[g[2] for g in groups])
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


def montecarlo(config: Config | None, samples: int, *, goal: float = MSE_GOAL,
               init_weights=None, batch: int | None = None, engine: str | Engine = "native",
               progress: bool = False, out=None, resume: bool = False) -> MonteCarlo:
    """Train ``samples`` Monte Carlo samples of ``config``, in batches; the yield.

    Sample ``k`` is ``[mismatch]`` draw ``k`` started from the weights of seed ``k``,
    or from ``init_weights`` (a weights JSON file with one network, or one network's
    per-layer arrays as :func:`aann.random_weights` gives them; default:
    ``training.init_weights``) for every sample. ``batch``: samples per engine call
    (default: all, or as many as :func:`aann.prepare.memory_budget` allows).
    ``out``: a folder for the finished batches (``parts/``) and, once all are done,
    the results (:meth:`MonteCarlo.save`); ``resume`` continues the run found there
    (other settings are refused, naming them). ``training.seeds`` and
    ``training.record`` of ``config`` are not used.
    """
    config = Config() if config is None else config
    if not isinstance(config, Config):
        raise ValidationError(f"montecarlo takes an aann.Config, not {type(config).__name__}")
    n = _positive_int(samples, "samples", "the number of Monte Carlo samples")
    goal = _goal(goal)
    engine = get_engine(engine)
    if resume and out is None:
        raise ValidationError("resume=True needs out=, the folder of the run to continue")
    budget = memory_budget()
    if n * BYTES_PER_SAMPLE > budget:
        raise ValidationError(
            f"samples = {n} needs about {n * BYTES_PER_SAMPLE / 2**30:.3g} GiB for the "
            f"per-sample results, more than the {budget / 2**30:.3g} GiB allowed; use fewer "
            "samples, or raise AANN_MEMORY_GB")
    cfg = config.replace(training={"record": "mse", "seeds": n})
    dataset = load_dataset(cfg.training.dataset)
    dataset.check_topology(cfg.network.sizes)
    shared = _shared_set(cfg, init_weights)

    parts, saved = None, None
    if out is not None:
        out = check_path_text(out, "output directory")
        parts = out / PARTS
        if resume:
            saved = _read_fingerprint(parts)
            if batch is None and _is_count(saved.get("batch")):
                batch = saved["batch"]  # the batches of the run being continued
        elif _batch_files(parts):
            raise ValidationError(
                f"{parts} holds finished batches of an unfinished Monte Carlo run; continue "
                "it with --resume (resume=True), or choose another --out")
    B = _batch_size(cfg, n, dataset.rows, batch)
    fp = fingerprint(cfg, n, B, goal, shared, engine)
    if saved is not None and saved != fp:
        raise ValidationError(f"cannot resume the Monte Carlo run in {out}: "
                              f"{_difference(saved, fp)}; use the same settings, or choose "
                              "another --out")
    fp_hash = _hash_text(json.dumps(fp, sort_keys=True))

    def prepared(k0, k1):
        nets = [shared] * (k1 - k0) if shared is not None else [
            {"seed": k, "layers": random_weights(cfg.network.sizes, k, cfg.training.init_range)}
            for k in range(k0, k1)]
        return prepare(cfg, init_weights=nets, dataset=dataset, samples=range(k0, k1))

    first = prepared(0, B)  # every input checked before anything is written
    engine.check(first)
    if parts is not None:
        ensure_writable_dir(out)
        ensure_writable_dir(parts)
        if not resume:
            atomic_write(parts / FINGERPRINT, json.dumps(fp, indent=1, sort_keys=True))

    seeds = np.zeros(n, np.int64)
    final = np.full(n, np.nan)
    diverged = np.zeros(n, bool)
    wall, info, done, pending = 0.0, None, 0, []
    existing = set(os.listdir(parts)) if resume else set()
    for k0 in range(0, n, B):
        k1 = min(k0 + B, n)
        if _part_name(k0, k1) not in existing:
            pending.append((k0, k1))
            continue
        part = _read_part(parts / _part_name(k0, k1), fp_hash, k0, k1)
        seeds[k0:k1], final[k0:k1], diverged[k0:k1] = part["arrays"]
        wall += part["wall_seconds"]
        info = info or part["engine"]
        done += k1 - k0
    if not pending or pending[0][0] != 0:
        first = None  # batch 0 is done already

    with progress_bar(progress, n, "Monte Carlo", "samples", start=done,
                      description=f"batch 1/{len(pending)}") as update:
        for i, (k0, k1) in enumerate(pending):
            started = time.perf_counter()
            prep = first if k0 == 0 else prepared(k0, k1)
            first = None
            span = reporting_into(update, done, done + k1 - k0) if progress \
                else contextlib.nullcontext()
            with span:
                res = train_prepared(prep, engine, progress=progress)
            del prep
            mse = res.mse[:, -1] if res.epochs_done else np.full(k1 - k0, np.nan)
            arrays = (np.asarray(res.seeds, np.int64), np.where(np.isfinite(mse), mse, np.nan),
                      res.diverged_epoch > 0)
            seeds[k0:k1], final[k0:k1], diverged[k0:k1] = arrays
            seconds = time.perf_counter() - started
            ei = res.engine_info
            batch_info = {"name": res.engine, "version": ei.version if ei else None,
                          "settings": ei.settings if ei else None}
            info = info or batch_info
            if parts is not None:
                _write_part(parts / _part_name(k0, k1), fp_hash, k0, k1, arrays, seconds,
                            batch_info)
            wall += seconds
            done += k1 - k0
            update(done, description=f"batch {i + 1}/{len(pending)}")

    result = MonteCarlo(config=cfg, samples=n, seeds=seeds, final_mse=final, diverged=diverged,
                        goal=goal, wall_seconds=wall, batch=B,
                        shared_weights=shared is not None, engine=info)
    if out is not None:
        result.save(out)
        _remove_parts(parts)  # the results are complete; nothing to resume
    return result


def parts_done(out) -> tuple[int, int] | None:
    """``(samples done, samples)`` of the unfinished run in ``out``, or None."""
    parts = Path(out) / PARTS
    try:
        fp = json.loads((parts / FINGERPRINT).read_text())
        files = _batch_files(parts)
        done = sum(int(b) - int(a) for a, b in (f[len("batch-"):-len(".json")].split("-")
                                                for f in files))
        return done, int(fp["samples"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- inputs -----------------------------------------------------------------------------

def _is_count(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1


def _positive_int(value, name: str, what: str) -> int:
    if not _is_count(value):
        raise ValidationError(f"{name} = {short_repr(value)}: {what} must be a positive "
                              "integer")
    return int(value)


def _goal(goal) -> float:
    if isinstance(goal, bool) or not isinstance(goal, int | float | np.floating) \
            or not math.isfinite(goal) or goal <= 0:
        raise ValidationError(f"goal = {short_repr(goal)}: the MSE a sample must end below "
                              "to count as learned must be a number > 0 (V^2), e.g. 0.01")
    return float(goal)


def _shared_set(cfg: Config, init_weights) -> dict | None:
    """The one weight set every sample starts from, ``{"seed", "layers"}``, or None."""
    if init_weights is None:
        init_weights = cfg.training.init_weights
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


def _batch_size(cfg: Config, n: int, rows: int, batch) -> int:
    """Samples per batch: ``batch`` (at most ``n``), or all ``n`` when their arrays fit
    the memory budget, else as many as fit. A batch that cannot fit is refused."""
    if batch is not None:
        b = min(_positive_int(batch, "batch", "the number of samples per batch"), n)
    else:
        budget = memory_budget()
        b = n
        if estimate_bytes(cfg, n, rows, False) > budget:
            lo, hi = 1, n  # the largest batch within the budget (the estimate grows with it)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if estimate_bytes(cfg, mid, rows, False) <= budget \
                    else (lo, mid - 1)
            b = lo
    check_size(cfg, b, rows)
    return b


# --- fingerprint and parts ---------------------------------------------------------------

def fingerprint(cfg: Config, n: int, batch: int, goal: float, shared, engine: Engine) -> dict:
    """What must match to resume: the settings, the initial weights, the goal, the number
    of samples and the batch layout, the engine and its options."""
    settings = cfg.to_dict()
    settings["training"] = {**settings["training"], "init_weights": None}  # its hash below
    weights = "seed k" if shared is None else hash_arrays(
        [np.asarray([shared["seed"]], float), *shared["layers"]])
    options = {k: v for k, v in getattr(engine, "__dict__", {}).items()
               if k not in ("workers", "timeout", "workdir", "keep_files", "executable")}
    fp = {"format": FORMAT, "samples": n, "batch": batch, "goal": goal,
          "initial_weights": weights, "engine": {"name": engine.name, "options": options},
          "settings": settings}
    return json.loads(json.dumps(fp, default=_jsonable))


def _jsonable(x):
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return dataclasses.asdict(x)
    return str(x)


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _part_name(k0: int, k1: int) -> str:
    return f"batch-{k0:010d}-{k1:010d}.json"


def _batch_files(parts: Path) -> list[str]:
    try:
        return sorted(f for f in os.listdir(parts)
                      if f.startswith("batch-") and f.endswith(".json"))
    except OSError:
        return []


def _read_fingerprint(parts: Path) -> dict:
    path = parts / FINGERPRINT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"cannot resume: there is no unfinished Monte Carlo run in "
                              f"{parts.parent} ({path} is missing); run without --resume "
                              "first") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(f"cannot resume: {path} is not readable "
                              f"({getattr(e, 'strerror', None) or e}); choose another "
                              "--out") from None
    try:
        fp = json.loads(text)
    except ValueError:
        fp = None
    if not isinstance(fp, dict):
        raise ValidationError(f"cannot resume: {path} is damaged (not a JSON object); "
                              "choose another --out, or remove the folder")
    return fp


def _write_part(path: Path, fp_hash: str, k0: int, k1: int, arrays, seconds: float,
                engine: dict) -> None:
    seeds, final, diverged = arrays
    data = {"format": FORMAT, "fingerprint": fp_hash, "samples": [k0, k1],
            "wall_seconds": seconds, "engine": engine, "seed": [int(s) for s in seeds],
            "final_mse": [float(v) if np.isfinite(v) else None for v in final],
            "diverged": [bool(d) for d in diverged]}
    atomic_write(path, json.dumps(data, default=_jsonable, allow_nan=False))


def _read_part(path: Path, fp_hash: str, k0: int, k1: int) -> dict:
    def damaged(why):
        return ValidationError(f"cannot resume: {path} is damaged ({why}); delete it (its "
                               "batch then runs again) and resume")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise damaged(getattr(e, "strerror", None) or e) from None
    if not isinstance(data, dict) or data.get("fingerprint") != fp_hash:
        raise damaged("made by another run")
    m = k1 - k0
    try:
        seeds = np.asarray(data["seed"], np.int64)
        final = np.asarray([np.nan if v is None else v for v in data["final_mse"]], float)
        diverged = np.asarray(data["diverged"], bool)
        seconds = float(data["wall_seconds"])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise damaged(f"field {e} missing or wrong") from None
    if data.get("samples") != [k0, k1] or any(a.shape != (m,) for a in (seeds, final,
                                                                        diverged)):
        raise damaged(f"not the {m} samples {k0}..{k1 - 1}")
    return {"arrays": (seeds, final, diverged), "wall_seconds": seconds,
            "engine": data.get("engine")}


def _remove_parts(parts: Path) -> None:
    for name in _batch_files(parts) + [FINGERPRINT]:
        (parts / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # left when it holds files of someone else's
        parts.rmdir()


def _difference(saved: dict, now: dict) -> str:
    """The first few settings that differ, as ``key was A, now B``."""
    return describe_difference(saved, now, "it", {"initial_weights": "the initial weights"})


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
