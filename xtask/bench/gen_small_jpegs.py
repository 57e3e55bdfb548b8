"""Writes N photo-like 640x480 JPEGs (q92, as the bench corpus's 640x480 photo) for
the local-throughput measurement of `augment process` (issue 11 §6). Content is the
corpus's (gradients, soft shapes, multi-scale texture, sensor noise): a few large
photos are made, then each file is a different 640x480 crop of one of them, flipped
or not, with fresh sensor noise — so no two files are alike and none is flat, and
1,000 files take seconds, not the quarter hour 1,000 separate photos would.

    python xtask/bench/gen_small_jpegs.py <out-dir> [N=1000]

Needs numpy and Pillow (the bench venv, target/bench/venv, has them).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from gen_corpus import jpeg_bytes, photo, write  # noqa: E402

NOISE_SIGMA = 3.0
SOURCES = 4
SOURCE_SIZE = (2560, 1920)
WIDTH, HEIGHT = 640, 480


def main():
    out_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    os.makedirs(out_dir, exist_ok=True)
    sources = [photo(2000 + s, *SOURCE_SIZE, 0.0) for s in range(SOURCES)]
    rng = np.random.default_rng(11)
    for i in range(count):
        source = sources[i % SOURCES]
        x = int(rng.integers(0, SOURCE_SIZE[0] - WIDTH))
        y = int(rng.integers(0, SOURCE_SIZE[1] - HEIGHT))
        crop = source[y:y + HEIGHT, x:x + WIDTH].astype(np.float32)
        if rng.integers(0, 2):
            crop = crop[:, ::-1]
        crop += rng.normal(0.0, NOISE_SIGMA, crop.shape)
        pixels = np.clip(crop, 0, 255).astype(np.uint8)
        write(os.path.join(out_dir, f"photo_{i:04}.jpg"), jpeg_bytes(np.ascontiguousarray(pixels)))
    print(f"{count} {WIDTH}x{HEIGHT} JPEGs in {out_dir}")


if __name__ == "__main__":
    main()
