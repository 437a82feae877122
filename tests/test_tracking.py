"""rig train --track: Weights & Biases logging, tested in W&B's offline mode (no network)."""

import sys

import pytest

from rig.cli import main

TINY = [
    "--env", "point", "--steps", "300", "--learning-starts", "100",
    "--exploration.num-images", "100", "--vae.pretrain-steps", "20",
    "--eval.every-steps", "100", "--eval.episodes", "2", "--eval.video-episodes", "1",
    "--td3.hidden-sizes", "32", "32", "--td3.batch-size", "32", "--quiet",
]  # fmt: skip


@pytest.mark.slow
def test_track_logs_rows_pictures_and_video_offline_and_a_resume_continues_the_w_and_b_run(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    out = tmp_path / "run"
    assert main(["train", *TINY, "--track", "--out", str(out)]) == 0
    (w_and_b,) = (out / "wandb").glob("offline-run-*")
    run_id = (out / "wandb_id.txt").read_text().strip()
    assert w_and_b.name.endswith(run_id)
    media = {p.name.split("_")[0] for p in (w_and_b / "files" / "media").rglob("*.*")}
    assert {"vae", "rollouts"} <= media
    assert (w_and_b / f"run-{run_id}.wandb").stat().st_size > 0
    assert main(["train", "--resume", str(out), "--steps", "400", "--quiet"]) == 0
    assert (out / "wandb_id.txt").read_text().strip() == run_id


def test_track_without_wandb_installed_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb raises ImportError
    code = main(["train", *TINY, "--track", "--out", str(tmp_path / "run")])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith('pip install "rig-rl[track]"') and len(err) == 1
