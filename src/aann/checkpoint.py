"""Checkpoints of a training run, so that a long run survives Ctrl-C.

After every chunk of epochs the engine's state (a pytree of arrays that only
the engine reads, e.g. the native engine's weights, last row's sources, peak
currents and rows done) and the per-epoch records so far
(:class:`aann.engines.base.EpochRecords`) are written atomically to one
``.npz`` file. Resuming restores them and runs the remaining chunks with the
same compiled function, so a resumed run equals an uninterrupted one bit for bit.

A checkpoint carries a fingerprint of everything that determines the run
(settings, initial weights, circuit constants); resuming with other settings
is refused, naming the settings that differ.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

from . import metrics as _metrics
from .engines.base import EpochRecords
from .errors import ValidationError
from .io import atomic_write

FORMAT = 1


@dataclass
class Checkpoint:
    """A run stopped after ``epochs_done`` epochs."""

    epochs_done: int
    state: object  # the engine's state, of the structure it passed to load
    records: object  # EpochRecords of the epochs done


def fingerprint(config, W0, circuit, solver, metrics: tuple | None = None) -> dict:
    """What must match to resume: the settings, the solver used, the metrics recorded
    (default: every registered one), and hashes of the initial weights and of the
    circuit's constants."""
    settings = {**config.to_dict(), "solver": dataclasses.asdict(solver)}
    fp = {"format": FORMAT, "settings": json.loads(json.dumps(settings, default=str)),
          "W0": hash_arrays(W0), "circuit": hash_arrays(jax.tree.leaves(circuit))}
    which = _metrics.names() if metrics is None else tuple(metrics)
    if which != ("mse",):  # so that a checkpoint of the paper's metric alone is as before
        fp["metrics"] = list(which)
    return fp


def hash_arrays(arrays) -> str:
    """A SHA-256 digest of arrays' shapes and float64 values (fingerprints of runs)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, float))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path, fp: dict, state, records) -> None:
    """Write the state after a chunk and the :class:`EpochRecords` so far, atomically."""
    leaves = [np.asarray(x) for x in jax.tree.leaves(state)]
    arrays = {f"state_{i}": x for i, x in enumerate(leaves)}
    for name, values in records.metrics.items():  # the MSE under its old name "mse"
        arrays["mse" if name == "mse" else f"metric_{name}"] = values
    for name in ("W_min", "W_max", "step_error"):
        arrays[name] = getattr(records, name)
    for l, W in enumerate(records.W_epoch or ()):
        arrays[f"W_epoch_{l}"] = W
    arrays["fingerprint"] = np.array(json.dumps(fp, sort_keys=True))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write(path, buffer.getvalue())


def load(path, fp: dict, state_like, record_weights: bool = True) -> Checkpoint:
    """Read a checkpoint written by :func:`save` for the run ``fp`` describes.

    ``state_like``: a state of the same structure and shapes (its values are not
    used); ``record_weights``: the records hold the weights after each epoch. A
    missing, truncated or tampered file, or one of another run, is a
    :class:`ValidationError` saying so.
    """
    path = Path(path)

    def damaged(why) -> ValidationError:
        return ValidationError(f"cannot resume: checkpoint {path} is damaged ({why}); start "
                               "afresh without --resume")

    try:
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ValidationError(f"cannot resume: there is no checkpoint {path}; run without "
                              "--resume first") from None
    except OSError as e:
        raise ValidationError(f"cannot resume: no readable checkpoint {path} "
                              f"({e.strerror or e}); run without --resume first") from None
    except (ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise damaged(e) from None
    try:
        saved = json.loads(str(data.pop("fingerprint")))
    except (KeyError, ValueError):
        raise damaged("no fingerprint") from None
    if saved != fp:
        raise ValidationError(f"cannot resume from {path}: {_difference(saved, fp)}; "
                              "use the same settings, or start afresh without --resume")
    like = jax.tree.leaves(state_like)
    try:
        leaves = [data[f"state_{i}"] for i in range(len(like))]
        n_layers = sum(k.startswith("W_epoch_") for k in data)
        W_epoch = tuple(data[f"W_epoch_{l}"] for l in range(n_layers)) if record_weights \
            else None
        which = saved.get("metrics", ["mse"])
        metrics = {name: data["mse" if name == "mse" else f"metric_{name}"]
                   for name in which}
        records = EpochRecords(metrics, data["W_min"], data["W_max"], data["step_error"],
                               W_epoch)
    except KeyError as e:
        raise damaged(f"array {e} missing") from None
    B, done = records.mse.shape if records.mse.ndim == 2 else (0, -1)
    per_epoch = (records.W_min, records.W_max, records.step_error, *records.metrics.values())
    if any(a.shape != np.shape(b) for a, b in zip(leaves, like)) or done < 0 \
            or any(a.shape != (B, done) for a in per_epoch) \
            or (record_weights and not W_epoch) \
            or any(W.shape[:2] != (B, done) for W in W_epoch or ()):
        raise damaged("arrays of the wrong shape")
    state = jax.tree.unflatten(jax.tree.structure(state_like),
                               [jax.numpy.asarray(a) for a in leaves])
    return Checkpoint(done, state, records)


def describe_difference(saved: dict, now: dict, what: str = "the checkpoint",
                        names: dict | None = None) -> str:
    """The first few settings of two run fingerprints that differ, as ``<what> was made
    with other settings (key was A, now B; ...)``; ``names``: keys shown as ``<name>
    differ`` (hashes) instead of their values."""
    a, b = _flat(saved), _flat(now)
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if not keys:
        return f"{what} was made by another version"
    names = names or {}
    shown = [f"{names[k]} differ" if k in names else
             f"{k.removeprefix('settings.')} was {a.get(k)!r}, now {b.get(k)!r}"
             for k in keys[:3]]
    return f"{what} was made with other settings (" + "; ".join(shown) + ")"


def _difference(saved: dict, now: dict) -> str:
    return describe_difference(saved, now, names={"W0": "initial weights",
                                                  "circuit": "circuit constants"})


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
