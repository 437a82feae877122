import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.config import RANGES, Config, RelabelConfig, TD3Config, numeric_fields, replace_fields
from rig.relabel import split_counts


def test_defaults_are_valid_and_paper_like():
    c = Config().validate()
    assert c.vae.beta == 5.0
    assert (c.relabel.prior, c.relabel.future, c.relabel.env) == (0.5, 0.5, 0.0)
    assert split_counts(128, c.relabel)["rollout"] == 0
    assert c.noise.kind == "ou" and (c.noise.theta, c.noise.sigma) == (0.15, 0.3)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"steps": 0}, "steps must be positive"),
        ({"steps": -5}, "steps must be positive"),
        ({"image_size": 64}, "image_size must be 48 or 84"),
        ({"relabel": RelabelConfig(prior=0.7, future=0.5)}, "sum to 1.2 > 1"),
        ({"relabel": RelabelConfig(prior=-0.1, future=0.5)}, r"relabel.prior must be in \[0, 1\]"),
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


def out_of_range(name: str) -> list[float]:
    """Values just outside the field's range: below it, and above it where it is bounded."""
    r = RANGES[name]
    values = [r.low if r.low_open else r.low - 1] if r.low > -math.inf else []
    if r.high < math.inf:
        values.append(r.high if r.high_open else r.high + 1)
    return values


def test_every_numeric_field_has_a_range():
    assert set(numeric_fields(Config())) - {"image_size"} == set(RANGES)
    for name, value in numeric_fields(Config()).items():
        assert name == "image_size" or RANGES[name].holds(value), name  # the defaults hold


@pytest.mark.parametrize("name", sorted(RANGES))
def test_each_field_refuses_nan_and_values_outside_its_range(name):
    integer = isinstance(numeric_fields(Config())[name], int)
    bad = [] if integer else [math.nan, math.inf]
    bad += [int(v) if integer else v for v in out_of_range(name)]
    assert bad, name
    for value in bad:
        with pytest.raises(ValueError, match=rf"^{name} must be .*got") as err:
            replace_fields(Config(), {name: value}).validate()
        assert "\n" not in str(err.value) and str(RANGES[name]) in str(err.value)


@pytest.mark.parametrize("sizes", [(), (64, 0)])
def test_hidden_sizes_must_be_positive_widths(sizes):
    with pytest.raises(ValueError, match=r"td3\.hidden_sizes must be one or more positive"):
        replace_fields(Config(), {"td3.hidden_sizes": sizes}).validate()


def test_a_cuda_device_without_cuda_is_refused_in_one_line(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: False)
    with pytest.raises(ValueError, match="this PyTorch has no CUDA; use --device cpu"):
        replace_fields(Config(), {"device": "cuda"}).validate()
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU is visible"):
        replace_fields(Config(), {"device": "cuda:1"}).validate()
    with pytest.raises(ValueError, match="'tpu' is not a PyTorch device"):
        replace_fields(Config(), {"device": "tpu"}).validate()
