# Makes the app icon, assets/icon.png (512x512 RGBA; installers derive every other
# size from it). Run once, the output is committed: python3 make_icon.py
# Standard library only. The picture: four tiles, one image turned four ways, as
# the pipeline does, on a blue rounded square.
import struct
import zlib

SIZE = 512
SS = 3  # supersampling per axis, for smooth edges


def rounded_rect(x, y, x0, y0, x1, y1, r):
    """Whether (x, y) lies in the rounded rectangle."""
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def in_triangle(x, y, a, b, c):
    def side(p, q):
        return (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])
    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    neg = d1 < 0 or d2 < 0 or d3 < 0
    pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (neg and pos)


def rotate(u, v, quarter_turns):
    """Where the tile pixel (u, v) samples the picture turned `quarter_turns` clockwise."""
    for _ in range(quarter_turns):
        u, v = v, 1 - u
    return u, v


def tile_colour(u, v):
    """The picture on each tile: sky, sun, two hills (like the samples)."""
    if (u - 0.72) ** 2 + (v - 0.28) ** 2 <= 0.12 ** 2:
        return (255, 206, 84)
    if in_triangle(u, v, (0.05, 1.0), (0.38, 0.42), (0.72, 1.0)):
        return (46, 125, 90)
    if in_triangle(u, v, (0.42, 1.0), (0.75, 0.55), (1.05, 1.0)):
        return (33, 97, 70)
    return (214, 233, 255)


def colour(x, y):
    """RGBA at (x, y) in icon pixels, or None for transparent."""
    if not rounded_rect(x, y, 16, 16, SIZE - 16, SIZE - 16, 96):
        return None
    t = (x + y) / (2 * SIZE)
    background = (int(38 + 20 * t), int(99 + 40 * t), int(235 - 40 * t))
    pad, gap = 72, 24
    side = (SIZE - 2 * pad - gap) / 2
    for row in range(2):
        for col in range(2):
            x0 = pad + col * (side + gap)
            y0 = pad + row * (side + gap)
            if rounded_rect(x, y, x0, y0, x0 + side, y0 + side, 22):
                inner = 10
                if not rounded_rect(x, y, x0 + inner, y0 + inner, x0 + side - inner, y0 + side - inner, 14):
                    return (255, 255, 255)
                u = (x - x0 - inner) / (side - 2 * inner)
                v = (y - y0 - inner) / (side - 2 * inner)
                turns = [0, 3, 2, 1][row * 2 + col]  # upright, then 90°, 180°, 270° counter-clockwise
                return tile_colour(*rotate(u, v, turns))
    return background


def render():
    rows = []
    for py in range(SIZE):
        row = bytearray([0])  # PNG filter: none
        for px in range(SIZE):
            r = g = b = a = 0
            for sy in range(SS):
                for sx in range(SS):
                    c = colour(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)
                    if c is not None:
                        r += c[0]; g += c[1]; b += c[2]; a += 1
            if a:
                row += bytes((r // a, g // a, b // a, 255 * a // (SS * SS)))
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return b"".join(rows)


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    with open("icon.png", "wb") as out:
        out.write(png(SIZE, SIZE, render()))
