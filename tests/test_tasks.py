"""Real tasks (issue #21): a classification trained on iris, its reported test accuracy
checked against an independent forward pass, ``aann evaluate``, and bad data refused.

One run is trained once for the module (iris 4-8-3, 20 epochs, 3 seeds, 30 % of each
class held out, rows shuffled) and shared by every test."""

import csv
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import aann
from aann.cli import main

IRIS = """
[network]
sizes = [4, 8, 3]
[training]
dataset = "iris"
epochs = 20
seeds = 3
order = "shuffle"
[data]
test_fraction = 0.3
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The run folder of the shared iris run, evaluated once by ``aann evaluate``."""
    folder = tmp_path_factory.mktemp("tasks")
    (folder / "iris.toml").write_text(IRIS)
    res = aann.train(aann.load_toml(folder / "iris.toml"))
    res.save(folder / "run", plots=False)
    assert main(["evaluate", str(folder / "run")]) == 0
    return folder / "run"


def read_csv(path) -> tuple[list[str], np.ndarray]:
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], float)


def forward(layers, X):
    """Ideal blocks, default constants (Km = Iref, Vamp = Vbias = 1 V): per layer
    ``sigmoid(W[:, 0] * 1 V + W[:, 1:] @ x)``, numpy only."""
    a = X
    for W in layers:
        W = np.asarray(W, float)
        a = 1.0 / (1.0 + np.exp(-(W[:, 0] * 1.0 + a @ W[:, 1:].T)))
    return a


def test_reported_test_accuracy_equals_independent_forward_pass(run):
    header, data = read_csv(run / "test.csv")
    n_in = sum(h.startswith("x") for h in header)
    X, Y = data[:, :n_in], data[:, n_in:]
    assert X.shape == (45, 4) and Y.shape == (45, 3)  # 15 of each class's 50 rows
    truth = Y.argmax(axis=1)
    assert np.bincount(truth).tolist() == [15, 15, 15]
    networks = json.loads((run / "weights.json").read_text())["networks"]
    summary = json.loads((run / "summary.json").read_text())["networks"]
    _, pred = read_csv(run / "evaluation" / "predictions.csv")
    assert len(networks) == len(summary) == 3
    for b, (net, reported) in enumerate(zip(networks, summary)):
        assert net["seed"] == reported["seed"] == b
        out = forward(net["layers"], X)
        predicted = out.argmax(axis=1)
        assert np.mean(predicted == truth) == reported["final_test_accuracy"]
        mine = pred[pred[:, 0] == b]  # network, seed, row, class, predicted, Vout1..
        assert mine[:, 2].tolist() == list(range(45))
        assert mine[:, 3].tolist() == truth.tolist()
        assert mine[:, 4].tolist() == predicted.tolist()  # row for row
        np.testing.assert_allclose(mine[:, 5:], out, rtol=0, atol=1e-12)
    assert 0.5 < np.median([n["final_test_accuracy"] for n in summary]) <= 1.0


def test_evaluate_outputs(run):
    ev_dir = run / "evaluation"
    summary = json.loads((run / "summary.json").read_text())["networks"]
    report = json.loads((ev_dir / "evaluation.json").read_text())
    assert report["rows"] == 45 and report["classes"] == 3
    for b, net in enumerate(report["networks"]):
        assert (ev_dir / f"confusion_{net['seed']}.png").stat().st_size > 1000
        m = np.array(net["confusion"])
        assert m.shape == (3, 3) and m.sum() == 45 and m.sum(axis=1).tolist() == [15] * 3
        assert np.trace(m) == net["correct"]
        assert net["accuracy"] == summary[b]["final_test_accuracy"]
    header, pred = read_csv(ev_dir / "predictions.csv")
    assert header == ["network", "seed", "row", "class", "predicted", "Vout1", "Vout2", "Vout3"]
    assert pred.shape == (3 * 45, 8)


def test_evaluate_other_rows(run, tmp_path):
    """The training rows (a CSV in volts) give the reported train accuracy; the whole
    built-in iris, encoded with the run's saved ranges, its 150 rows."""
    summary = json.loads((run / "summary.json").read_text())["networks"]
    assert main(["evaluate", str(run), "--dataset", str(run / "train.csv"),
                 "--out", str(tmp_path / "train")]) == 0
    report = json.loads((tmp_path / "train" / "evaluation.json").read_text())
    assert [n["accuracy"] for n in report["networks"]] == \
        [n["final_train_accuracy"] for n in summary]
    assert main(["evaluate", str(run), "--dataset", "iris", "--out", str(tmp_path / "all")]) == 0
    report = json.loads((tmp_path / "all" / "evaluation.json").read_text())
    assert report["rows"] == 150
    for n, s in zip(report["networks"], summary):  # 105 train + 45 test rows
        correct = 105 * s["final_train_accuracy"] + 45 * s["final_test_accuracy"]
        assert n["correct"] == round(correct)


def write(path, text):
    path.write_text(text)
    return path


def lines(rows):
    return "\n".join(",".join(map(str, r)) for r in rows) + "\n"


def bad_inputs(tmp):
    """(arguments of aann train, what the one line says) for each bad data set."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (12, 2)).round(3)
    classes = [0] * 5 + [1] * 5 + [2] * 2
    one = write(tmp / "one.csv", lines([["x1", "x2", "class"], *[[*x, 0] for x in X]]))
    small = write(tmp / "small.csv", lines([["x1", "x2", "class"],
                                            *[[*x, c] for x, c in zip(X, classes)]]))
    const = write(tmp / "const.csv", lines([["x1", "x2", "class"],
                                            *[[x[0], 3.0, c % 2] for x, c in zip(X, classes)]]))
    half = write(tmp / "half.csv", lines([["x1", "x2", "class"], [0, 1, 0], [1, 0, 1.5],
                                          [1, 1, 1]]))
    two = write(tmp / "two.csv", lines([["x1", "x2", "class"],
                                        *[[*x, c % 2] for x, c in zip(X, classes)]]))
    write(tmp / "other.csv", lines([["x1", "x2", "x3", "class"], [0, 1, 2, 0]]))
    toml = write(tmp / "test_file.toml", f'[training]\ndataset = "{two}"\n'
                 '[data]\ntest = "other.csv"\n')
    return [
        (["--dataset", str(one), "--topology", "2-4-1"], "has one class only"),
        (["--dataset", str(small), "--topology", "2-4-3", "--test-fraction", "0.2"],
         "test_fraction = 0.2 leaves class 2"),
        (["--dataset", str(const), "--topology", "2-4-1"], "feature x2 is constant"),
        (["--dataset", str(half), "--topology", "2-4-1"], "class 1.5 (data row 2)"),
        ([str(toml), "--topology", "2-4-1"], "has columns x1, x2, x3, class"),
    ]


@pytest.mark.parametrize("case", range(5))
def test_bad_data_is_one_line(case, tmp_path, capsys):
    args, says = bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    rc = main(["train", *args, "--epochs", "2", "--seeds", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err, err
    assert not out.exists()


def test_evaluate_refuses_bad_input(run, tmp_path, capsys):
    plain = tmp_path / "plain"  # the run as if trained on its rows given in volts
    res = aann.Results.load(run)
    rows = aann.Dataset("volts", res.dataset.X, res.dataset.Y)
    dataclasses.replace(res, dataset=rows).save(plain, plots=False)
    raw = write(tmp_path / "raw.csv", lines([["x1", "x2", "x3", "x4", "class"],
                                             [5, 3, 1, 0.2, 3]]))
    cases = [
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(plain)], "has no held-out rows"),
        ([str(plain), "--dataset", "iris"], "has no encoding"),
        ([str(run), "--dataset", "xor"], "has 2 feature(s) but the run was trained on 4"),
        ([str(run), "--dataset", str(raw)], "class 3"),
        ([str(run), "--dataset", "nope.csv"], "unknown data set"),
    ]
    for args, says in cases:
        out = tmp_path / "out"
        rc = main(["evaluate", *args, "--out", str(out)])
        err = capsys.readouterr().err
        assert rc == 2, args
        assert err.startswith("error: ") and err.count("\n") == 1 and says in err, err
        assert not out.exists()


def test_cli_exit_code_without_traceback(tmp_path):
    """The installed command: exit code 2 and the one line, nothing else."""
    args, says = bad_inputs(tmp_path)[0]
    p = subprocess.run([sys.executable, "-m", "aann.cli", "train", *args, "--out",
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1 and says in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "out").exists()
