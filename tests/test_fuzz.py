"""Property-based fuzzing of every input path: a clean error or a sane result, quickly.

The promise under test: whatever a user writes into a TOML description, a data
set CSV, a stimulus CSV, a weights JSON or the command's flags, aann answers
with an :class:`aann.AannError` (the CLI: one line ``error: ...``, exit code 2)
or with a valid object, within a time bound; never another exception, never a
traceback, never a hang. The simulation itself is not run here (its inputs are
what is fuzzed; ``train_prepared`` is replaced by a stand-in in the CLI cases).

Profiles: ``ci`` (the default, a bounded number of examples, part of ``make
test``) and ``long`` (``make fuzz``: ``HYPOTHESIS_PROFILE=long``, about ten
minutes).
"""

import json
import math
import os
import string
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import aann
from aann import cli
from aann.datasets import load_dataset
from aann.io import read_weights

settings.register_profile("ci", max_examples=60, deadline=5000, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("long", max_examples=30000, deadline=5000,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def small_memory_budget(monkeypatch):
    """Keep refused sizes cheap: a budget of 256 MiB for the arrays of a run."""
    monkeypatch.setenv("AANN_MEMORY_GB", "0.25")


# --- values a user might write ------------------------------------------------------

UNITS = ["", "s", "ps", "fs", "V", "mV", "A", "uA", "F", "pF", "S", "Ohm", "kOhm", "Hz", "u",
         "meg", "x", "µA", "Ω"]
numbers = st.one_of(
    st.integers(min_value=-10, max_value=10), st.integers(), st.floats(allow_nan=True),
    st.sampled_from([0, 1, -1, 1e-300, 1e300, 2 ** 63, 10 ** 30, 0.5]))
quantity_text = st.builds(lambda n, u: f"{n}{u}", st.one_of(numbers, st.just("1e999999")),
                          st.sampled_from(UNITS))
texts = st.text(string.printable + "µΩé\x00", max_size=30)
scalars = st.one_of(numbers, quantity_text, texts, st.booleans(),
                    st.sampled_from(["xor", "two-row", "parity3", "auto", "ideal",
                                     "parasitic", "alternate", "shuffle", "tsit5", "euler",
                                     "2-3-1", "1-2-1"]))
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.lists(st.integers(min_value=-2, max_value=6), min_size=0, max_size=5))

KEYS = {section: list(keys) for section, keys in aann.Config().to_dict().items()
        if section != "blocks"}
BLOCK_KEYS = {kind: list(keys) for kind, keys in aann.Config().to_dict()["blocks"].items()}


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)  # a TOML basic string is a JSON string


@st.composite
def descriptions(draw) -> str:
    """TOML text: known sections and keys mostly, some unknown ones, any values."""
    lines = []
    for section in draw(st.lists(st.sampled_from([*KEYS, "blocks", "junk"]), max_size=4,
                                 unique=True)):
        if section == "blocks":
            for kind in draw(st.lists(st.sampled_from([*BLOCK_KEYS, "nosuch"]), max_size=3,
                                      unique=True)):
                lines.append(f"[blocks.{kind}]")
                keys = BLOCK_KEYS.get(kind, ["x"]) + ["bogus"]
                for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
                    lines.append(f"{key} = {toml_value(draw(values))}")
            continue
        lines.append(f"[{section}]")
        keys = KEYS.get(section, ["x"]) + ["bogus"]
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            lines.append(f"{key} = {toml_value(draw(values))}")
    return "\n".join(lines) + "\n"


def clean_or(fn, *args, **kw):
    """``fn(*args)``; an :class:`aann.AannError` is a clean answer (returns None)."""
    try:
        result = fn(*args, **kw)
    except aann.AannError as e:
        assert str(e).strip(), "an error without a message"
        event(f"{getattr(fn, '__name__', 'read')}: refused")
        return None
    event(f"{getattr(fn, '__name__', 'read')}: accepted")
    return result


# --- the properties ---------------------------------------------------------------

@given(text=descriptions())
def test_any_description_is_refused_cleanly_or_prepared(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    config = clean_or(aann.load_toml, path)
    if config is None:
        return
    assert math.isfinite(config.lam) and config.constants.C > 0
    prepared = clean_or(aann.prepare, config)
    if prepared is not None:
        assert all(np.all(np.isfinite(w)) for w in prepared.W0)
        assert prepared.n_networks == config.training.seeds


@given(data=st.binary(max_size=200))
def test_any_bytes_as_a_description_are_refused_cleanly(tmp_path, data):
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    clean_or(aann.load_toml, path)


COLUMNS = ["x1", "x2", "x3", "y1", "y2", "X1", "x0", "y", "foo", "", "x1 ", "time", "Vin1",
           "Vin2", "Vtarget1", "Vteach", "vteach", "Vin3"]
cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.integers(min_value=-3, max_value=3).map(str),
                  st.sampled_from(["", "nan", "1e999", "abc", "0.5", " 1 ", "1,2", '"']))


@st.composite
def csv_texts(draw, kind: str) -> str:
    """A CSV: well formed (``kind`` data set or stimulus) with small changes, or anything."""
    if draw(st.booleans()):
        header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=5))
        rows = draw(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=5))
    else:
        n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        if kind == "dataset":
            header = [f"x{i + 1}" for i in range(n_in)] + [f"y{k + 1}" for k in range(n_out)]
        else:
            header = ["time"] + [f"Vin{i + 1}" for i in range(n_in)] + \
                [f"Vtarget{k + 1}" for k in range(n_out)] + ["Vteach"] * draw(st.booleans())
        n_rows = draw(st.integers(1, 4))
        numbers_ = st.floats(-2, 2, allow_nan=False).map(repr)
        rows = [[draw(numbers_) for _ in header] for _ in range(n_rows)]
        if kind == "stimulus":
            for k, row in enumerate(rows):
                row[0] = repr(k * 1e-13)
        if draw(st.booleans()):  # one change: a cell, or a column name
            r, c = draw(st.integers(0, n_rows - 1)), draw(st.integers(0, len(header) - 1))
            if draw(st.booleans()):
                rows[r][c] = draw(cells)
            else:
                header[c] = draw(st.sampled_from(COLUMNS))
    return "\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n"


@given(text=csv_texts("dataset"))
def test_any_data_set_csv_is_refused_cleanly_or_read(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text)
    ds = clean_or(load_dataset, str(path))
    if ds is not None:
        assert ds.X.ndim == ds.Y.ndim == 2 and ds.X.shape[0] == ds.Y.shape[0] >= 1
        assert np.all(np.isfinite(ds.X)) and np.all(np.isfinite(ds.Y))


@given(text=csv_texts("stimulus"))
def test_any_stimulus_csv_is_refused_cleanly_or_read(tmp_path, text):
    path = tmp_path / "s.csv"
    path.write_text(text)
    wave = clean_or(aann.Waveform.from_csv, path)
    if wave is not None:
        assert np.all(np.diff(wave.time) > 0)
        assert np.all(np.isfinite(np.asarray(wave.Vin, float)))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(["networks", "layers", "seed",
                                                             "x"]), inner, max_size=3)),
    max_leaves=30)


def weights_like(draw_values):
    """``{"networks": [{"seed": S, "layers": [...]}]}`` for 1-2-1, with any values inside."""
    layer = st.lists(st.lists(draw_values, min_size=2, max_size=3), min_size=1, max_size=2)
    network = st.fixed_dictionaries({"seed": st.one_of(st.integers(-2, 5), json_values),
                                     "layers": st.lists(layer, min_size=1, max_size=3)})
    return st.fixed_dictionaries({"networks": st.lists(network, min_size=0, max_size=3)})


@given(data=st.one_of(json_values, weights_like(st.floats(-2, 2)),
                      weights_like(st.one_of(st.floats(), st.none(), st.text(max_size=2)))))
def test_any_weights_json_is_refused_cleanly_or_read(tmp_path, data):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data))
    networks = clean_or(read_weights, path, (1, 2, 1))
    if networks is not None:
        for n in networks:
            assert [np.shape(w) for w in n["layers"]] == [(2, 2), (1, 3)]
            assert isinstance(n["seed"], int) and n["seed"] >= 0


@given(data=st.binary(max_size=200))
def test_any_bytes_as_data_files_are_refused_cleanly(tmp_path, data):
    for name, read in (("d.csv", lambda p: load_dataset(str(p))),
                       ("s.csv", aann.Waveform.from_csv),
                       ("w.json", lambda p: read_weights(p, (1, 2, 1)))):
        path = tmp_path / name
        path.write_bytes(data)
        clean_or(read, path)


class Reached(Exception):
    """The CLI got past every check to the simulation."""


flag_values = st.one_of(quantity_text, texts, numbers.map(str))
FLAGS = ["--topology", "--dataset", "--t-row", "--t-edge", "--epochs", "--seeds", "--teach",
         "--multiplier", "--engine", "--init-weights", "--stimulus"]


@given(flags=st.lists(st.tuples(st.sampled_from(FLAGS), flag_values), max_size=4))
def test_any_flags_get_one_line_or_reach_the_simulation(tmp_path, monkeypatch, capsys, flags):
    train_module = sys.modules["aann.train"]  # the module; aann.train is the function

    def stand_in(*args, **kw):
        raise Reached

    monkeypatch.setattr(train_module, "train_prepared", stand_in)
    argv = ["train", "--out", str(tmp_path / "out")]
    for flag, value in flags:
        argv += [flag, value]
    try:
        rc = cli.main(argv)
    except Reached:
        event("flags: reached the simulation")
        return
    event("flags: refused")
    err = capsys.readouterr().err.strip()
    assert rc == 2, (argv, err)
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
