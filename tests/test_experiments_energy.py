"""`aann reproduce energy` at reduced size: its figures follow from the definitions
(docs/energy.md), its report says what the numbers say, the bias optimum is where the
energy is lowest; and the whole command with the SkyWater cells measured (sky130)."""

import math

import numpy as np
import pytest

import aann
from aann.cli import main
from aann.experiments import energy

F0 = {"multiplier": 16e6, "sigmoid": 52e6, "derivative": 7e6, "charging": 25e6}
I0 = {"multiplier": 148e-6, "sigmoid": 19.7e-6, "derivative": 13.9e-6, "charging": 84.3e-6}


def synthetic_cells(scales=(0.5, 1.0, 3.0)) -> dict:
    """Cells whose supply current grows as the bias and bandwidth as its square root (as
    the SkyWater multiplier's does above weak inversion); the multiplier fails at 3x."""
    rows = {name: [{"scale": k, "Rb_length_um": 17 / k, "Isupply_A": I0[name] * k,
                    "f3dB_Hz": math.nan if (name == "multiplier" and k == 3.0)
                    else F0[name] * math.sqrt(k)} for k in scales] for name in F0}
    return {"scales": list(scales), "Imax": 67.7e-6, "Imax_law": "tanh",
            "cells": {name: {"bias": rows[name], "area_m2": 1e-9} for name in F0}}


EPOCHS, SEEDS = 3, 2
"""Every run of this file: the same networks, so one compile of each simulation (the
circuit, the digital baseline, the invariance run) serves the whole file."""


@pytest.fixture(scope="module")
def run_xor(tmp_path_factory):
    out = tmp_path_factory.mktemp("energy")
    facts = energy.run(out, networks=("xor",), epochs=EPOCHS, seeds=SEEDS,
                       cells=synthetic_cells())
    return out, facts


def test_the_figures_follow_from_their_definitions(run_xor):
    _, facts = run_xor
    f = facts["networks"]["xor"]
    assert f["rows"] == 4 and f["epochs"] == 3
    for x in f["sets"].values():
        assert x["t_row"] == max(x["t_row_Imax"], x["t_row_bandwidth"])
        assert x["t_row_Imax"] == pytest.approx(energy.T_ROW * f["peak"] / x["Imax"])
        assert x["T"] == pytest.approx(3 * 4 * x["t_row"])
        assert x["training"] == pytest.approx(x["power"] * x["T"] + f["charging"])
        assert x["epoch"] == pytest.approx(x["training"] / 3)
    # every block at the paper's 40 GHz: the error path's settling, as reproduce rules has it
    from aann.experiments.rules import settling_time

    cfg = energy.network_config("xor", 3, 2)
    assert f["sets"]["behavioural"]["t_row_bandwidth"] == pytest.approx(
        settling_time(cfg, energy.PAPER_F3DB), rel=1e-9)
    # the cells' power: every instance at its cell's current (the error block the sigmoid's)
    counts = f["blocks"]
    I = {"multiplier": I0["multiplier"], "activation": I0["sigmoid"],
         "derivative": I0["derivative"], "error": I0["sigmoid"], "charging": I0["charging"]}
    hand = 1.8 * sum(n * I[name.partition(".")[0]] for name, n in counts.items()
                     if name not in ("capacitors", "type2"))
    assert f["sets"]["sky130"]["power"] == pytest.approx(hand, rel=1e-12)
    d = f["digital"]
    assert d["flops"] == 245 * 4 * 3 and d["seconds"] > 0
    assert d["energy"]["cpu"] == pytest.approx(d["flops"] / 16.876e9)


def test_the_charging_energy_is_that_of_the_current_limited_row(run_xor):
    f = run_xor[1]["networks"]["xor"]
    inv = f["invariance"]
    assert inv["t_row"] == f["sets"]["behavioural"]["t_row_Imax"]
    assert inv["charging"] == pytest.approx(f["charging"], rel=1e-6)
    assert inv["peak"] == pytest.approx(aann.Config().constants.Imax, rel=1e-6)


def test_the_bias_optimum_and_the_report(run_xor):
    """Power as the bias, bandwidth as its square root: the energy per training (the rows
    bandwidth-limited) grows as the root of the bias, so the lowest bias that works is
    the optimum; the failing bias is left out and said so."""
    out, facts = run_xor
    f = facts["networks"]["xor"]
    points = {p["scale"]: p for p in f["bias"]}
    assert not points[3.0]["ok"] and points[0.5]["ok"]
    assert points[0.5]["limited_by"] == "bandwidth"
    assert energy.optimum(f)["scale"] == 0.5
    ratio = (points[1.0]["training"] - f["charging"]) / (points[0.5]["training"] - f["charging"])
    assert ratio == pytest.approx(math.sqrt(2), rel=1e-6)
    text = (out / "report_energy.md").read_text()
    v = facts["verdicts"]["xor"]
    for s in ("sky130", "behavioural"):
        for dev in ("cpu", "gpu"):
            r = v[s][dev]
            assert r == pytest.approx(f["sets"][s]["training"] / f["digital"]["energy"][dev])
            word = f"{r:.3g}x more" if r >= 1 else f"{1 / r:.3g}x less"
            assert word in text
    assert "lowest at 0.5x the bias as drawn" in text and "Above 3x" in text
    for name in ("energy.csv", "energy_cells.csv", "energy_bias.csv", "energy_bias.png",
                 "energy_compare.png"):
        assert (out / name).stat().st_size > 0, name
    rows = (out / "energy.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # two block sets and two digital prices


def test_a_price_per_flop_given_is_used_and_said_so(tmp_path):
    facts = energy.run(tmp_path, networks=("xor",), epochs=EPOCHS, seeds=SEEDS,
                       cells=synthetic_cells((1.0,)), J_per_flop={"gpu": 1e-12})
    d = facts["networks"]["xor"]["digital"]
    assert d["energy"]["gpu"] == pytest.approx(d["flops"] * 1e-12)
    assert d["energy"]["cpu"] == pytest.approx(d["flops"] / 16.876e9)  # the default
    assert "1 pJ/FLOP (GPU: given by the user)" in (tmp_path / "report_energy.md").read_text()


def test_bad_networks_and_biases_are_user_errors(tmp_path, capsys):
    assert main(["reproduce", "energy", "--out", str(tmp_path), "--networks", "mnist"]) == 2
    assert "--networks" in capsys.readouterr().err
    assert main(["reproduce", "energy", "--out", str(tmp_path), "--biases", "0"]) == 2
    assert "--bias" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.ngspice
@pytest.mark.sky130
def test_reproduce_energy_with_the_cells_measured(tmp_path, capsys):
    """The command itself, XOR alone (the networks of the runs above), two biases: the
    cells measured in ngspice (their supply currents the Isupply defaults within 1 %),
    the report written."""
    assert main(["reproduce", "energy", "--out", str(tmp_path), "--networks", "xor",
                 "--epochs", str(EPOCHS), "--seeds", str(SEEDS), "--biases", "0.5,1"]) == 0
    assert "SkyWater cells / digital" in capsys.readouterr().out
    text = (tmp_path / "report.md").read_text()
    assert "Energy, power and area against digital" in text
    header, *rows = (tmp_path / "energy_cells.csv").read_text().splitlines()
    cols = header.split(",")
    drawn = {r.split(",")[0]: float(r.split(",")[cols.index("Isupply_A")]) for r in rows
             if float(r.split(",")[1]) == 1.0}
    from aann.blocks import SUPPLY

    for cell, kind in (("multiplier", "multiplier"), ("sigmoid", "activation"),
                       ("derivative", "derivative"), ("charging", "charging")):
        assert drawn[cell] == pytest.approx(SUPPLY[kind], rel=1e-2)
    table = np.genfromtxt(tmp_path / "energy.csv", delimiter=",", names=True, dtype=None,
                          encoding=None)
    sky = table[table["blocks"] == "sky130"][0]
    beh = table[table["blocks"] == "behavioural"][0]
    assert sky["t_row_bandwidth_s"] > 1e3 * beh["t_row_bandwidth_s"]  # MHz cells, 40 GHz
