"""The Stable-Baselines3 example runs end to end (only when stable-baselines3 is installed)."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sb3_frozenlake.py"


def test_sb3_frozenlake_example_scores_the_agent():
    spec = importlib.util.spec_from_file_location("sb3_frozenlake", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    report = example.main(total_timesteps=2048, seed=0, verbose=False)
    # A short run need not be good, but the oracle's report must be consistent.
    assert report.value_gap >= -1e-9
    assert report.optimal_value >= report.value - 1e-9
    assert report.kl >= 0
