"""A sweep file, read and checked, and its runs grouped into batches.

A sweep file is TOML with a ``[base]`` table (any train configuration, its
sections under ``base.``), a ``[grid]`` of lists over any of its keys (the
full product is taken) and/or a ``[random]`` table of distributions (``samples``
draws, each combined with every grid point). Every point runs ``training.seeds``
seeds. Every value of every point is checked, by building its
:class:`aann.Config`, before anything runs.

A *run* is one (point, seed); its id is its index in the order points x seeds
(points in the product's order, the last grid key fastest). Runs whose
configurations differ only in circuit constants (``[blocks.*]``, ``[constants]``
of the circuit, ``[mismatch]``) share one compiled call: :func:`plan` groups
them (same network, training, solver, block laws and the same constants that are
literally 0, which the circuit skips) and cuts each group into batches sized by
the one memory estimate (:func:`aann.batch.batch_limit`).

A Monte Carlo run (:func:`aann.montecarlo`) is a sweep too: one point whose seeds
are its samples (:func:`samples_sweep`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import metrics as _metrics
from ..batch import MAX_BATCH
from ..errors import ValidationError, short_repr

FORMAT = 1  # of the sweep's canonical form and of the store
MAX_POINTS = 1_000_000
MAX_RUNS = 10_000_000
FIXED = {"training.record": "a sweep keeps the MSE after every epoch only (record = \"mse\")",
         "training.init_weights": "a sweep draws the initial weights of every run from its "
                                  "seed (training.seeds); give seeds instead"}
DISTRIBUTIONS = ("uniform", "log_uniform", "choice")


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: its points, their configurations and its runs.

    ``keys``: the swept keys in file order (grid keys, then random ones);
    ``given[p]``: point ``p``'s value of each key as written (or drawn);
    ``raw[p]``: the nested dict its :class:`aann.Config` is built from;
    ``seeds[p]``: its number of seeds; ``first_run[p]``: the id of its run of seed 0.
    ``canonical``: the sweep as canonical JSON, ``digest`` its SHA-256 (with the
    names of the registered metrics, unless ``mse`` is the only one).
    ``kind``: ``"sweep"`` or ``"montecarlo"`` (:func:`samples_sweep`); ``metrics``:
    the metrics every run keeps (:func:`aann.metrics.names` when made); ``goal``:
    what *learned* means (:class:`aann.metrics.Goal`); ``weights``: one initial
    weight set ``{"seed", "layers"}`` for every run, or None (run of seed s: the
    weights of seed s).
    """

    where: str
    keys: tuple
    given: tuple
    raw: tuple
    configs: tuple
    seeds: tuple
    first_run: tuple
    canonical: str
    digest: str
    kind: str = "sweep"
    metrics: tuple = field(default_factory=_metrics.names)
    goal: _metrics.Goal = _metrics.DEFAULT_GOAL
    weights: dict | None = None

    @property
    def n_points(self) -> int:
        return len(self.given)

    @property
    def n_runs(self) -> int:
        return self.first_run[-1] + self.seeds[-1] if self.seeds else 0

    def runs(self):
        """Every run ``(run, point, seed)`` in run order."""
        for p, (first, n) in enumerate(zip(self.first_run, self.seeds)):
            for seed in range(n):
                yield first + seed, p, seed

    def si_value(self, p: int, key: str):
        """Point ``p``'s value of ``key`` as its configuration holds it (SI units)."""
        value = self.configs[p].to_dict()
        for part in key_path(key):
            value = value[part]
        return list(value) if isinstance(value, tuple) else value


# --- reading -----------------------------------------------------------------------

def load_sweep(path) -> Sweep:
    """The :class:`Sweep` of TOML file ``path``; a :class:`ValidationError` naming the
    key and value otherwise."""
    from ..spec import read_toml

    data = read_toml(path, "sweep file")  # a path of the wrong type: its message
    return parse_sweep(data, f"sweep file {Path(path)}")


def parse_sweep(data: dict, where: str = "sweep") -> Sweep:
    """The :class:`Sweep` of a sweep file's tables (as ``tomllib`` reads them)."""
    from ..spec import from_dict

    if not isinstance(data, dict):
        raise ValidationError(f"{where}: a sweep is a table with [base], [grid], [random]")
    for key in data:
        if key not in ("base", "grid", "random"):
            raise ValidationError(
                f"{where}: unknown table [{key}]; a sweep file has [base] (a train "
                "configuration: [base.network], [base.training], ...), [grid] and [random]")
    base = data.get("base", {})
    if not isinstance(base, dict):
        raise ValidationError(f"{where}: [base] must be a table of sections")
    try:
        base_cfg = from_dict(base)
    except ValidationError as e:
        raise ValidationError(f"{where}: [base]: {e}") from None
    if base_cfg.training.init_weights is not None:
        raise ValidationError(f"{where}: [base] training.init_weights: "
                              f"{FIXED['training.init_weights']}")
    grid = _grid(data.get("grid"), where) if "grid" in data else []
    random_spec = _random_spec(data.get("random"), where) if "random" in data else None
    if not grid and random_spec is None:
        raise ValidationError(f"{where}: nothing is swept; give a [grid] of lists (e.g. "
                              "\"training.t_row\" = [\"0.03ps\", \"0.1ps\"]) or a [random] table")
    keys = [k for k, _ in grid] + ([k for k, _ in random_spec["keys"]] if random_spec else [])
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValidationError(f"{where}: key \"{twice[0]}\" is swept twice (in [grid] and "
                              "[random]); sweep it in one of them")
    for key, values in grid:
        for i, value in enumerate(values):
            _check_one(base, key, value, f"{where}: grid \"{key}\" value {i + 1} "
                                         f"({short_repr(value)})")
    draws = _draw(base, random_spec, where) if random_spec else [{}]
    n_grid = math.prod(len(v) for _, v in grid)
    n_points = n_grid * len(draws)
    if n_points > MAX_POINTS:
        raise ValidationError(f"{where}: {n_points} points are more than the "
                              f"{MAX_POINTS} a sweep may have; split it")
    given, raw, configs, seeds = [], [], [], []
    for combo in itertools.product(*(values for _, values in grid)):
        for drawn in draws:
            point = {**dict(zip((k for k, _ in grid), combo)), **drawn}
            config_dict = _with(base, point)
            try:
                # the point's keys are given; the base's keys that a law or switch the
                # point chooses does not read are dropped (the base alone was checked)
                cfg = from_dict(config_dict, given=_with({}, point))
            except ValidationError as e:
                raise ValidationError(f"{where}: point {_describe(point)}: {e}") from None
            given.append(point)
            raw.append(config_dict)
            configs.append(cfg)
            seeds.append(cfg.training.seeds)
    first_run = [0]
    for n in seeds[:-1]:
        first_run.append(first_run[-1] + n)
    if first_run[-1] + seeds[-1] > MAX_RUNS:
        raise ValidationError(f"{where}: {first_run[-1] + seeds[-1]} runs (points x seeds) "
                              f"are more than the {MAX_RUNS} a sweep may have; split it")
    identity = {"format": FORMAT, "base": base, "grid": grid, "random": random_spec,
                "datasets": _dataset_digests(configs)}
    if _metrics.names() != ("mse",):  # a store made with other metrics is another sweep
        identity["metrics"] = list(_metrics.names())
    canonical = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    sweep = Sweep(where=where, keys=tuple(keys), given=tuple(given), raw=tuple(raw),
                  configs=tuple(configs), seeds=tuple(seeds), first_run=tuple(first_run),
                  canonical=canonical, digest=hashlib.sha256(canonical.encode()).hexdigest())
    return dataclasses.replace(sweep, metrics=metrics_of(sweep))


def metrics_of(sweep: Sweep) -> tuple:
    """The metrics every run of ``sweep`` keeps: :func:`aann.metrics.names` of its data
    (the same for every point: the store holds one set)."""
    from ..datasets import for_config, key

    found = {}
    for p, cfg in enumerate(sweep.configs):
        k = key(cfg)
        if k not in found:
            try:
                found[k] = (_metrics.names(for_config(cfg)), p)
            except ValidationError as e:
                raise ValidationError(f"{_at(sweep, p)}: {e}") from None
    (first, p0), *rest = found.values()
    for names, p in rest:
        if names != first:
            raise ValidationError(
                f"{_at(sweep, p)} keeps the metrics {', '.join(names)} but "
                f"{_at(sweep, p0)} keeps {', '.join(first)}; a sweep's points must all have "
                "held-out rows and classes or none (split the sweep)")
    return first


def samples_sweep(config, samples: int, identity: dict, *, goal=_metrics.DEFAULT_GOAL,
                  weights: dict | None = None, where: str = "Monte Carlo run") -> Sweep:
    """A Monte Carlo run as a sweep: one point, ``config`` (a :class:`aann.Config`),
    whose ``samples`` seeds are its samples (run k: mismatch draw k, the initial
    weights of seed k or ``weights`` for all). ``identity``: what must match to
    resume it (its canonical JSON and digest)."""
    canonical = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    sweep = Sweep(where=where, keys=(), given=({},), raw=(config,), configs=(config,),
                  seeds=(samples,), first_run=(0,), canonical=canonical,
                  digest=hashlib.sha256(canonical.encode()).hexdigest(), kind="montecarlo",
                  goal=goal, weights=weights)
    return dataclasses.replace(sweep, metrics=metrics_of(sweep))


def goal_to_json(goal) -> str:
    """A goal as the store keeps it (with its direction and unit, so that a reader
    without the metric registered can still say what it was)."""
    m = _metrics.METRICS.get(goal.metric)
    return json.dumps({"metric": goal.metric, "value": goal.value,
                       "better": m.better if m else "lower", "unit": m.unit if m else ""})


def goal_fields(text) -> dict:
    """A store's ``goal`` as a dict ``metric, value, better, unit`` (default: MSE < 0.01
    V^2, the goal of a store made before goals were kept), read without the registry."""
    if not text:
        return {"metric": "mse", "value": _metrics.DEFAULT_GOAL.value, "better": "lower",
                "unit": "V^2"}
    return json.loads(text)


def goal_from_json(text):
    """The :class:`aann.metrics.Goal` of a store's ``goal`` (its metric registered)."""
    d = goal_fields(text)
    return _metrics.Goal(d["metric"], d["value"])


def goal_text(text) -> str:
    """A store's goal for people: ``final MSE < 0.01 V^2``."""
    d = goal_fields(text)
    name = "MSE" if d["metric"] == "mse" else d["metric"]
    unit = f" {d['unit']}" if d.get("unit") else ""
    return f"final {name} {'>' if d.get('better') == 'higher' else '<'} {d['value']:g}{unit}"


def key_path(key: str) -> list[str]:
    """The nested path of a swept key: ``"blocks.multiplier.charge.Voff1"`` ->
    ``["blocks", "multiplier", "charge", "Voff1"]``; a ``[mismatch]`` key keeps its
    own dots (``"mismatch.multiplier.Km"`` -> ``["mismatch", "multiplier.Km"]``)."""
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        raise ValidationError(f"key \"{key}\" must name one key of the train configuration "
                              "as section.key, e.g. \"training.t_row\" or "
                              "\"blocks.multiplier.Voff\"")
    if parts[0] == "mismatch":
        return ["mismatch", ".".join(parts[1:])]
    return parts


def _with(base: dict, point: dict) -> dict:
    """``base`` with every ``key = value`` of ``point`` set (and record = "mse")."""
    out = _copy(base)
    for key, value in point.items():
        *parents, last = key_path(key)
        table = out
        for part in parents:
            inner = table.get(part)
            table[part] = inner = dict(inner) if isinstance(inner, dict) else {}
            table = inner
        table[last] = value
    training = out.setdefault("training", {})
    if isinstance(training, dict):
        training["record"] = "mse"
    return out


def _copy(d):
    return {k: _copy(v) for k, v in d.items()} if isinstance(d, dict) else d


def _check_one(base: dict, key: str, value, where: str) -> None:
    """``key = value`` alone on ``base`` builds a valid configuration."""
    from ..spec import from_dict

    if isinstance(value, dict):
        raise ValidationError(f"{where}: a swept value is one value, not a table; sweep "
                              "the table's keys one by one")
    try:
        from_dict(_with(base, {key: value}), given=_with({}, {key: value}))
    except ValidationError as e:
        raise ValidationError(f"{where}: {e}") from None


def _flatten(table: dict, prefix: str, stop) -> list:
    """``(dotted key, value)`` of a TOML table whose keys may be dotted or nested;
    ``stop(value)`` tells a value that is a leaf although it is a table."""
    out = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not stop(value):
            if not value:
                out.append((name, value))
            out.extend(_flatten(value, f"{name}.", stop))
        else:
            out.append((name, value))
    return out


def _grid(table, where: str) -> list:
    if not isinstance(table, dict):
        raise ValidationError(f"{where}: [grid] must be a table of key = [values]")
    grid = _flatten(table, "", lambda v: False)
    if not grid:
        raise ValidationError(f"{where}: [grid] is empty; give at least one key = [values], "
                              "e.g. \"training.t_row\" = [\"0.03ps\", \"0.1ps\"]")
    for key, values in grid:
        _check_key(key, where, "grid")
        if not isinstance(values, list):
            raise ValidationError(f"{where}: grid \"{key}\" = {short_repr(values)} must be a "
                                  "list of values, e.g. [\"0.03ps\", \"0.1ps\"]")
        if not values:
            raise ValidationError(f"{where}: grid \"{key}\" is an empty list; give at least "
                                  "one value")
        seen = set()
        for value in values:
            text = json.dumps(value, sort_keys=True, default=str)
            if text in seen:
                raise ValidationError(f"{where}: grid \"{key}\" lists {short_repr(value)} "
                                      "twice; give each value once")
            seen.add(text)
    return grid


def _check_key(key: str, where: str, table: str) -> None:
    try:
        key_path(key)
    except ValidationError as e:
        raise ValidationError(f"{where}: {table} {e}") from None
    if key in FIXED:
        raise ValidationError(f"{where}: {table} key \"{key}\" cannot be swept: {FIXED[key]}")


def _random_spec(table, where: str) -> dict:
    """``{"samples": n, "seed": s, "keys": [(key, {kind: args})]}`` of a [random] table."""
    if not isinstance(table, dict):
        raise ValidationError(f"{where}: [random] must be a table")
    table = dict(table)
    samples, seed = table.pop("samples", None), table.pop("seed", 0)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValidationError(f"{where}: random.samples = {short_repr(samples)} must be a "
                              "positive integer (the number of random points)")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValidationError(f"{where}: random.seed = {short_repr(seed)} must be an integer "
                              "in 0..2**63-1")
    keys = _flatten(table, "", lambda v: len(v) == 1 and next(iter(v)) in DISTRIBUTIONS)
    if not keys:
        raise ValidationError(f"{where}: [random] has no key to draw; give e.g. "
                              "\"training.t_row\" = {log_uniform = [\"0.01ps\", \"1ps\"]}")
    for key, spec in keys:
        _check_key(key, where, "random")
        if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in DISTRIBUTIONS):
            raise ValidationError(
                f"{where}: random \"{key}\" = {short_repr(spec)} must be one of "
                "{uniform = [low, high]}, {log_uniform = [low, high]}, {choice = [values]}")
        kind, args = next(iter(spec.items()))
        if not isinstance(args, list) or not args or (kind != "choice" and len(args) != 2):
            need = "a non-empty list of values" if kind == "choice" else "[low, high]"
            raise ValidationError(f"{where}: random \"{key}\".{kind} = {short_repr(args)} must "
                                  f"be {need}")
    return {"samples": samples, "seed": seed, "keys": keys}


def _draw(base: dict, spec: dict, where: str) -> list[dict]:
    """The ``samples`` random points, each ``{key: value}``. Key ``k`` draws from a
    generator seeded with ``(seed, crc32(k))``: adding a key leaves the others' draws."""
    n, columns = spec["samples"], {}
    for key, dist in spec["keys"]:
        kind, args = next(iter(dist.items()))
        rng = np.random.default_rng([spec["seed"], zlib.crc32(key.encode())])
        label = f"{where}: random \"{key}\".{kind}"
        if kind == "choice":
            for i, value in enumerate(args):
                _check_one(base, key, value, f"{label} value {i + 1} ({short_repr(value)})")
            columns[key] = [args[int(i)] for i in rng.integers(0, len(args), n)]
            continue
        percent = all(isinstance(a, str) and a.strip().endswith("%") for a in args)
        low, high = (_bound(base, key, a, f"{label} bound {i + 1} ({short_repr(a)})", percent)
                     for i, a in enumerate(args))
        if not high > low or (kind == "log_uniform" and not low > 0):
            raise ValidationError(f"{label} = {short_repr(args)}: need low < high"
                                  + (" and low > 0" if kind == "log_uniform" else ""))
        u = rng.random(n)
        if kind == "uniform" and isinstance(low, int) and isinstance(high, int):
            values = [int(low + min(math.floor(x * (high - low + 1)), high - low)) for x in u]
        elif kind == "uniform":
            values = [float(low + (high - low) * x) for x in u]
        else:
            values = [float(math.exp(math.log(low) + (math.log(high) - math.log(low)) * x))
                      for x in u]
        columns[key] = [f"{v!r}%" for v in values] if percent else values
    return [{key: columns[key][i] for key in columns} for i in range(n)]


def _bound(base: dict, key: str, value, where: str, percent: bool):
    """A bound of a numeric distribution, in SI units (percent: the number before %)."""
    _check_one(base, key, value, where)
    if percent:
        return float(value.strip()[:-1])
    from ..spec import from_dict

    si = from_dict(_with(base, {key: value}), given=_with({}, {key: value})).to_dict()
    for part in key_path(key):
        si = si[part]
    if isinstance(si, bool) or not isinstance(si, int | float):
        raise ValidationError(f"{where}: \"{key}\" is not a number; draw it with "
                              "{choice = [values]}")
    return si


def _describe(point: dict) -> str:
    return ", ".join(f"{k} = {short_repr(v)}" for k, v in point.items())


def _at(sweep: Sweep, p: int) -> str:
    """Where a message about point ``p`` is: the sweep and the point's values."""
    return f"{sweep.where}: point {_describe(sweep.given[p])}" if sweep.given[p] else sweep.where


def _dataset_digests(configs) -> dict:
    """SHA-256 of every data set file the sweep reads (a changed file is another sweep)."""
    out = {}
    for cfg in configs:
        for name in (cfg.training.dataset, cfg.data.test):  # a held-out rows file too
            if name is None or name in out:
                continue
            path = Path(name)
            try:
                out[name] = hashlib.sha256(path.read_bytes()).hexdigest() \
                    if path.is_file() else None
            except OSError:
                out[name] = None
    return out


# --- grouping into batches -------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """Points that can share one compiled call (:func:`aann.batch.group_key`):
    ``axes`` (:func:`aann.batch.leaf_axes` of the points' circuits) says which circuit
    leaves are stacked over the networks of a batch (they differ between the group's
    points, or are per-instance mismatch draws); None: one circuit serves a batch."""

    points: tuple
    axes: tuple | None
    solver: dict
    max_batch: int


@dataclass(frozen=True)
class Batch:
    """``runs``: ``((run, point, seed), ...)`` in run order, all of ``group``."""

    index: int
    group: int
    runs: tuple


@dataclass(frozen=True)
class Plan:
    """The groups and batches of a sweep, and the data sets its points train on."""

    groups: tuple
    batches: tuple
    datasets: dict


def plan(sweep: Sweep, max_batch: int | None = None, check_draws: bool = True) -> Plan:
    """The runs of ``sweep`` grouped and cut into batches of at most ``max_batch``
    networks (default :data:`MAX_BATCH`; fewer where the memory budget needs it,
    :func:`aann.batch.batch_limit`), in near-equal parts. The plan depends only on the sweep and
    ``max_batch``. ``check_draws``: draw every run's mismatch now (a sigma that
    makes a constant change sign is refused before anything runs)."""
    from ..batch import batch_limit, check_size, cut, group_key, leaf_axes
    from ..circuit import build_circuit
    from ..datasets import for_config, key
    from ..mismatch import draw

    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int)
                                  or max_batch < 1):
        raise ValidationError(f"batch size {short_repr(max_batch)} must be a positive integer")
    cap = max_batch or MAX_BATCH
    keys, members = {}, []
    datasets = {}
    for p, cfg in enumerate(sweep.configs):
        name = key(cfg)
        try:
            if name not in datasets:
                datasets[name] = for_config(cfg)
            datasets[name].check_topology(cfg.network.sizes)
            check_size(cfg, 1, datasets[name].rows)
        except ValidationError as e:
            raise ValidationError(f"{_at(sweep, p)}: {e}") from None
        k = group_key(cfg)
        if k not in keys:
            keys[k] = len(members)
            members.append([])
        members[keys[k]].append(p)
    groups, batches = [], []
    for g, points in enumerate(members):
        cfg = sweep.configs[points[0]]
        if cfg.mismatch.active and check_draws:  # every draw now (a sign a sigma breaks)
            for p in points:
                c = sweep.configs[p]
                circuit = build_circuit(c)
                for seed in range(sweep.seeds[p]):
                    try:
                        draw(circuit, c.mismatch, seed)
                    except ValidationError as e:
                        raise ValidationError(f"{_at(sweep, p)}: {e}") from None
        sample = 0 if cfg.mismatch.active else None
        axes = leaf_axes([build_circuit(sweep.configs[p], sample=sample) for p in points])
        group_cap = batch_limit(cfg, datasets[key(cfg)].rows, cap)
        # the stiffest point of the group sets the steps of all (steps "auto")
        stiffness = max(2 * math.pi * build_circuit(sweep.configs[p]).fastest_pole() *
                        sweep.configs[p].training.t_row for p in points)
        groups.append(Group(points=tuple(points), axes=axes,
                            solver=dataclasses.asdict(cfg.solver.resolved(cfg.lam, stiffness)),
                            max_batch=group_cap))
        runs = [(sweep.first_run[p] + s, p, s) for p in points for s in range(sweep.seeds[p])]
        runs.sort()
        for part in cut(runs, group_cap):
            batches.append(Batch(index=len(batches), group=g, runs=tuple(part)))
    return Plan(groups=tuple(groups), batches=tuple(batches), datasets=datasets)


def given_text(value) -> str:
    """A swept value as the export writes it: text as written, numbers exactly, a list
    of layer sizes as ``2-4-1``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "-".join(map(str, value))
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, default=str)
