import pytest
import torch

from rig.running_means import RunningMeans


def test_take_gives_each_metrics_mean_since_the_last_take():
    means = RunningMeans()
    for value in (1.0, 2.0, 6.0):
        means.add("loss", value)
    means.add("q", -4.0)
    assert means.take() == {"loss": 3.0, "q": -4.0}
    assert means.take() == {}
    means.add("loss", 5.0)
    assert means.take() == {"loss": 5.0}


def test_tensor_values_are_summed_and_read_as_floats():
    means = RunningMeans()
    means.add("loss", torch.tensor(1.0))
    means.add("loss", torch.tensor(2.0))
    taken = means.take()
    assert taken == {"loss": pytest.approx(1.5)}
    assert type(taken["loss"]) is float


def test_state_round_trip_continues_the_same_means():
    means = RunningMeans()
    means.add("loss", torch.tensor(1.0))
    means.add("loss", 3.0)
    state = means.state_dict()
    assert state == {"loss": (4.0, 2)}
    restored = RunningMeans()
    restored.load_state_dict(state)
    restored.add("loss", 8.0)
    assert restored.take() == {"loss": 4.0}
