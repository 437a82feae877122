"""progress.csv files of any shape: the good rows are read, each bad one dropped with a warning."""

import math

import pytest

from rig.logger import Logger, read_progress

GOOD = [{"env_steps": 500.0, "eval/distance": 0.2}, {"env_steps": 1000.0, "eval/distance": 0.1}]


def written(tmp_path, tail: str):
    logger = Logger(tmp_path)
    for row in GOOD:
        logger.log(row, int(row["env_steps"]))
    logger.close()
    path = tmp_path / "progress.csv"
    with path.open("a") as f:
        f.write(tail)
    return path


@pytest.mark.parametrize(
    "tail",
    [
        "1500.0,",  # cut short mid-row by a kill
        "1500.0",  # one cell only
        "1500.0,0.05,7,8",  # more cells than the header
        ",\n",  # every cell empty
        "\x00\x00garbage,@@@\n",  # not numbers
    ],
)
def test_a_bad_last_row_is_dropped_with_one_warning_naming_the_file_and_line(tmp_path, tail):
    path = written(tmp_path, tail)
    with pytest.warns(UserWarning, match=r"progress\.csv: dropped malformed row\(s\) at line 4"):
        rows = read_progress(path)
    assert rows == GOOD


def test_a_whole_file_reads_without_warning_and_empty_cells_are_nan(tmp_path, recwarn):
    path = written(tmp_path, "1500.0,\n")
    rows = read_progress(path)
    assert [r["env_steps"] for r in rows] == [500.0, 1000.0, 1500.0]
    assert math.isnan(rows[-1]["eval/distance"])
    assert not [w for w in recwarn if "dropped" in str(w.message)]


@pytest.mark.slow
@pytest.mark.parametrize("tail", ["1500.0,0.1", "1,2,3" + ",9" * 80 + "\n", ",\n", "\x00@@@\n"])
def test_report_and_plot_use_the_good_rows_of_a_damaged_run(tail, tiny_run, tmp_path, capsys):
    import shutil

    from rig.cli import main

    damaged, good = tmp_path / "runs" / "damaged", tmp_path / "runs" / "good"
    shutil.copytree(tiny_run, damaged)
    shutil.copytree(tiny_run, good)
    (damaged / "summary.json").unlink()
    progress = damaged / "progress.csv"
    progress.write_text(progress.read_text() + tail)
    for command in (["report", str(tmp_path / "runs")], ["plot", str(tmp_path / "runs")]):
        out = ["--out", str(tmp_path / "p.png")] if command[0] == "plot" else []
        assert main([*command, *out]) == 0, command
        err = capsys.readouterr().err
        warnings = [line for line in err.splitlines() if "dropped malformed" in line]
        assert len(warnings) == 1 and warnings[0].startswith("rig: warning: ")
        assert str(progress) in warnings[0]
