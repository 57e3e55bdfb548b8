"""Makes the benchmark corpus: photo-like images (smooth gradients, soft shapes,
multi-scale texture and sensor noise), so JPEG and PNG sizes are what real uploads
weigh. Deterministic (fixed seeds, pinned numpy and Pillow); files already present
are kept.

usage: gen_corpus.py OUT_DIR
"""

import io
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The largest photo is tuned to land under this, leaving headroom below the upload
# limit so a Pillow or libjpeg update cannot push it over.
BIG_PHOTO_BUDGET_BYTES = 9 * 1024 * 1024
# Sensor-noise levels (8-bit standard deviation) tried for the largest photo, most
# first; the first that fits the budget is used for every JPEG.
NOISE_SIGMAS = (10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.0)
JPEG_QUALITY = 92
# EXIF orientation 6 ("rotate 90 clockwise to view"), as phones write portrait shots.
EXIF_ORIENTATION_TAG = 0x0112


def texture(rng, width, height, channels):
    """Multi-octave value noise: blotches from 1/8 of the image down to a few pixels."""
    out = np.zeros((height, width, channels), np.float32)
    for cells, amplitude in ((8, 28.0), (40, 14.0), (200, 7.0), (900, 4.0)):
        cells_x = max(2, cells)
        cells_y = max(2, cells * height // width)
        for c in range(channels):
            small = rng.normal(0.0, amplitude, (cells_y, cells_x)).astype(np.float32)
            big = Image.fromarray(small, mode="F").resize((width, height), Image.Resampling.BICUBIC)
            out[:, :, c] += np.asarray(big)
    return out


def base_gradient(rng, width, height):
    """A sky-to-ground style vertical gradient with a sideways tint."""
    top = rng.uniform(60, 230, 3).astype(np.float32)
    bottom = rng.uniform(20, 200, 3).astype(np.float32)
    side = rng.uniform(-40, 40, 3).astype(np.float32)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :, None]
    return top * (1 - ys) + bottom * ys + side * xs


def shapes(rng, image, count):
    """Soft-edged ellipses, boxes and polygons in flat colours, blended in."""
    width, height = image.size
    blur = max(1.0, width / 1500)
    for _ in range(count):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(0.02, 0.2) * width, rng.uniform(0.02, 0.2) * height
        kind = rng.integers(3)
        # Drawn in a patch around the shape: blurring a full-size mask per shape
        # would take most of the generation time.
        margin = int(4 * blur) + 2
        left, top = int(cx - rx) - margin, int(cy - ry) - margin
        mask = Image.new("L", (int(2 * rx) + 2 * margin, int(2 * ry) + 2 * margin), 0)
        draw = ImageDraw.Draw(mask)
        cx, cy = cx - left, cy - top
        box = (cx - rx, cy - ry, cx + rx, cy + ry)
        if kind == 0:
            draw.ellipse(box, fill=int(rng.integers(150, 256)))
        elif kind == 1:
            draw.rectangle(box, fill=int(rng.integers(150, 256)))
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
            points = [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]
            draw.polygon(points, fill=int(rng.integers(150, 256)))
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        image.paste(Image.new("RGB", mask.size, colour), (left, top), mask)
    return image


def photo(seed, width, height, noise_sigma):
    """RGB photo-like content as a uint8 array."""
    rng = np.random.default_rng(seed)
    pixels = base_gradient(rng, width, height)
    pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    image = shapes(rng, Image.fromarray(pixels, "RGB"), count=40)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += texture(rng, width, height, 3)
    if noise_sigma > 0:
        pixels += rng.normal(0.0, noise_sigma, pixels.shape).astype(np.float32)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def alpha_mask(seed, width, height):
    """Transparency that varies: opaque middle, a radial fade to clear edges, holes,
    and half-transparent patches (a cut-out with a soft shadow, as it were)."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    radius = np.sqrt(xs**2 + ys**2)
    alpha = np.clip((1.2 - radius) / 0.5, 0.0, 1.0) * 255
    mask = Image.fromarray(alpha.astype(np.uint8), "L")
    draw = ImageDraw.Draw(mask)
    for _ in range(12):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.03, 0.12) * width
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=int(rng.choice([0, 64, 128, 192])))
    return mask.filter(ImageFilter.GaussianBlur(max(1.0, width / 1000)))


def jpeg_bytes(pixels, exif_orientation=None):
    image = Image.fromarray(pixels, "RGB")
    buffer = io.BytesIO()
    extra = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION_TAG] = exif_orientation
        extra["exif"] = exif.tobytes()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, **extra)
    return buffer.getvalue()


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def write(path, data):
    """Atomically, so an interrupted run never leaves a half file to be reused."""
    tmp = path + ".tmp"
    with open(tmp, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    sigma_file = os.path.join(out_dir, "noise_sigma.txt")

    big = os.path.join(out_dir, "photo_6000x4000.jpg")
    if os.path.exists(big) and os.path.exists(sigma_file):
        with open(sigma_file) as f:
            sigma = float(f.read())
    else:
        for sigma in NOISE_SIGMAS:
            data = jpeg_bytes(photo(1, 6000, 4000, sigma))
            print(f"  6000x4000 at noise sigma {sigma}: {len(data) / 2**20:.2f} MiB", flush=True)
            if len(data) <= BIG_PHOTO_BUDGET_BYTES:
                break
        else:
            sys.exit("no noise level fits the 6000x4000 photo in the budget; lower NOISE_SIGMAS")
        write(big, data)
        write(sigma_file, str(sigma))

    jobs = {
        # A phone shot held upright: stored landscape, EXIF says rotate to view.
        "photo_4000x3000_exif6.jpg": lambda: jpeg_bytes(photo(2, 4000, 3000, sigma), exif_orientation=6),
        "photo_1920x1080.jpg": lambda: jpeg_bytes(photo(3, 1920, 1080, sigma)),
        "photo_640x480.jpg": lambda: jpeg_bytes(photo(4, 640, 480, sigma)),
        "cutout_3000x2000_rgba.png": lambda: png_bytes(
            Image.merge("RGBA", (*Image.fromarray(photo(5, 3000, 2000, 0.0), "RGB").split(), alpha_mask(6, 3000, 2000)))
        ),
        "graphic_1024x768.png": lambda: png_bytes(Image.fromarray(photo(7, 1024, 768, 0.0), "RGB")),
    }
    for name, make in jobs.items():
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            write(path, make())

    labels = {
        "photo_6000x4000.jpg": f"6000x4000 JPEG q{JPEG_QUALITY}",
        "photo_4000x3000_exif6.jpg": f"4000x3000 JPEG q{JPEG_QUALITY}, EXIF rotated",
        "photo_1920x1080.jpg": f"1920x1080 JPEG q{JPEG_QUALITY}",
        "photo_640x480.jpg": f"640x480 JPEG q{JPEG_QUALITY}",
        "cutout_3000x2000_rgba.png": "3000x2000 PNG RGBA",
        "graphic_1024x768.png": "1024x768 PNG RGB",
    }
    manifest = []
    print(f"corpus in {out_dir} (JPEG noise sigma {sigma}):")
    for name, label in labels.items():
        size = os.path.getsize(os.path.join(out_dir, name))
        print(f"  {name:28} {size / 2**20:6.2f} MiB  {label}")
        if size > MAX_UPLOAD_BYTES:
            sys.exit(f"{name} is over the 10 MiB upload limit; the pipeline would reject it")
        manifest.append({"file": name, "label": label, "bytes": size})
    # The benchmark reads the images, in this order, from here.
    write(os.path.join(out_dir, "corpus.json"), json.dumps(manifest, indent=1))

if __name__ == "__main__":
    main()
