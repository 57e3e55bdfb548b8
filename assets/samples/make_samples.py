# Makes the sample images (run once; the outputs are committed): python3 make_samples.py  (needs Pillow, numpy)
import numpy as np
from PIL import Image, ImageDraw
rng = np.random.default_rng(7)
def scene(w, h):
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    sky = np.stack([90 + 100*y + 0*x, 150 + 70*y + 0*x, 230 - 30*y + 0*x], -1)
    img = Image.fromarray(np.clip(sky + rng.normal(0, 4, sky.shape), 0, 255).astype('uint8'))
    d = ImageDraw.Draw(img)
    d.ellipse([w*0.68, h*0.12, w*0.82, h*0.12 + w*0.14], fill=(255, 220, 90))
    d.polygon([(0, h), (w*0.3, h*0.45), (w*0.55, h), ], fill=(70, 100, 80))
    d.polygon([(w*0.35, h), (w*0.7, h*0.5), (w, h*0.8), (w, h)], fill=(50, 80, 60))
    d.rectangle([0, h*0.9, w, h], fill=(40, 120, 50))
    return img
scene(1200, 800).save('landscape.jpg', quality=85)
scene(450, 900).save('tall.jpeg', quality=85)
# A sideways-stored photo with EXIF orientation 6 (rotate 90 CW to view), as phones write.
side = scene(600, 800).rotate(90, expand=True)  # stored rotated CCW
exif = Image.Exif(); exif[0x0112] = 6
side.save('phone-portrait.JPG', quality=85, exif=exif.tobytes())
# Transparent PNG: a badge with soft edges.
logo = Image.new('RGBA', (500, 500), (0, 0, 0, 0))
d = ImageDraw.Draw(logo)
d.ellipse([20, 20, 480, 480], fill=(220, 60, 60, 255))
d.ellipse([120, 120, 380, 380], fill=(255, 255, 255, 128))
d.rectangle([230, 60, 270, 440], fill=(30, 30, 120, 255))
logo.save('badge.png')
