import json
import math

import numpy as np
import pytest

from rig.cli import main
from rig.plots import draw
from rig.report import report_table
from rig.results import curve, load_runs, mean_ci, t95


def write_run(path, method, seed, rows, summary=True, env="point"):
    """A run directory by hand: config.json, progress.csv and (if finished) summary.json."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"env": env, "method": method, "seed": seed}))
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in rows]
    (path / "progress.csv").write_text("\n".join(lines) + "\n")
    if summary:
        (path / "summary.json").write_text(json.dumps(rows[-1]))
    return path


def row(steps, distance, success=0.0):
    return {"env_steps": steps, "eval/final_distance": distance, "eval/final_success": success}


def test_mean_and_95_percent_ci_match_hand_computed_values():
    # 1..5: mean 3, sample std sqrt(2.5), standard error sqrt(2.5 / 5) = 0.70711, t(4) = 2.776
    mean, half, n = mean_ci([1, 2, 3, 4, 5])
    assert (mean, n) == (3.0, 5) and half == pytest.approx(2.776 * 0.707107, rel=1e-6)
    # two seeds: standard error 1, t(1) = 12.706
    assert mean_ci([2.0, 4.0]) == pytest.approx((3.0, 12.706, 2))
    mean, half, n = mean_ci([0.5, math.nan])  # NaN ignored; one value has no interval
    assert (mean, n) == (0.5, 1) and math.isnan(half)
    assert mean_ci([])[2] == 0


def test_t_quantiles_past_the_table_follow_students_t():
    assert t95(30) == 2.042
    assert t95(40) == pytest.approx(2.021, abs=1e-3)
    assert t95(120) == pytest.approx(1.980, abs=1e-3)
    assert t95(10**6) == pytest.approx(1.960, abs=1e-3)


def test_curve_averages_seeds_at_each_step_using_the_seeds_that_reached_it(tmp_path):
    write_run(tmp_path / "a", "rig", 0, [row(0, 4.0), row(100, 2.0)])
    write_run(tmp_path / "b", "rig", 1, [row(0, 2.0), row(100, 1.0), row(200, 0.5)], summary=False)
    steps, mean, half, n = curve(load_runs([tmp_path]), "eval/final_distance")
    assert steps.tolist() == [0, 100, 200] and n.tolist() == [2, 2, 1]
    assert mean.tolist() == [3.0, 1.5, 0.5]
    assert half[:2] == pytest.approx([12.706, 12.706 * 0.5]) and math.isnan(half[2])


@pytest.fixture
def runs_dir(tmp_path):
    for seed, (d, s) in enumerate([(1.0, 1.0), (2.0, 0.0), (3.0, 1.0)]):
        write_run(tmp_path / f"rig/seed{seed}", "rig", seed, [row(0, 5.0), row(3000, d, s)])
    write_run(tmp_path / "none/seed0", "relabel-none", 0, [row(0, 5.0), row(3000, 4.0)])
    write_run(tmp_path / "none/seed1", "relabel-none", 1, [row(0, 5.0)], summary=False)
    write_run(tmp_path / "wall/seed0", "rig", 0, [row(0, 5.0), row(3000, 1.5)], env="point-wall")
    return tmp_path


def test_report_table_gives_mean_ci_and_seeds_per_task_and_method(runs_dir):
    table = report_table(load_runs([runs_dir])).splitlines()
    assert table[0] == (
        "| task | method | final distance (mean ± 95% CI) | success rate (mean ± 95% CI) "
        "| success over the run (mean ± 95% CI) | env steps | seeds |"
    )
    # distances 1, 2, 3: std 1, se 0.57735, t(2) 4.303; successes 1, 0, 1: se 0.33333;
    # success over the run (0 at step 0, then 1, 0, 1): 0.5, 0, 0.5, se 0.16667
    assert table[2] == (
        "| point | rig | 2.000 ± 2.484 | 0.667 ± 1.434 | 0.333 ± 0.717 | 3,000 | 0, 1, 2 |"
    )
    assert table[3] == (
        "| point | relabel-none | 4.000 (one seed) | 0.000 (one seed) | 0.000 (one seed) "
        "| 3,000 | 0 |"
    )
    assert table[4] == (
        "| point-wall | rig | 1.500 (one seed) | 0.000 (one seed) | 0.000 (one seed) | 3,000 | 0 |"
    )
    assert table[-1].startswith("Not finished (left out): ") and "none/seed1" in table[-1]
    # runs in progress count at their last evaluation when asked
    with_running = report_table(load_runs([runs_dir]), unfinished=True)
    assert "| point | relabel-none | 4.500 ± 6.353 |" in with_running  # 4.0 and 5.0 (step 0)
    assert "Not finished" not in with_running and "| 0-3,000 |" in with_running


def test_figure_has_a_panel_per_task_and_a_mean_line_per_method(runs_dir):
    fig = draw(load_runs([runs_dir]))
    point, wall = fig.axes
    assert (point.get_title(), wall.get_title()) == ("point", "point-wall")
    lines = {line.get_label(): line for line in point.get_lines()}
    assert list(lines) == ["rig", "relabel-none"]
    assert np.allclose(lines["rig"].get_ydata(), [5.0, 2.0])
    # one legend entry per method, with its seeds per panel (3 on point, 1 on point-wall)
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == ["rig (n=1-3)", "relabel-none (n=2)"]
    success = draw(load_runs([runs_dir]), metric="success").axes[0]
    assert np.allclose(success.get_lines()[0].get_ydata(), [0.0, 2 / 3])
    assert success.get_ylabel() == "success rate"


def test_any_logged_column_plots_and_an_unknown_metric_names_the_choices(tmp_path, capsys):
    rows = [{**row(s, 1.0), "train/moved_door": m} for s, m in ((0, 0.0), (5, 0.1), (10, 0.3))]
    runs = load_runs([write_run(tmp_path / "door", "rig", 0, rows, env="door")])
    ax = draw(runs, metric="train/moved_door").axes[0]
    assert np.allclose(ax.get_lines()[0].get_ydata(), [0.0, 0.1, 0.3])
    assert ax.get_ylabel() == "train/moved_door"
    with pytest.raises(ValueError, match="no run logged 'train/moved_puck'"):
        draw(runs, metric="train/moved_puck")
    with pytest.raises(ValueError, match="'train/moved_door' is not an eval/ column"):
        draw(runs, metric="train/moved_door", split="num_pucks")
    figure = str(tmp_path / "fig.png")
    assert main(["plot", str(tmp_path / "door"), "--out", figure, "--metric", "moved"]) == 2
    assert "no run logged 'moved'; use distance, success" in capsys.readouterr().err


def test_rig_is_red_on_every_panel_and_variants_on_one_panel_differ():
    from rig.plots import _colors

    colors = _colors([["rig (eval_env multi-pusher-variable)", "oracle"], ["rig", "oracle"]])
    assert colors["rig (eval_env multi-pusher-variable)"] == colors["rig"] == "tab:red"
    assert colors["oracle"] != "tab:red"
    both = _colors([["rig", "rig (imagined_goals prior)", "oracle"]])
    assert both["rig"] == "tab:red"
    assert len(set(both.values())) == 3


def test_plot_and_report_commands(runs_dir, tmp_path, capsys):
    figure = tmp_path / "out" / "fig.png"
    assert main(["plot", str(runs_dir / "rig"), str(runs_dir / "none"), "--out", str(figure)]) == 0
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert main(["report", str(runs_dir), "--out", str(tmp_path / "t.md")]) == 0
    assert "| point | rig | 2.000 ± 2.484 |" in (tmp_path / "t.md").read_text()
    assert main(["plot", str(tmp_path / "out"), "--out", str(figure)]) == 2
    assert "no run directories" in capsys.readouterr().err


def test_baselines_are_dashed_lines_on_their_own_task_and_labelled_in_the_legend(
    runs_dir, tmp_path_factory
):
    elsewhere = tmp_path_factory.mktemp("baselines")
    still = [(0, 5.0, "point"), (1, 7.0, "point"), (0, 4.0, "point-wall")]
    baselines = [
        write_run(elsewhere / f"{env}_{s}", "do nothing", s, [row(3000, d)], env=env)
        for s, d, env in still
    ]
    fig = draw(load_runs([runs_dir]), baselines=load_runs(baselines))
    for ax, level in zip(fig.axes, (6.0, 4.0)):  # the mean across seeds, per task
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert [line.get_ydata()[0] for line in dashed] == [level]
        assert ax.get_ylabel() == "final distance to goal"
    (legend,) = fig.legends  # one legend for all panels, each name once
    names = [t.get_text() for t in legend.get_texts()]
    assert "do nothing" in names and len(names) == len(set(names))


def test_variants_of_a_method_are_told_apart_by_what_they_changed(tmp_path):
    from rig.presets import resolve

    def write_config(name, method="rig", **changes):
        config = resolve(method, "pusher").to_dict()
        config.update(seed=3, steps=100_000, out=str(tmp_path / name), **changes)
        write_run(tmp_path / name, method, 3, [row(0, 1.0)], env="pusher")
        (tmp_path / name / "config.json").write_text(json.dumps(config))

    write_config("preset")  # only the seed, steps and run directory differ
    write_config("variant", imagined_goals="stored-latents")
    write_config("oracle", "oracle", imagined_goals="stored-latents")  # no effect on states
    labels = {run.path.name: run.method for run in load_runs([tmp_path])}
    assert labels == {
        "preset": "rig",
        "variant": "rig (imagined_goals stored-latents)",
        "oracle": "oracle",
    }
    assert [r.method for r in load_runs([tmp_path])].count("rig") == 1


def test_evaluation_reports_each_kind_of_episode_apart_where_the_kind_varies():
    from rig.evaluate import _mean_and_std

    metrics = _mean_and_std({"distance": [1.0, 2.0, 3.0, 5.0], "num_pucks": [0, 1, 1, 2]})
    assert metrics["eval/final_distance"] == 2.75
    assert metrics["eval/num_pucks=0/final_distance"] == 1.0
    assert metrics["eval/num_pucks=1/final_distance"] == 2.5
    assert metrics["eval/num_pucks=2/final_distance"] == 5.0
    assert "eval/num_pucks=1/final_num_pucks" not in metrics
    same = _mean_and_std({"distance": [1.0, 2.0], "num_pucks": [2, 2]})
    assert not any("=" in key for key in same)  # one kind: nothing to split


def split_row(steps, by_count):
    """An evaluation row of a multi-pusher-variable run: final distance per puck count."""
    distances = list(by_count.values())
    return {
        "env_steps": steps,
        "eval/final_distance": sum(distances) / len(distances),
        "eval/final_success": 0.0,
        **{f"eval/num_pucks={k}/final_distance": d for k, d in by_count.items()},
        **{f"eval/num_pucks={k}/final_success": 0.0 for k in by_count},
    }


def test_figure_6_draws_and_tabulates_a_line_per_number_of_pucks(tmp_path, capsys):
    for seed, final in enumerate([0.1, 0.3]):
        rows = [split_row(0, {0: 0.5, 1: 0.6, 2: 0.7}), split_row(5000, {0: final, 1: 0.2, 2: 0.4})]
        write_run(tmp_path / f"s{seed}", "rig", seed, rows, env="multi-pusher")
    runs = load_runs([tmp_path])
    (ax,) = draw(runs, split="num_pucks").axes
    lines = {line.get_label(): line.get_ydata().tolist() for line in ax.get_lines()}
    assert lines == {
        "rig (num_pucks 0)": pytest.approx([0.5, 0.2]),
        "rig (num_pucks 1)": pytest.approx([0.6, 0.2]),
        "rig (num_pucks 2)": pytest.approx([0.7, 0.4]),
    }
    table = report_table(runs, split="num_pucks").splitlines()
    assert table[2].startswith("| multi-pusher | rig (num_pucks 0) | 0.200 ± 1.271 |")
    assert table[4].startswith("| multi-pusher | rig (num_pucks 2) | 0.400 ± 0.000 |")
    # runs evaluated on a task with one kind of episode: told how to get the split
    point = write_run(tmp_path / "point", "rig", 0, [row(0, 1.0)])
    assert main(["report", str(point), "--split", "num_pucks"]) == 2
    assert "--eval-env multi-pusher-variable" in capsys.readouterr().err
