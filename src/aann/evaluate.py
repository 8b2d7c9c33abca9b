"""``aann evaluate``: a trained run's networks on a data set, weights frozen.

Each network's outputs are its own circuit's forward pass (``circuit.output``: learning
off, every block instantaneous, as the metrics read them), with the run's final
weights and, for a run with ``[mismatch]`` samples, its Monte Carlo sample. The rows:
the run's held-out rows (``test.csv``), a CSV in volts (``x1..``, ``y1..``, as
``train.csv`` and ``test.csv`` are) or a built-in data set / raw CSV encoded with the
run's own encoding (the input ranges fitted on its training rows).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import BUILTIN, Dataset, encode_rows, load_raw
from .errors import ValidationError, short_repr


@dataclass(frozen=True)
class Predictions:
    """The outputs ``Vout`` (networks, rows, outputs) of every network of ``results``
    on ``rows`` (a :class:`aann.Dataset` with ``labels``), the class each row reads as
    (``predicted``, networks x rows) and the ``accuracy`` of each network."""

    results: object
    rows: Dataset
    Vout: np.ndarray
    predicted: np.ndarray
    source: str

    @property
    def classes(self) -> int:
        return max(2, self.rows.Y.shape[1])

    @property
    def accuracy(self) -> np.ndarray:
        return np.mean(self.predicted == self.rows.labels[None, :], axis=1)

    @property
    def mse(self) -> np.ndarray:
        return np.mean((self.Vout - self.rows.Y[None]) ** 2, axis=(1, 2))

    def confusion(self, b: int) -> np.ndarray:
        """Counts [true class, predicted class] of network ``b``."""
        m = np.zeros((self.classes, self.classes), int)
        np.add.at(m, (self.rows.labels, self.predicted[b]), 1)
        return m

    def summary(self) -> dict:
        res = self.results
        return {"dataset": self.source, "rows": self.rows.rows, "classes": self.classes,
                "levels": list(self.rows.levels), "clipped": self.rows.clipped,
                "engine": res.engine,
                "networks": [{"network": b, "seed": s,
                              "sample": None if res.samples is None else res.samples[b],
                              "accuracy": float(self.accuracy[b]),
                              "correct": int(np.sum(self.predicted[b] == self.rows.labels)),
                              "mse": float(self.mse[b]),
                              "confusion": self.confusion(b).tolist()}
                             for b, s in enumerate(res.seeds)]}

    def predictions_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["network", "seed", "row", "class", "predicted",
                    *(f"Vout{i + 1}" for i in range(self.Vout.shape[2]))])
        for b, seed in enumerate(self.results.seeds):
            for r in range(self.rows.rows):
                w.writerow([b, seed, r, int(self.rows.labels[r]), int(self.predicted[b, r]),
                            *(repr(float(v)) for v in self.Vout[b, r])])
        return out.getvalue()

    def table(self, limit: int = 20) -> str:
        clipped = f", {self.rows.clipped} input value(s) outside the training range " \
            "clipped" if self.rows.clipped else ""
        lines = [f"{self.source}: {self.rows.rows} rows, {self.classes} classes{clipped}"]
        if self.results.engine == "ngspice-cells":
            lines.append("note: the run trained transistor cells; these outputs are the "
                         "behavioural circuit's (its block laws) with the cells' weights")
        lines.append(f"{'network':>7} {'seed':>6} {'accuracy':>9} {'MSE [V^2]':>10}")
        for b, seed in enumerate(self.results.seeds[:limit]):
            lines.append(f"{b:>7} {seed:>6} {self.accuracy[b]:>9.1%} {self.mse[b]:>10.3g}")
        if len(self.results.seeds) > limit:
            lines.append(f"... {len(self.results.seeds) - limit} more networks in "
                         "evaluation.json")
        return "\n".join(lines)


def evaluate(run_dir, dataset=None) -> Predictions:
    """Every network of the run saved in ``run_dir`` on ``dataset`` (a built-in name or
    a CSV path; None: the run's held-out rows)."""
    from .results import Results

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValidationError(f"run folder {run_dir} does not exist; give the --out folder "
                              "of an 'aann train' run")
    results = Results.load(run_dir)
    rows, source = _rows(results, run_dir, dataset)
    sizes = results.config.network.sizes
    if (rows.X.shape[1], rows.Y.shape[1]) != (sizes[0], sizes[-1]):
        raise ValidationError(
            f"data set {short_repr(rows.name)} has {rows.X.shape[1]} input(s) and "
            f"{rows.Y.shape[1]} output(s), but the run's networks "
            f"({results.config.network.topology}) take {sizes[0]} and give {sizes[-1]}")
    Vout = _outputs(results, rows.X)
    predicted = np.stack([rows.predicted(v) for v in Vout]) if len(Vout) else \
        np.zeros((0, rows.rows), int)
    return Predictions(results, rows, Vout, predicted, source)


def _rows(results, run_dir: Path, dataset) -> tuple[Dataset, str]:
    """The rows to evaluate on, in volts, with a class per row."""
    trained = results.dataset
    levels = None if trained is None else trained.levels
    if dataset is None:
        if trained is None or trained.test is None:
            raise ValidationError(f"run {run_dir} has no held-out rows (it was trained "
                                  "without [data] test_fraction or test); give --dataset "
                                  "NAME or FILE.csv")
        t = trained.test  # its clipped values are counted on the training rows' Dataset
        return (Dataset(t.name, t.X, t.Y, t.labels, t.levels, clipped=trained.clipped),
                f"{run_dir / 'test.csv'}")
    raw = load_raw(dataset)
    encoding = None if trained is None else trained.encoding
    name = str(dataset)
    if raw.volts and (dataset not in BUILTIN or encoding is None):  # taken as it is
        return _labelled(name, raw.features, raw.targets, levels), name
    if encoding is None:
        raise ValidationError(
            f"run {run_dir} was trained on data given in volts, so it has no encoding to "
            f"turn {short_repr(name)} into voltages; give --dataset a CSV in volts "
            "(columns x1.., y1.., like its test.csv)")
    n_features = len(encoding["lo"])
    if raw.features.shape[1] != n_features:
        raise ValidationError(f"data set {short_repr(name)} has {raw.features.shape[1]} "
                              f"feature(s) but the run was trained on {n_features}")
    n_out = results.config.network.sizes[-1]
    if raw.classes is not None:
        if levels is None:
            raise ValidationError(f"data set {short_repr(name)} has classes but the run "
                                  "learned regression targets; give a CSV in volts")
        k = max(2, n_out)
        if raw.classes.max() >= k:
            raise ValidationError(f"data set {short_repr(name)} has class "
                                  f"{int(raw.classes.max())}, but the run's networks tell "
                                  f"{k} classes (0..{k - 1}) apart")
        return encode_rows(name, raw.features, raw.classes, None, encoding, n_out,
                           *levels), name
    data = results.config.data
    ds = encode_rows(name, raw.features, None, raw.targets, encoding, n_out, data.Vlow,
                     data.Vhigh)
    labelled = _labelled(name, ds.X, ds.Y, levels)
    return Dataset(name, labelled.X, labelled.Y, labelled.labels, labelled.levels,
                   clipped=ds.clipped), name


def _labelled(name: str, X, Y, levels) -> Dataset:
    """Rows in volts with the class their targets read as: the highest target; one
    output: above the midpoint of ``levels`` (the run's; else of the targets' range)."""
    Y = np.asarray(Y, float)
    if levels is None:
        levels = (float(Y.min()), float(Y.max()))
    ds = Dataset(name, X, Y, labels=np.zeros(len(Y), np.int64), levels=levels)
    return Dataset(name, ds.X, ds.Y, labels=ds.predicted(ds.Y).astype(np.int64), levels=levels)


def _outputs(results, X) -> np.ndarray:
    """(networks, rows, outputs): each network's circuit, its final weights, frozen."""
    import jax

    from .batch import sample_circuits
    from .circuit import build_circuit
    from .engines.native import axes_tree

    config = results.config
    if results.samples is not None and config.mismatch.active:
        circuit, axes = sample_circuits(config, results.samples)
    else:
        circuit, axes = build_circuit(config), None

    def one(c, W):
        return jax.vmap(lambda x: c.output(W, x))(X)

    run = jax.jit(jax.vmap(one, in_axes=(axes_tree(circuit, axes), 0)))
    return np.asarray(run(circuit, tuple(np.asarray(W, float) for W in results.W_final)))


def write(ev: Predictions, out) -> Path:
    """predictions.csv, evaluation.json and confusion_<seed>.png per network in ``out``."""
    from .io import atomic_savefig, atomic_write, ensure_writable_dir
    from .results_views import _plots

    out = ensure_writable_dir(out)
    atomic_write(out / "predictions.csv", ev.predictions_csv())
    atomic_write(out / "evaluation.json", json.dumps(ev.summary(), indent=1))
    plt = _plots().plt
    seeds = ev.results.seeds
    unique = len(set(seeds)) == len(seeds)
    for b, seed in enumerate(seeds):
        fig = _confusion_figure(plt, ev, b)
        atomic_savefig(fig, out / (f"confusion_{seed}.png" if unique
                                   else f"confusion_{b}_{seed}.png"))
        plt.close(fig)
    return out


def _confusion_figure(plt, ev: Predictions, b: int):
    m = ev.confusion(b)
    k = ev.classes
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * k, 1.0 + 0.45 * k) if k > 6 else (4, 3.4))
    ax.imshow(m, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if m[i, j] > 0.6 * m.max() else "black")
    names = _class_names(ev.results.config.training.dataset, k)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0,
                  ha="right" if max(map(len, names)) > 3 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"seed {ev.results.seeds[b]}: accuracy {ev.accuracy[b]:.1%} "
                 f"({ev.rows.rows} rows)", fontsize=9)
    return fig


def _class_names(dataset, k: int) -> list[str]:
    """``"0: setosa"``, ... for scikit-learn's data sets; else the class numbers."""
    names = [str(c) for c in range(k)]
    if dataset in ("iris", "wine", "breast_cancer"):
        from sklearn import datasets as sk

        target = getattr(sk, f"load_{dataset}")().target_names
        if len(target) == k:
            names = [f"{c}: {t}" for c, t in enumerate(target)]
    return names
