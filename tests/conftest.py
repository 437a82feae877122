import contextlib
import subprocess
import sys

import pytest
import torch

from rig.cli import main

TINY = [
    "--env",
    "point",
    "--steps",
    "300",
    "--learning-starts",
    "100",
    "--exploration.num-images",
    "200",
    "--vae.pretrain-steps",
    "20",
    "--vae.batch-size",
    "32",
    "--vae.finetune-every-episodes",
    "2",
    "--vae.finetune-steps",
    "5",
    "--eval.every-steps",
    "100",
    "--eval.episodes",
    "2",
    "--eval.video-episodes",
    "1",
    "--td3.hidden-sizes",
    "64",
    "64",
    "--td3.batch-size",
    "32",
    "--buffer-size",
    "10000",
    "--quiet",
]
"""A `rig train` configuration that finishes in seconds."""


def train_tiny(out, *extra):
    assert main(["train", *TINY, "--out", str(out), *extra]) == 0
    return out


HOLD_LOCK = """
import sys, time
from rig.run_lock import RunLock
with RunLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


@contextlib.contextmanager
def lock_held_elsewhere(run_dir):
    """Another process holds ``run_dir``'s lock inside the block; it is SIGKILLed on leaving
    (which releases the lock). Yields that process."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished tiny run (seed 3), shared by tests that only read it."""
    return train_tiny(tmp_path_factory.mktemp("tiny") / "run", "--seed", "3")


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """A run with ``threads`` set changes PyTorch's thread count for the whole process;
    restore it after each test, so that later runs compare like with like."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
