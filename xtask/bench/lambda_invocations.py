"""Measures the Lambda bootstraps per invocation on given uploads: duration, CPU time
and peak RSS of each, and what 1,000 such uploads cost in GB-seconds at a memory size.

Each upload goes through both real binaries, each in a fresh process (as a cold
Lambda instance), under the Lambda Runtime API (`cargo lambda watch
--only-lambda-apis`) against a moto server, both on loopback: the processor gets the
upload's S3 event; when it processed the upload, the worker gets the four rotation
messages it queued as one SQS batch.

    python xtask/bench/lambda_invocations.py [--memory-mb 128] [--json OUT] \
        <bootstrap-dir> <upload>...

<bootstrap-dir> holds `image-processor` and `rotation-worker` (e.g. target/lambda
after `cargo build --profile lambda -p image-processor -p rotation-worker`).
Uploads are files as a user would upload them: the bench corpus
(target/bench/corpus/), the worst accepted hostile inputs.

Duration at the memory size: Lambda gives a function CPU in proportion to its memory
(one vCPU at 1,769 MB), so the handler's CPU time here is scaled by 1769 / memory and
the rest of its logged time (waiting on S3, SQS) is kept as measured. That estimate, times memory in GB, is
the GB-s billed. Peak RSS is the process's high-water mark (VmHWM): start-up, clients
and the invocation; it must stay under the memory size.

Needs boto3 + moto[server] + cargo-lambda on PATH (the CI venv has them).
"""
import argparse, json, os, socket, subprocess, sys, tempfile, time

import boto3

TEMPLATE = os.path.join(os.path.dirname(__file__), "../../lambdas/image-processor/tests/fixtures/s3-put-awkward-keys.json")
# One vCPU at this memory size (AWS Lambda's documented ratio).
FULL_VCPU_MB = 1769
# /proc/<pid>/stat counts CPU time in clock ticks.
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:rotations"
# The bootstrap is waiting for its first event once its CPU time stops growing for this long.
SETTLE_S = 0.3


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def wait(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"port {port} never opened")


def hwm_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmHWM for {pid}")


def cpu_s(pid):
    """The process's CPU time, as precisely as /proc tells it: utime + stime (clock
    ticks, 10 ms, but they keep the time of threads that have exited, such as a
    decoder's) or the sum of the live threads' run time (nanoseconds), the larger."""
    # utime and stime (fields 14 and 15), after the parenthesised command name.
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = (int(fields[11]) + int(fields[12])) / TICKS_PER_S
    ns = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            ns += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread exited meanwhile; the ticks still count it
    return max(ticks, ns / 1e9)


def settled_cpu_s(pid):
    """CPU time once start-up is over (the process blocks on the Runtime API)."""
    last = cpu_s(pid)
    while True:
        time.sleep(SETTLE_S)
        now = cpu_s(pid)
        if now == last:
            return now
        last = now


def invoke(bin_dir, name, event, env, rt_port):
    """One fresh bootstrap, one event: (wall s, handler CPU s, init CPU s, peak RSS KiB, log lines)."""
    log = tempfile.NamedTemporaryFile(delete=False)
    proc = subprocess.Popen([os.path.join(bin_dir, name)], stdout=log, stderr=subprocess.DEVNULL,
                            env=dict(env, AWS_LAMBDA_FUNCTION_NAME=name,
                                     AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{rt_port}/.rt/{name}"))
    try:
        init_cpu = settled_cpu_s(proc.pid)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(event, f)
        started = time.monotonic()
        subprocess.run(["cargo", "lambda", "invoke", name, "-A", "127.0.0.1", "-P", str(rt_port), "--data-file", f.name],
                       check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - started
        handler_cpu = cpu_s(proc.pid) - init_cpu
        rss = hwm_kib(proc.pid)
    finally:
        proc.kill(); proc.wait()
    lines = [json.loads(l) for l in open(log.name) if l.startswith("{")]
    return wall, handler_cpu, init_cpu, rss, lines


def handler_ms(lines, wall):
    """The handler's own time (the sum of its per-record `ms`), the billed part: the
    invoke round trip adds the emulator's and the `cargo lambda invoke` process's."""
    logged = [l["ms"] for l in lines if "outcome" in l and "ms" in l]
    return sum(logged) if logged else wall * 1000


def billed_gb_s(wall, cpu, memory_mb):
    """GB-s of one invocation at `memory_mb`: CPU scaled to its share, waiting kept."""
    at_memory = max(wall - cpu, 0) + cpu * FULL_VCPU_MB / memory_mb
    return at_memory, at_memory * memory_mb / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin_dir")
    parser.add_argument("uploads", nargs="+")
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args()

    moto_port, rt_port = free_port(), free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rt = subprocess.Popen(["cargo", "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(rt_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait(moto_port); wait(rt_port)
        endpoint = f"http://127.0.0.1:{moto_port}"
        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                   AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(args.memory_mb), RUST_LOG="info")
        kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        s3, sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
        s3.create_bucket(Bucket="bench")
        queue_url = sqs.create_queue(QueueName="rotations")["QueueUrl"]
        env["QUEUE_URL"] = queue_url

        for path in args.uploads:
            body = open(path, "rb").read()
            key = f"original-uploads/{os.path.basename(path)}"
            s3.put_object(Bucket="bench", Key=key, Body=body)
            record = json.load(open(TEMPLATE))["Records"][0]
            record["s3"]["bucket"]["name"] = "bench"
            record["s3"]["object"].update(key=key.replace(" ", "+"), size=len(body))
            event = {"Records": [record]}
            row = {"upload": os.path.basename(path), "bytes": len(body)}
            wall, cpu, init, rss, lines = invoke(args.bin_dir, "image-processor", event, env, rt_port)
            outcome = next((l.get("outcome") for l in lines if "outcome" in l), "?")
            row["processor"] = dict(outcome=outcome, wall_ms=wall * 1000, handler_ms=handler_ms(lines, wall), cpu_ms=cpu * 1000,
                                    init_cpu_ms=init * 1000, peak_rss_kib=rss)
            msgs = []
            while True:
                got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not got:
                    break
                msgs += got
            if msgs:
                batch = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                      "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                                      "eventSourceARN": QUEUE_ARN, "awsRegion": "us-east-1"} for m in msgs]}
                for m in msgs:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                wall, cpu, init, rss, lines = invoke(args.bin_dir, "rotation-worker", batch, env, rt_port)
                row["worker"] = dict(messages=len(msgs), wall_ms=wall * 1000, handler_ms=handler_ms(lines, wall), cpu_ms=cpu * 1000,
                                     init_cpu_ms=init * 1000, peak_rss_kib=rss)
            gb_s = 0.0
            for function in ("processor", "worker"):
                if function in row:
                    f = row[function]
                    f["ms_at_memory"], f["gb_s"] = billed_gb_s(f["handler_ms"] / 1000, f["cpu_ms"] / 1000, args.memory_mb)
                    f["ms_at_memory"] *= 1000
                    gb_s += f["gb_s"]
            row["gb_s_per_1000_uploads"] = gb_s * 1000
            rows.append(row)
    finally:
        rt.kill(); moto.kill()

    mb = args.memory_mb
    print(f"At {mb} MB ({mb / FULL_VCPU_MB:.3f} vCPU): handler CPU scaled by {FULL_VCPU_MB}/{mb}, waiting kept.\n")
    print(f"| upload | size | function | outcome | handler ms here | CPU ms | est. ms at {mb} MB | peak RSS MiB | GB-s per 1,000 uploads |")
    print("|---|--:|---|---|--:|--:|--:|--:|--:|")
    for r in rows:
        for function in ("processor", "worker"):
            f = r.get(function)
            if not f:
                continue
            outcome = f.get("outcome", f"{f.get('messages')} messages")
            print(f"| {r['upload']} | {r['bytes'] / 1048576:.2f} MiB | {function} | {outcome} | {f['handler_ms']:.0f} | {f['cpu_ms']:.0f} | "
                  f"{f['ms_at_memory']:.0f} | {f['peak_rss_kib'] / 1024:.1f} | {f['gb_s'] * 1000:.1f} |")
    total = sum(r["gb_s_per_1000_uploads"] for r in rows) / len(rows)
    worst = max(f["peak_rss_kib"] for r in rows for f in (r.get("processor"), r.get("worker")) if f) / 1024
    print(f"\nMean over {len(rows)} upload(s): {total:.1f} GB-s per 1,000 uploads at {mb} MB; highest peak RSS {worst:.1f} MiB"
          f"{' (OVER the memory size)' if worst > mb else ''}.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(memory_mb=mb, rows=rows, mean_gb_s_per_1000_uploads=total, worst_peak_rss_mib=worst), f, indent=1)
    return 1 if worst > mb else 0


if __name__ == "__main__":
    sys.exit(main())
