"""Measures the Lambda bootstraps per invocation: duration and peak RSS for a
~1 MB and a ~7 MB JPEG, each in a fresh process (as a cold Lambda instance).

Runs the real binaries under the Lambda Runtime API (`cargo lambda watch
--only-lambda-apis`) against a moto server, both on loopback.

    python xtask/bench/lambda_invocations.py <bootstrap-dir> <photo_6000x4000.jpg>

Needs boto3 + moto[server] + cargo-lambda (the CI venv has them) and Pillow.
"""
import io, json, os, socket, subprocess, sys, tempfile, time
import boto3
from PIL import Image

BIN, SOURCE = sys.argv[1], sys.argv[2]
TEMPLATE = os.path.join(os.path.dirname(__file__), "../../lambdas/image-processor/tests/fixtures/s3-put-awkward-keys.json")


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


moto_port, rt_port = free_port(), free_port()
moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rt = subprocess.Popen(["cargo", "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(rt_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    wait(moto_port); wait(rt_port)
    endpoint = f"http://127.0.0.1:{moto_port}"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
               AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512", RUST_LOG="info")
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    s3, sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
    s3.create_bucket(Bucket="bench")
    queue_url = sqs.create_queue(QueueName="rotations")["QueueUrl"]
    env["QUEUE_URL"] = queue_url

    source = Image.open(SOURCE)
    rows = []
    for label, (w, h) in [("~1 MB", (2100, 1400)), ("~7 MB", (5200, 3500))]:
        buf = io.BytesIO(); source.crop((0, 0, w, h)).save(buf, "JPEG", quality=92); body = buf.getvalue()
        key = f"original-uploads/bench {w}x{h}.jpg"
        s3.put_object(Bucket="bench", Key=key, Body=body)
        record = json.load(open(TEMPLATE))["Records"][0]
        record["s3"]["bucket"]["name"] = "bench"
        record["s3"]["object"].update(key=key.replace(" ", "+"), size=len(body))
        event = {"Records": [record]}
        for name in ("image-processor", "rotation-worker"):
            log = tempfile.NamedTemporaryFile(delete=False)
            proc = subprocess.Popen([os.path.join(BIN, name)], stdout=log, stderr=subprocess.DEVNULL,
                                    env=dict(env, AWS_LAMBDA_FUNCTION_NAME=name, AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{rt_port}/.rt/{name}"))
            if name == "rotation-worker":
                msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
                event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                      "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                                      "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:rotations", "awsRegion": "us-east-1"} for m in msgs]}
                for m in msgs:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(event, f)
            started = time.monotonic()
            subprocess.run(["cargo", "lambda", "invoke", name, "-A", "127.0.0.1", "-P", str(rt_port), "--data-file", f.name],
                           check=True, stdout=subprocess.DEVNULL)
            wall_ms = (time.monotonic() - started) * 1000
            rss = hwm_kib(proc.pid)
            proc.kill(); proc.wait()
            lines = [json.loads(l) for l in open(log.name) if l.startswith("{")]
            handler_ms = sum(l["ms"] for l in lines if "outcome" in l)
            rows.append((label, f"{len(body) / 1048576:.2f} MiB", name, handler_ms, round(wall_ms), rss / 1024))
    print("| input | size | function | handler ms (sum of records) | invoke round trip ms | peak RSS MiB |")
    print("|---|--:|---|--:|--:|--:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.1f} |")
finally:
    rt.kill(); moto.kill()
