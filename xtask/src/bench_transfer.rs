//! `cargo xtask bench --transfer`: uploads and downloads through a round trip.
//! A TCP proxy on loopback holds every chunk for half the round trip in each
//! direction (the kernel here has no `netem`) in front of moto, and counts the
//! HTTP requests that cross it; ours on its defaults runs against `rclone copy`
//! and `aws s3 cp --recursive` on theirs and at 16 at once, interleaved (the
//! command lines: [`crate::bench_peers`]). Files/s, requests per file and peak
//! RSS go into their own section of docs/BENCHMARKS.md with the verdicts.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

use crate::bench_peers::{CREDENTIALS, Ours, Place, Store, Tool};
use crate::bench_transfer_report::Row;

/// The peers' pins (the moto server, the AWS CLI) and Pillow for the files.
const PINS: &[&str] = &["moto[server]==5.2.5", "awscli==1.45.11", "pillow==13.0.0"];
/// Round trips measured (0: loopback as it is; 50: a nearby AWS region; 150: another continent).
const ROUND_TRIPS_MS: [u64; 3] = [0, 50, 150];
/// The two batches: photo-sized (640×480) and small (64×64) JPEGs.
const BATCHES: [(&str, usize, (u32, u32)); 2] =
    [("photos", 300, (640, 480)), ("small", 1000, (64, 64))];

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
    let root = crate::paths::project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    crate::apt::ensure_installed(
        &sh,
        "the transfer bench",
        &[("rclone", "/usr/bin/rclone"), ("time", "/usr/bin/time")],
    )?;
    let work = crate::paths::target_dir().join("bench/transfer");
    let bin = crate::venv::ensure(&sh, &work.join("venv"), PINS)?;
    let release = crate::paths::build_release(
        &sh,
        &[
            "-p",
            "augment-cli",
            "--bin",
            "augment",
            "-p",
            "augment-client",
            "--example",
            "app_batch",
        ],
    )?;
    let ours = Ours {
        augment: release.join("augment"),
        app_batch: release.join("examples/app_batch"),
        // The build before this work (its `augment`), when named.
        before: std::env::var_os("AUGMENT_BENCH_BEFORE").map(PathBuf::from),
    };
    sh.set_var("PATH", crate::venv::path_with(&bin)?);

    let port = free_port()?;
    let mut moto = Command::new(bin.join("moto_server"))
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start moto_server")?;
    let result = measure_all(&sh, &work, &bin, &ours, port);
    let _ = moto.kill();
    let _ = moto.wait();
    let rows = result?;
    let section = crate::bench_transfer_report::render(&rows);
    println!("\n{section}");
    let doc = root.join("docs/BENCHMARKS.md");
    crate::bench_transfer_report::write_section(&doc, &section)?;
    println!("wrote the transfer section of {}", doc.display());
    Ok(())
}

fn measure_all(
    sh: &Shell,
    work: &Path,
    bin: &Path,
    ours: &Ours,
    moto_port: u16,
) -> Result<Vec<Row>> {
    let bench = Bench::start(moto_port, work, &bin.join("aws"))?;
    wait_for_port(moto_port)?;
    let place = Place {
        bench: &bench,
        work,
        aws: &bin.join("aws"),
    };
    let downloads = work.join("downloads");
    let mut rows = Vec::new();
    for (batch, count, size) in BATCHES {
        // Distinct files (not copies of one), as a person's photos are: the
        // app's duplicate question compares contents.
        let dir = work.join(format!("{batch}-distinct"));
        make_files(sh, bin, &dir, count, size)?;
        for round_trip_ms in ROUND_TRIPS_MS {
            bench.set_round_trip(round_trip_ms);
            let (uploads, our_bucket) = place.uploads(ours, &dir)?;
            let _ = std::fs::remove_dir_all(&downloads);
            let tools =
                uploads
                    .into_iter()
                    .chain(place.downloads(ours, &our_bucket, &downloads)?);
            for tool in tools {
                let row = bench.row(batch, count, &tool)?;
                println!(
                    "{batch} {round_trip_ms} ms {} {}: {:.1} s, {:.2} requests/file",
                    tool.way.name(),
                    tool.label,
                    row.seconds,
                    row.requests as f64 / count as f64
                );
                rows.push(row);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&downloads);
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

    fn round_trip_ms_now(&self) -> u64 {
        self.link.one_way_us.load(Ordering::Relaxed) / 500
    }

    /// A fresh bucket on moto (made straight, not through the link).
    fn make_bucket(&self) -> Result<String> {
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

    /// Runs the tool's command (its bucket made beforehand) under
    /// `/usr/bin/time`: the wall time, the requests that crossed the link, the
    /// peak RSS.
    pub fn row(&self, batch: &str, files: usize, tool: &Tool) -> Result<Row> {
        let command = &tool.command;
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
            bail!(
                "{} failed: {}",
                tool.label,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let peak_rss_kib = std::fs::read_to_string(&report)?
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .context("no peak RSS from /usr/bin/time")?;
        Ok(Row {
            batch: batch.to_owned(),
            way: tool.way,
            round_trip_ms: self.round_trip_ms_now(),
            tool: tool.label.clone(),
            files,
            seconds,
            requests: self.link.requests.load(Ordering::Relaxed) - before,
            peak_rss_kib,
        })
    }
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

/// `count` distinct JPEGs of `size` (photo-like: a gradient with noise, each
/// with its own coloured square), as `img_0000.jpg`…; made once.
fn make_files(sh: &Shell, bin: &Path, dir: &Path, count: usize, size: (u32, u32)) -> Result<()> {
    let done = dir.join(format!("img_{:04}.jpg", count - 1));
    if done.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let python = bin.join("python");
    let (width, height, count) = (size.0.to_string(), size.1.to_string(), count.to_string());
    let script = "import sys, random\nfrom PIL import Image, ImageDraw\nout, w, h, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\nrandom.seed(7)\nbase = Image.new('RGB', (w, h))\nbase.putdata([((x * 7 + random.randint(0, 60)) % 256, (y * 3 + random.randint(0, 60)) % 256, (x + y) % 256) for y in range(h) for x in range(w)])\nfor i in range(n):\n    img = base.copy()\n    x, y = (i * 37) % (w - 16), (i * 11) % (h - 16)\n    ImageDraw.Draw(img).rectangle([x, y, x + 15, y + 15], fill=(i % 256, (i // 256) * 40, 255 - i % 256))\n    img.save(f'{out}/img_{i:04d}.jpg', quality=92)\n";
    cmd!(sh, "{python} -c {script} {dir} {width} {height} {count}").run()?;
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

impl Store for Bench {
    fn endpoint(&self) -> &str {
        &self.proxy_endpoint
    }

    fn new_bucket(&self) -> Result<String> {
        self.make_bucket()
    }

    fn round_trip_ms(&self) -> u64 {
        self.round_trip_ms_now()
    }
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
}
