"""Files a user gives or asks for: data set and stimulus CSVs, weights JSON, output paths.
Every bad input is a one-line ValidationError naming the file and the problem."""

import json
import os
import stat

import numpy as np
import pytest

from aann.cli import main
from aann.datasets import Dataset, read_csv_dataset
from aann.errors import ValidationError
from aann.io import (
    atomic_savefig,
    atomic_write,
    check_output_file,
    ensure_writable_dir,
    read_weights,
    weights_to_json,
)
from aann.stimulus import Waveform


def refused(call, *words):
    """Run ``call``; it must raise a one-line ValidationError containing ``words``."""
    with pytest.raises(ValidationError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# --- 1. CSV columns and rows ---------------------------------------------------------

def test_dataset_columns_are_read_by_exact_name_in_any_order(tmp_path):
    ds = read_csv_dataset(write(tmp_path, "d.csv", "y1,x2,x1\n0.5,2,1\n0.25,4,3\n"))
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(ds.Y, [[0.5], [0.25]])


@pytest.mark.parametrize("header, problem", [
    ("x1,foo,y1", "unknown column 'foo'"),
    ("x1,xylophone,y1", "unknown column 'xylophone'"),
    ("X1,y1", "unknown column 'X1'"),
    ("x1,x1,y1", "column 'x1' appears twice"),
    ("x1,x3,y1", "no column x2 (there is x3)"),
    ("x1,x2", "no column y1"),
    ("y1,y2", "no column x1"),
    ("x0,y1", "unknown column 'x0'"),
])
def test_a_bad_dataset_header_is_refused_naming_the_column_and_the_expected_names(
        tmp_path, header, problem):
    n = header.count(",") + 1
    path = write(tmp_path, "d.csv", f"{header}\n" + ",".join(["0"] * n) + "\n")
    refused(lambda: read_csv_dataset(path), str(path), problem, "x1..xN and y1..yM")


@pytest.mark.parametrize("header, problem", [
    ("time,Vin1,Vtarget1,foo", "unknown column 'foo'"),
    ("time,Vin1,Vin1,Vtarget1", "column 'Vin1' appears twice"),
    ("time,Vin1,Vtarget1,vteach", "unknown column 'vteach'"),
    ("time,Vin1,Vin3,Vtarget1", "no column Vin2 (there is Vin3)"),
    ("Vin1,Vtarget1", "no column 'time'"),
    ("time,Vtarget1", "no column Vin1"),
    ("time,Vin1", "no column Vtarget1"),
    ("time,Vin1,Vtarget1,Vteach,Vteach", "column 'Vteach' appears twice"),
])
def test_a_bad_stimulus_header_is_refused_naming_the_column_and_the_expected_names(
        tmp_path, header, problem):
    n = header.count(",") + 1
    rows = "".join(",".join([str(t)] * n) + "\n" for t in (0, 1))
    path = write(tmp_path, "s.csv", f"{header}\n{rows}")
    refused(lambda: Waveform.from_csv(path), str(path), problem,
            "time, Vin1..VinN, Vtarget1..VtargetM and optionally Vteach")


def test_a_stimulus_is_read_by_name_and_vteach_defaults_to_1_volt(tmp_path):
    wf = Waveform.from_csv(write(tmp_path, "s.csv", "Vtarget1,time,Vin2,Vin1\n5,0,2,1\n6,1,4,3\n"))
    np.testing.assert_array_equal(wf.time, [0, 1])
    np.testing.assert_array_equal(wf.Vin, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(wf.Vteach, [1, 1])


@pytest.mark.parametrize("text, problem", [
    ("", "is empty"),
    ("\n\n", "is empty"),
    ("x1,y1\n", "has a header but no rows"),
    ("x1,y1\n0,1\n0\n", "line 3: 1 value(s), but the header has 2 columns"),
    ("x1,y1\n0,1\n0,1,2\n", "line 3: 3 value(s)"),
    ("x1,y1\n0,1\n0,one\n", "line 3: 'one' is not a number"),
    ("x1,y1\n0,1\n0,\n", "line 3: '' is not a number"),
    ("x1,y1\n0,1\nnan,1\n", "line 3: nan is NaN or Inf"),
    ("x1,y1\n0,1\n1,-inf\n", "line 3: -inf is NaN or Inf"),
])
def test_bad_dataset_rows_are_refused_naming_the_line(tmp_path, text, problem):
    path = write(tmp_path, "d.csv", text)
    refused(lambda: read_csv_dataset(path), str(path), problem)


def test_bad_stimulus_rows_are_refused_naming_the_file_and_line(tmp_path):
    path = write(tmp_path, "s.csv", "time,Vin1,Vtarget1\n0,0,0\n1,inf,0\n")
    refused(lambda: Waveform.from_csv(path), str(path), "line 3", "NaN or Inf")
    path = write(tmp_path, "s.csv", "time,Vin1,Vtarget1\n0,0,0\n")
    refused(lambda: Waveform.from_csv(path), str(path), "at least two breakpoints")
    path = write(tmp_path, "s.csv", "time,Vin1,Vtarget1\n0,0,0\n0,1,1\n")
    refused(lambda: Waveform.from_csv(path), str(path), "times must increase")


def test_a_bad_dataset_on_the_command_line_is_one_error_line_and_exit_code_2(tmp_path, capsys):
    path = write(tmp_path, "d.csv", "x1,x1,y1\n0,0,0\n")
    rc = main(["train", "--epochs", "1", "--seeds", "1", "--dataset", str(path),
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "column 'x1' appears twice" in err


# --- 2. encodings and huge cells -----------------------------------------------------

def test_a_non_utf8_file_is_refused_naming_it(tmp_path):
    data = write(tmp_path, "d.csv", b"x1,y1\n0,1\xff\n")
    refused(lambda: read_csv_dataset(data), str(data), "is not UTF-8 text")
    stim = write(tmp_path, "s.csv", b"time,Vin1,Vtarget1\n0,0,0\xe9\n1,1,1\n")
    refused(lambda: Waveform.from_csv(stim), str(stim), "is not UTF-8 text")
    weights = write(tmp_path, "w.json", b'{"layers": [[[0.1\xff]]]}')
    refused(lambda: read_weights(weights, (1, 1)), str(weights), "is not UTF-8 text")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    ds = read_csv_dataset(write(tmp_path, "d.csv", b"\xef\xbb\xbfx1,y1\n0,1\n"))
    assert ds.X.shape == (1, 1)


def test_a_cell_beyond_the_csv_field_limit_is_refused(tmp_path):
    path = write(tmp_path, "d.csv", "x1,y1\n0," + "1" * 131_073 + "\n")
    refused(lambda: read_csv_dataset(path), str(path), "line 2", "field larger than field limit")
    stim = write(tmp_path, "s.csv", "time,Vin1,Vtarget1\n0,0," + "1" * 200_000 + "\n")
    refused(lambda: Waveform.from_csv(stim), str(stim), "field larger than field limit")


# --- 3. weights JSON -----------------------------------------------------------------

GOOD_LAYER = [[0.1, 0.2]]  # topology 1-1: one neuron, bias and one input


def test_a_deeply_nested_weights_file_is_refused(tmp_path):
    path = write(tmp_path, "w.json", "[" * 100_000 + "]" * 100_000)
    refused(lambda: read_weights(path, (1, 1)), str(path), "nested too deeply")


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True, 2**63, 10**30, None])
def test_a_seed_that_is_not_an_integer_of_at_least_0_is_refused(tmp_path, seed):
    path = write(tmp_path, "w.json", json.dumps({"networks": [{"seed": seed,
                                                               "layers": [GOOD_LAYER]}]}))
    refused(lambda: read_weights(path, (1, 1)), str(path), "network 0",
            "seeds are integers >= 0", "numpy.random.default_rng")


def test_valid_seeds_are_kept(tmp_path):
    nets = [{"seed": 2**63 - 1, "layers": [GOOD_LAYER]}, {"layers": [GOOD_LAYER]}]
    path = write(tmp_path, "w.json", json.dumps({"networks": nets}))
    assert [n["seed"] for n in read_weights(path, (1, 1))] == [2**63 - 1, 1]


@pytest.mark.parametrize("content, problem", [
    ([[GOOD_LAYER]], "expected {\"networks\""),
    (3, "expected {\"networks\""),
    ("text", "expected {\"networks\""),
    ({"networks": []}, "expected {\"networks\""),
    ({"networks": [{"seed": 0}]}, "network 0: needs \"layers\""),
    ({"networks": [{"layers": 5}]}, "network 0: needs \"layers\""),
    ({"layers": {"W1": GOOD_LAYER}}, "network 0: needs \"layers\""),
    ({"networks": [[GOOD_LAYER]]}, "network 0: needs \"layers\""),
    ({"layers": [[[0.1, 0.2], [0.3]]]}, "layer 1: not a list of equally long rows"),
    ({"layers": [[[0.1, "0.2"]]]}, "layer 1: not a list of equally long rows"),
    ({"layers": [[[0.1, True]]]}, "layer 1: not a list of equally long rows"),
    ({"layers": [[[0.1, [0.2]]]]}, "layer 1: not a list of equally long rows"),
    ({"layers": [[0.1, 0.2]]}, "layer 1: not a list of equally long rows"),
    ({"layers": [[[0.1, 0.2, 0.3]]]}, "do not fit topology 1-1"),
    ({"layers": [[[0.1, None]]]}, "contains NaN, Inf or null"),
])
def test_a_malformed_weights_file_is_refused(tmp_path, content, problem):
    path = write(tmp_path, "w.json", json.dumps(content))
    refused(lambda: read_weights(path, (1, 1)), str(path), problem)


def test_a_weights_file_that_is_not_json_or_not_a_file_is_refused(tmp_path):
    path = write(tmp_path, "w.json", '{"layers": [[[1' + "0" * 5000 + "]]]}")
    refused(lambda: read_weights(path, (1, 1)), str(path), "not valid JSON")
    refused(lambda: read_weights(tmp_path, (1, 1)), "cannot read initial weights")


# --- 4. Dataset and Waveform built in Python -----------------------------------------

def test_a_dataset_is_converted_to_2d_float_arrays():
    ds = Dataset("lists", [[0, 1], [1, 0]], [[1], [0]])
    assert ds.X.dtype == ds.Y.dtype == np.float64 and ds.X.shape == (2, 2)
    assert ds.rows == 2


@pytest.mark.parametrize("X, Y, problem", [
    ([0.0, 1.0], [[0.0], [1.0]], "X has shape (2,)"),
    ([[0.0], [1.0]], [[[0.0]], [[1.0]]], "Y has shape (2, 1, 1)"),
    (np.zeros((0, 2)), np.zeros((0, 1)), "X has shape (0, 2)"),
    ([[0.0, np.nan]], [[1.0]], "X contains NaN or Inf"),
    ([[0.0, 1.0]], [[np.inf]], "Y contains NaN or Inf"),
    ([[0.0], [1.0]], [[1.0]], "X has 2 rows but Y has 1"),
    ([[0.0], [1.0, 2.0]], [[1.0], [2.0]], "X is not an array of numbers"),
    ([["a"]], [[1.0]], "X is not an array of numbers"),
])
def test_a_malformed_dataset_object_is_refused(X, Y, problem):
    refused(lambda: Dataset("mine", X, Y), "data set 'mine'", problem)


def test_a_waveform_takes_1d_sources_as_one_column_and_stores_float_arrays():
    wf = Waveform(time=[0, 1, 2], Vin=[0, 1, 0], Vtarget=[1, 1, 1], Vteach=[1, 1, 1])
    assert wf.Vin.shape == wf.Vtarget.shape == (3, 1)
    assert all(getattr(wf, k).dtype == np.float64 for k in ("time", "Vin", "Vtarget", "Vteach"))


@pytest.mark.parametrize("change, problem", [
    ({"Vin": np.zeros((3, 1, 1))}, "Vin has shape (3, 1, 1)"),
    ({"Vin": np.zeros((3, 0))}, "Vin has shape (3, 0)"),
    ({"Vtarget": np.zeros((2, 1))}, "Vtarget has shape (2, 1)"),
    ({"Vteach": np.ones((3, 1))}, "Vteach has shape (3, 1)"),
    ({"Vteach": [1.0, np.nan, 1.0]}, "Vteach contains NaN or Inf"),
    ({"Vin": [[0.0], [np.inf], [0.0]]}, "Vin contains NaN or Inf"),
    ({"time": [0.0, np.nan, 2.0]}, "time contains NaN or Inf"),
    ({"time": [0.0, 2.0, 1.0]}, "times must increase"),
    ({"time": [0.0]}, "at least two breakpoints"),
    ({"Vin": "abc"}, "Vin is not an array of numbers"),
])
def test_a_malformed_waveform_object_is_refused(change, problem):
    parts = {"time": [0.0, 1.0, 2.0], "Vin": np.zeros((3, 1)), "Vtarget": np.zeros((3, 1)),
             "Vteach": np.ones(3), **change}
    refused(lambda: Waveform(**parts), problem)


# --- 5. outputs ----------------------------------------------------------------------

@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640
    os.umask(old)


def test_written_files_have_the_mode_open_would_give(tmp_path, umask_027):
    atomic_write(tmp_path / "a.txt", "text")
    atomic_write(tmp_path / "b.bin", b"bytes")
    for name in ("a.txt", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == umask_027
    assert os.umask(0o027) == 0o027  # the umask is left as it was

    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        atomic_savefig(fig, tmp_path / "f.png")
    finally:
        plt.close(fig)
    assert stat.S_IMODE((tmp_path / "f.png").stat().st_mode) == umask_027


def test_a_write_into_a_missing_folder_is_a_validation_error(tmp_path):
    refused(lambda: atomic_write(tmp_path / "none" / "a.txt", "x"), "cannot write")


def test_non_finite_weights_are_written_as_null_in_strict_json():
    text = weights_to_json([{"seed": 3, "layers": [np.array([[np.nan, np.inf, -0.5]])]}])
    data = json.loads(text)
    assert data == {"networks": [{"seed": 3, "layers": [[[None, None, -0.5]]]}]}
    json.dumps(data, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


def test_a_diverged_weights_file_is_refused_as_initial_weights(tmp_path):
    path = write(tmp_path, "w.json", weights_to_json([{"seed": 0,
                                                       "layers": [np.array([[np.nan, 1.0]])]}]))
    refused(lambda: read_weights(path, (1, 1)), "null")


def test_an_output_directory_that_is_a_file_empty_or_has_a_newline_is_refused(tmp_path):
    afile = write(tmp_path, "file", "")
    refused(lambda: ensure_writable_dir(afile), str(afile), "is a file, not a folder")
    refused(lambda: ensure_writable_dir(""), "empty")
    refused(lambda: ensure_writable_dir(str(tmp_path / "a\nb")), "line break")
    refused(lambda: ensure_writable_dir(str(tmp_path / "a\0b")), "NUL")
    assert ensure_writable_dir(tmp_path / "new" / "dir").is_dir()


def test_an_output_file_is_checked_before_it_is_written(tmp_path):
    assert check_output_file(str(tmp_path / "net.cir")) == tmp_path / "net.cir"
    refused(lambda: check_output_file(""), "empty")
    refused(lambda: check_output_file(tmp_path), str(tmp_path), "is a folder")
    missing = tmp_path / "none"
    refused(lambda: check_output_file(missing / "net.cir"),
            f"folder {missing} does not exist; create it first")
    afile = write(tmp_path, "file", "")
    refused(lambda: check_output_file(afile / "net.cir"), "is not a folder")
    refused(lambda: check_output_file(str(tmp_path / "a\nb.cir")), "line break")


def test_an_output_file_whose_folder_takes_no_new_files_is_refused(tmp_path, monkeypatch):
    def no_new_files(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("aann.io.tempfile.NamedTemporaryFile", no_new_files)
    refused(lambda: check_output_file(tmp_path / "net.cir"), "cannot write",
            str(tmp_path), "Permission denied")
