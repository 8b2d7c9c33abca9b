"""Files: atomic writes, output paths, the weights JSON format and numeric CSV tables.

weights.json: ``{"networks": [{"seed": S, "layers": [W1, W2, ...]}, ...]}`` where
``Wl[j][0]`` is the bias weight of neuron j of layer l and ``Wl[j][i]`` its
weight from input i, in volts. A file ``{"layers": [...]}`` holds one network.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from .errors import ValidationError, short_repr
from .spec import weight_shapes

SEED_LIMIT = 2**63  # seeds are stored as int64 alongside the results


def _new_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 less the process umask."""
    umask = os.umask(0)  # the only way to read it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_file(path, mode: str = "w"):
    """A file to write whose content replaces ``path`` at once when the block ends (a
    temporary file beside it, then a rename); on an error ``path`` is left as it was."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, _new_file_mode())  # mkstemp creates it 0o600
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
        raise


def atomic_savefig(fig, path) -> None:
    """``fig.savefig`` through a temporary file, the format taken from ``path``."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
        os.close(fd)
    except OSError as e:
        raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        fig.savefig(tmp, dpi=200, bbox_inches="tight")
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
        raise


def check_path_text(path, what: str) -> Path:
    """``path`` as a Path, refusing ``''`` and names with line breaks or NUL bytes."""
    if isinstance(path, (str, bytes)) and not path:  # Path("") would mean "."
        raise ValidationError(f"the {what} is an empty string; give a path")
    if any(c in str(path) for c in "\n\r\0"):
        raise ValidationError(
            f"the {what} {short_repr(str(path))} contains a line break or NUL byte; "
            "give a plain path")
    return Path(path)


def ensure_writable_dir(path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    path = check_path_text(path, "output directory")
    try:
        if path.exists() and not path.is_dir():
            raise ValidationError(f"cannot write to output directory {path}: it is a file, "
                                  "not a folder; choose another --out")
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".aann-probe."):
            pass
    except OSError as e:
        raise ValidationError(
            f"cannot write to output directory {path}: {e.strerror or e}; choose another --out"
        ) from None
    return path


def check_output_file(path) -> Path:
    """Check that the single output file ``path`` can be written: it is not a folder,
    and its folder exists and takes new files. Return it as a Path."""
    path = check_path_text(path, "output file")
    folder = path.parent
    try:
        if path.is_dir():
            raise ValidationError(f"output file {path} is a folder; give a file name")
        if not folder.is_dir():
            problem = "does not exist; create it first" if not folder.exists() \
                else "is not a folder"
            raise ValidationError(f"cannot write {path}: folder {folder} {problem}")
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".aann-probe."):
            pass
    except OSError as e:
        raise ValidationError(f"cannot write {path} in folder {folder}: {e.strerror or e}; "
                              "choose another path") from None
    return path


def read_text(path, what: str) -> str:
    """The text of the file ``path`` (a ``what``: "data set", ...), decoded as UTF-8;
    a leading byte-order mark is dropped."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the name
        raise ValidationError(f"cannot read {what} {path}: "
                              f"{getattr(e, 'strerror', None) or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationError(
            f"{what} {path} is not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start}); "
            "save it as UTF-8") from None


def read_csv_numbers(path, what: str, expected: str) -> tuple[list[str], np.ndarray]:
    """The header (names stripped) and the rows of a CSV file of finite numbers, as an
    array (rows, columns); blank lines are skipped. ``expected`` describes the columns
    for the messages."""
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path, what), newline=""))
    header, rows = None, []
    try:
        for row in reader:
            if not row:
                continue
            if header is None:
                header = [h.strip() for h in row]
                continue
            if len(row) != len(header):
                raise ValidationError(
                    f"{what} {path}, line {reader.line_num}: {len(row)} value(s), but the "
                    f"header has {len(header)} columns; give one value per column")
            values = []
            for cell in row:
                try:
                    values.append(float(cell))
                except ValueError:
                    raise ValidationError(
                        f"{what} {path}, line {reader.line_num}: {short_repr(cell)} is not a "
                        "number") from None
                if not np.isfinite(values[-1]):
                    raise ValidationError(
                        f"{what} {path}, line {reader.line_num}: {cell.strip()} is NaN or Inf; "
                        "give finite numbers")
            rows.append(values)
    except csv.Error as e:  # e.g. a cell over csv.field_size_limit() characters
        raise ValidationError(
            f"{what} {path}, line {reader.line_num}: not readable as CSV ({e})") from None
    if header is None:
        raise ValidationError(f"{what} {path} is empty; it needs a header line with the "
                              f"columns {expected} and rows of numbers")
    if not rows:
        raise ValidationError(f"{what} {path} has a header but no rows of numbers")
    return header, np.array(rows, dtype=float)


def match_columns(header: list[str], path, what: str, expected: str, numbered=(),
                  required=(), optional=()) -> dict:
    """Where each expected column of ``header`` is: ``{name: index}`` for the
    ``required`` and ``optional`` names, and ``{prefix: [index of prefix1, prefix2,
    ...]}`` for each ``numbered`` prefix. Names are exact (case-sensitive); each
    numbered group must run 1..n without gaps, n >= 1. Anything else is refused."""
    def refuse(problem):
        raise ValidationError(f"{what} {path}: {problem}; expected columns {expected} "
                              "(exact names, numbered from 1)")

    pattern = re.compile("(" + "|".join(map(re.escape, numbered)) + r")([1-9][0-9]*)")
    twice = next((h for h, count in Counter(header).items() if count > 1), None)
    if twice is not None:
        refuse(f"column {short_repr(twice)} appears twice")
    found, groups = {}, {p: {} for p in numbered}
    for i, name in enumerate(header):
        m = pattern.fullmatch(name) if numbered else None
        if m:
            groups[m[1]][int(m[2])] = i
        elif name in required or name in optional:
            found[name] = i
        else:
            refuse(f"unknown column {short_repr(name)}")
    for name in required:
        if name not in found:
            refuse(f"no column {name!r}")
    for p, g in groups.items():
        gap = next(n for n in range(1, len(g) + 2) if n not in g)
        if gap <= len(g) or not g:
            refuse(f"no column {p}{gap}" + (f" (there is {p}{max(g)})" if g else ""))
        found[p] = [g[n] for n in range(1, len(g) + 1)]
    return found


def weights_to_json(networks: list[dict]) -> str:
    """``networks``: ``[{"seed": S, "layers": [array, ...]}, ...]``, as strict JSON.

    A weight that is not finite (NaN or Inf, from a diverged run) is written as
    ``null``; :func:`read_weights` refuses such a file as initial weights.
    """
    def layer(W):
        a = np.asarray(W, dtype=float)
        out = a.astype(object)
        out[~np.isfinite(a)] = None
        return out.tolist()

    return json.dumps({"networks": [{"seed": n["seed"], "layers": [layer(W) for W in n["layers"]]}
                                    for n in networks]}, indent=1, allow_nan=False)


def _matrix(W) -> np.ndarray | None:
    """A JSON layer (a list of equally long rows of numbers; null reads as NaN) as a
    2-D float array, or None when it is not one."""
    if not isinstance(W, list) or not all(isinstance(r, list) for r in W) \
            or len({len(r) for r in W}) > 1:
        return None
    number = (int, float, type(None))
    if not all(isinstance(v, number) and not isinstance(v, bool) for r in W for v in r):
        return None
    try:
        a = np.array(W, dtype=float)
    except OverflowError:  # an integer beyond float range
        return None
    return a if a.ndim == 2 else a.reshape(len(W), 0)  # [] has no rows to give the width


def read_weights(path, sizes) -> list[dict]:
    """Networks from a weights JSON file, checked against the layer ``sizes``."""
    path = Path(path)
    text = read_text(path, "initial weights")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValidationError(f"initial weights {path}: JSON nested too deeply; expected "
                              "lists of rows of numbers") from None
    except ValueError as e:  # JSONDecodeError, or an integer of over 4300 digits
        raise ValidationError(f"initial weights {path} are not valid JSON: {e}") from None
    if isinstance(data, dict) and "layers" in data:
        data = {"networks": [{"seed": 0, "layers": data["layers"]}]}
    if not isinstance(data, dict) or not isinstance(data.get("networks"), list) \
            or not data["networks"]:
        raise ValidationError(
            f"initial weights {path}: expected {{\"networks\": [{{\"layers\": [...]}}]}} "
            "or {\"layers\": [...]}")
    shapes = weight_shapes(sizes)
    topo = "-".join(map(str, sizes))
    networks = []
    for k, net in enumerate(data["networks"]):
        where = f"initial weights {path}, network {k}"
        layers = net.get("layers") if isinstance(net, dict) else None
        if not isinstance(layers, list):
            raise ValidationError(f"{where}: needs \"layers\", a list of weight matrices "
                                  f"(topology {topo}: shapes {shapes})")
        arrays = [_matrix(W) for W in layers]
        if any(a is None for a in arrays):
            l = next(k for k, a in enumerate(arrays) if a is None)
            raise ValidationError(f"{where}, layer {l + 1}: not a list of equally long rows of "
                                  "numbers; write each layer as [[bias, w1, ...], ...]")
        got = [a.shape for a in arrays]
        if got != shapes:
            raise ValidationError(
                f"{where}: layer shapes {got} do not fit "
                f"topology {topo}, which needs {shapes} (rows: neurons; column 0: bias)")
        if not all(np.all(np.isfinite(a)) for a in arrays):
            raise ValidationError(f"{where}: contains NaN, Inf or null (weights of a diverged "
                                  "run?); give finite weights")
        networks.append({"seed": check_seed(net.get("seed", k), where), "layers": arrays})
    return networks


def check_seed(seed, where: str) -> int:
    """``seed`` as an int, or a :class:`ValidationError` naming ``where`` it came from:
    seeds are integers in 0..2**63-1 (they seed ``numpy.random.default_rng``)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) \
            or not 0 <= seed < SEED_LIMIT:
        raise ValidationError(
            f"{where}: seed {short_repr(seed)} is invalid; seeds are integers >= 0 and "
            "< 2**63 (they seed numpy.random.default_rng for the shuffle order)")
    return int(seed)


def random_weights(sizes, seed: int, init_range: float = 1.0) -> list[np.ndarray]:
    """Initial weights ``Vw(0) ~ uniform(-init_range, init_range)`` V, from ``seed``."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-init_range, init_range, shape) for shape in weight_shapes(sizes)]
