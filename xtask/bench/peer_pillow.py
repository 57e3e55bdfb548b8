"""Pillow peer: the job done the straightforward way, as the original Python
implementation would (Pillow was its library), with Pillow's defaults.

Note that exif_transpose and convert load the full image before thumbnail runs,
so Pillow's JPEG draft mode (DCT-scaled decoding) never kicks in here.
"""

import io

from PIL import Image, ImageOps

import peer_common

SIDE = 256
QUALITY = 90

# Pillow imports its format plugins on the first Image.open; that is import time,
# which no peer's timing includes (it is ~100 ms, more than the small jobs).
Image.preinit()


def jpeg(image):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def job(path):
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba).convert("RGB")
    else:
        image = image.convert("RGB")
    image.thumbnail((SIDE, SIDE))
    canvas = Image.new("RGB", (SIDE, SIDE), "white")
    canvas.paste(image, ((SIDE - image.width) // 2, (SIDE - image.height) // 2))
    processed = jpeg(canvas)

    source = Image.open(io.BytesIO(processed))
    # Image.rotate turns counter-clockwise, as the bucket contract's angles do.
    rotations = [jpeg(source.rotate(angle)) for angle in (90, 180, 270)]
    return [processed, *rotations, jpeg(source)]


def jpeg_size(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.size


if __name__ == "__main__":
    peer_common.run(job, jpeg_size)
