"""Pointer-to-repaint latency of a window, measured from outside it.

Moves the X pointer (XWarpPointer) off a widget and onto it, and times until
the pixels around the widget change (XGetImage of a 24x24 region, polled every
millisecond): the time the app takes to read the move, build the frame, paint
it and present it. Used by hand for docs/BENCHMARKS.md ("The window during a
local batch"); needs only the system's libX11.

    python3 pointer_latency.py DISPLAY ON_X ON_Y OFF_X OFF_Y SAMPLES SECONDS

Prints one line per sample (unix time, latency in ms), then the summary.
"""

import ctypes
import statistics
import sys
import time
import zlib

REGION = 12  # half the side of the square compared


class XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
    ]


def xlib():
    x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XGetImage.restype = ctypes.c_void_p
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return x11


def main():
    display, on_x, on_y, off_x, off_y, samples, seconds = sys.argv[1:8]
    on_x, on_y, off_x, off_y, samples = map(int, (on_x, on_y, off_x, off_y, samples))
    x11, libc = xlib(), ctypes.CDLL(None)
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        sys.exit(f"cannot open display {display}")
    root = x11.XDefaultRootWindow(dpy)

    def region():
        side = 2 * REGION
        image = x11.XGetImage(dpy, root, on_x - REGION, on_y - REGION, side, side,
                              0xFFFFFFFF, 2)  # AllPlanes, ZPixmap
        fields = XImage.from_address(image)
        data = ctypes.string_at(fields.data, fields.bytes_per_line * fields.height)
        libc.free(ctypes.c_void_p(fields.data))
        libc.free(ctypes.c_void_p(image))
        return zlib.crc32(data)

    def warp(x, y):
        x11.XWarpPointer(dpy, 0, root, 0, 0, 0, 0, x, y)
        x11.XSync(dpy, 0)

    times, misses = [], 0
    end = time.monotonic() + float(seconds)
    while len(times) + misses < samples and time.monotonic() < end:
        warp(off_x, off_y)
        time.sleep(0.25)  # the widget's unhovered look settles
        before = region()
        warp(on_x, on_y)
        started = time.monotonic()
        while time.monotonic() - started < 3.0 and region() == before:
            time.sleep(0.001)
        took = time.monotonic() - started
        if took >= 3.0:
            misses += 1
        else:
            times.append(took * 1000)
            print(f"{time.time():.2f} {took * 1000:.0f}", flush=True)
        time.sleep(0.1)
    if not times:
        sys.exit(f"no repaint seen ({misses} tries)")
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(f"samples={len(times)} misses={misses} median_ms={statistics.median(times):.0f} "
          f"p90_ms={p90:.0f} max_ms={times[-1]:.0f}")


if __name__ == "__main__":
    main()
