"""The results store of a sweep: ``DIR/sweep.sqlite``, SQLite in WAL mode.

One process writes it: the driver of ``aann sweep`` (workers only return their
batches' figures), holding ``DIR/sweep.lock`` (an advisory ``flock``, released by
the kernel even when the process is killed). Each finished batch is committed in
one transaction, its rows keyed by run id (``INSERT OR IGNORE``): a batch is in
the store entirely or not at all, and a batch computed twice (a retried task)
adds nothing. SQLite's write-ahead log makes a commit atomic and durable
(``synchronous = FULL``): a SIGKILL at any moment loses at most the batches not
yet committed and never leaves a torn or duplicated row. Readers (``export``,
``report``, a test polling progress) may read while the driver writes.

Tables: ``meta`` (format, what the store holds (``kind``: ``sweep`` or
``montecarlo``), the canonical JSON and its digest, swept keys, number of runs,
the registered metrics' names, the goal that defines *learned*, the engine
that ran), ``points`` (each point's values as written and in SI units, its
seeds and first run id), ``runs`` (one row per finished run: its final MSE,
``learned``, divergence, first epoch reaching the goal, batch and the batch's
wall time) and ``finals`` (``run, metric, value``: the final value of every
registered metric, :mod:`aann.metrics`, by name). A Monte Carlo run
(:func:`aann.montecarlo`) is a store of one point whose seeds are its samples.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from pathlib import Path

from ..errors import ValidationError
from .plan import FORMAT, Sweep, goal_from_json, goal_to_json

STORE = "sweep.sqlite"
LOCK = "sweep.lock"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS points (point INTEGER PRIMARY KEY, given TEXT NOT NULL, "
    "si TEXT NOT NULL, seeds INTEGER NOT NULL, first_run INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, point INTEGER NOT NULL, "
    "seed INTEGER NOT NULL, final_mse REAL, learned INTEGER NOT NULL, "
    "diverged_epoch INTEGER, diverged_because TEXT, first_epoch_below INTEGER, "
    "batch INTEGER NOT NULL, seconds REAL)",
    "CREATE TABLE IF NOT EXISTS finals (run INTEGER NOT NULL, metric TEXT NOT NULL, "
    "value REAL, PRIMARY KEY (run, metric))",
)
RUN_COLUMNS = ("run", "point", "seed", "final_mse", "learned", "diverged_epoch",
               "diverged_because", "first_epoch_below", "batch", "seconds")


class Store:
    """An open store (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.conn = sqlite3.connect(path, timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as e:
            raise ValidationError(f"{path} is not a sweep store ({e}); choose another "
                                  "--out") from None

    @classmethod
    def existing(cls, out_dir) -> Store:
        """The store in ``out_dir``; a :class:`ValidationError` when there is none."""
        path = Path(out_dir) / STORE
        if not path.is_file():
            raise ValidationError(f"{out_dir} holds no sweep ({STORE} is missing); give the "
                                  "--out folder of an `aann sweep` run")
        store = cls(path)
        if store.meta() is None:
            store.close()
            raise ValidationError(f"{path} holds no sweep yet (it was stopped while being "
                                  "created); run the sweep again")
        return store

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def transaction(self):
        """``BEGIN IMMEDIATE`` .. ``COMMIT``; rolled back on any exception (Ctrl-C too)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def meta(self) -> dict | None:
        """The ``meta`` table as a dict, or None when the store holds no sweep yet."""
        try:
            rows = self.conn.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.OperationalError:  # no table: a store being created was stopped
            return None
        meta = dict(rows)
        if "digest" not in meta:
            return None
        if meta.get("format") != str(FORMAT):
            raise ValidationError(f"{self.path} was written in store format "
                                  f"{meta.get('format')}, not {FORMAT}; use another --out")
        return meta

    def initialize(self, sweep: Sweep) -> None:
        """Create the tables and record ``sweep`` (its points, keys, digest): one
        transaction, so a store stopped while being created holds nothing."""
        with self.transaction() as c:
            for statement in SCHEMA:
                c.execute(statement)
            c.execute("DELETE FROM meta")
            c.execute("DELETE FROM points")
            c.execute("DELETE FROM runs")
            c.execute("DELETE FROM finals")
            meta = {"format": str(FORMAT), "digest": sweep.digest, "canonical": sweep.canonical,
                    "keys": json.dumps(list(sweep.keys)), "runs": str(sweep.n_runs),
                    "points": str(sweep.n_points), "source": sweep.where, "kind": sweep.kind,
                    "metrics": json.dumps(list(sweep.metrics)),
                    "goal": goal_to_json(sweep.goal)}
            c.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            c.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?)", (
                (p, json.dumps(sweep.given[p], default=str),
                 json.dumps({k: sweep.si_value(p, k) for k in sweep.keys}, default=str),
                 sweep.seeds[p], sweep.first_run[p]) for p in range(sweep.n_points)))

    def done_runs(self) -> set:
        return {r for (r,) in self.conn.execute("SELECT run FROM runs")}

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM runs").fetchone()[0]

    def commit(self, result) -> int:
        """Store a finished batch (:class:`aann.sweep.runner.BatchResult`) in one
        transaction: its runs, their final value of every metric and, the first time,
        the engine that ran; rows of runs already stored are ignored. A batch whose
        metrics are not the store's (a worker with other metrics registered) is
        refused. Returns the runs added."""
        names = self.metric_names()
        for finals in result.finals:
            if tuple(finals) != names:
                raise ValidationError(
                    f"a batch came back with the metrics {', '.join(finals)}, but {self.path} "
                    f"holds {', '.join(names)}; register the same metrics wherever the "
                    "batches run")
        rows = [(*row[:3], _real(row[3]), int(row[4]), *row[5:], result.index,
                 result.seconds) for row in result.rows]
        finals = [(row[0], name, _real(value)) for row, values in zip(result.rows, result.finals)
                  for name, value in values.items()]
        with self.transaction() as c:
            c.execute(SCHEMA[3])  # a store made before the metrics were kept by name
            before = c.total_changes
            c.executemany(f"INSERT OR IGNORE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES "
                          f"({', '.join('?' * len(RUN_COLUMNS))})", rows)
            added = c.total_changes - before
            c.executemany("INSERT OR IGNORE INTO finals VALUES (?, ?, ?)", finals)
            if result.engine is not None:
                c.execute("INSERT OR IGNORE INTO meta VALUES ('engine', ?)",
                          (json.dumps(result.engine, default=str),))
            return added

    def metric_names(self) -> tuple:
        """The metrics the store keeps, ``mse`` first (a store made before they were
        kept by name holds ``mse`` only)."""
        meta = self.meta() or {}
        return tuple(json.loads(meta.get("metrics", '["mse"]')))

    @contextlib.contextmanager
    def snapshot(self):
        """A read transaction: the queries inside see one committed state."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    def runs(self) -> list[dict]:
        """Every stored run with its point's values (``given``, ``si``), the final value
        of every metric (``finals``, by name; NaN when not finite), its batch and the
        batch's wall time (``seconds``), by run id."""
        query = ("SELECT r.run, r.point, r.seed, r.final_mse, r.learned, r.diverged_epoch, "
                 "r.diverged_because, r.first_epoch_below, p.given, p.si, r.batch, r.seconds "
                 "FROM runs r "
                 "JOIN points p ON p.point = r.point ORDER BY r.run")
        names = self.metric_names()
        with self.snapshot() as c:
            rows = c.execute(query).fetchall()
            try:
                stored = c.execute("SELECT run, metric, value FROM finals").fetchall()
            except sqlite3.OperationalError:  # made before the metrics were kept by name
                stored = []
        finals: dict = {}
        for run, name, value in stored:
            finals.setdefault(run, {})[name] = math.nan if value is None else value
        out = []
        for row in rows:
            mse = math.nan if row[3] is None else row[3]
            have = finals.get(row[0], {})
            out.append({"run": row[0], "point": row[1], "seed": row[2],
                        "final_mse": mse, "learned": bool(row[4]), "diverged_epoch": row[5],
                        "diverged_because": row[6], "first_epoch_below": row[7],
                        "given": json.loads(row[8]), "si": json.loads(row[9]),
                        "batch": row[10], "seconds": row[11],
                        "finals": {n: mse if n == "mse" else have.get(n, math.nan)
                                   for n in names}})
        return out

    def wall_seconds(self) -> float:
        """The wall time of the stored batches, summed (s)."""
        query = "SELECT DISTINCT batch, seconds FROM runs WHERE seconds IS NOT NULL"
        return float(sum(s for _, s in self.conn.execute(query)))

    def goal(self):
        """The :class:`aann.metrics.Goal` that defines *learned* in this store."""
        return goal_from_json((self.meta() or {}).get("goal"))

    def points(self) -> list[dict]:
        """Every point of the sweep (stored or not): ``point``, ``given`` and ``si`` (its
        values as written and in SI units, by key), ``seeds``, ``first_run``."""
        query = "SELECT point, given, si, seeds, first_run FROM points ORDER BY point"
        return [{"point": p, "given": json.loads(given), "si": json.loads(si), "seeds": seeds,
                 "first_run": first} for p, given, si, seeds, first in self.conn.execute(query)]


def _real(x):
    """A float for SQLite (which stores NaN as NULL: so does this, explicitly)."""
    x = float(x)
    return None if math.isnan(x) else x


@contextlib.contextmanager
def writer_lock(out_dir: Path):
    """Hold ``out_dir/sweep.lock`` while writing; a second writer is refused."""
    path = Path(out_dir) / LOCK
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one writer is the user's care
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValidationError(f"another aann sweep is writing {out_dir} (it holds "
                                  f"{path}); wait for it to end or use another --out") from None
        yield
    finally:
        os.close(fd)
