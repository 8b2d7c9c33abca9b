"""What :class:`aann.Results` shows and gives to other tools: its short ``repr`` and
HTML table, the lossless archive ``results.npz`` (``Results.save``/``Results.load``),
equality, pandas and xarray views, and the ``res.plot`` accessor.

The archive ``results.npz`` is a plain (uncompressed) NumPy archive, read with
``allow_pickle=False``: one array per field (``mse``, every other metric as
``metric_<name>``, ``solver_ok``, ``W_min``,
``W_max``, ``step_error``, ``W_init_<l>``, ``W_final_<l>``, ``peak_current_<l>``,
``W_epoch_<l>`` with layers ``l`` from 1, ``waveform_<name>``) and ``meta``, a JSON
text with the settings (``Config.to_dict()``), seeds, samples, engine and its
:class:`~aann.engines.base.EngineInfo`, and the scalar figures. pandas and xarray
are optional (``pip install "aann[notebook]"``) and imported only when used.
"""

from __future__ import annotations

import dataclasses
import html
import json
import sys
from pathlib import Path

import numpy as np

from .engines.base import EngineInfo
from .errors import ValidationError
from .io import atomic_file, check_path_text
from .metrics import DEFAULT_GOAL, METRICS

ARCHIVE = "results.npz"
FORMAT = "aann.results"
VERSION = 1
WAVEFORM_KEYS = ("time", "Vin", "Vtarget", "Vout", "Vteach")
HTML_ROWS = 20  # networks shown in the notebook table; the rest are counted


# --- the archive -------------------------------------------------------------------

def _tagged(value):
    """``value`` with its tuples marked, so that JSON gives them back as tuples."""
    if isinstance(value, tuple):
        return {"__tuple__": [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _untag(obj: dict):
    return tuple(obj["__tuple__"]) if set(obj) == {"__tuple__"} else obj


def archive_arrays(res) -> dict[str, np.ndarray]:
    """Every array of ``res`` under its archive name, and ``meta`` (JSON text)."""
    arrays = {"solver_ok": res.solver_ok, "W_min": res.W_min, "W_max": res.W_max}
    for name, values in res.metrics.items():  # the MSE under its old name "mse"
        arrays["mse" if name == "mse" else f"metric_{name}"] = values
    if res.step_error is not None:
        arrays["step_error"] = res.step_error
    for name in ("W_init", "W_final", "peak_current", "W_epoch"):
        layers = getattr(res, name)
        for l, W in enumerate(layers or ()):
            arrays[f"{name}_{l + 1}"] = W
    for key, a in (res.waveforms or {}).items():
        arrays[f"waveform_{key}"] = a
    data = _dataset_entries(res.dataset, arrays)
    info = res.engine_info
    meta = {
        "format": FORMAT, "version": VERSION,
        "config": res.config.to_dict(),
        "seeds": list(res.seeds),
        "samples": None if res.samples is None else list(res.samples),
        "engine": res.engine, "wall_seconds": res.wall_seconds, "rows": res.rows,
        "circuit_seconds": res.circuit_seconds, "breakpoints": res.breakpoints,
        "engine_info": None if info is None else dataclasses.asdict(info),
        "layers": len(res.W_final), "W_epoch": res.W_epoch is not None,
        "step_error": res.step_error is not None,
        "waveforms": None if res.waveforms is None else list(res.waveforms),
        "metrics": list(res.metrics),
        "settling": res.settling,
        "retention": res.retention,
        "coords": res.coords,
        "dataset": data,
        "energy": None if res.energy is None else res.energy.to_dict(),
    }
    out = {k: np.asarray(v) for k, v in arrays.items()}
    out["meta"] = np.array(json.dumps(_tagged(meta)))
    return out


def write_archive(res, out: Path) -> Path:
    """Write ``out/results.npz`` atomically: a temporary file in ``out``, then a rename."""
    path = out / ARCHIVE
    with atomic_file(path, "wb") as f:
        np.savez(f, **archive_arrays(res))
    return path


def read_archive(path) -> dict:
    """The keyword arguments of :class:`aann.Results` stored in ``path`` (a folder
    that ``Results.save`` wrote, or its ``results.npz``)."""
    from .spec import from_dict

    path = check_path_text(path, "results folder")
    file = path / ARCHIVE if path.is_dir() else path
    if not file.is_file():
        where = f"folder {path}" if path.is_dir() else f"{path}"
        raise ValidationError(
            f"cannot load results: {where} has no {ARCHIVE} (missing file {file}), the "
            "archive Results.load reads; it is written by Results.save (and aann train "
            "--out) since this version: save the results again with res.save(DIR)")

    def damaged(why) -> ValidationError:
        return ValidationError(f"results archive {file} is damaged or was not written by "
                               f"Results.save ({why}); save the results again")

    try:
        with np.load(file, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise damaged(e) from None
    except Exception as e:  # zipfile.BadZipFile and other malformed-archive errors
        raise damaged(f"{type(e).__name__}: {e}") from None
    if "meta" not in arrays:
        raise damaged("no meta entry")
    try:
        meta = json.loads(str(arrays.pop("meta")), object_hook=_untag)
    except ValueError as e:
        raise damaged(f"meta is not JSON: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise damaged("not an aann results archive")
    if meta.get("version") != VERSION:
        raise ValidationError(f"results archive {file} has format version "
                              f"{meta.get('version')!r}; this aann reads version {VERSION}")
    try:
        L = meta["layers"]

        def layers(name):
            return tuple(arrays[f"{name}_{l + 1}"] for l in range(L))

        info = meta["engine_info"]
        return dict(
            # an archive saved before unread keys were refused records them all: dropped
            config=from_dict(meta["config"], given={}), seeds=list(meta["seeds"]),
            samples=None if meta["samples"] is None else list(meta["samples"]),
            W_init=layers("W_init"),
            metrics={name: arrays["mse" if name == "mse" else f"metric_{name}"]
                     for name in meta.get("metrics", ["mse"])},
            W_epoch=layers("W_epoch") if meta["W_epoch"] else None,
            W_final=layers("W_final"), peak_current=layers("peak_current"),
            solver_ok=arrays["solver_ok"],
            waveforms=None if meta["waveforms"] is None else {
                k: arrays[f"waveform_{k}"] for k in meta["waveforms"]},
            engine=meta["engine"], wall_seconds=meta["wall_seconds"],
            step_error=arrays["step_error"] if meta["step_error"] else None,
            engine_info=None if info is None else EngineInfo(**info),
            rows=meta["rows"], circuit_seconds=meta["circuit_seconds"],
            breakpoints=meta["breakpoints"], W_min=arrays["W_min"], W_max=arrays["W_max"],
            settling=meta.get("settling"), retention=meta.get("retention"),
            coords=meta.get("coords"), dataset=_read_dataset(meta.get("dataset"), arrays),
            energy=_read_energy(meta.get("energy")))
    except (KeyError, TypeError) as e:
        raise damaged(f"missing or malformed entry {e}") from None


def _read_energy(meta: dict | None):
    from .energy import Energy

    return None if meta is None else Energy.from_dict(meta)


def _dataset_entries(ds, arrays: dict, prefix: str = "data") -> dict | None:
    """Put the rows of ``ds`` into ``arrays`` (``data_X``, ``data_test_X``...); its meta."""
    if ds is None:
        return None
    for key in ("X", "Y", "labels"):
        if getattr(ds, key) is not None:
            arrays[f"{prefix}_{key}"] = getattr(ds, key)
    return {"name": ds.name, "levels": ds.levels, "clipped": ds.clipped,
            "labels": ds.labels is not None, "encoding": ds.encoding,
            "test": _dataset_entries(ds.test, arrays, f"{prefix}_test")}


def _read_dataset(meta: dict | None, arrays: dict, prefix: str = "data"):
    from .datasets import Dataset

    if meta is None:
        return None
    return Dataset(meta["name"], arrays[f"{prefix}_X"], arrays[f"{prefix}_Y"],
                   labels=arrays[f"{prefix}_labels"] if meta["labels"] else None,
                   levels=None if meta["levels"] is None else tuple(meta["levels"]),
                   test=_read_dataset(meta["test"], arrays, f"{prefix}_test"),
                   clipped=meta["clipped"], encoding=meta["encoding"])


# --- equality ----------------------------------------------------------------------

def _same_array(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    nan = np.issubdtype(a.dtype, np.inexact)
    return bool(np.array_equal(a, b, equal_nan=nan))


def _same_layers(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and all(_same_array(x, y) for x, y in zip(a, b))


def differences(a, b) -> list[str]:
    """The fields in which results ``a`` and ``b`` differ (arrays exactly, NaN equal
    to NaN, shapes and dtypes included); empty when they are equal."""
    out = []
    if set(a.metrics) != set(b.metrics):
        out.append("metrics")
    out += [name for name in a.metrics if name in b.metrics
            and not _same_array(a.metrics[name], b.metrics[name])]
    for name in ("solver_ok", "step_error", "W_min", "W_max"):
        if not _same_array(getattr(a, name), getattr(b, name)):
            out.append(name)
    for name in ("W_init", "W_epoch", "W_final", "peak_current"):
        if not _same_layers(getattr(a, name), getattr(b, name)):
            out.append(name)
    wa, wb = a.waveforms, b.waveforms
    if (wa is None) != (wb is None) or (wa is not None and (
            set(wa) != set(wb) or not all(_same_array(wa[k], wb[k]) for k in wa))):
        out.append("waveforms")
    for name in ("config", "engine", "engine_info", "wall_seconds", "rows",
                 "circuit_seconds", "breakpoints"):
        if getattr(a, name) != getattr(b, name):
            out.append(name)
    if (a.coords or {}) != (b.coords or {}):
        out.append("coords")
    if (a.energy is None) != (b.energy is None) or (a.energy is not None and
                                                     a.energy != b.energy):
        out.append("energy")
    da, db = {}, {}
    if _dataset_entries(a.dataset, da) != _dataset_entries(b.dataset, db) or set(da) != set(db) \
            or not all(_same_array(da[k], db[k]) for k in da):
        out.append("dataset")
    for name in ("seeds", "samples"):
        x, y = getattr(a, name), getattr(b, name)
        if (None if x is None else list(x)) != (None if y is None else list(y)):
            out.append(name)
    return out


# --- repr --------------------------------------------------------------------------

def _ids(values, what: str) -> str:
    values = [int(v) for v in values]
    if len(values) == 1:
        return f"{what} {values[0]}"
    if values == list(range(values[0], values[0] + len(values))):
        return f"{what}s {values[0]}..{values[-1]}"
    if len(values) <= 5:
        return f"{what}s " + ", ".join(map(str, values))
    return f"{what}s {values[0]}, {values[1]}, {values[2]}, ..., {values[-1]}"


def _seconds(t: float) -> str:
    if t == 0 or not np.isfinite(t):
        return f"{t:g} s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)):
        if abs(t) >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-15:.3g} fs"


def figures(res) -> dict:
    """Per network, vectorised: final MSE, first epoch below the goal, peak current
    over Imax, weight range, divergence (what the repr and the HTML table show)."""
    final = res.final("mse")
    diverged, reason = res._divergence()
    learned = res.learned() if res.epochs_done else np.zeros(res.n_networks, bool)
    return {"final": final, "first": res.first_epoch_below(), "diverged": diverged,
            "reason": reason, "learned": learned,
            "peak_over_Imax": res.peak_current_max / res.config.constants.Imax,
            "W_lo": res.W_min.min(axis=1) if res.W_min.size else np.full(res.n_networks, np.nan),
            "W_hi": res.W_max.max(axis=1) if res.W_max.size else np.full(res.n_networks, np.nan)}


def repr_lines(res, fig: dict | None = None) -> list[str]:
    """At most 7 lines, whatever the run."""
    fig = fig or figures(res)
    cfg, B, E = res.config, res.n_networks, res.epochs_done
    version = res.engine_info.version if res.engine_info is not None else None
    engine = res.engine + (f" ({version})" if version else "")
    ids = _ids(res.seeds, "seed") + ("" if res.samples is None
                                     else ", Monte Carlo " + _ids(res.samples, "sample"))
    lines = [f"aann.Results: {cfg.network.topology} on {engine}",
             f"  networks: {B} ({ids})"]
    if res.breakpoints is not None:
        lines.append(f"  stimulus: PWL waveform of {res.breakpoints} breakpoints, no epochs")
    else:
        lines.append(f"  epochs: {E} of {res.rows} rows, t_row = {_seconds(cfg.training.t_row)}"
                     f", lambda = {cfg.lam:.3g}")
    n_div = int(np.count_nonzero(fig["diverged"]))
    if E:
        final = fig["final"]
        ok = final[np.isfinite(final)]
        lines.append(f"  learned: {int(fig['learned'].sum())} of {B} (final MSE < "
                     f"{DEFAULT_GOAL.value:g} V^2, not diverged); diverged: {n_div}")
        spread = (f"{ok.min():.3g} .. {ok.max():.3g} V^2 (median {np.median(ok):.3g})"
                  if ok.size else "none finite")
        if 0 < ok.size < B:
            spread += f"; {B - ok.size} not finite"
        lines.append(f"  final MSE: {spread}")
    else:
        lines.append(f"  learned: no epochs, no MSE; diverged: {n_div}")
    if not E:
        recorded = "the final weights"
    else:
        recorded = "MSE and weights per epoch" if res.W_epoch is not None else "MSE per epoch"
    if res.waveforms is not None:
        recorded += f", waveforms ({res.waveforms['time'].shape[0]} samples)"
    lines.append(f"  recorded: {recorded}")
    lines.append(f"  wall time: {res.wall_seconds:.3g} s (circuit time "
                 f"{_seconds(res.circuit_seconds)})")
    return lines


def repr_html(res) -> str:
    """The repr's lines and the summary table (at most :data:`HTML_ROWS` networks)."""
    fig = figures(res)
    head = "<br>".join(html.escape(line.strip()) for line in repr_lines(res, fig))
    cols = ["network", "seed"] + (["sample"] if res.samples is not None else []) + [
        "final MSE [V^2]", f"first epoch < {DEFAULT_GOAL.value:g}", "peak / Imax", "weight min [V]",
        "weight max [V]", "status"]
    B = res.n_networks
    shown = range(min(B, HTML_ROWS))

    def num(x):
        return "" if not np.isfinite(x) else f"{x:.4g}"

    rows = []
    for b in shown:
        status = "ok" if not fig["diverged"][b] else (
            f"DIVERGED at epoch {fig['diverged'][b]} ({fig['reason'][b].value})")
        cells = [b, res.seeds[b]] + ([res.samples[b]] if res.samples is not None else []) + [
            num(fig["final"][b]), int(fig["first"][b]) or "", num(fig["peak_over_Imax"][b]),
            num(fig["W_lo"][b]), num(fig["W_hi"][b]), status]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                    + "</tr>")
    if B > len(shown):
        rows.append(f"<tr><td colspan=\"{len(cols)}\">... {B - len(shown)} more networks "
                    "(res.to_dataframe() has every one)</td></tr>")
    header = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    return (f"<div><p style=\"font-family: monospace\">{head}</p>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></div>")


# --- pandas and xarray -------------------------------------------------------------

def _need(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise ValidationError(f"this needs {module}, which is not installed; install it with "
                              'pip install "aann[notebook]"') from None


def _sample_column(res, pd, repeat: int):
    if res.samples is None:
        return pd.array([pd.NA] * (res.n_networks * repeat), dtype="Int64")
    return pd.array(np.repeat(np.asarray(res.samples, dtype=np.int64), repeat), dtype="Int64")


def _coord_columns(res, repeat: int) -> dict:
    """A column per label of :attr:`Results.coords`, each value repeated ``repeat`` times."""
    return {k: np.repeat(np.asarray(v), repeat) for k, v in (res.coords or {}).items()}


def to_dataframe(res, what: str = "mse"):
    pd = _need("pandas")
    B, E = res.n_networks, res.epochs_done
    seeds = np.asarray(res.seeds, dtype=np.int64)
    if what == "mse":
        return pd.DataFrame({
            "network": np.repeat(np.arange(B), E), "seed": np.repeat(seeds, E),
            "sample": _sample_column(res, pd, E), **_coord_columns(res, E),
            "epoch": np.tile(np.arange(1, E + 1), B),
            **{name: v.reshape(-1) for name, v in res.metrics.items()}})
    if what == "weights":
        stacks = [(W[:, None], np.array([E])) for W in res.W_final]
    elif what == "trajectories":
        if res.W_epoch is None:
            raise ValidationError(_not_recorded("weight trajectories"))
        n = res.W_epoch[0].shape[1]
        stacks = [(np.concatenate([W0[:, None], W], axis=1), np.arange(n + 1))
                  for W0, W in zip(res.W_init, res.W_epoch)]
    else:
        raise ValidationError(f"to_dataframe(what={what!r}): choose 'mse', 'weights' (final "
                              "weights) or 'trajectories' (weights after every epoch)")
    parts = []
    for l, (W, epochs) in enumerate(stacks):  # W: (B, epochs, n_out, n_in + 1)
        _, n_e, n_out, n_in = W.shape
        per_net = n_e * n_out * n_in
        grid = np.indices((n_e, n_out, n_in)).reshape(3, -1)
        parts.append(pd.DataFrame({
            "network": np.repeat(np.arange(B), per_net), "seed": np.repeat(seeds, per_net),
            "sample": _sample_column(res, pd, per_net), **_coord_columns(res, per_net),
            "layer": l + 1,
            "neuron": np.tile(grid[1], B), "input": np.tile(grid[2], B),
            "epoch": np.tile(epochs[grid[0]], B), "Vw": W.reshape(-1)}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["network", "epoch", "layer", "neuron", "input"], kind="stable",
                             ignore_index=True)


def _not_recorded(what: str) -> str:
    return (f"the {what} were not recorded (training.record = \"mse\" keeps only the MSE "
            "after each epoch); train with training.record = \"weights\"")


def to_xarray(res):
    xr = _need("xarray")
    B, E = res.n_networks, res.epochs_done
    coords = {"network": np.arange(B), "epoch": np.arange(1, E + 1),
              "seed": ("network", np.asarray(res.seeds, dtype=np.int64))}
    if res.samples is not None:
        coords["sample"] = ("network", np.asarray(res.samples, dtype=np.int64))
    for k, v in (res.coords or {}).items():
        coords[k] = ("network", np.asarray(v))
    data = {name: (("network", "epoch"), values,
                   {"units": METRICS[name].unit if name in METRICS else "",
                    "long_name": f"{name} after each epoch"})
            for name, values in res.metrics.items()}
    data |= {"W_min": (("network", "epoch"), res.W_min[:, :E], {"units": "V"}),
            "W_max": (("network", "epoch"), res.W_max[:, :E], {"units": "V"}),
             "solver_ok": (("network",), res.solver_ok, {})}
    if res.step_error is not None and res.step_error.shape == res.mse.shape:
        data["step_error"] = (("network", "epoch"), res.step_error, {"units": "V"})
    for l in range(len(res.W_final)):
        dims = ("network", f"neuron_l{l + 1}", f"input_l{l + 1}")
        data[f"W_init_l{l + 1}"] = (dims, res.W_init[l], {"units": "V"})
        data[f"W_final_l{l + 1}"] = (dims, res.W_final[l], {"units": "V"})
        data[f"peak_current_l{l + 1}"] = (dims, res.peak_current[l], {"units": "A"})
        if res.W_epoch is not None and res.W_epoch[l].shape[1] == E:
            data[f"W_epoch_l{l + 1}"] = ((dims[0], "epoch", *dims[1:]), res.W_epoch[l],
                                         {"units": "V"})
    if res.waveforms is not None:
        wf = res.waveforms
        coords["time"] = wf["time"]
        data["Vin"] = (("network", "time", "vin"), wf["Vin"], {"units": "V"})
        data["Vtarget"] = (("network", "time", "vout"), wf["Vtarget"], {"units": "V"})
        data["Vout"] = (("network", "time", "vout"), wf["Vout"], {"units": "V"})
        data["Vteach"] = (("network", "time"), wf["Vteach"], {"units": "V"})
    info = res.engine_info
    attrs = {"topology": res.config.network.topology, "engine": res.engine,
             "engine_version": "" if info is None else info.version,
             "engine_settings": json.dumps(None if info is None else info.settings),
             "settings": json.dumps(res.config.to_dict()), "lambda": res.config.lam,
             "rows": res.rows, "wall_seconds": res.wall_seconds,
             "circuit_seconds": res.circuit_seconds}
    return xr.Dataset({k: xr.Variable(dims, values, attrs=a)
                       for k, (dims, values, a) in data.items()}, coords=coords, attrs=attrs)


# --- plots -------------------------------------------------------------------------

NOTEBOOK_BACKENDS = ("inline", "ipympl", "nbagg", "widget")


def _plots():
    """:mod:`aann.plots`, keeping a notebook's matplotlib backend: the module selects
    Agg (files only) when it is first imported, which would stop Jupyter from showing
    figures; a backend a notebook chose (inline, ipympl, nbagg) is put back."""
    if "aann.plots" in sys.modules:
        return sys.modules["aann.plots"]
    import matplotlib

    try:
        chosen = matplotlib.rcParams._get_backend_or_none()
    except AttributeError:  # older matplotlib
        chosen = None
    from . import plots

    if chosen and any(n in chosen.lower() for n in NOTEBOOK_BACKENDS):
        matplotlib.use(chosen)
    return plots


class ResultsPlot:
    """``res.plot``: figures of one :class:`aann.Results`, each drawn on ``ax`` (or a
    new figure) and returned as its matplotlib Axes."""

    def __init__(self, results):
        self._res = results

    def __repr__(self):
        return "<res.plot: learning_curves(), accuracy(), waveforms(), weights()>"

    def _network(self, network: int) -> int:
        B = self._res.n_networks
        if isinstance(network, bool) or not isinstance(network, int | np.integer) \
                or not 0 <= network < B:
            raise ValidationError(f"network = {network!r} is not one of the {B} networks "
                                  f"(0..{B - 1})")
        return int(network)

    def learning_curves(self, ax=None, **kw):
        """MSE after each epoch, one line per network (``title=``, ``log=``)."""
        if not self._res.epochs_done:
            raise ValidationError("this run has no epochs (a PWL stimulus), so no learning "
                                  "curves; plot res.plot.waveforms()")
        fig = _plots().learning_curves(self._res, ax=ax, **kw)
        return ax if ax is not None else fig.axes[0]

    def accuracy(self, ax=None, **kw):
        """Train and test accuracy after each epoch, median and range (``title=``)."""
        if "train_accuracy" not in self._res.metrics:
            raise ValidationError("this run has no accuracy: its data set has no classes "
                                  "(docs/tasks.md); plot res.plot.learning_curves()")
        fig = _plots().accuracy_curves(self._res, ax=ax, **kw)
        return ax if ax is not None else fig.axes[0]

    def waveforms(self, ax=None, network: int = 0):
        """``Vtarget``, ``Vout`` and ``Vteach`` of one network against time."""
        if self._res.waveforms is None:
            raise ValidationError("this run recorded no waveforms; train with "
                                  "waveforms=True (or simulate a stimulus)")
        fig = _plots().waveforms(self._res, network=self._network(network), ax=ax)
        return ax if ax is not None else fig.axes[0]

    def weights(self, ax=None, network: int = 0, layer: int | None = None):
        """Every weight of one network after each epoch (epoch 0: the initial weights);
        ``layer`` (from 1) keeps one layer."""
        res = self._res
        if res.W_epoch is None:
            raise ValidationError(_not_recorded("weights per epoch"))
        if not res.epochs_done:
            raise ValidationError("this run has no epochs (a PWL stimulus); its final "
                                  "weights are res.W_final")
        L = len(res.W_final)
        if layer is not None and (isinstance(layer, bool) or not isinstance(layer, int)
                                  or not 1 <= layer <= L):
            raise ValidationError(f"layer = {layer!r} is not one of the layers 1..{L}")
        fig = _plots().weights(res, network=self._network(network), layer=layer, ax=ax)
        return ax if ax is not None else fig.axes[0]
