"""Checks that the peers did the same job: PSNR of each peer's five outputs
against ours. A wrong orientation, rotation direction or placement shows as a
low PSNR; resampling and encoder differences alone stay well above it.

usage: compare.py OUT_ROOT   (OUT_ROOT/<image>/<peer>/<output>.jpg, peer "ours"
is the reference); prints {image: {peer: {output: psnr_db}}} as JSON.
"""

import json
import os
import sys

import numpy as np
from PIL import Image

OUTPUTS = ("processed", "90", "180", "270", "360")
# Identical images have infinite PSNR, which JSON cannot carry.
PSNR_CAP_DB = 99.0


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def psnr(a, b):
    if a.shape != b.shape:
        return 0.0
    mse = float(np.mean((a - b) ** 2))
    return PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * np.log10(255.0**2 / mse))


def main():
    root = sys.argv[1]
    report = {}
    for image in sorted(os.listdir(root)):
        peers = [p for p in sorted(os.listdir(os.path.join(root, image))) if p != "ours"]
        report[image] = {
            peer: {
                out: round(
                    psnr(
                        pixels(os.path.join(root, image, "ours", f"{out}.jpg")),
                        pixels(os.path.join(root, image, peer, f"{out}.jpg")),
                    ),
                    2,
                )
                for out in OUTPUTS
            }
            for peer in peers
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
