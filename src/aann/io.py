"""Files: atomic writes, and the weights JSON format.

weights.json: ``{"networks": [{"seed": S, "layers": [W1, W2, ...]}, ...]}`` where
``Wl[j][0]`` is the bias weight of neuron j of layer l and ``Wl[j][i]`` its
weight from input i, in volts. A file ``{"layers": [...]}`` holds one network.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ValidationError
from .spec import weight_shapes


def atomic_write(path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_savefig(fig, path) -> None:
    """``fig.savefig`` through a temporary file, the format taken from ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=200, bbox_inches="tight")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_writable_dir(path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".aann-probe."):
            pass
    except OSError as e:
        raise ValidationError(
            f"cannot write to output directory {path}: {e.strerror}; choose another --out"
        ) from None
    return path


def weights_to_json(networks: list[dict]) -> str:
    """``networks``: ``[{"seed": S, "layers": [array, ...]}, ...]``."""
    return json.dumps({"networks": [
        {"seed": n["seed"], "layers": [np.asarray(W).tolist() for W in n["layers"]]}
        for n in networks]}, indent=1)


def read_weights(path, sizes) -> list[dict]:
    """Networks from a weights JSON file, checked against the layer ``sizes``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ValidationError(f"cannot read initial weights {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ValidationError(f"initial weights {path} are not valid JSON: {e}") from None
    if isinstance(data, dict) and "layers" in data:
        data = {"networks": [{"seed": 0, "layers": data["layers"]}]}
    if not isinstance(data, dict) or not isinstance(data.get("networks"), list) \
            or not data["networks"]:
        raise ValidationError(
            f"initial weights {path}: expected {{\"networks\": [{{\"layers\": [...]}}]}} "
            "or {\"layers\": [...]}")
    shapes = weight_shapes(sizes)
    networks = []
    for k, net in enumerate(data["networks"]):
        layers = net.get("layers") if isinstance(net, dict) else None
        try:
            arrays = [np.asarray(W, dtype=float) for W in layers]
        except (TypeError, ValueError):
            arrays = None
        got = [a.shape for a in arrays] if arrays is not None else layers
        if arrays is None or got != shapes:
            topo = "-".join(map(str, sizes))
            raise ValidationError(
                f"initial weights {path}, network {k}: layer shapes {got} do not fit "
                f"topology {topo}, which needs {shapes} (rows: neurons; column 0: bias)")
        if not all(np.all(np.isfinite(a)) for a in arrays):
            raise ValidationError(f"initial weights {path}, network {k}: contains NaN or Inf")
        networks.append({"seed": net.get("seed", k), "layers": arrays})
    return networks


def random_weights(sizes, seed: int, init_range: float = 1.0) -> list[np.ndarray]:
    """Initial weights ``Vw(0) ~ uniform(-init_range, init_range)`` V, from ``seed``."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-init_range, init_range, shape) for shape in weight_shapes(sizes)]
