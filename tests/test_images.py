"""Photo checks and re-encoding (sync.images), on images made here with Pillow."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import pytest
from PIL import Image, ImageFile, TiffImagePlugin

from sync.images import ImageInfo, ImageRejected, inspect_image, inspect_upload, make_thumbnail, strip_metadata

# 贺兰县 roughly: 38°33'15.5" N, 106°20'42" E.
LAT_DMS = (38, 33, 15.5)
LON_DMS = (106, 20, 42)
LAT = 38 + 33 / 60 + 15.5 / 3600
LON = 106 + 20 / 60 + 42 / 3600


def _rational(value: float) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(int(round(value * 100)), 100)


def _exif(orientation: int = 1, *, gps: bool = True, south_west: bool = False) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[306] = "2024:01:01 00:00:00"
    exif.get_ifd(0x8769)[36867] = "2024:05:06 09:10:11"
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1] = "S" if south_west else "N"
        ifd[2] = tuple(_rational(v) for v in LAT_DMS)
        ifd[3] = "W" if south_west else "E"
        ifd[4] = tuple(_rational(v) for v in LON_DMS)
    return exif


def _jpeg(size: tuple[int, int], exif: Image.Exif | None = None, color: str = "red", **options: object) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    if exif is not None:
        options["exif"] = exif
    img.save(out, "JPEG", **options)
    return out.getvalue()


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _rejected(data: bytes, **limits: int) -> str:
    with pytest.raises(ImageRejected) as info:
        inspect_image(data, **limits)
    assert info.value.message and str(info.value) == info.value.message
    return info.value.code


@pytest.fixture(scope="module")
def camera_photo() -> bytes:
    """A 4000×3000 JPEG as a phone held upright writes it: orientation 6, time and GPS in EXIF."""
    return _jpeg((4000, 3000), _exif(orientation=6), quality=50)


def test_inspect_reads_size_time_and_gps(camera_photo: bytes) -> None:
    info = inspect_image(camera_photo)
    assert isinstance(info, ImageInfo)
    assert (info.format, info.width, info.height) == ("JPEG", 4000, 3000)
    assert info.orientation == 6 and info.display_size == (3000, 4000)
    assert info.byte_size == len(camera_photo)
    assert len(info.sha256) == 64
    assert info.exif_captured_at == datetime(2024, 5, 6, 9, 10, 11)
    assert info.exif_latitude == pytest.approx(LAT, abs=1e-6)
    assert info.exif_longitude == pytest.approx(LON, abs=1e-6)


def test_inspect_south_west_and_fallbacks() -> None:
    info = inspect_image(_jpeg((40, 30), _exif(south_west=True)))
    assert info.exif_latitude == pytest.approx(-LAT, abs=1e-6)
    assert info.exif_longitude == pytest.approx(-LON, abs=1e-6)

    exif = Image.Exif()
    exif[306] = "2023:02:03 04:05:06"
    info = inspect_image(_jpeg((40, 30), exif))
    assert info.exif_captured_at == datetime(2023, 2, 3, 4, 5, 6)
    assert info.exif_latitude is None and info.exif_longitude is None

    info = inspect_image(_jpeg((40, 30)))
    assert info.exif_captured_at is None and info.orientation == 1


def test_png_and_webp_accepted() -> None:
    assert inspect_image(_png(Image.new("RGBA", (30, 20)))).format == "PNG"
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(out, "WEBP")
    info = inspect_image(out.getvalue())
    assert (info.format, info.width, info.height) == ("WEBP", 30, 20)


def test_truncated_files_rejected(camera_photo: bytes) -> None:
    small = _jpeg((200, 150), _exif(), quality=95)
    assert _rejected(small[: len(small) // 2]) == "truncated"
    png = _png(Image.effect_noise((100, 100), 50))
    assert _rejected(png[: len(png) // 2]) == "truncated"
    assert _rejected(png[:-6]) == "truncated"  # pixels complete, IEND cut
    out = io.BytesIO()
    Image.effect_noise((100, 100), 50).save(out, "WEBP")
    webp = out.getvalue()
    assert _rejected(webp[: len(webp) // 2]) == "truncated"


def test_not_an_image() -> None:
    assert _rejected(bytes(range(256)) * 40) == "not_an_image"
    assert _rejected(b"") == "not_an_image"
    assert _rejected("督导记录".encode()) == "not_an_image"


def test_too_many_pixels_checked_before_decoding() -> None:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # 10^10 RGB pixels declared
    idat = zlib.compress(b"\x00" * 1000)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    assert _rejected(bomb) == "too_many_pixels"
    # Below Pillow's own limit, our limit still applies.
    assert _rejected(_png(Image.new("L", (300, 200))), max_pixels=50_000) == "too_many_pixels"


def test_bomb_check_does_not_rely_on_pillow_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert _rejected(_jpeg((400, 300)), max_pixels=100_000) == "too_many_pixels"


def test_truncated_loading_must_stay_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        inspect_image(_jpeg((20, 20)))


def test_unsupported_formats() -> None:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, "GIF")
    assert _rejected(out.getvalue()) == "unsupported_format"
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "BMP")
    assert _rejected(out.getvalue()) == "unsupported_format"
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    assert _rejected(heic_header + b"\x00" * 100) == "unsupported_format"


def test_too_large_bytes(camera_photo: bytes) -> None:
    assert _rejected(camera_photo, max_bytes=len(camera_photo) - 1) == "too_large_bytes"
    with pytest.raises(ImageRejected, match="15 MB"):
        inspect_image(b"\xff" * (15 * 1024 * 1024 + 1))


def test_thumbnail_size_and_orientation(camera_photo: bytes) -> None:
    thumb = Image.open(io.BytesIO(make_thumbnail(camera_photo)))
    assert thumb.format == "JPEG"
    assert thumb.size == (240, 320)  # 4000×3000 turned upright by orientation 6
    assert not thumb.getexif()

    small = Image.open(io.BytesIO(make_thumbnail(_jpeg((40, 20), _exif(orientation=6)))))
    assert small.size == (20, 40)  # portrait, never enlarged


def test_thumbnail_flattens_transparency() -> None:
    img = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    thumb = Image.open(io.BytesIO(make_thumbnail(_png(img), long_edge=16)))
    assert thumb.size == (16, 8) and thumb.mode == "RGB"
    assert thumb.getpixel((8, 4)) == (255, 255, 255)


def test_strip_metadata_removes_exif_and_gps_keeps_size() -> None:
    original = _jpeg((400, 300), _exif(orientation=6), comment=b"device serial 1234")
    stripped = strip_metadata(original)
    img = Image.open(io.BytesIO(stripped))
    assert img.format == "JPEG" and img.size == (300, 400)
    assert not img.getexif()
    assert not img.getexif().get_ifd(0x8825)
    assert "exif" not in img.info and "xmp" not in img.info and "comment" not in img.info
    assert b"Exif\x00\x00" not in stripped and b"1234" not in stripped
    info = inspect_image(stripped)
    assert info.exif_latitude is None and info.exif_captured_at is None and info.orientation == 1


def test_strip_metadata_rejects_bad_input() -> None:
    with pytest.raises(ImageRejected):
        strip_metadata(b"not an image")


def _answer(check: object, data: bytes) -> object:
    try:
        info = check(data)  # type: ignore[operator]
    except ImageRejected as exc:
        return exc.code
    return (info.format, info.width, info.height, info.has_metadata, info.exif_latitude, info.sha256)


def test_the_upload_check_answers_as_the_full_one() -> None:
    small = _jpeg((200, 150), _exif(), quality=95)
    png = _png(Image.effect_noise((100, 100), 50))
    out = io.BytesIO()
    Image.effect_noise((100, 100), 50).save(out, "WEBP")
    webp = out.getvalue()
    files = [
        small,
        _jpeg((64, 48)),
        small + b"trailer bytes after the EOI marker",
        small[: len(small) // 2],
        png,
        png[: len(png) // 2],
        png[:-6],
        webp,
        webp[: len(webp) // 2],
        bytes(range(256)) * 40,
        b"",
    ]
    for data in files:
        assert _answer(inspect_upload, data) == _answer(inspect_image, data)
    assert _answer(inspect_upload, small)[0] == "JPEG"
    assert _answer(inspect_upload, small[:900]) == "truncated"


def test_the_upload_check_decodes_no_pixels_of_a_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    photo = _jpeg((400, 300), _exif())
    decoded: list[str] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        decoded.append(str(self.format))
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    info = inspect_upload(photo, sha256="f" * 64)
    assert (info.width, info.height, info.sha256, info.exif_latitude is not None) == (400, 300, "f" * 64, True)
    assert decoded == []
    # A cut-off file is decoded to tell what is wrong with it.
    assert _rejected(photo[:-2]) == "truncated"
    with pytest.raises(ImageRejected):
        inspect_upload(photo[:-2])
    assert decoded
    # The pixel limit still comes from the header.
    with pytest.raises(ImageRejected, match="像素"):
        inspect_upload(photo, max_pixels=100_000)
