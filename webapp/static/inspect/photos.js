// Photos on the phone: shrink before storing (a 12-megapixel picture is 3–6 MB;
// over a county's mobile network that is minutes per photo), hash, locate.

/** Longest edge of a stored photo, in pixels. */
export const MAX_EDGE = 1600;
/**
 * Formats tried in order, each at the lowest quality that holds SSIM ≥ 0.95 against a
 * 1600-px reference of a camera-like 4000 × 3000 photo, measured with Chromium's own
 * encoder (benchmarks/phone.py): WebP 0.85 → 0.953 at 1/10.8 of the original (0.80 gave
 * 0.935); JPEG 0.90 → 0.954 at 1/7.6 (0.85 gave 0.940). WebP where the browser encodes it
 * (Chromium, Firefox); else JPEG (Safari answers PNG to a WebP request: the type is checked).
 */
export const ENCODINGS = [
  { type: "image/webp", quality: 0.85 },
  { type: "image/jpeg", quality: 0.9 },
];

let lastPosition = null;
let bitmapOrients = null;

/** A 2 × 1 JPEG with EXIF orientation 6: decoded upright it is 1 × 2. */
const PROBE =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/2wBDAFA3PEY8MlBGQUZaVVBf" +
  "eMiCeG5uePWvuZHI////////////////////////////////////////////////////wAALCAABAAIBAREA/8QAFAABAAAAAAAA" +
  "AAAAAAAAAAAABP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AE//Z";

/**
 * Whether createImageBitmap applies EXIF orientation here (some browsers ignore
 * the option silently); asked once with a tiny sideways picture.
 */
async function bitmapAppliesOrientation() {
  if (bitmapOrients === null) {
    try {
      const bytes = Uint8Array.from(atob(PROBE), (c) => c.charCodeAt(0));
      const blob = new Blob([bytes], { type: "image/jpeg" });
      const probe = await createImageBitmap(blob, { imageOrientation: "from-image" });
      bitmapOrients = probe.width === 1 && probe.height === 2;
      probe.close();
    } catch {
      bitmapOrients = false;
    }
  }
  return bitmapOrients;
}

/**
 * Decode a picture upright. `imageOrientation: "from-image"` applies the EXIF
 * orientation (a phone held upright stores a landscape image with orientation 6);
 * where createImageBitmap is missing or ignores the option, an <img> does it
 * (browsers apply EXIF orientation to images by default).
 * @param {Blob} file
 * @returns {Promise<{source: CanvasImageSource, width: number, height: number, close: () => void}>}
 */
async function decode(file) {
  if (typeof createImageBitmap === "function" && (await bitmapAppliesOrientation())) {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
    } catch {
      /* fall back to <img> below */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return { source: img, width: img.naturalWidth, height: img.naturalHeight, close: () => {} };
  } catch {
    throw new Error("无法读取这张图片（只支持 JPEG、PNG、WebP）。");
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Size that keeps the aspect ratio with the long edge at most `maxEdge`.
 * @returns {{width: number, height: number}}
 */
export function fitWithin(width, height, maxEdge = MAX_EDGE) {
  const scale = Math.min(1, maxEdge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function encode(image, width, height) {
  let canvas;
  let context = null;
  if (typeof OffscreenCanvas === "function") {
    canvas = new OffscreenCanvas(width, height);
    context = canvas.getContext("2d");
  }
  if (!context) {
    canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    context = canvas.getContext("2d");
  }
  context.imageSmoothingQuality = "high";
  context.drawImage(image.source, 0, 0, width, height);
  for (const { type, quality } of ENCODINGS) {
    const blob = await toBlob(canvas, type, quality);
    if (blob && blob.type === type) return blob;
  }
  throw new Error("图片压缩失败。");
}

function toBlob(canvas, type, quality) {
  if (typeof canvas.convertToBlob === "function") return canvas.convertToBlob({ type, quality }).catch(() => null);
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * Lowercase hex SHA-256 of a blob (the server checks it and uses it as the
 * photo's identity within a visit).
 * @param {Blob} blob
 * @returns {Promise<string>}
 */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Turn a picked or captured file into the photo kept on the phone: upright,
 * long edge ≤ 1600 px, WebP (else JPEG) at the measured quality, with its hash and capture time.
 * The canvas copy has no EXIF, so no orientation flag can rotate it twice later.
 * @param {File} file
 * @returns {Promise<{blob: Blob, sha256: string, width: number, height: number,
 *   byte_size: number, captured_at: string}>}
 */
export async function preparePhoto(file) {
  const image = await decode(file);
  try {
    const size = fitWithin(image.width, image.height);
    const blob = await encode(image, size.width, size.height);
    const capturedAt = new Date(file.lastModified && file.lastModified > 0 ? file.lastModified : Date.now());
    return {
      blob,
      sha256: await sha256Hex(blob),
      width: size.width,
      height: size.height,
      byte_size: blob.size,
      captured_at: capturedAt.toISOString(),
    };
  } finally {
    image.close();
  }
}

/**
 * The phone's position if the user allows it, else null; never waits longer
 * than `timeoutMs` (some browsers never answer while a permission prompt is open).
 * @param {number} [timeoutMs]
 * @returns {Promise<{latitude: number, longitude: number, accuracy_m: number, at: number}|null>}
 */
export function currentPosition(timeoutMs = 5000) {
  if (typeof navigator === "undefined" || !navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs + 200);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        clearTimeout(timer);
        lastPosition = {
          latitude: position.coords.latitude,
          longitude: position.coords.longitude,
          accuracy_m: position.coords.accuracy,
          at: Date.now(),
        };
        resolve(lastPosition);
      },
      () => {
        clearTimeout(timer);
        resolve(null);
      },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 120000 },
    );
  });
}

/**
 * The last position seen if it is recent (default 2 minutes), for a photo taken now.
 * @returns {{latitude: number, longitude: number, accuracy_m: number}|null}
 */
export function recentPosition(maxAgeMs = 120000) {
  return lastPosition && Date.now() - lastPosition.at <= maxAgeMs ? lastPosition : null;
}
