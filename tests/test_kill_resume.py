"""A run SIGKILLed 20 times and resumed each time ends exactly as one never killed
(``benchmarks/kill_resume.py``, which also reports each kill)."""

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import TINY

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "kill_resume.py"


def load_script():
    spec = importlib.util.spec_from_file_location("kill_resume", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_resume"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_run_killed_20_times_ends_as_one_never_killed(tmp_path):
    kill_resume = load_script()
    flags = [f for f in TINY if f != "--quiet"] + ["--checkpoint-every", "25", "--seed", "7"]
    history, mismatches = kill_resume.kill_and_resume(tmp_path, flags, kills=20, seed=0)
    assert len(history) == 20, [k.stage for k in history]
    assert mismatches == []
    assert history[0].stage == "exploration", history[0]  # killed as its config appears
    assert any(k.stage == "RL (or evaluation)" for k in history), [k.stage for k in history]
