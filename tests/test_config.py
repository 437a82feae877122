import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.config import Config, RelabelConfig, TD3Config


def test_defaults_are_valid_and_paper_like():
    c = Config().validate()
    assert c.vae.beta == 5.0
    assert (c.relabel.prior, c.relabel.future, c.relabel.env) == (0.5, 0.5, 0.0)
    assert c.relabel.rollout == pytest.approx(0.0)
    assert c.noise.kind == "ou" and (c.noise.theta, c.noise.sigma) == (0.15, 0.3)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"steps": 0}, "steps must be positive"),
        ({"steps": -5}, "steps must be positive"),
        ({"image_size": 64}, "image_size must be 48 or 84"),
        ({"relabel": RelabelConfig(prior=0.7, future=0.5)}, "sum to 1.2 > 1"),
        ({"relabel": RelabelConfig(prior=-0.1, future=0.5)}, ">= 0"),
        ({"threads": -1}, "threads must be >= 0"),
        ({"td3": TD3Config(updates_per_step=0)}, "td3.updates_per_step must be positive"),
    ],
)
def test_invalid_fields_give_one_line_errors(changes, message):
    with pytest.raises(ValueError, match=message) as err:
        dataclasses.replace(Config(), **changes).validate()
    assert "\n" not in str(err.value)


@given(
    prior=st.floats(0, 1),
    future=st.floats(0, 1),
    env=st.floats(0, 1),
)
def test_relabel_fraction_validation(prior, future, env):
    config = Config(relabel=RelabelConfig(prior=prior, future=future, env=env))
    if prior + future + env > 1 + 1e-9:
        with pytest.raises(ValueError, match="sum to"):
            config.validate()
    else:
        config.validate()


def test_round_trip_through_json(tmp_path):
    config = dataclasses.replace(Config(), steps=123, relabel=RelabelConfig(prior=0.2, future=0.3))
    path = tmp_path / "config.json"
    config.save(path)
    assert Config.load(path) == config


def test_unknown_field_is_rejected():
    with pytest.raises(ValueError, match="unknown configuration field 'stepz'"):
        Config.from_dict({"stepz": 3})
