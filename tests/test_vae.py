import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rig.config import RepresentationConfig
from rig.envs import PointEnv
from rig.vae import ConvVAE, FittedPrior, conv_output_size, images_to_tensor
from rig.vae_trainer import VAETrainer


@pytest.mark.parametrize("size,side", [(48, 3), (84, 6)])
def test_shapes_match_the_original_architecture(size, side):
    assert conv_output_size(size) == side
    vae = ConvVAE(size, latent_dim=4)
    x = torch.rand(5, 3, size, size)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (5, 4)
    assert vae.feature_shape == (64, side, side)
    out = vae.decode(mu)
    assert out.shape == (5, 3, size, size)
    assert 0 <= out.min() and out.max() <= 1
    convs = [m for m in vae.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64]
    assert [c.kernel_size[0] for c in convs] == [5, 3, 3]
    assert [c.stride[0] for c in convs] == [3, 2, 2]
    assert vae.decoder[-1].kernel_size == (6, 6) and vae.decoder[-1].stride == (3, 3)


def test_unsupported_size_is_rejected():
    with pytest.raises(ValueError, match="not supported"):
        ConvVAE(50)


def test_loss_is_bernoulli_cross_entropy_plus_beta_kl():
    torch.manual_seed(0)
    vae = ConvVAE(48, latent_dim=3)
    x = torch.rand(4, 3, 48, 48)
    torch.manual_seed(1)
    losses = vae.loss(x, beta=5.0)
    torch.manual_seed(1)
    mu, logvar = vae.encode(x)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    recon = F.binary_cross_entropy(vae.decode(z), x, reduction="sum") / 4
    kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
    assert losses["recon"].item() == pytest.approx(recon.item(), rel=1e-4)
    assert losses["kl"].item() == pytest.approx(kl.item(), rel=1e-4)
    assert losses["loss"].item() == pytest.approx(recon.item() + 5.0 * kl.item(), rel=1e-4)


def test_training_reduces_loss():
    torch.manual_seed(0)
    vae = ConvVAE(48, latent_dim=2)
    env = PointEnv()
    env.reset(seed=0)
    x = images_to_tensor(env.sample_goals(16)["image_desired_goal"])
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    first = vae.loss(x, 1.0)["loss"].item()
    for _ in range(30):
        loss = vae.loss(x, 1.0)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert vae.loss(x, 1.0)["loss"].item() < 0.9 * first


def test_trainer_metrics_average_every_step_since_they_were_last_taken():
    """Meters as the learner's: the train losses of two fine-tunes between log rows are
    averaged over all their steps; a row after no step has no train loss, only the latest
    held-out loss."""
    torch.manual_seed(0)
    env = PointEnv()
    env.reset(seed=0)
    images = env.sample_goals(40)["image_desired_goal"]
    config = RepresentationConfig(batch_size=8, latent_dim=2)
    trainer = VAETrainer(ConvVAE(48, latent_dim=2), images, config, np.random.default_rng(0))
    first, second = trainer.train(3), trainer.train(2)
    taken = trainer.take_metrics()
    expected = (3 * first["vae/train_loss"] + 2 * second["vae/train_loss"]) / 5
    assert taken["vae/train_loss"] == pytest.approx(expected)
    assert taken["vae/test_loss"] == second["vae/test_loss"] != first["vae/test_loss"]
    assert trainer.take_metrics() == {k: v for k, v in taken.items() if "/test_" in k}


def test_images_to_tensor_checks_input():
    images = np.zeros((2, 48, 48, 3), np.uint8)
    images[0, 0, 0] = 255
    t = images_to_tensor(images)
    assert t.shape == (2, 3, 48, 48) and t.dtype == torch.float32
    assert t[0, :, 0, 0].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="uint8"):
        images_to_tensor(images.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        images_to_tensor(images[0])


def test_encode_and_decode_images_round_types():
    vae = ConvVAE(48, latent_dim=4)
    images = np.random.default_rng(0).integers(0, 256, (7, 48, 48, 3), dtype=np.uint8)
    z = vae.features(images, batch_size=3)
    assert z.shape == (7, 4) and z.dtype == np.float32
    mu = vae.encode(images_to_tensor(images))[0].detach().numpy()
    np.testing.assert_allclose(z, mu, atol=1e-5)
    decoded = vae.decode_to_images(z)
    assert decoded.shape == (7, 48, 48, 3) and decoded.dtype == np.uint8


def test_fitted_prior_matches_latent_statistics():
    rng = np.random.default_rng(0)
    latents = rng.normal([1.0, -2.0, 0.0], [0.5, 2.0, 0.1], size=(20000, 3))
    prior = FittedPrior.fit(latents)
    np.testing.assert_allclose(prior.mean, [1.0, -2.0, 0.0], atol=0.05)
    np.testing.assert_allclose(prior.std, [0.5, 2.0, 0.1], rtol=0.03)
    samples = prior.sample(20000, rng)
    assert samples.dtype == np.float32
    np.testing.assert_allclose(samples.std(0), prior.std, rtol=0.03)
    with pytest.raises(ValueError):
        FittedPrior.fit(latents[:1])
