"""The harness every Python peer shares, so all peers are timed the same way as
our Rust one (lambdas/pipeline/examples/bench_one.rs).

`peer.py FILE REPEAT [--out DIR]` runs the job REPEAT times and prints one JSON
line: {"ms": [...], "cpu_ms": N, "peak_rss_kib": N, "out_px": [[w, h], ...]}.
`peer.py --baseline` prints the peak RSS of the interpreter with the peer's
imports done, and nothing else.
"""

import json
import os
import resource
import sys
import time

OUTPUT_NAMES = ("processed", "90", "180", "270", "360")


def peak_rss_kib():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(job, jpeg_size):
    """`job(path)` returns the five JPEGs (processed, then 90/180/270/360);
    `jpeg_size(bytes)` reads one back as (width, height), outside the timing."""
    args = sys.argv[1:]
    if args == ["--baseline"]:
        print(json.dumps({"peak_rss_kib": peak_rss_kib()}))
        return
    if len(args) not in (2, 4) or (len(args) == 4 and args[2] != "--out"):
        sys.exit(f"usage: {sys.argv[0]} FILE REPEAT [--out DIR] | --baseline")
    path, repeat = args[0], int(args[1])

    ms = []
    outputs = []
    cpu_before = time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        outputs = job(path)
        ms.append((time.perf_counter() - start) * 1000.0)
    cpu_ms = (time.process_time() - cpu_before) * 1000.0
    # Read before the checks below, so their decoding is not counted.
    peak = peak_rss_kib()

    out_px = [list(jpeg_size(jpeg)) for jpeg in outputs]
    if len(args) == 4:
        for name, jpeg in zip(OUTPUT_NAMES, outputs):
            with open(os.path.join(args[3], f"{name}.jpg"), "wb") as f:
                f.write(jpeg)
    print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "peak_rss_kib": peak, "out_px": out_px}))
