"""A sweep's results in Python and notebooks: :class:`SweepResults`, a read-only view of
the store ``DIR/sweep.sqlite`` (finished or still being written) labelled by the swept
keys: a short ``repr``, an HTML table for Jupyter, a pandas DataFrame (one row per run)
and an xarray Dataset (dim ``run``, or with ``grid=True`` an N-d array over the swept
keys and the seed).

The swept keys become columns/coordinates holding each run's value in SI units: a key
whose values are all numbers is float (``"20mV"`` -> 0.02; a relative mismatch sigma
``"3%"`` -> 0.03); any other key (a law name, ``"auto"`` beside numbers, a layer list
as ``2-4-1``) is text. pandas and xarray are optional (``pip install "aann[notebook]"``)
and imported only when used.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from ..errors import ValidationError
from ..results_views import _need
from .plan import given_text, goal_fields, goal_text
from .store import Store

HTML_ROWS = 20  # points shown in the notebook table; the rest are counted
GRID_LIMIT = 10  # grid=True refuses a grid with more than this many cells per planned run


class SweepResults:
    """The runs of a sweep's store as read when loaded (:meth:`load`; load again to see
    runs stored since). ``keys``: the swept keys in file order; ``n_runs``,
    ``n_points``: the sweep's runs and points (done or not); ``runs``: the stored runs
    (dicts as :meth:`aann.sweep.Store.runs` gives them, by run id); ``points``: every
    point (:meth:`aann.sweep.Store.points`); ``source``, ``digest``: the sweep file and
    the sweep's SHA-256; ``metrics``: the names of the metrics each run keeps (its
    final value of each: ``final_<name>``); ``goal``: what *learned* means (a dict
    ``metric, value, better, unit``; by default MSE < 0.01 V^2)."""

    def __init__(self, out_dir, meta: dict, points: list, runs: list):
        self.out_dir = Path(out_dir)
        self.keys = tuple(json.loads(meta["keys"]))
        self.n_runs = int(meta["runs"])
        self.n_points = int(meta["points"])
        self.source = meta.get("source", "")
        self.digest = meta["digest"]
        self.metrics = tuple(json.loads(meta.get("metrics", '["mse"]')))
        self.goal = goal_fields(meta.get("goal"))
        self._goal_text = goal_text(meta.get("goal"))
        self.points = points
        self.runs = runs

    @classmethod
    def load(cls, path) -> SweepResults:
        """The runs stored so far in the sweep folder ``path`` (the ``--out`` of ``aann
        sweep``), also while the sweep is still running (the store is read, never
        written). A folder without a sweep is a :class:`aann.ValidationError`."""
        store = Store.existing(path)
        try:
            # meta and points are written once, with the store; runs is one query
            meta, points, runs = store.meta(), store.points(), store.runs()
        finally:
            store.close()
        return cls(path, meta, points, runs)

    # --- summary ----------------------------------------------------------------

    @property
    def n_done(self) -> int:
        """Runs stored."""
        return len(self.runs)

    @property
    def n_learned(self) -> int:
        """Stored runs that learned (reached the goal, by default final MSE below 0.01
        V^2, and did not diverge: :func:`aann.metrics.learned`, when they ran)."""
        return sum(r["learned"] for r in self.runs)

    def final(self, metric: str = "mse") -> np.ndarray:
        """Per stored run (by run id), its final value of ``metric`` (NaN: not finite)."""
        if metric not in self.metrics:
            raise ValidationError(f"the store keeps no metric {metric!r}; it keeps "
                                  + ", ".join(self.metrics))
        return np.array([r["finals"].get(metric, math.nan) if "finals" in r else
                         (r["final_mse"] if metric == "mse" else math.nan)
                         for r in self.runs], float)

    def _values(self, key: str) -> list[str]:
        """The distinct values of ``key`` as written, in point order."""
        return list(dict.fromkeys(given_text(p["given"][key]) for p in self.points))

    def _repr_lines(self) -> list[str]:
        lines = [f"SweepResults: {self.out_dir} (sweep {self.digest[:12]}, from "
                 f"{self.source})"]
        shown = [f"{k} ({len(self._values(k))})" for k in self.keys[:6]]
        more = f" and {len(self.keys) - 6} more" if len(self.keys) > 6 else ""
        lines.append("swept (values): " + ", ".join(shown) + more)
        seeds = sorted({p["seeds"] for p in self.points})
        seeds_text = (f"{seeds[0]} seed(s)" if len(seeds) == 1 else
                      f"{seeds[0]}..{seeds[-1]} seeds")
        lines.append(f"runs: {self.n_done} of {self.n_runs} done ({self.n_points} points x "
                     f"{seeds_text})")
        if self.runs:
            frac = self.n_learned / self.n_done
            lines.append(f"learned ({self._goal_text}): {self.n_learned} of "
                         f"{self.n_done} ({100 * frac:.0f} %)")
            mse = np.array([r["final_mse"] for r in self.runs], float)
            finite = mse[np.isfinite(mse)]
            diverged = sum(r["diverged_epoch"] is not None for r in self.runs)
            if len(finite):
                lines.append(f"final MSE: {finite.min():.3g} .. {finite.max():.3g} V^2 "
                             f"(median {np.median(finite):.3g}); diverged: {diverged}")
            else:
                lines.append(f"final MSE: none finite; diverged: {diverged}")
        lines.append(".to_dataframe(), .to_xarray(grid=True)")
        return lines

    def __repr__(self) -> str:
        """At most 6 lines: where, the swept keys and their number of values, runs done
        of the total, how many learned, the final MSE range."""
        return "\n".join(self._repr_lines())

    def _repr_html_(self) -> str:
        """Jupyter: the repr's lines and a table per point (the first 20): its values as
        written, runs done, learned, median final MSE."""
        by_point: dict[int, list] = {}
        for r in self.runs:
            by_point.setdefault(r["point"], []).append(r)
        cols = ["point", *self.keys, "runs done", "learned", "median final MSE (V^2)"]
        rows = []
        for p in self.points[:HTML_ROWS]:
            runs = by_point.get(p["point"], [])
            mse = np.array([r["final_mse"] for r in runs], float)
            mse[np.isnan(mse)] = np.inf  # a diverged run counts as inf, as in the report
            median = f"{np.median(mse):.3g}" if len(mse) else "-"
            cells = [str(p["point"]), *(given_text(p["given"][k]) for k in self.keys),
                     f"{len(runs)} of {p['seeds']}",
                     str(sum(r["learned"] for r in runs)), median]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                        + "</tr>")
        if self.n_points > HTML_ROWS:
            rows.append(f"<tr><td colspan=\"{len(cols)}\">... {self.n_points - HTML_ROWS} "
                        "more points (.to_dataframe() has every run)</td></tr>")
        header = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        head = "<br>".join(html.escape(line) for line in self._repr_lines())
        return (f"<div><p style=\"font-family: monospace\">{head}</p>"
                f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody>"
                "</table></div>")

    # --- pandas and xarray ------------------------------------------------------

    def to_dataframe(self):
        """A pandas DataFrame (needs ``pip install "aann[notebook]"``), one row per stored
        run, by run id: ``run``, ``point``, every swept key (its SI value: float for
        numbers, text otherwise; see the module docstring), ``seed``, ``final_mse``
        (V^2, NaN when not finite), ``final_<name>`` for every other metric the store
        keeps, ``learned``, ``diverged_epoch``, ``diverged_because`` (None when not),
        ``first_epoch_below`` (the first epoch reaching the goal, by default MSE < 0.01
        V^2; both epochs ``<NA>`` when none), ``batch`` and ``seconds``
        (the wall time of the run's batch, shared by its runs). ``df.attrs``: ``keys``,
        ``runs`` (total), ``digest``."""
        pd = _need("pandas")
        runs = self.runs
        data = {"run": np.array([r["run"] for r in runs], np.int64),
                "point": np.array([r["point"] for r in runs], np.int64)}
        for k in self.keys:
            data[k] = key_values(k, [r["si"][k] for r in runs])
        data["seed"] = np.array([r["seed"] for r in runs], np.int64)
        fig = self._figures(runs)
        data["final_mse"] = fig["final_mse"]
        for name in self._other_metrics():
            data[f"final_{name}"] = fig[f"final_{name}"]
        data["learned"] = fig["learned"]
        data["diverged_epoch"] = pd.array([r["diverged_epoch"] for r in runs], dtype="Int64")
        data["diverged_because"] = [r["diverged_because"] for r in runs]
        data["first_epoch_below"] = pd.array([r["first_epoch_below"] for r in runs],
                                             dtype="Int64")
        data["batch"], data["seconds"] = fig["batch"], fig["seconds"]
        frame = pd.DataFrame(data)
        frame.attrs = {"keys": list(self.keys), "runs": self.n_runs, "digest": self.digest}
        return frame

    def _other_metrics(self) -> tuple:
        return tuple(n for n in self.metrics if n != "mse")

    def _figures(self, runs: list) -> dict:
        return {"final_mse": np.array([r["final_mse"] for r in runs], float),
                **{f"final_{n}": np.array([r.get("finals", {}).get(n, math.nan) for r in runs],
                                          float) for n in self._other_metrics()},
                "learned": np.array([r["learned"] for r in runs], bool),
                "batch": np.array([r["batch"] for r in runs], np.int64),
                "seconds": np.array([math.nan if r["seconds"] is None else r["seconds"]
                                     for r in runs], float)}

    def to_xarray(self, grid: bool = False):
        """An xarray Dataset (needs ``pip install "aann[notebook]"``).

        Default: dim ``run`` (the stored runs, by run id), coordinates ``point``,
        ``seed`` and one per swept key (its SI value, as in :meth:`to_dataframe`); data
        ``final_mse`` (V^2), ``learned``, ``diverged_epoch``, ``diverged_because`` (""
        when not), ``first_epoch_below`` (epochs as float, NaN when none), ``batch``,
        ``seconds`` (s, the batch's wall time).

        ``grid=True``: every planned run, as an N-d array over the swept keys (each a
        dim, its values sorted) and ``seed``: ``ds.final_mse.sel({"constants.Keta":
        3.0}).median("seed")``. It adds ``done`` (the run is stored; a run not stored
        yet has ``final_mse`` NaN and ``learned`` False: average
        ``ds.learned.where(ds.done)``) and ``run``, ``point`` (-1 where a point has
        fewer seeds). The same as ``ds.set_index(run=[*keys, "seed"]).unstack("run")``
        on the runs; refused (:class:`aann.ValidationError`) when the points are not a
        grid over the keys (a ``[random]`` sample: unstack the keys you choose)."""
        xr = _need("xarray")
        if not grid:
            return self._dataset(xr, self.runs, None)
        stored = {r["run"]: r for r in self.runs}
        planned, done = [], []
        for p in self.points:
            for seed in range(p["seeds"]):
                run = p["first_run"] + seed
                r = stored.get(run)
                done.append(r is not None)
                planned.append(r if r is not None else {
                    "run": run, "point": p["point"], "seed": seed, "si": p["si"],
                    "final_mse": math.nan, "finals": {}, "learned": False,
                    "diverged_epoch": None,
                    "diverged_because": None, "first_epoch_below": None, "batch": -1,
                    "seconds": None})
        ds = self._dataset(xr, planned, np.array(done, bool))
        names = [*self.keys, "seed"]
        cells = math.prod(len(np.unique(ds[k].values)) for k in names)
        if len({tuple(ds[k].values[i] for k in names) for i in range(len(planned))}) \
                < len(planned):
            raise ValidationError("to_xarray(grid=True): two points have the same values of "
                                  "every swept key (a [random] choice drew a value twice); "
                                  "use grid=False")
        if cells > GRID_LIMIT * max(len(planned), 1):
            raise ValidationError(
                f"to_xarray(grid=True): the points are not a grid over the swept keys "
                f"({cells} cells for {len(planned)} runs: a [random] sample?); use "
                "grid=False and ds.set_index(run=[...]).unstack('run') over the keys you "
                "choose")
        ds = ds.assign_coords(run_id=("run", ds["run"].values))
        fill = {"final_mse": math.nan, **{f"final_{n}": math.nan for n in self._other_metrics()},
                "learned": False, "done": False, "diverged_epoch": math.nan,
                "first_epoch_below": math.nan, "diverged_because": "", "batch": -1,
                "seconds": math.nan, "point": -1, "run_id": -1}
        if len(names) > 1:
            out = ds.set_index(run=names).unstack("run", fill_value=fill)
        else:  # no swept key (a Monte Carlo run): the seeds (samples) alone
            out = ds.swap_dims({"run": "seed"}).drop_vars("run")
        out = out.rename({"run_id": "run"})
        for k in self.keys:
            out[k].attrs = ds[k].attrs
        return out

    def _dataset(self, xr, runs: list, done):
        def opt(name):
            return np.array([math.nan if r[name] is None else r[name] for r in runs], float)

        coords = {"run": np.array([r["run"] for r in runs], np.int64),
                  "point": ("run", np.array([r["point"] for r in runs], np.int64)),
                  "seed": ("run", np.array([r["seed"] for r in runs], np.int64))}
        for k in self.keys:
            given = {given_text(p["given"][k]) for p in self.points}
            coords[k] = xr.Variable("run", key_values(k, [r["si"][k] for r in runs]),
                                    {"long_name": k, "values_given": ", ".join(sorted(given))})
        fig = self._figures(runs)
        from ..metrics import METRICS

        data = {
            "final_mse": (fig["final_mse"], {"units": "V^2", "long_name": "final MSE"}),
            **{f"final_{n}": (fig[f"final_{n}"], {"units": getattr(METRICS.get(n), "unit", ""),
                                                   "long_name": f"final {n}"})
               for n in self._other_metrics()},
            "learned": (fig["learned"], {"long_name": f"{self._goal_text} and not diverged"}),
            "diverged_epoch": (opt("diverged_epoch"), {"long_name": "epoch it diverged "
                                                                    "(NaN: did not)"}),
            "diverged_because": (np.array([r["diverged_because"] or "" for r in runs],
                                          dtype=object), {}),
            "first_epoch_below": (opt("first_epoch_below"), {
                "long_name": f"first epoch with {self._goal_text.removeprefix('final ')} "
                             "(NaN: none)"}),
            "batch": (fig["batch"], {}),
            "seconds": (fig["seconds"], {"units": "s", "long_name": "wall time of the "
                                                                    "run's batch"}),
        }
        if done is not None:
            data["done"] = (done, {"long_name": "the run is stored"})
        attrs = {"keys": json.dumps(list(self.keys)), "runs": self.n_runs,
                 "points": self.n_points, "digest": self.digest, "source": self.source}
        return xr.Dataset({k: xr.Variable("run", v, attrs=a) for k, (v, a) in data.items()},
                          coords=coords, attrs=attrs)


def key_values(key: str, values: list) -> np.ndarray:
    """A swept key's SI values as one array: float when every value is a number (None:
    NaN; a relative mismatch sigma ``"3%"``: 0.03), bool when every value is one, else
    text (as the export writes it: ``2-4-1``, ``auto``, ``8``)."""
    if key.startswith("mismatch."):
        values = [_percent(v) for v in values]
    if all(isinstance(v, bool) for v in values) and values:
        return np.array(values, bool)
    if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
           for v in values):
        return np.array([math.nan if v is None else float(v) for v in values], float)
    return np.array([given_text(v) for v in values], dtype=object)


def _percent(value):
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            return value
    return value


def load_sweep_results(path) -> SweepResults:
    """:meth:`SweepResults.load`: the runs stored so far in the sweep folder ``path``,
    labelled by the swept keys (``aann.load_sweep`` reads a sweep *file*)."""
    return SweepResults.load(path)
