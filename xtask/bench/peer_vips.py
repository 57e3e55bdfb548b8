"""libvips peer (pyvips): the job done the libvips way, thumbnail with
shrink-on-load and autorotate. Run with VIPS_CONCURRENCY=1 so it uses one
thread, as our pipeline and Pillow mostly do.
"""

import pyvips

import peer_common

SIDE = 256
QUALITY = 90
WHITE = [255, 255, 255]
# libvips turns clockwise; the bucket contract's angles are counter-clockwise
# (as Pillow's), so 90 is vips's d270.
ROTATIONS = (pyvips.Angle.D270, pyvips.Angle.D180, pyvips.Angle.D90)

# The operation cache would hand later repeats the first run's result.
pyvips.cache_set_max(0)


def jpeg(image):
    # subsample_mode="on": 4:2:0 chroma as ours and Pillow's; libvips's default
    # keeps full chroma at Q >= 90, which costs it time. keep="none": no metadata.
    return image.jpegsave_buffer(Q=QUALITY, subsample_mode="on", keep="none")


def job(path):
    # size="down": never enlarge, as the contract says.
    image = pyvips.Image.thumbnail(path, SIDE, height=SIDE, size="down")
    if image.hasalpha():
        image = image.flatten(background=WHITE)
    if image.bands < 3:
        image = image.colourspace("srgb")
    image = image.gravity("centre", SIDE, SIDE, extend="background", background=WHITE)
    processed = jpeg(image)

    outputs = [processed]
    for angle in ROTATIONS:
        outputs.append(jpeg(pyvips.Image.new_from_buffer(processed, "").rot(angle)))
    outputs.append(jpeg(pyvips.Image.new_from_buffer(processed, "")))
    return outputs


def jpeg_size(data):
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


if __name__ == "__main__":
    peer_common.run(job, jpeg_size)
