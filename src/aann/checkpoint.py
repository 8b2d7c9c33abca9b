"""Checkpoints of a training run, so that a long run survives Ctrl-C.

After every chunk of epochs the engine's state (:class:`aann.engines.native.RowState`:
weights, last row's sources, peak currents, rows done) and the per-epoch records
so far (MSE, weights after each epoch, step errors) are written atomically to
one ``.npz`` file. Resuming restores them and runs the remaining chunks with the
same compiled function, so a resumed run equals an uninterrupted one bit for bit.

A checkpoint carries a fingerprint of everything that determines the run
(settings, initial weights, circuit constants); resuming with other settings
is refused, naming the settings that differ.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

from .errors import ValidationError
from .io import atomic_write

FORMAT = 1


@dataclass
class Checkpoint:
    """A run stopped after ``epochs_done`` epochs."""

    epochs_done: int
    state: object  # RowState of the batch
    mse: np.ndarray  # (B, epochs_done)
    W_epoch: tuple  # per layer (B, epochs_done, n_out, n_in + 1), V
    step_error: np.ndarray  # (B, epochs_done), V


def fingerprint(config, W0, circuit) -> dict:
    """What must match to resume: the settings, and hashes of the initial weights
    and of the circuit's constants."""
    return {"format": FORMAT, "settings": json.loads(json.dumps(config.to_dict(), default=str)),
            "W0": _hash(W0), "circuit": _hash(jax.tree.leaves(circuit))}


def _hash(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, float))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path, fp: dict, state, parts) -> None:
    """Write the state after a chunk and the records of every chunk so far, atomically.

    ``parts``: the chunk outputs ``(mse, W_epoch, waves, step_error)`` in order.
    """
    leaves = [np.asarray(x) for x in jax.tree.leaves(state)]
    arrays = {f"state_{i}": x for i, x in enumerate(leaves)}
    arrays["mse"] = np.concatenate([p[0] for p in parts], axis=1)
    for l in range(len(parts[0][1])):
        arrays[f"W_epoch_{l}"] = np.concatenate([p[1][l] for p in parts], axis=1)
    arrays["step_error"] = np.concatenate([p[3] for p in parts], axis=1)
    arrays["fingerprint"] = np.array(json.dumps(fp, sort_keys=True))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write(path, buffer.getvalue())


def load(path, fp: dict, state_like) -> Checkpoint:
    """Read a checkpoint written by :func:`save` for the run ``fp`` describes.

    ``state_like``: a state of the same structure (its values are not used).
    """
    path = Path(path)
    try:
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
    except OSError as e:
        raise ValidationError(f"cannot resume: no readable checkpoint {path} "
                              f"({e.strerror or e}); run without --resume first") from None
    except (ValueError, EOFError) as e:
        raise ValidationError(f"cannot resume: checkpoint {path} is damaged ({e})") from None
    saved = json.loads(str(data.pop("fingerprint")))
    if saved != fp:
        raise ValidationError(f"cannot resume from {path}: {_difference(saved, fp)}; "
                              "use the same settings, or start afresh without --resume")
    treedef = jax.tree.structure(state_like)
    n = treedef.num_leaves
    state = jax.tree.unflatten(treedef, [jax.numpy.asarray(data[f"state_{i}"])
                                         for i in range(n)])
    W_epoch = tuple(data[f"W_epoch_{l}"] for l in range(sum(k.startswith("W_epoch_")
                                                             for k in data)))
    return Checkpoint(int(data["mse"].shape[1]), state, data["mse"], W_epoch,
                      data["step_error"])


def _difference(saved: dict, now: dict) -> str:
    """The first few settings that differ, as ``key: saved -> now``."""
    a, b = _flat(saved), _flat(now)
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if not keys:
        return "the checkpoint was made by another version"
    names = {"W0": "initial weights", "circuit": "circuit constants"}
    shown = [f"{names.get(k, k.removeprefix('settings.'))} was {a.get(k)!r}, now {b.get(k)!r}"
             if k not in names else f"{names[k]} differ" for k in keys[:3]]
    return "the checkpoint was made with other settings (" + "; ".join(shown) + ")"


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
