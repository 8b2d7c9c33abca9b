"""`aann reproduce ...` from the command line, and the merged report.md."""

import re

from aann.cli import main


def test_reproduce_fig8_command(tmp_path, capsys):
    assert main(["reproduce", "fig8", "--out", str(tmp_path), "--epochs", "4"]) == 0
    assert (tmp_path / "fig8_waveforms.csv").exists()
    assert "report.md" in capsys.readouterr().out
    text = (tmp_path / "report.md").read_text()
    assert "not run into this directory (yet): xor, parasitic, speed" in text


def test_bad_tests_option_is_a_user_error(tmp_path, capsys):
    assert main(["reproduce", "speed", "--out", str(tmp_path), "--tests", "9"]) == 2
    assert "error: --tests" in capsys.readouterr().err


# `reproduce all` is composition: each command's facts are tested at reduced size in its
# own file (tests/test_experiments_<name>.py). Here each command's `run` is replaced by one
# that records its arguments and writes a section with a figure, as the commands do.
REDUCED = {  # the settings `all --epochs 4 --seeds 2 --repeats 2 --speed-tests 1,2` passes on
    "fig8": {},
    "xor": {"epochs": 4, "seeds": 2},
    "parasitic": {"epochs": 4, "seeds": 2},
    "speed": {"epochs": 4, "repeats": 2, "tests": (1, 2)},
    "offsets": {"epochs": 4, "seeds": 2},
    "limits": {"epochs": 4, "seeds": 2},
    "transistor": {"epochs": 4, "seeds": 2, "corners": ("tt",), "mc_samples": 2,
                   "yield_samples": 2, "cosim_epochs": 2},
    "tasks": {"networks": ("iris",), "epochs": 4, "seeds": 2},
    "rules": {"networks": ("xor",), "epochs": 4, "seeds": 2},
    "energy": {"networks": ("xor",), "epochs": 4, "seeds": 2, "biases": (0.1, 1.0, 2.0)},
    "cancellation": {"networks": ("xor",), "epochs": 4, "seeds": 2},
}


def _recording(monkeypatch, missing=None):
    """Replace every command's run; returns the list of (name, out, kwargs) calls."""
    import importlib

    import matplotlib.pyplot as plt

    from aann.experiments import cli as experiments_cli
    from aann.experiments.report import write_fragment

    calls = []

    def fake(name):
        def run(out, **kwargs):
            calls.append((name, out, kwargs))
            fig, ax = plt.subplots()
            ax.plot([0, 1], [0, 1])
            fig.savefig(out / f"{name}_figure.png")
            plt.close(fig)
            write_fragment(out, name, f"## section {name}\n\n![{name}]({name}_figure.png)")
            return {"notes": [f"a note of {name}"]}
        return run

    for name in REDUCED:
        monkeypatch.setattr(importlib.import_module(f"aann.experiments.{name}"), "run",
                            fake(name))
    monkeypatch.setattr(experiments_cli, "_transistor_missing", lambda: missing)
    return calls


def test_reproduce_all_runs_every_command_in_order_with_the_reduced_settings(
        tmp_path, monkeypatch, capsys):
    from aann.experiments.report import ORDER

    calls = _recording(monkeypatch)
    assert main(["reproduce", "all", "--out", str(tmp_path), "--epochs", "4", "--seeds", "2",
                 "--repeats", "2", "--speed-tests", "1,2", "--engine", "native"]) == 0
    assert [name for name, _, _ in calls] == list(ORDER) == list(REDUCED)
    for name, out, kwargs in calls:
        assert out == tmp_path
        assert kwargs["engine"] == "native" and kwargs["progress"] is True
        assert {k: kwargs[k] for k in REDUCED[name]} == REDUCED[name], name
    assert "note: a note of speed" in capsys.readouterr().out
    text = (tmp_path / "report.md").read_text()
    assert [m for m in re.findall(r"^## section (\w+)$", text, re.M)] == list(ORDER)
    embedded = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    assert embedded == {p.name for p in tmp_path.glob("*.png")}
    assert "`aann reproduce all` wall time" in text and "not run into" not in text


def test_reproduce_all_at_full_size_passes_each_command_its_defaults(tmp_path, monkeypatch):
    from aann.experiments import cancellation, energy, rules, tasks, transistor, xor

    calls = _recording(monkeypatch)
    assert main(["reproduce", "all", "--out", str(tmp_path)]) == 0
    got = {name: kw for name, _, kw in calls}
    assert got["xor"]["epochs"] == xor.EPOCHS and got["xor"]["seeds"] == xor.SEEDS
    assert got["transistor"]["corners"] == transistor.CORNERS
    assert got["transistor"]["cosim_epochs"] == transistor.COSIM_EPOCHS
    assert got["tasks"]["networks"] == tuple(tasks.NETWORKS)
    assert got["rules"]["networks"] == tuple(rules.NETWORKS)
    assert got["energy"]["biases"] == energy.BIASES
    assert got["cancellation"]["networks"] == tuple(cancellation.NETWORKS)
    assert got["speed"]["tests"] == (1, 2, 3, 4)


def test_reproduce_all_without_ngspice_skips_the_cells_and_says_why(
        tmp_path, monkeypatch, capsys):
    calls = _recording(monkeypatch, missing="ngspice was not found")
    assert main(["reproduce", "all", "--out", str(tmp_path), "--epochs", "4"]) == 0
    names = [name for name, _, _ in calls]
    assert "transistor" not in names and "energy" not in names and len(names) == 9
    out = capsys.readouterr().out
    assert "transistor: skipped, ngspice was not found" in out
    assert "energy: skipped, ngspice was not found" in out
    assert "not run into this directory (yet): transistor, energy" in \
        (tmp_path / "report.md").read_text()
