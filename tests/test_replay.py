import numpy as np
import pytest

from rig.replay import ReplayBuffer

H, SHAPE = 5, (8, 8, 3)


def make_buffer(capacity=20, horizon=H):
    return ReplayBuffer(capacity, horizon, SHAPE, 2, 3, np.random.default_rng(0))


def frame(value):
    return np.full(SHAPE, value, dtype=np.uint8)


def fill_episode(buffer, episode_id, length=H):
    """Frames of episode k at step t hold the value 10*k + t; latents hold (k, t, 0)."""
    buffer.start_episode(
        frame(10 * episode_id),
        [episode_id, 0, 0],
        [episode_id, -1, -1],
        frame(200 + episode_id),
    )
    for t in range(length):
        buffer.add_step([t, t], frame(10 * episode_id + t + 1), [episode_id, t + 1, 0], False)


def test_images_are_stored_once_as_uint8():
    buffer = make_buffer(capacity=1000)
    fill_episode(buffer, 0)
    frames = buffer.state_dict()["frames"]
    assert frames.dtype == np.uint8
    # H + 1 frames per H transitions: each frame once, never an (obs, next_obs) pair.
    assert frames.shape == (1, H + 1, *SHAPE)
    image_bytes = 1000 // H * (H + 2) * np.prod(SHAPE)  # frames and rollout goal images
    assert image_bytes < buffer.nbytes < image_bytes * 1.2
    assert not any(
        a.dtype == np.float32 and a.ndim >= 4
        for a in vars(buffer).values()
        if isinstance(a, np.ndarray)
    )


def test_transitions_are_consecutive_frames_of_one_episode():
    buffer = make_buffer()
    for k in range(3):
        fill_episode(buffer, k)
    assert buffer.num_transitions == 3 * H
    batch = buffer.sample(500)
    np.testing.assert_array_equal(batch.features[:, 0], batch.episode)
    np.testing.assert_array_equal(batch.features[:, 1], batch.t)
    np.testing.assert_array_equal(batch.next_features[:, 1], batch.t + 1)
    np.testing.assert_array_equal(batch.action[:, 0], batch.t)
    np.testing.assert_array_equal(batch.rollout_goal[:, 0], batch.episode)
    assert set(batch.t.tolist()) == set(range(H))
    np.testing.assert_array_equal(
        buffer.next_images(batch)[:, 0, 0, 0], batch.features[:, 0] * 10 + batch.t + 1
    )


def test_image_batches_hold_the_frames_and_goal_images_of_the_same_transitions():
    buffer = make_buffer()
    for k in range(3):
        fill_episode(buffer, k)
    batch = buffer.sample(300, images=True)
    assert batch.features.dtype == np.uint8 and batch.features.shape == (300, *SHAPE)
    np.testing.assert_array_equal(batch.features[:, 0, 0, 0], 10 * batch.episode + batch.t)
    np.testing.assert_array_equal(batch.next_features[:, 0, 0, 0], 10 * batch.episode + batch.t + 1)
    np.testing.assert_array_equal(batch.rollout_goal[:, 0, 0, 0], 200 + batch.episode)
    future = buffer.future_goals(batch.episode, batch.t, images=True)[:, 0, 0, 0]
    assert ((future > 10 * batch.episode + batch.t) & (future <= 10 * batch.episode + H)).all()


def test_partial_episodes_sample_only_stored_steps():
    buffer = make_buffer()
    fill_episode(buffer, 0, length=2)
    batch = buffer.sample(200)
    assert set(batch.t.tolist()) == {0, 1}
    assert buffer.num_frames == 3
    images = buffer.sample_images(100)
    assert set(np.unique(images[:, 0, 0, 0]).tolist()) <= {1, 2}


def test_future_goals_lie_strictly_after_t_within_the_episode():
    buffer = make_buffer()
    fill_episode(buffer, 0, length=H)
    fill_episode(buffer, 1, length=3)
    batch = buffer.sample(2000)
    goals = buffer.future_goals(batch.episode, batch.t)
    future = goals[:, 1].astype(int)
    np.testing.assert_array_equal(goals[:, 0], batch.episode)
    assert (future > batch.t).all()
    assert (future <= np.where(batch.episode == 0, H, 3)).all()
    # every admissible future frame occurs
    t0 = batch.episode == 0
    counts = np.bincount(future[t0 & (batch.t == 0)], minlength=H + 1)[1:]
    assert (counts > 0).all()


def test_ring_reuses_the_oldest_episode_slot():
    buffer = make_buffer(capacity=2 * H)
    for k in range(3):
        fill_episode(buffer, k)
    assert buffer.max_episodes == 2
    stored = set(np.unique(buffer.stored_latents()[:, 0]).tolist())
    assert stored == {1.0, 2.0}


def test_refresh_latents_reencodes_frames_and_goal_images():
    buffer = make_buffer()
    fill_episode(buffer, 0, length=H)
    fill_episode(buffer, 1, length=2)

    def encode(images):
        value = images[:, 0, 0, 0].astype(np.float32)
        return np.stack([value, -value, np.zeros_like(value)], axis=1)

    buffer.refresh_latents(encode)
    latents, goals = (buffer.state_dict()[k] for k in ("latents", "rollout_goals"))
    np.testing.assert_array_equal(latents[0, :, 0], np.arange(H + 1))
    np.testing.assert_array_equal(latents[1, :3, 0], [10, 11, 12])
    np.testing.assert_array_equal(goals[:2, 0], [200, 201])


def test_misuse_errors():
    buffer = make_buffer()
    with pytest.raises(RuntimeError, match="no transitions"):
        buffer.sample(1)
    with pytest.raises(RuntimeError, match="start_episode"):
        buffer.add_step([0, 0], frame(0), [0, 0, 0], False)
    with pytest.raises(ValueError, match="capacity"):
        make_buffer(capacity=H - 1)
    fill_episode(buffer, 0)
    with pytest.raises(RuntimeError, match="horizon"):
        buffer.add_step([0, 0], frame(0), [0, 0, 0], False)


def test_refresh_in_chunks_matches_one_pass_and_reads_frames_in_place():
    def encode(images):
        encode.batches.append(images)
        return images.reshape(len(images), -1)[:, :3].astype(np.float32) + 0.5

    results = []
    for chunk in (1, 2, 100):
        buffer = make_buffer(capacity=40)
        for k in range(5):
            fill_episode(buffer, k, length=H if k < 4 else 2)  # the last is still open
        encode.batches = []
        buffer.refresh_latents(encode, chunk_episodes=chunk)
        frames = buffer.state_dict()["frames"]
        assert all(np.shares_memory(b, frames) for b in encode.batches[::2])  # no copies
        latents, goals = (buffer.state_dict()[k] for k in ("latents", "rollout_goals"))
        results.append(latents.copy())
        assert latents[4, 2, 0] == 10 * 4 + 2 + 0.5
        np.testing.assert_array_equal(goals[:5, 0], 200 + np.arange(5) + 0.5)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_stored_latents_are_those_of_every_stored_frame():
    buffer = make_buffer(capacity=40)
    for k in range(3):
        fill_episode(buffer, k, length=H if k < 2 else 2)
    latents = buffer.stored_latents()
    assert len(latents) == buffer.num_frames == 2 * (H + 1) + 3
    assert sorted(map(tuple, latents[:, :2].astype(int))) == sorted(
        [(k, t) for k in range(2) for t in range(H + 1)] + [(2, t) for t in range(3)]
    )
