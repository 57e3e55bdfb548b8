//! `cargo xtask bench --transfer`: uploads through a round trip. A TCP proxy on
//! loopback holds every chunk for half the round trip in each direction (the
//! kernel here has no `netem`) in front of moto, and counts the HTTP requests
//! that cross it; `augment upload` on its defaults runs against `rclone copy` and
//! `aws s3 cp --recursive` on theirs and at 16 at once, interleaved, each into a
//! fresh bucket. Files/s, requests per file and peak RSS go into their own
//! section of docs/BENCHMARKS.md with the verdicts. [`Bench::row`] takes any
//! command line, so the download side can add its rows the same way.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

/// The peers' pins (the moto server, the AWS CLI) and Pillow for the files.
const PINS: &[&str] = &["moto[server]==5.2.5", "awscli==1.45.11", "pillow==13.0.0"];
/// Round trips measured (0: loopback as it is; 50: a nearby AWS region; 150: another continent).
const ROUND_TRIPS_MS: [u64; 3] = [0, 50, 150];
/// The two batches: photo-sized (640×480) and small (64×64) JPEGs.
const BATCHES: [(&str, usize, (u32, u32)); 2] =
    [("photos", 300, (640, 480)), ("small", 1000, (64, 64))];
/// Where the section starts and ends in docs/BENCHMARKS.md.
const BEGIN: &str = "<!-- transfer bench: begin -->";
const END: &str = "<!-- transfer bench: end -->";
const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];

/// One measured run.
#[derive(Debug, Clone)]
pub struct Row {
    pub batch: String,
    pub round_trip_ms: u64,
    pub tool: String,
    pub files: usize,
    pub seconds: f64,
    pub requests: u64,
    pub peak_rss_kib: u64,
}

/// The link and the store the runs share.
pub struct Bench {
    pub moto_endpoint: String,
    pub proxy_endpoint: String,
    link: Arc<Link>,
    next_bucket: AtomicU64,
    work: PathBuf,
    /// The AWS CLI (from the bench's venv), which makes the buckets.
    aws: PathBuf,
}

struct Link {
    one_way_us: AtomicU64,
    requests: AtomicU64,
}

pub fn run() -> Result<()> {
    let root = crate::project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    crate::apt::ensure_installed(
        &sh,
        "the transfer bench",
        &[("rclone", "/usr/bin/rclone"), ("time", "/usr/bin/time")],
    )?;
    let work = crate::target_dir().join("bench/transfer");
    let bin = crate::venv::ensure(&sh, &work.join("venv"), PINS)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    cmd!(sh, "{cargo} build --release -p augment-cli").run()?;
    let augment = crate::target_dir().join("release/augment");
    sh.set_var("PATH", crate::venv::path_with(&bin)?);

    let port = free_port()?;
    let mut moto = Command::new(bin.join("moto_server"))
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start moto_server")?;
    let result = measure_all(&sh, &work, &bin, &augment, port);
    let _ = moto.kill();
    let _ = moto.wait();
    let rows = result?;
    let section = render(&rows);
    println!("\n{section}");
    let doc = root.join("docs/BENCHMARKS.md");
    write_section(&doc, &section)?;
    println!("wrote the transfer section of {}", doc.display());
    Ok(())
}

fn measure_all(
    sh: &Shell,
    work: &Path,
    bin: &Path,
    augment: &Path,
    moto_port: u16,
) -> Result<Vec<Row>> {
    let bench = Bench::start(moto_port, work, &bin.join("aws"))?;
    wait_for_port(moto_port)?;
    let mut rows = Vec::new();
    for (batch, count, size) in BATCHES {
        let dir = work.join(batch);
        make_files(sh, bin, &dir, count, size)?;
        for round_trip_ms in ROUND_TRIPS_MS {
            bench.set_round_trip(round_trip_ms);
            for (tool, command) in tools(&bench, augment, bin, &dir, work)? {
                let row = bench.row(batch, count, &tool, &command)?;
                println!(
                    "{batch} {round_trip_ms} ms {tool}: {:.1} s, {:.2} requests/file",
                    row.seconds,
                    row.requests as f64 / count as f64
                );
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

impl Bench {
    fn start(moto_port: u16, work: &Path, aws: &Path) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let proxy_endpoint = format!("http://{}", listener.local_addr()?);
        let link = Arc::new(Link {
            one_way_us: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let serving = Arc::clone(&link);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let link = Arc::clone(&serving);
                std::thread::spawn(move || link.carry(stream, moto_port));
            }
        });
        Ok(Self {
            moto_endpoint: format!("http://127.0.0.1:{moto_port}"),
            proxy_endpoint,
            link,
            next_bucket: AtomicU64::new(0),
            work: work.to_owned(),
            aws: aws.to_owned(),
        })
    }

    pub fn set_round_trip(&self, round_trip_ms: u64) {
        self.link
            .one_way_us
            .store(round_trip_ms * 500, Ordering::Relaxed);
    }

    fn round_trip_ms(&self) -> u64 {
        self.link.one_way_us.load(Ordering::Relaxed) / 500
    }

    /// A fresh bucket on moto (made straight, not through the link).
    pub fn new_bucket(&self) -> Result<String> {
        let n = self.next_bucket.fetch_add(1, Ordering::Relaxed);
        let bucket = format!("transfer-bench-{n}");
        let status = Command::new(&self.aws)
            .envs(CREDENTIALS)
            .args(["--endpoint-url", &self.moto_endpoint, "s3", "mb"])
            .arg(format!("s3://{bucket}"))
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            bail!("cannot make the bucket {bucket} on moto");
        }
        Ok(bucket)
    }

    /// Runs `command` (its bucket made beforehand) under `/usr/bin/time`: the
    /// wall time, the requests that crossed the link, the peak RSS.
    pub fn row(&self, batch: &str, files: usize, tool: &str, command: &Command) -> Result<Row> {
        let report = self.work.join("time.txt");
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
        let mut timed = Command::new("/usr/bin/time");
        timed
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(program)
            .args(args);
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => timed.env(key, value),
                None => timed.env_remove(key),
            };
        }
        let before = self.link.requests.load(Ordering::Relaxed);
        let started = Instant::now();
        let output = timed.output()?;
        let seconds = started.elapsed().as_secs_f64();
        if !output.status.success() {
            bail!("{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let peak_rss_kib = std::fs::read_to_string(&report)?
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .context("no peak RSS from /usr/bin/time")?;
        Ok(Row {
            batch: batch.to_owned(),
            round_trip_ms: self.round_trip_ms(),
            tool: tool.to_owned(),
            files,
            seconds,
            requests: self.link.requests.load(Ordering::Relaxed) - before,
            peak_rss_kib,
        })
    }
}

/// The upload tools, each with a fresh bucket, in the order they run.
fn tools(
    bench: &Bench,
    augment: &Path,
    bin: &Path,
    dir: &Path,
    work: &Path,
) -> Result<Vec<(String, Command)>> {
    let endpoint = &bench.proxy_endpoint;
    let mut tools = Vec::new();
    let home = work.join("home");
    std::fs::create_dir_all(&home)?;
    // Ours, and the build before this work when AUGMENT_BENCH_BEFORE names it.
    let before = std::env::var_os("AUGMENT_BENCH_BEFORE").map(PathBuf::from);
    let builds = [
        ("augment upload (default)", Some(augment.to_owned())),
        ("augment upload before (default)", before),
    ];
    for (label, program) in builds {
        let Some(program) = program else {
            continue;
        };
        let mut upload = Command::new(program);
        upload
            .env("HOME", &home)
            .envs(CREDENTIALS)
            .args(["upload", "--quiet", "--endpoint-url", endpoint, "--bucket"])
            .arg(bench.new_bucket()?)
            .arg(dir);
        tools.push((label.to_owned(), upload));
    }
    for transfers in [None, Some(16)] {
        let bucket = bench.new_bucket()?;
        let mut rclone = Command::new("rclone");
        rclone
            .env_remove("AWS_CA_BUNDLE")
            .envs(rclone_remote(endpoint))
            .args(["copy", "--s3-no-check-bucket"])
            .arg(dir)
            .arg(format!("bench:{bucket}/original-uploads"));
        if let Some(n) = transfers {
            rclone.args(["--transfers", &n.to_string()]);
        }
        let label = transfers.map_or("rclone copy (default, 4)".to_owned(), |n| {
            format!("rclone copy --transfers {n}")
        });
        tools.push((label, rclone));
    }
    for concurrency in [None, Some(16)] {
        let bucket = bench.new_bucket()?;
        let config = work.join(format!("aws-config-{}", concurrency.unwrap_or(10)));
        let setting = concurrency.map_or(String::new(), |n| {
            format!("s3 =\n  max_concurrent_requests = {n}\n")
        });
        std::fs::write(&config, format!("[default]\n{setting}"))?;
        let mut aws = Command::new(bin.join("aws"));
        aws.envs(CREDENTIALS)
            .env("AWS_CONFIG_FILE", &config)
            .args([
                "--endpoint-url",
                endpoint,
                "s3",
                "cp",
                "--recursive",
                "--quiet",
            ])
            .arg(dir)
            .arg(format!("s3://{bucket}/original-uploads/"));
        let label = concurrency.map_or("aws s3 cp (default, 10)".to_owned(), |n| {
            format!("aws s3 cp, {n} at once")
        });
        tools.push((label, aws));
    }
    Ok(tools)
}

fn rclone_remote(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RCLONE_CONFIG_BENCH_TYPE", "s3".to_owned()),
        ("RCLONE_CONFIG_BENCH_PROVIDER", "Other".to_owned()),
        ("RCLONE_CONFIG_BENCH_ENDPOINT", endpoint.to_owned()),
        ("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", "bench".to_owned()),
        ("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("RCLONE_CONFIG_BENCH_REGION", "us-east-1".to_owned()),
        ("RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE", "true".to_owned()),
    ]
}

impl Link {
    /// Carries one connection both ways, each chunk held half a round trip,
    /// counting request lines on the way up.
    fn carry(self: Arc<Self>, client: TcpStream, moto_port: u16) {
        let Ok(upstream) = TcpStream::connect(("127.0.0.1", moto_port)) else {
            return;
        };
        let (Ok(client_read), Ok(upstream_read)) = (client.try_clone(), upstream.try_clone())
        else {
            return;
        };
        let up = Arc::clone(&self);
        std::thread::spawn(move || up.pipe(client_read, upstream, true));
        self.pipe(upstream_read, client, false);
    }

    fn pipe(&self, mut from: TcpStream, to: TcpStream, count: bool) {
        let (send, due) = mpsc::channel::<(Instant, Vec<u8>)>();
        let writer = std::thread::spawn(move || {
            let mut to = to;
            for (at, chunk) in due {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                if to.write_all(&chunk).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
        let mut buf = vec![0_u8; 64 * 1024];
        let mut tail = Vec::new();
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if count {
                tail.extend_from_slice(&buf[..n]);
                let lines = count_request_lines(&tail);
                self.requests.fetch_add(lines, Ordering::Relaxed);
                let keep = tail.len().saturating_sub(REQUEST_LINE_END.len() - 1);
                tail.drain(..keep);
            }
            let delay = Duration::from_micros(self.one_way_us.load(Ordering::Relaxed));
            if send
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
        drop(send);
        let _ = writer.join();
    }
}

/// How an HTTP/1.1 request line ends: counted, it is the number of requests
/// (a JPEG body holding these 11 bytes is not expected).
const REQUEST_LINE_END: &[u8] = b" HTTP/1.1\r\n";

fn count_request_lines(bytes: &[u8]) -> u64 {
    bytes
        .windows(REQUEST_LINE_END.len())
        .filter(|window| *window == REQUEST_LINE_END)
        .count() as u64
}

/// `count` copies of one JPEG of `size` (photo-like: a gradient with noise), as
/// `img_0000.jpg`…; made once.
fn make_files(sh: &Shell, bin: &Path, dir: &Path, count: usize, size: (u32, u32)) -> Result<()> {
    let done = dir.join(format!("img_{:04}.jpg", count - 1));
    if done.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let python = bin.join("python");
    let (width, height) = (size.0.to_string(), size.1.to_string());
    let script = "import sys, random\nfrom PIL import Image\nw, h = int(sys.argv[2]), int(sys.argv[3])\nrandom.seed(7)\nimg = Image.new('RGB', (w, h))\nimg.putdata([((x * 7 + random.randint(0, 60)) % 256, (y * 3 + random.randint(0, 60)) % 256, (x + y) % 256) for y in range(h) for x in range(w)])\nimg.save(sys.argv[1], quality=92)\n";
    let first = dir.join("img_0000.jpg");
    cmd!(sh, "{python} -c {script} {first} {width} {height}").run()?;
    for i in 1..count {
        std::fs::copy(&first, dir.join(format!("img_{i:04}.jpg")))?;
    }
    Ok(())
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n## Transfers: uploads through a round trip\n");
    let _ = writeln!(
        out,
        "`cargo xtask bench --transfer`: a TCP proxy on loopback holds each chunk half the round trip each way, in front of moto 5.2.5; every tool uploads the batch into a fresh bucket, interleaved; requests counted at the proxy, peak RSS by `/usr/bin/time`. Wall times on a shared machine vary: compare within a round trip.\n"
    );
    let _ = writeln!(
        out,
        "| batch | round trip | tool | time | files/s | requests/file | peak RSS |\n|---|---|---|---|---|---|---|"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} × {} | {} ms | {} | {:.1} s | {:.0} | {:.2} | {:.0} MiB |",
            row.files,
            row.batch,
            row.round_trip_ms,
            row.tool,
            row.seconds,
            row.files as f64 / row.seconds,
            row.requests as f64 / row.files as f64,
            row.peak_rss_kib as f64 / 1024.0
        );
    }
    let _ = writeln!(out, "\n{}", verdicts(rows));
    let _ = writeln!(out, "{END}");
    out
}

fn verdicts(rows: &[Row]) -> String {
    let find = |batch: &str, ms: u64, tool: &str| {
        rows.iter()
            .find(|r| r.batch == batch && r.round_trip_ms == ms && r.tool.starts_with(tool))
    };
    let mut out = String::from("Verdicts:\n");
    let ratios = [
        (
            50,
            "rclone copy --transfers 16",
            "At 50 ms, ours on its defaults vs `rclone copy --transfers 16`",
        ),
        (0, "augment upload before", "At 0 ms, ours vs before"),
    ];
    for (ms, peer, what) in ratios {
        let (Some(ours), Some(peer)) = (
            find("photos", ms, "augment upload (default)"),
            find("photos", ms, peer),
        ) else {
            continue;
        };
        let ratio = ours.seconds / peer.seconds;
        let verdict = if ratio <= 1.0 { "met" } else { "not met" };
        let _ = writeln!(out, "- {what} (goal ≤ 1.0): {ratio:.2}, {verdict}.");
    }
    let worst = rows
        .iter()
        .filter(|r| r.tool.starts_with("augment upload (default)"))
        .map(|r| r.requests as f64 / r.files as f64)
        .fold(0.0, f64::max);
    let verdict = if worst <= 1.1 { "met" } else { "not met" };
    let _ = writeln!(
        out,
        "- Requests per new upload, ours, worst batch (goal ≤ 1.1; includes the connection check and the listing pages): {worst:.2}, {verdict}."
    );
    out
}

/// Replaces the section between the markers in `doc`, or appends it.
fn write_section(doc: &Path, section: &str) -> Result<()> {
    let old = std::fs::read_to_string(doc).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!(
                "{}{}{}",
                &old[..begin],
                section.trim_end(),
                &old[end + END.len()..]
            )
        }
        _ => format!("{}\n\n{section}", old.trim_end()),
    };
    std::fs::write(doc, new)?;
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16) -> Result<()> {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("moto did not answer on port {port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_counted() {
        let two = b"PUT /b/k HTTP/1.1\r\nHost: x\r\n\r\nbodyGET /b?list-type=2 HTTP/1.1\r\n\r\n";
        assert_eq!(count_request_lines(two), 2);
        assert_eq!(count_request_lines(b"HTTP/1.1 200 OK\r\n"), 0);
    }

    #[test]
    fn the_section_is_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("B.md");
        std::fs::write(&doc, "# Bench\n\nimages\n").unwrap();
        write_section(&doc, &format!("{BEGIN}\none\n{END}\n")).unwrap();
        write_section(&doc, &format!("{BEGIN}\ntwo\n{END}\n")).unwrap();
        let text = std::fs::read_to_string(&doc).unwrap();
        assert_eq!(text, format!("# Bench\n\nimages\n\n{BEGIN}\ntwo\n{END}\n"));
    }
}
