"""Phone figures for ``python -m benchmarks.sync``: photo size and quality, the cold load of the shell.

- ``photo_ratio``: a camera-like 4000×3000 JPEG's bytes ÷ the bytes the phone uploads for it
  (its own photos.js in Chromium: WebP where the browser encodes it, else JPEG; long edge 1600);
- ``photo_ssim``: SSIM (luma, 7×7 window, as scikit-image) of that upload against a 1600-px
  reference (the original resized with Lanczos) — numpy and Pillow only;
- ``photo_ssim_webp_q<N>`` / ``photo_ratio_webp_q<N>``: the same for Pillow's libwebp at a few
  qualities, the measurement behind photos.js's choice;
- ``cold_load_requests`` and ``shell_gzip`` (see benchmarks/sync.py, which calls these).
It prints figures and asserts nothing.

Measured (2026-11-30): on this scene no encoding reaches ``photo_ratio`` ≥ 15 at SSIM ≥ 0.95. Chromium's
WebP holds 0.95 from quality 0.85 (10.8×; 0.84 gives 0.949 at 11.5×), its JPEG from 0.90 (7.6×); even
libwebp on the exact Lanczos reference needs quality 80 (12.2×, 0.958; 75 gives 15.6× at 0.937).
Chromium's own downscale alone scores 0.983 (halving steps score lower; a Lanczos one helps, below).
The original is camera-sized (4.6 MB), so the ratio is not low for a small original: the scene's
1/f texture covers most of the frame at every scale, with no lens softness or smooth areas, so its
1600-px copy is as costly per pixel as the original. Real photographs are no easier (below).

Follow-up (2026-11-30; ratio / SSIM on this scene unless said):
- Chromium 156 encodes no AVIF (toBlob and convertToBlob answer PNG); WebCodecs' AV1 encoder stops at
  9.7× (its quantizer is capped). Next-generation codecs reach 15× only on the exact Lanczos
  reference and only just: libaom AVIF quality 60 tune=ssim 15.2× / 0.952, libjxl quality 82 effort 7
  15.3× / 0.952; after Chromium's resize AVIF gives 12.9× at 0.9497. Their WASM encoders
  (@jsquash/avif 1.1 MB gzip, 4–10 s per 1600×1200 photo in desktop Chromium; @jsquash/jxl 0.5 MB
  gzip, 4 s in Node) do not fit a phone. WebP stops near 13.5× at 0.95 (libwebp method 6 quality 80:
  13.3× / 0.953; Chromium's WebP matches libwebp's default method 4 within 0.2 %); MozJPEG is below
  WebP (10.4× at 0.944).
- The resize matters: Chromium's smoothing (drawImage or createImageBitmap, "high" = "medium") scores
  0.983 alone, "low" 0.957; a Lanczos-3 resize in JavaScript scores 0.9997 and lets Chromium's WebP
  0.79 give 13.1× / 0.952 (the same as libwebp on the reference), against 10.8× today.
- Real photographs (Debian's wallpapers: a Sony RX100 IV photo and four Olympus E-M1 ones, cropped
  to 4:3, resized to 4000×3000, JPEG 92) come out at 6.3–8.7× with photos.js (SSIM 0.956–0.980; one
  smooth sky scene 21×): a detailed real photo costs as many bytes at 1600 px as this scene or more.
  (The E-M1 files are 2560 px wide, so their 4000-px originals are smaller than a camera's: their
  ratios are on the low side; the RX100 one is near native size and gives 7.5× at 0.956.)

"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

#: The long edge the phone keeps (photos.js MAX_EDGE).
LONG_EDGE = 1600


def camera_like_4000x3000(seed: int = 7) -> bytes:
    """A camera-like 12-megapixel JPEG (quality 92, as phones save them).

    Natural images have a roughly 1/f amplitude spectrum: smooth areas, edges and texture at
    every scale. Pink noise per channel (correlated across channels), a few hard-edged shapes
    (a building, a board, lines of "text") and mild sensor noise give a scene that compresses
    like a photo, unlike white noise (which no encoder can shrink while keeping its structure).
    """
    rng = np.random.default_rng(seed)
    h, w = 3000, 4000
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / max(h, w)) ** 1.1
    common = np.fft.irfft2(amplitude * np.exp(2j * np.pi * rng.random(amplitude.shape)), s=(h, w))
    channels = []
    for tint in (1.0, 0.9, 0.75):
        own = np.fft.irfft2(amplitude * np.exp(2j * np.pi * rng.random(amplitude.shape)), s=(h, w))
        mix = 0.8 * common + 0.2 * own
        mix = (mix - mix.mean()) / mix.std()
        channels.append(np.clip(128 + 38 * mix * tint, 0, 255))
    rgb = np.stack(channels, axis=-1)
    rgb[600:2200, 400:1900] = rgb[600:2200, 400:1900] * 0.35 + np.array([150, 120, 100]) * 0.65  # a wall
    rgb[900:1500, 2300:3600] = np.array([40, 70, 50])  # a blackboard
    for row in range(960, 1440, 60):  # chalk writing
        for col in range(2380, 3500, 45):
            if rng.random() < 0.7:
                rgb[row : row + 28, col : col + 4] = 230
                rgb[row + 12 : row + 16, col - 8 : col + 14] = 230
    rgb += rng.normal(0, 2.0, rgb.shape)  # sensor noise
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def reference_1600(original: bytes) -> Image.Image:
    """The original, upright and resized so its long edge is 1600 px (Lanczos): what a perfect phone would keep."""
    image = Image.open(io.BytesIO(original))
    image = image.convert("RGB")
    scale = LONG_EDGE / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def _luma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64) @ np.array([0.299, 0.587, 0.114])


def _box(values: np.ndarray, n: int) -> np.ndarray:
    """Mean over every n×n window (valid positions only), by an integral image."""
    s = np.pad(values, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (s[n:, n:] - s[:-n, n:] - s[n:, :-n] + s[:-n, :-n]) / (n * n)


def ssim(a: Image.Image, b: Image.Image, window: int = 7) -> float:
    """Mean SSIM of two images' luma (scikit-image's defaults: 7×7 uniform window, sample covariance)."""
    if a.size != b.size:
        b = b.resize(a.size, Image.Resampling.LANCZOS)
    x, y = _luma(a), _luma(b)
    n = window * window
    correction = n / (n - 1)
    mx, my = _box(x, window), _box(y, window)
    vx = (_box(x * x, window) - mx * mx) * correction
    vy = (_box(y * y, window) - my * my) * correction
    cxy = (_box(x * y, window) - mx * my) * correction
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def encoded(image: Image.Image, fmt: str, quality: int) -> bytes:
    """The image encoded as Pillow does it (libwebp / libjpeg)."""
    out = io.BytesIO()
    image.save(out, fmt, quality=quality)
    return out.getvalue()


def quality_sweep(original: bytes, reference: Image.Image) -> list[tuple[str, int, float, float]]:
    """(format, quality, ratio, ssim) for WebP and JPEG at a few qualities."""
    rows = []
    for fmt, qualities in (("WEBP", (60, 70, 75, 80, 85)), ("JPEG", (70, 75, 80, 85))):
        for quality in qualities:
            data = encoded(reference, fmt, quality)
            rows.append((fmt, quality, len(original) / len(data), ssim(reference, Image.open(io.BytesIO(data)))))
    return rows


def photo_figures(emit, resize_in_chromium) -> None:  # noqa: ANN001  (benchmarks.sync's helpers)
    """Print photo_ratio and photo_ssim (the phone's own encoding in Chromium) and the quality sweep."""
    original = camera_like_4000x3000()
    reference = reference_1600(original)
    for fmt, quality, ratio, score in quality_sweep(original, reference):
        emit(f"photo_ratio_{fmt.lower()}_q{quality}", ratio, "x")
        emit(f"photo_ssim_{fmt.lower()}_q{quality}", score, "")
    uploaded = resize_in_chromium(original)
    if uploaded is None:  # no Chromium here: Pillow's libwebp at the phone's quality
        uploaded = encoded(reference, "WEBP", 85)
    image = Image.open(io.BytesIO(uploaded))
    emit("photo_uploaded_bytes", len(uploaded), "B")
    emit("photo_uploaded_long_edge", max(image.size), "px")
    emit("photo_ratio", len(original) / len(uploaded), "x")
    emit("photo_ssim", ssim(reference, image), "")


def cold_load_requests(app, password: str, chromium: str) -> tuple[int, int, int]:  # noqa: ANN001
    """Requests and bytes of a first visit to /inspect/ by a signed-in inspector, until the service worker controls it.

    Counted at the server (the page's and the service worker's requests alike), from the
    navigation to the shell until the worker has precached and the app has started;
    returns (requests, answered 304, body bytes sent).
    """
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    seen: list[tuple[str, int, int]] = []
    counting = {"on": False}

    def wsgi(environ, start_response):  # noqa: ANN001, ANN202
        box: dict[str, int] = {}

        def starting(status, headers, *args):  # noqa: ANN001, ANN202
            box["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        body = list(app(environ, starting))
        if counting["on"]:
            seen.append((environ["PATH_INFO"], box.get("status", 0), sum(len(b) for b in body)))
        return body

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, bypass_csp=True)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#username", "bench")
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            counting["on"] = True
            page.goto(base + "/inspect/")
            page.wait_for_function("window.dudao && navigator.serviceWorker.controller !== null", timeout=60_000)
            page.evaluate("window.dudao.ready")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)
            counting["on"] = False
            browser.close()
    finally:
        server.shutdown()
    import os

    if os.environ.get("BENCH_VERBOSE"):
        for path, status, size in seen:
            print(f"  {status} {size:>7} {path}")
    return len(seen), sum(1 for _, status, _ in seen if status == 304), sum(size for _, _, size in seen)
