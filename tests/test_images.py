import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from PIL import Image

from rig.images import check_image, load_goal_image, save_goal_image


@given(
    arrays(
        st.sampled_from([np.uint8, np.float32, np.int64, np.uint16]),
        array_shapes(max_dims=4, max_side=50),
    )
)
@settings(max_examples=200, deadline=None)
def test_check_image_accepts_exactly_uint8_square_rgb(image):
    valid = image.dtype == np.uint8 and image.shape == (48, 48, 3)
    if valid:
        assert check_image(image, 48) is not None
    else:
        with pytest.raises(ValueError) as err:
            check_image(image, 48, "goal image")
        assert str(err.value).startswith("goal image must")
        assert "\n" not in str(err.value)


@given(
    width=st.integers(1, 120),
    height=st.integers(1, 120),
    mode=st.sampled_from(["RGB", "RGBA", "L", "P", "I;16"]),
    fmt=st.sampled_from(["PNG", "BMP", "TIFF"]),
)
@settings(max_examples=40, deadline=None)
def test_any_image_pillow_reads_becomes_a_goal_with_notes(
    tmp_path_factory, width, height, mode, fmt
):
    if fmt == "BMP" and mode in ("I;16", "RGBA"):
        mode = "RGB"
    path = tmp_path_factory.mktemp("img") / f"goal.{fmt.lower()}"
    Image.new(mode, (width, height)).save(path, format=fmt)
    image, notes, state = load_goal_image(path, 48)
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8 and image.flags.writeable
    assert state is None
    assert any("resized" in n for n in notes) == ((width, height) != (48, 48))
    assert any("converted" in n for n in notes) == (Image.open(path).mode != "RGB")


def test_goal_png_carries_its_true_state(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    save_goal_image(tmp_path / "g.png", image, np.array([0.5, -1.25]))
    loaded, notes, state = load_goal_image(tmp_path / "g.png", 48)
    np.testing.assert_array_equal(loaded, image)
    assert notes == []
    np.testing.assert_allclose(state, [0.5, -1.25])


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        load_goal_image(bad, 48)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_goal_image(tmp_path / "missing.png", 48)


def write_png16(path, pixels):
    """A PNG of 16 bits per channel (grey, RGB or RGBA), written byte by byte."""
    import struct
    import zlib

    height, width, channels = pixels.shape
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_goal_images_are_scaled_not_clipped(tmp_path, channels):
    rng = np.random.default_rng(channels)
    eight_bit = rng.integers(0, 256, (48, 48, channels), dtype=np.uint16)
    if channels == 4:
        eight_bit[..., 3] = 255  # opaque
    path = tmp_path / "goal16.png"
    write_png16(path, eight_bit * 257)  # the same picture at 16 bits per channel
    image, _, _ = load_goal_image(path, 48)
    expected = np.repeat(eight_bit, 3, axis=-1) if channels == 1 else eight_bit[..., :3]
    np.testing.assert_array_equal(image, expected.astype(np.uint8))


def test_16_bit_grey_from_pillow_keeps_its_mid_grey(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((48, 48), 32768, np.uint16)).save(path)
    image, notes, _ = load_goal_image(path, 48)
    assert np.all(image == 128)  # Pillow's own convert("RGB") would give 255 (white)
    assert any("converted" in n for n in notes)


@pytest.mark.parametrize(
    "text,problem",
    [
        ("not json", "not JSON numbers"),
        ('"a string"', "not JSON numbers"),
        ("[0.1, NaN]", "not a list of finite numbers"),
        ("[[1, 2]]", "not a list of finite numbers"),
        ("[]", "not a list of finite numbers"),
    ],
)
def test_a_malformed_state_field_is_ignored_with_a_warning(text, problem, tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("rig:state_desired_goal", text)
    path = tmp_path / "g.png"
    Image.new("RGB", (48, 48), (10, 20, 30)).save(path, pnginfo=info)
    with pytest.warns(UserWarning, match=problem) as caught:
        image, _, state = load_goal_image(path, 48)
    assert state is None and image[0, 0].tolist() == [10, 20, 30]
    assert str(path) in str(caught[0].message) and "true distance is unknown" in str(
        caught[0].message
    )


def test_a_state_of_the_wrong_width_is_ignored_with_a_warning(tmp_path):
    from rig.images import check_goal_state

    with pytest.warns(UserWarning, match="3 numbers; the task's goal state has 2"):
        assert check_goal_state(tmp_path / "g.png", np.zeros(3, np.float32), 2) is None
    np.testing.assert_array_equal(check_goal_state(tmp_path, np.ones(2), 2), np.ones(2))


def test_a_fully_transparent_goal_image_is_warned_about(tmp_path):
    clear, half = tmp_path / "clear.png", tmp_path / "half.png"
    Image.new("RGBA", (48, 48), (200, 0, 0, 0)).save(clear)
    pixels = np.zeros((48, 48, 4), np.uint8)
    pixels[:24, :, 3] = 255
    Image.fromarray(pixels, "RGBA").save(half)
    with pytest.warns(UserWarning, match="fully transparent"):
        load_goal_image(clear, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_goal_image(half, 48)  # partly opaque: no warning
