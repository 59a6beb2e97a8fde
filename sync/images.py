"""Check uploaded photos and make the copies browsers are served.

:func:`inspect_image` accepts only complete JPEG, PNG and WebP files within
byte and pixel limits and reads the capture time and GPS position from EXIF.
The pixel limit is checked from the header before any decoding and does not
depend on Pillow's global ``MAX_IMAGE_PIXELS``. :func:`make_thumbnail` and
:func:`strip_metadata` re-encode as JPEG with the EXIF orientation applied
and no EXIF, XMP or comments, so nothing served to a browser carries GPS.
:func:`inspect_upload` is what an upload request runs: the same answers, from the header
and the container alone when the file is whole (the copies' job decodes it).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image, ImageFile, ImageOps

#: Formats we accept, as Pillow names them.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
#: Phone cameras reach about 50 MP at most in their default modes' 12–24 MP; a photo above 24 MP is
#: refused from its header (a 115 KB PNG can claim 40 MP and cost seconds of CPU and 200 MB to decode).
DEFAULT_MAX_PIXELS = 24_000_000
#: ``Image.info`` keys that carry no personal metadata (colour, density, container details).
_HARMLESS_INFO = frozenset(
    {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
        "icc_profile",
        "progressive",
        "progression",
        "adobe",
        "adobe_transform",
        "gamma",
        "srgb",
        "chromaticity",
        "aspect",
        "interlace",
        "transparency",
        "background",
        "loop",
        "duration",
        "timestamp",
    }
)

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_DATETIME = 306
_ORIENTATION = 0x0112

#: Signatures of image formats we recognise but do not accept, so a user
#: hears "unsupported format" rather than "not an image". Checked by prefix;
#: no parser ever runs on these files.
_OTHER_IMAGE_SIGNATURES = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",  # ICO
    b"8BPS",  # Photoshop
    b"\xff\x0a",  # JPEG XL codestream
    b"\x00\x00\x00\x0cJXL ",
    b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
)
#: The whole IEND chunk that ends every complete PNG file.
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_ISO_BMFF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


class ImageRejected(ValueError):
    """An upload is not an acceptable photo; ``code`` is stable, ``message`` is for the user (Chinese)."""

    MESSAGES = {
        "not_an_image": "文件不是有效的图片。",
        "truncated": "图片文件不完整，请重新上传。",
        "too_large_bytes": "图片太大，请压缩后再上传。",
        "too_many_pixels": "图片像素过多，请缩小后再上传。",
        "unsupported_format": "只支持 JPEG、PNG、WebP 格式的图片（不支持 HEIC、GIF 等），请转换后再上传。",
    }

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or self.MESSAGES.get(code, "图片无法使用。")
        super().__init__(self.message)


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`inspect_image` learned about an accepted photo.

    ``width`` and ``height`` are the stored pixel size; ``orientation`` is the
    EXIF orientation (1–8, 1 when absent), see :attr:`display_size`.
    ``exif_captured_at`` is naive (camera local time) unless the photo records
    its UTC offset.
    """

    format: str
    width: int
    height: int
    sha256: str
    byte_size: int
    exif_captured_at: datetime | None = None
    exif_latitude: float | None = None
    exif_longitude: float | None = None
    orientation: int = 1
    #: EXIF, XMP, a comment or text chunks: the served copy must be re-encoded without them.
    has_metadata: bool = True

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after the EXIF orientation is applied."""
        if self.orientation in (5, 6, 7, 8):
            return (self.height, self.width)
        return (self.width, self.height)


def inspect_image(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Verify an uploaded photo completely and read its EXIF time and position.

    Raises :class:`ImageRejected` with code ``too_large_bytes``, ``not_an_image``,
    ``unsupported_format``, ``too_many_pixels`` or ``truncated``.
    """
    return _inspect(data, max_bytes, max_pixels, decode=True)


def inspect_upload(
    data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS, sha256: str | None = None
) -> ImageInfo:
    """What the upload request checks: format, pixel limit and EXIF from the header, and that the file is whole.

    No pixel is decoded when the container shows the file complete (a JPEG ending in its EOI marker, a PNG in
    its IEND chunk, a WebP as long as its RIFF header says): the request stores the bytes and the background
    job that makes the copies decodes them. Anything else (a cut-off file, trailing bytes after a JPEG) is
    decoded here, as :func:`inspect_image` does, so the answer is the same as before: ``truncated``,
    ``not_an_image`` or accepted. ``sha256``, when the caller has it, is not computed again.
    """
    return _inspect(data, max_bytes, max_pixels, decode=not _looks_complete(data), sha256=sha256)


def _looks_complete(data: bytes) -> bool:
    kind = _sniff(data)
    if kind == "JPEG":
        return data.endswith(b"\xff\xd9")
    if kind == "PNG":
        return data.endswith(_PNG_IEND)
    if kind == "WEBP":
        return not _riff_truncated(data)
    return False


def _inspect(data: bytes, max_bytes: int, max_pixels: int, *, decode: bool, sha256: str | None = None) -> ImageInfo:
    if len(data) > max_bytes:
        raise ImageRejected("too_large_bytes", f"图片太大（最大 {_megabytes(max_bytes)} MB）。")
    # A JPEG is decoded at 1/8 scale: every byte of the compressed data is still read and checked
    # (a cut-off or corrupt file fails), at a fraction of the CPU of a full decode.
    with _open_checked(data, max_pixels, draft_to=(1, 1), load=decode) as img:
        fmt = str(img.format)
        width, height = _header_size(img)
        exif = _read_exif(img)
        has_metadata = _has_metadata(img, exif)
    return ImageInfo(
        format=fmt,
        width=width,
        height=height,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        byte_size=len(data),
        exif_captured_at=exif["captured_at"],
        exif_latitude=exif["latitude"],
        exif_longitude=exif["longitude"],
        orientation=exif["orientation"],
        has_metadata=has_metadata,
    )


def _header_size(img: Image.Image) -> tuple[int, int]:
    """The stored pixel size (``draft`` shrinks ``img.size`` to the decoded scale)."""
    return getattr(img, "_dudao_header_size", img.size)


def _has_metadata(img: Image.Image, exif: dict[str, Any]) -> bool:
    """Whether the file carries EXIF, XMP, a comment, text chunks or anything else beyond pixels and colour."""
    try:
        if img.getexif():
            return True
    except Exception:  # an unreadable EXIF block is still metadata
        return True
    if exif["orientation"] != 1:
        return True
    if any(key not in _HARMLESS_INFO for key in img.info):
        return True
    return bool(getattr(img, "text", None))


def make_thumbnail(data: bytes, long_edge: int = 320, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A JPEG (quality 80) whose longer side is at most ``long_edge``, upright, without metadata."""
    if long_edge < 1:
        raise ValueError("long_edge must be positive")
    with _open_checked(data, max_pixels, draft_to=(long_edge, long_edge)) as img:
        icc_profile = img.info.get("icc_profile")
        upright = _upright_rgb(img)
    upright.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return _encode_jpeg(upright, quality=80, icc_profile=icc_profile)


def strip_metadata(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The full-size photo re-encoded as JPEG (quality 88), upright, with no EXIF, XMP or comment."""
    with _open_checked(data, max_pixels) as img:
        icc_profile = img.info.get("icc_profile")
        upright = _upright_rgb(img)
    return _encode_jpeg(upright, quality=88, icc_profile=icc_profile)


# --------------------------------------------------------------------------- opening and checks


@contextlib.contextmanager
def _open_checked(
    data: bytes, max_pixels: int, draft_to: tuple[int, int] | None = None, load: bool = True
) -> Iterator[Image.Image]:
    """Open ``data`` as an allowed format, check pixels before decoding, decode fully; close after.

    ``draft_to`` lets JPEG decode at a reduced scale (still at least that size) for thumbnails;
    ``load=False`` reads the header only.
    """
    img = _open_and_load(data, max_pixels, draft_to, load)
    try:
        yield img
    finally:
        img.close()


def _open_and_load(data: bytes, max_pixels: int, draft_to: tuple[int, int] | None, load: bool = True) -> Image.Image:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then silently fill missing data with grey; refuse to run rather than accept it.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must be False to verify uploads")
    if not data:
        raise ImageRejected("not_an_image")
    kind = _sniff(data)
    if kind is None:
        raise ImageRejected("not_an_image")
    if kind not in ALLOWED_FORMATS:
        raise ImageRejected("unsupported_format")
    if kind == "WEBP" and _riff_truncated(data):
        raise ImageRejected("truncated")
    try:
        img = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own check ran first (its limit is above ours unless max_pixels is huge).
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:  # any parser failure on untrusted bytes means "reject"
        raise _decode_failure(exc) from exc
    try:
        width, height = img.size
        if width < 1 or height < 1:
            raise ImageRejected("not_an_image")
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        img._dudao_header_size = (width, height)  # type: ignore[attr-defined]
        if not load:
            return img
        if draft_to is not None and img.format == "JPEG":
            img.draft("RGB", draft_to)
        try:
            img.load()
            if kind == "PNG":
                _verify_png(data)
        except ImageRejected:
            raise
        except Exception as exc:
            raise _decode_failure(exc) from exc
    except BaseException:
        img.close()
        raise
    return img


def _sniff(data: bytes) -> str | None:
    """The format named by the file's signature: an allowed one, ``"OTHER"`` image, or ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(_OTHER_IMAGE_SIGNATURES):
        return "OTHER"
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_BMFF_BRANDS:
        return "OTHER"
    return None


def _riff_truncated(data: bytes) -> bool:
    """A WebP file is shorter than its RIFF header says."""
    if len(data) < 12:
        return True
    (riff_size,) = struct.unpack("<I", data[4:8])
    return len(data) < riff_size + 8


def _verify_png(data: bytes) -> None:
    """Walk every PNG chunk's CRC up to IEND (``load`` alone accepts a file cut after its pixels)."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as again:
            again.verify()
    except Exception as exc:
        if _PNG_IEND not in data[-1024:]:
            raise ImageRejected("truncated") from exc
        raise


def _decode_failure(exc: BaseException) -> ImageRejected:
    """Classify a decoder error: cut-off files are ``truncated``, anything else ``not_an_image``."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "incomplete" in text:
        return ImageRejected("truncated")
    return ImageRejected("not_an_image")


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected("too_many_pixels", f"图片像素过多（最多 {max_pixels // 10_000} 万像素），请缩小后再上传。")


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return str(int(mb)) if mb.is_integer() else f"{mb:.1f}"


# --------------------------------------------------------------------------- EXIF


def _read_exif(img: Image.Image) -> dict[str, Any]:
    """Capture time, GPS position and orientation; a broken EXIF block just yields ``None``s."""
    result: dict[str, Any] = {"captured_at": None, "latitude": None, "longitude": None, "orientation": 1}
    try:
        exif = img.getexif()
    except Exception:  # EXIF is optional: never reject a photo because of it
        return result
    try:
        orientation = int(exif.get(_ORIENTATION, 1))
        result["orientation"] = orientation if 1 <= orientation <= 8 else 1
    except (TypeError, ValueError):
        pass
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        result["captured_at"] = _parse_exif_datetime(
            sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), sub.get(_OFFSET_TIME_ORIGINAL)
        )
    except Exception:
        pass
    try:
        position = _gps_position(exif.get_ifd(_GPS_IFD))
    except Exception:
        position = None
    if position is not None:
        result["latitude"], result["longitude"] = position
    return result


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ").strip()


def _parse_exif_datetime(value: Any, offset: Any = None) -> datetime | None:
    """``"YYYY:MM:DD HH:MM:SS"`` (with an optional ``"+08:00"`` offset) as a datetime, else ``None``."""
    if value is None:
        return None
    try:
        moment = datetime.strptime(_text(value)[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset is not None:
        off = _text(offset)
        try:
            sign = -1 if off[0] == "-" else 1
            hours, minutes = int(off[1:3]), int(off[4:6])
            if off[0] in "+-" and off[3] == ":" and hours <= 14 and minutes < 60:
                moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        except (IndexError, ValueError):
            pass
    return moment


def _degrees(value: Any) -> float:
    """Degrees, minutes, seconds (rationals) as decimal degrees; raises on bad data."""
    parts = [float(part) for part in value]
    if not 1 <= len(parts) <= 3:
        raise ValueError("bad GPS coordinate")
    parts += [0.0] * (3 - len(parts))
    deg = parts[0] + parts[1] / 60 + parts[2] / 3600
    if not math.isfinite(deg):
        raise ValueError("bad GPS coordinate")
    return deg


def _gps_position(gps: Any) -> tuple[float, float] | None:
    """(latitude, longitude) from the GPS IFD, south and west negative; ``None`` if absent or invalid."""
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _degrees(gps[2]), _degrees(gps[4])
    lat_ref, lon_ref = _text(gps.get(1, "N")).upper(), _text(gps.get(3, "E")).upper()
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    if lat_ref == "S":
        lat = -lat
    if lon_ref == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return (round(lat, 7), round(lon, 7))


# --------------------------------------------------------------------------- re-encoding


def _upright_rgb(img: Image.Image) -> Image.Image:
    """The decoded image turned upright and as RGB (transparency flattened on white)."""
    upright = ImageOps.exif_transpose(img)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if upright.mode.startswith("I;16") or upright.mode == "I":
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        upright = upright.convert("I").point(lambda v: v / 256).convert("L")
    return upright if upright.mode == "RGB" else upright.convert("RGB")


def _encode_jpeg(img: Image.Image, quality: int, icc_profile: bytes | None) -> bytes:
    """Encode as JPEG with nothing but pixels and the colour profile.

    ``info`` is cleared because Pillow's JPEG writer falls back to ``img.info``
    for some metadata (the comment, for one).
    """
    img.info = {}
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": quality, "optimize": True}
    if icc_profile:
        options["icc_profile"] = icc_profile
    img.save(out, "JPEG", **options)
    return out.getvalue()
