"""Makes a throughput corpus for `augment process`: COUNT distinct photo-like JPEGs
(q92) of WIDTHxHEIGHT, each different content. A few base pictures are made by
gen_corpus.py's `photo` (gradients, soft shapes, texture, sensor noise), a little
larger than the output; each file is a crop of one at its own offset, so no two
files share their bytes or their blocks. Deterministic; files already present are
kept.

usage: gen_throughput_corpus.py OUT_DIR COUNT WIDTH HEIGHT [NOISE_SIGMA]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus import jpeg_bytes, photo, write  # noqa: E402

# Files cut from each base picture.
CROPS_PER_PICTURE = 20
# How much larger than the output each base picture is, in pixels a side.
MARGIN_PX = 64


def main():
    out_dir, count, width, height = sys.argv[1], *map(int, sys.argv[2:5])
    sigma = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
    os.makedirs(out_dir, exist_ok=True)
    for picture in range((count + CROPS_PER_PICTURE - 1) // CROPS_PER_PICTURE):
        names = [
            os.path.join(out_dir, f"photo_{width}x{height}_{index:05}.jpg")
            for index in range(picture * CROPS_PER_PICTURE, min(count, (picture + 1) * CROPS_PER_PICTURE))
        ]
        if all(os.path.exists(name) for name in names):
            continue
        base = photo(1000 + picture, width + MARGIN_PX, height + MARGIN_PX, sigma)
        rng = np.random.default_rng(picture)
        for name in names:
            x, y = (int(v) for v in rng.integers(0, MARGIN_PX, 2))
            if not os.path.exists(name):
                write(name, jpeg_bytes(np.ascontiguousarray(base[y : y + height, x : x + width])))
    sizes = [os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)]
    print(f"{len(sizes)} files in {out_dir}, {sum(sizes) / len(sizes) / 2**10:.0f} KiB on average")


if __name__ == "__main__":
    main()
