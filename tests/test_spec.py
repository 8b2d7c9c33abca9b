"""The TOML description: the issue's example, flags over the file, relative paths."""

import json

import numpy as np
import pytest

import aann
from aann.cli import build_config

EXAMPLE = '''
[network]
sizes = [2, 8, 1]
[constants]
C = "0.1pF"
Keta = "1S"          # Keta/C = 1e13 1/s, so t_row = 0.1 ps gives lambda = 1
Imax = "100uA"
Vbias = "1V"
[blocks.multiplier]  # law = "ideal" | "parasitic"
law = "ideal"
Km = "1e-4"          # A/V^2
# KI = "200uA"       # parasitic only: refused with law = "ideal"
Voff = "0V"          # offset of input 2
[blocks.activation]
Vamp = "1V"
Iref = "100uA"
[blocks.derivative]
Kd = 1.0
Vref = "1V"
[training]
dataset = "xor"      # xor | parity3 | two-row | path to a CSV with columns x1.. and y1..
t_row = "0.1ps"
epochs = 1000
seeds = 10           # or: init_weights = "file.json"
teach = "always"     # always | off | alternate (learn one epoch, hold the next, as Fig. 8)
order = "sequential" # or shuffle (per epoch, from the seed)
'''


def test_the_issue_example_parses_to_its_values(tmp_path):
    path = tmp_path / "xor.toml"
    path.write_text(EXAMPLE)
    c = aann.load_toml(path)
    assert c.network.sizes == (2, 8, 1) and c.network.n_capacitors == 33
    k = c.constants
    assert (k.C, k.Keta, k.Imax, k.Vbias) == pytest.approx((1e-13, 1.0, 1e-4, 1.0), rel=1e-12)
    m = c.blocks.multiplier
    assert m.law == "ideal"
    assert (m.Km, m.KI, m.Voff) == pytest.approx((1e-4, 2e-4, 0.0), rel=1e-12)
    assert (c.blocks.activation.Vamp, c.blocks.activation.Iref) == pytest.approx((1.0, 1e-4))
    assert (c.blocks.derivative.Kd, c.blocks.derivative.Vref) == (1.0, 1.0)
    t = c.training
    assert t.dataset == "xor" and t.t_row == pytest.approx(1e-13, rel=1e-12)
    assert (t.epochs, t.seeds, t.teach, t.order) == (1000, 10, "always", "sequential")
    assert c.lam == pytest.approx(1.0, rel=1e-12)
    assert c == aann.Config()  # the example is the default
    path.write_text(EXAMPLE.replace("# KI =", "KI ="))  # a key the law does not read
    with pytest.raises(aann.ValidationError, match='blocks.multiplier.KI is read only by law '
                                                   '"parasitic"'):
        aann.load_toml(path)


def test_flags_override_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[training]\nepochs = 7\nt_row = "1ps"\nteach = "off"\n'
                    '[blocks.multiplier]\nlaw = "parasitic"\n')
    c = build_config(path, topology="2-3-1", t_row="0.2ps", multiplier="ideal")
    assert c.network.sizes == (2, 3, 1)
    assert c.training.t_row == pytest.approx(2e-13)
    assert c.blocks.multiplier.law == "ideal"
    assert (c.training.epochs, c.training.teach) == (7, "off")  # not overridden: the file's


def test_init_weights_path_is_relative_to_the_toml_file(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    W = aann.random_weights((2, 3, 1), 5)
    (sub / "w.json").write_text(json.dumps({"layers": [w.tolist() for w in W]}))
    (sub / "c.toml").write_text('[network]\nsizes = [2, 3, 1]\n'
                                '[training]\ninit_weights = "w.json"\nepochs = 1\n')
    c = aann.load_toml(sub / "c.toml")
    nets = aann.read_weights(c.training.init_weights, c.network.sizes)
    assert len(nets) == 1
    for a, b in zip(nets[0]["layers"], W):
        np.testing.assert_array_equal(a, b)


def test_units_and_prefixes():
    q = aann.parse_quantity
    assert q("0.1ps", "t", "s") == pytest.approx(1e-13)
    assert q("100uA", "I", "A") == pytest.approx(1e-4)
    assert q("1meg", "R") == pytest.approx(1e6)
    assert q(3, "x") == 3.0
    for bad in ("nan", "inf", "1 2", "1pQ", float("nan")):
        with pytest.raises(aann.ValidationError):
            q(bad, "x", "s")


def test_documented_toml_block_lists_the_defaults():
    """The TOML reference (docs/toml.md, its block written by docs/hooks.py when the site
    is built; tests/test_docs.py checks the built page holds it) shows exactly the
    declarations' defaults: every key, none more."""
    import importlib.util
    import re
    import tomllib
    from pathlib import Path

    path = Path(__file__).parents[1] / "docs" / "hooks.py"
    spec_ = importlib.util.spec_from_file_location("aann_docs_hooks_spec", path)
    hooks = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(hooks)
    text = hooks.toml_reference()
    block = re.findall(r"```toml\n(.*?)```", text, re.S)[0]
    assert block == aann.spec.default_toml()
    assert aann.spec.from_dict(tomllib.loads(block)) == aann.Config()
    documented = set(re.findall(r"^#? ?(\w+) = ", block, re.M))
    spec = aann.spec
    every = {"sizes", "seed", *spec.constants_params(), *spec.nonideal_params()}
    every |= {k for kind in aann.blocks.KINDS for k in aann.blocks.section_params(kind)}
    every |= {"law"} | set(aann.params.params_of(aann.Training)) \
        | set(aann.params.params_of(aann.Data)) | set(aann.params.params_of(aann.Solver)) \
        | set(aann.params.params_of(aann.OffsetCancellation)) \
        | set(aann.params.params_of(aann.CellNetwork))
    assert every == documented
    # the keys the defaults read are set; the others (other laws', switched off) are
    # commented out
    read = {k for s, t in aann.Config().to_dict().items() if s != "blocks" for k in t}
    read |= {k for t in aann.Config().to_dict()["blocks"].values() for k in t}
    read |= set(aann.Data().to_dict())  # to_dict leaves [data] out at its defaults
    read |= set(aann.CellNetwork().to_dict())  # and [cells]
    assert read == set(re.findall(r"^(\w+) = ", block, re.M)) | {"init_weights", "test"}  # None


def test_a_table_path_in_a_toml_file_is_relative_to_that_file(tmp_path):
    (tmp_path / "cells").mkdir()
    path = tmp_path / "cells" / "net.toml"
    path.write_text('[blocks.multiplier]\nlaw = "table"\ntable = "sweep.csv"\n'
                    '[blocks.multiplier.charge]\ntable = "../charge.csv"\n'
                    '[blocks.activation]\nlaw = "table"\ntable = "/abs/act.csv"\n')
    cfg = aann.spec.load_toml(path)
    assert cfg.blocks.multiplier.table == str(tmp_path / "cells" / "sweep.csv")
    assert cfg.blocks.multiplier.role("charge").table == str(tmp_path / "cells/../charge.csv")
    assert cfg.blocks.activation.table == "/abs/act.csv"
