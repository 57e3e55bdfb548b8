//! `cargo xtask bench`: times our pipeline's per-upload job against Pillow and
//! libvips doing the same job, and writes docs/BENCHMARKS.md from the run.
//!
//! Each peer is its own process (`<peer> <file> <repeat>`) that times `repeat`
//! runs of the job and reports one JSON line; rounds interleave peers and images
//! so that a noisy neighbour on the machine hits all peers alike.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use xshell::{Shell, cmd};

use crate::flags::{self, DEFAULT_REPEAT, DEFAULT_ROUNDS};

/// The Python side, pinned so a rerun measures the same peers.
const PYTHON_PINS: &[&str] = &[
    "pillow==13.0.0",
    "numpy==2.4.6",
    "pyvips==3.2.0",
    "pyvips-binary==8.18.7",
];
/// Baseline RSS is read this many times per peer; the median is used.
const BASELINE_SAMPLES: usize = 3;
const CANVAS_SIDE_PX: u64 = 256;

/// Our goals: a fraction of each peer's time across the corpus, and a memory ceiling
/// on the largest photo (a Lambda's memory size is what it costs).
const GOAL_VS_LIBVIPS: f64 = 0.6;
const GOAL_VS_PILLOW: f64 = 0.25;
/// On every image, ours over libvips's time: never slower.
const GOAL_VS_LIBVIPS_EACH: f64 = 1.0;
const GOAL_PEAK_RSS_MIB: f64 = 64.0;
const GOAL_PEAK_RSS_IMAGE: &str = "photo_6000x4000.jpg";
/// On the biggest JPEG, the whole job over libjpeg-turbo's 1/8 decode alone (the floor
/// for a baseline JPEG: every AC code must still be Huffman-decoded).
const GOAL_VS_FLOOR: f64 = 1.1;
const GOAL_FLOOR_IMAGE: &str = "photo_6000x4000.jpg";
/// On the big baseline photos, our decode over that floor (the DC-only decoder
/// steps over the AC codes libjpeg-turbo decodes).
const GOAL_DECODE_VS_FLOOR: f64 = 0.67;
const GOAL_DECODE_IMAGES: [&str; 2] = ["photo_4000x3000_exif6.jpg", "photo_6000x4000.jpg"];
/// On the small photo, the work after the decode (resize, encode, rotations), in
/// ms, and the whole job over our decode.
const GOAL_AFTER_DECODE_MS: f64 = 0.5;
const GOAL_JOB_VS_DECODE: f64 = 1.35;
const GOAL_AFTER_DECODE_IMAGE: &str = "photo_640x480.jpg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Ours,
    Pillow,
    Libvips,
}

impl Peer {
    const ALL: [Self; 3] = [Self::Ours, Self::Pillow, Self::Libvips];

    fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Pillow => "Pillow",
            Self::Libvips => "libvips",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Ours => 0,
            Self::Pillow => 1,
            Self::Libvips => 2,
        }
    }
}

/// Where each peer's program is.
struct Peers {
    bench_one: PathBuf,
    jpeg_floor: PathBuf,
    python: PathBuf,
    scripts: PathBuf,
}

impl Peers {
    /// Runs `jpeg_floor <file> <repeat>`: libjpeg-turbo's 1/8 decode alone and our
    /// whole job, interleaved in one process.
    fn run_floor(&self, sh: &Shell, args: &[String]) -> Result<Value> {
        let jpeg_floor = &self.jpeg_floor;
        let stdout = cmd!(sh, "{jpeg_floor} {args...}")
            .read()
            .with_context(|| format!("jpeg_floor failed on {args:?}"))?;
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .with_context(|| format!("jpeg_floor printed no JSON line: {stdout:?}"))
    }

    /// Runs `peer` with `args` and parses the JSON line it prints last.
    fn run(&self, sh: &Shell, peer: Peer, args: &[String]) -> Result<Value> {
        let Self {
            bench_one,
            python,
            scripts,
            ..
        } = self;
        let stdout = match peer {
            Peer::Ours => cmd!(sh, "{bench_one} {args...}").read(),
            Peer::Pillow => {
                let script = scripts.join("peer_pillow.py");
                cmd!(sh, "{python} {script} {args...}").read()
            }
            // One thread, as Pillow; ours is mostly one (the CPU-time table shows it).
            Peer::Libvips => {
                let script = scripts.join("peer_vips.py");
                cmd!(sh, "{python} {script} {args...}")
                    .env("VIPS_CONCURRENCY", "1")
                    .read()
            }
        }
        .with_context(|| format!("the {} peer failed on {args:?}", peer.name()))?;
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .with_context(|| format!("the {} peer printed no JSON line: {stdout:?}", peer.name()))
    }
}

/// What a run was asked for (`cargo xtask bench --rounds N --repeat N`), for the report.
struct Options {
    rounds: usize,
    repeat: usize,
}

/// One corpus image, as `gen_corpus.py` lists it in `corpus.json`.
struct CorpusImage {
    file: String,
    label: String,
    bytes: u64,
}

/// Everything measured for one (image, peer): every timed run, the CPU time they
/// took, and the highest peak RSS of any of its processes.
#[derive(Default)]
struct Measured {
    ms: Vec<f64>,
    cpu_ms: f64,
    peak_rss_kib: u64,
}

impl Measured {
    fn median_ms(&self) -> f64 {
        median(&self.ms)
    }

    fn cpu_ms_per_job(&self) -> f64 {
        self.cpu_ms / self.ms.len() as f64
    }

    /// Cores kept busy on average while timed: CPU time over wall time.
    fn cores(&self) -> f64 {
        self.cpu_ms / self.ms.iter().sum::<f64>()
    }
}

/// One image's measurements, indexed by `Peer::index`.
type PerPeer = [Measured; 3];

/// The floor line for one JPEG: per `jpeg_floor` process, the median of its runs of
/// libjpeg-turbo's 1/8 decode alone, of our decode, and of our whole job.
#[derive(Default)]
struct Floor {
    floor_ms: Vec<f64>,
    decode_ms: Vec<f64>,
    job_ms: Vec<f64>,
}

impl Floor {
    /// The whole job over the floor, in the same processes: the median of the
    /// per-process ratios, so a noisy process does not skew it.
    fn job_over_floor(&self) -> f64 {
        per_process(&self.job_ms, &self.floor_ms, |job, floor| job / floor)
    }

    /// Our decode over the floor: the median of the per-process ratios.
    fn decode_over_floor(&self) -> f64 {
        per_process(&self.decode_ms, &self.floor_ms, |decode, floor| {
            decode / floor
        })
    }

    /// The whole job over our decode: the median of the per-process ratios.
    fn job_over_decode(&self) -> f64 {
        per_process(&self.job_ms, &self.decode_ms, |job, decode| job / decode)
    }

    /// The work after the decode (ms): the median of the per-process differences.
    fn after_decode_ms(&self) -> f64 {
        per_process(&self.job_ms, &self.decode_ms, |job, decode| job - decode)
    }
}

/// The median over processes of `f(a, b)`.
fn per_process(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let values: Vec<f64> = a.iter().zip(b).map(|(&a, &b)| f(a, b)).collect();
    median(&values)
}

/// What a run found, for the report.
struct Report {
    machine: Machine,
    options: Options,
    corpus: Vec<CorpusImage>,
    /// `results[image][peer.index()]`.
    results: Vec<[Measured; 3]>,
    baseline_kib: [u64; 3],
    /// `agreement[image][peer.index()]`: lowest PSNR (dB) of the peer's five outputs
    /// against ours; `None` for ours.
    agreement: Vec<[Option<f64>; 3]>,
    /// `floors[image]`: the floor line, for the corpus's JPEGs.
    floors: Vec<Option<Floor>>,
}

struct Machine {
    cores: usize,
    cpu_model: String,
    date: String,
    load_before: String,
    load_after: String,
    versions: String,
}

pub fn run(options: &flags::Bench) -> Result<()> {
    if options.transfer {
        return crate::bench_transfer::run();
    }
    let options = Options {
        rounds: options.rounds,
        repeat: options.repeat,
    };
    let root = crate::project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let target_dir = crate::target_dir();
    let bench_dir = target_dir.join("bench");
    let corpus_dir = bench_dir.join("corpus");
    // Keep Python's bytecode caches out of the source tree.
    sh.set_var("PYTHONPYCACHEPREFIX", bench_dir.join("pycache"));

    let python = ensure_venv(&sh, &bench_dir.join("venv"))?;
    let scripts = root.join("xtask/bench");
    let gen_corpus = scripts.join("gen_corpus.py");
    cmd!(sh, "{python} {gen_corpus} {corpus_dir}").run()?;
    let corpus = read_corpus(&corpus_dir)?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    cmd!(
        sh,
        "{cargo} build --release -p augment-pipeline --example bench_one --example jpeg_floor"
    )
    .run()?;
    let example = |name: &str| {
        let exe = if cfg!(windows) {
            format!("{name}.exe")
        } else {
            name.to_owned()
        };
        target_dir.join("release/examples").join(exe)
    };
    let peers = Peers {
        bench_one: example("bench_one"),
        jpeg_floor: example("jpeg_floor"),
        python,
        scripts,
    };

    let load_before = load_average();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let busy = load_before
        .split_whitespace()
        .next()
        .and_then(|load| load.parse::<f64>().ok());
    if busy.is_some_and(|load| load > 0.5 * cores as f64) {
        eprintln!(
            "warning: the machine is busy (load average {load_before} on {cores} cores); \
             wall times will be noisy, so compare the CPU-time table too"
        );
    }
    let mut baseline_kib = [0; 3];
    for peer in Peer::ALL {
        baseline_kib[peer.index()] = baseline_rss_kib(&sh, &peers, peer)?;
    }
    let outputs_dir = bench_dir.join("outputs");
    let agreement = check_agreement(&sh, &peers, &corpus, &corpus_dir, &outputs_dir)?;
    let (results, floors) = measure(&sh, &peers, &corpus, &corpus_dir, &options)?;

    let machine = Machine {
        cores,
        cpu_model: cpu_model(),
        date: utc_date(),
        load_before,
        load_after: load_average(),
        versions: versions(&sh, &peers)?,
    };
    let report = Report {
        machine,
        options,
        corpus,
        results,
        baseline_kib,
        agreement,
        floors,
    };
    let doc = render(&report)?;
    println!("\n{doc}");
    let doc_path = root.join("docs/BENCHMARKS.md");
    sh.create_dir(root.join("docs"))?;
    let kept = kept_sections(&std::fs::read_to_string(&doc_path).unwrap_or_default());
    sh.write_file(&doc_path, format!("{doc}{kept}"))?;
    println!("wrote {}", doc_path.display());
    crate::bench_transfer::run()
}

/// Makes (or reuses) the venv with the pinned peers; returns its Python.
fn ensure_venv(sh: &Shell, venv: &Path) -> Result<PathBuf> {
    let pins_file = venv.join("bench-checked.txt");
    let bin = crate::venv::ensure(sh, venv, PYTHON_PINS)?;
    let python = bin.join(if cfg!(windows) {
        "python.exe"
    } else {
        "python"
    });
    let pins = PYTHON_PINS.join("\n");
    if sh
        .read_file(&pins_file)
        .is_ok_and(|checked| checked == pins)
    {
        return Ok(python);
    }
    // pyvips-binary ships libvips as a wheel; fail here, not mid-benchmark, if it
    // has no build for this platform.
    cmd!(
        sh,
        "{python} -c 'import pyvips; pyvips.Image.black(1, 1).jpegsave_buffer()'"
    )
    .run()
    .context("pyvips cannot load libvips from pyvips-binary on this platform")?;
    sh.write_file(&pins_file, pins)?;
    Ok(python)
}

fn read_corpus(corpus_dir: &Path) -> Result<Vec<CorpusImage>> {
    let manifest = corpus_dir.join("corpus.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("gen_corpus.py wrote no manifest: {}", manifest.display()))?;
    let value: Value = serde_json::from_str(&text)?;
    let entries = value.as_array().context("corpus.json is not a list")?;
    entries
        .iter()
        .map(|entry| {
            let field = |name: &str| {
                entry[name]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("corpus.json: no `{name}`"))
            };
            Ok(CorpusImage {
                file: field("file")?,
                label: field("label")?,
                bytes: entry["bytes"].as_u64().context("corpus.json: no `bytes`")?,
            })
        })
        .collect()
}

fn baseline_rss_kib(sh: &Shell, peers: &Peers, peer: Peer) -> Result<u64> {
    let mut samples = (0..BASELINE_SAMPLES)
        .map(|_| {
            let json = peers.run(sh, peer, &["--baseline".to_owned()])?;
            json["peak_rss_kib"]
                .as_u64()
                .context("no peak_rss_kib in the baseline")
        })
        .collect::<Result<Vec<_>>>()?;
    samples.sort_unstable();
    Ok(samples[samples.len() / 2])
}

/// Runs each peer once per image, keeping its five outputs, and compares them with
/// ours (compare.py), so a peer that does a different job would show.
fn check_agreement(
    sh: &Shell,
    peers: &Peers,
    corpus: &[CorpusImage],
    corpus_dir: &Path,
    out_root: &Path,
) -> Result<Vec<[Option<f64>; 3]>> {
    sh.remove_path(out_root)?;
    for image in corpus {
        for peer in Peer::ALL {
            let dir = out_root.join(&image.file).join(peer.name().to_lowercase());
            sh.create_dir(&dir)?;
            let args = [
                corpus_dir.join(&image.file).display().to_string(),
                "1".to_owned(),
                "--out".to_owned(),
                dir.display().to_string(),
            ];
            peers.run(sh, peer, &args)?;
        }
    }
    let (python, compare) = (&peers.python, peers.scripts.join("compare.py"));
    let report: Value = serde_json::from_str(&cmd!(sh, "{python} {compare} {out_root}").read()?)?;
    corpus
        .iter()
        .map(|image| {
            let lowest = |peer: Peer| -> Result<Option<f64>> {
                let outputs = report[&image.file][peer.name().to_lowercase()]
                    .as_object()
                    .with_context(|| {
                        format!("compare.py: no {} for {}", peer.name(), image.file)
                    })?;
                Ok(outputs.values().filter_map(Value::as_f64).reduce(f64::min))
            };
            Ok([None, lowest(Peer::Pillow)?, lowest(Peer::Libvips)?])
        })
        .collect()
}

fn measure(
    sh: &Shell,
    peers: &Peers,
    corpus: &[CorpusImage],
    corpus_dir: &Path,
    options: &Options,
) -> Result<(Vec<PerPeer>, Vec<Option<Floor>>)> {
    let mut results: Vec<PerPeer> = corpus.iter().map(|_| Default::default()).collect();
    let mut floors: Vec<Option<Floor>> = corpus
        .iter()
        .map(|image| is_jpeg(&image.file).then(Floor::default))
        .collect();
    for round in 0..options.rounds {
        println!("round {}/{}", round + 1, options.rounds);
        for ((image, measured), floor) in corpus.iter().zip(&mut results).zip(&mut floors) {
            let args = [
                corpus_dir.join(&image.file).display().to_string(),
                options.repeat.to_string(),
            ];
            // Rotate who goes first, so no peer always follows the same one (and
            // inherits its warm caches or its leftover heat).
            for offset in 0..Peer::ALL.len() {
                let peer = Peer::ALL[(round + offset) % Peer::ALL.len()];
                let json = peers.run(sh, peer, &args)?;
                record(&mut measured[peer.index()], &json, options.repeat)
                    .with_context(|| format!("{} on {}", peer.name(), image.file))?;
            }
            // The floor line in the same round, right after the peers.
            if let Some(floor) = floor {
                let json = peers.run_floor(sh, &args)?;
                let field = |name: &str| {
                    json[name]
                        .as_f64()
                        .with_context(|| format!("jpeg_floor on {}: no `{name}`", image.file))
                };
                floor.floor_ms.push(field("floor_ms")?);
                floor.decode_ms.push(field("decode_ms")?);
                floor.job_ms.push(field("job_ms")?);
            }
        }
    }
    Ok((results, floors))
}

fn is_jpeg(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg")
}

fn record(measured: &mut Measured, json: &Value, repeat: usize) -> Result<()> {
    let ms = json["ms"].as_array().context("no `ms` list")?;
    ensure!(
        ms.len() == repeat,
        "{} runs reported, {repeat} asked for",
        ms.len()
    );
    for run in ms {
        measured
            .ms
            .push(run.as_f64().context("a run's ms is not a number")?);
    }
    measured.cpu_ms += json["cpu_ms"]
        .as_f64()
        .context("no `cpu_ms` (not on Linux?)")?;
    let peak = json["peak_rss_kib"]
        .as_u64()
        .context("no `peak_rss_kib` (not on Linux?)")?;
    measured.peak_rss_kib = measured.peak_rss_kib.max(peak);
    // The job's contract: five 256x256 JPEGs, whoever made them.
    let out_px = json["out_px"].as_array().context("no `out_px`")?;
    let square = Value::from(vec![CANVAS_SIDE_PX, CANVAS_SIDE_PX]);
    ensure!(
        out_px.len() == 5 && out_px.iter().all(|px| *px == square),
        "outputs are not five {CANVAS_SIDE_PX}x{CANVAS_SIDE_PX} images: {out_px:?}"
    );
    Ok(())
}

/// Sections measured apart from this run (the dataset export's figures), kept
/// as they are when the file is written again: everything from this line on.
const KEPT_MARKER: &str = "<!-- measured apart; cargo xtask bench keeps what follows -->";

fn kept_sections(old_doc: &str) -> String {
    old_doc
        .find(KEPT_MARKER)
        .map_or_else(String::new, |at| format!("\n{}", &old_doc[at..]))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The 1, 5 and 15 minute load averages: how busy the machine was around the run.
fn load_average() -> String {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    loadavg
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn versions(sh: &Shell, peers: &Peers) -> Result<String> {
    let rustc = cmd!(sh, "rustc --version").read()?;
    let python = &peers.python;
    let script = "import sys, PIL, pyvips; \
        print(f'Python {sys.version.split()[0]}, Pillow {PIL.__version__}, \
        pyvips {pyvips.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}')";
    let python_side = cmd!(sh, "{python} -c {script}").read()?;
    Ok(format!("{rustc}; {python_side}"))
}

/// Today's date (UTC) as YYYY-MM-DD.
fn utc_date() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(secs)
}

/// Seconds since the epoch to YYYY-MM-DD, without a date crate for one line of the
/// report (Howard Hinnant's `civil_from_days`).
fn civil_date(unix_secs: u64) -> String {
    let days = i64::try_from(unix_secs / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// "met" or "not met", with how far from the goal.
/// `what` names the measured thing that must drop ("our time", "the job").
fn verdict_ratio(measured: f64, goal: f64, what: &str) -> String {
    if measured <= goal {
        format!(
            "**met** ({:.0}% under the goal)",
            (1.0 - measured / goal) * 100.0
        )
    } else {
        format!(
            "**not met**: {:.2}x the goal; {what} must drop by {:.0}% to meet it",
            measured / goal,
            (1.0 - goal / measured) * 100.0
        )
    }
}

/// The floor line's goals: our decode against libjpeg-turbo's on the big photos,
/// the work after the decode on the small one.
fn floor_goal_rows(doc: &mut String, report: &Report) -> Result<()> {
    let floor_of = |file: &str| {
        let i = report.corpus.iter().position(|image| image.file == file)?;
        Some((&report.corpus[i], report.floors[i].as_ref()?))
    };
    for (image, floor) in GOAL_DECODE_IMAGES.iter().filter_map(|file| floor_of(file)) {
        let ratio = floor.decode_over_floor();
        writeln!(
            doc,
            "| our decode of the {} <= {GOAL_DECODE_VS_FLOOR:.2}x libjpeg-turbo's 1/8 decode | \
             {ratio:.2}x ({:.1} ms against {:.1} ms, in the same processes) | {} |",
            image.label,
            median(&floor.decode_ms),
            median(&floor.floor_ms),
            verdict_ratio(ratio, GOAL_DECODE_VS_FLOOR, "our decode"),
        )?;
    }
    if let Some((image, floor)) = floor_of(GOAL_AFTER_DECODE_IMAGE) {
        let after = floor.after_decode_ms();
        let ratio = floor.job_over_decode();
        writeln!(
            doc,
            "| the {}: work after the decode <= {GOAL_AFTER_DECODE_MS:.1} ms | {after:.2} ms \
             (job {:.2} ms, decode {:.2} ms) | {} |",
            image.label,
            median(&floor.job_ms),
            median(&floor.decode_ms),
            verdict_ratio(after, GOAL_AFTER_DECODE_MS, "the work after the decode"),
        )?;
        writeln!(
            doc,
            "| the {}: whole job <= {GOAL_JOB_VS_DECODE:.2}x our decode | {ratio:.2}x | {} |",
            image.label,
            verdict_ratio(ratio, GOAL_JOB_VS_DECODE, "the job"),
        )?;
    }
    Ok(())
}

fn render(report: &Report) -> Result<String> {
    let sum = |peer: Peer| {
        report
            .results
            .iter()
            .map(|r| r[peer.index()].median_ms())
            .sum::<f64>()
    };
    let (ours, pillow, vips) = (sum(Peer::Ours), sum(Peer::Pillow), sum(Peer::Libvips));
    let vs_pillow = ours / pillow;
    let vs_vips = ours / vips;
    let cpu_sum = |peer: Peer| {
        report
            .results
            .iter()
            .map(|r| r[peer.index()].cpu_ms_per_job())
            .sum::<f64>()
    };
    let (ours_cpu, pillow_cpu, vips_cpu) = (
        cpu_sum(Peer::Ours),
        cpu_sum(Peer::Pillow),
        cpu_sum(Peer::Libvips),
    );
    let big = report
        .corpus
        .iter()
        .position(|image| image.file == GOAL_PEAK_RSS_IMAGE)
        .with_context(|| format!("the corpus has no {GOAL_PEAK_RSS_IMAGE}"))?;
    let big_peak_mib = mib(report.results[big][Peer::Ours.index()].peak_rss_kib);
    let runs = report.options.rounds * report.options.repeat;

    let mut doc = String::new();
    // The hand-written part: what this file is and how to read it.
    writeln!(doc, "# Benchmarks")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "How fast, and in how much memory, the pipeline does its per-upload job, next to \
         Pillow (the original Python design's library) and libvips (the fastest common \
         image library) doing the same job. **This file is generated by `cargo xtask bench` \
         (xtask/src/bench.rs); edit the generator, not the file.** The job, per image: read \
         the upload, fit it onto the white 256x256 canvas (JPEG q90), then make its four \
         rotations (90/180/270/360, each a JPEG q90) — five JPEGs in all, as the processor \
         and the rotation worker make between them."
    )?;
    writeln!(doc)?;

    writeln!(doc, "## Where we stand against the goals")?;
    writeln!(doc)?;
    writeln!(doc, "| goal | measured | verdict |")?;
    writeln!(doc, "| --- | --- | --- |")?;
    writeln!(
        doc,
        "| time across the corpus <= {GOAL_VS_LIBVIPS:.1}x libvips's | {vs_vips:.2}x (CPU time: {:.2}x) | {} |",
        ours_cpu / vips_cpu,
        verdict_ratio(vs_vips, GOAL_VS_LIBVIPS, "our time")
    )?;
    writeln!(
        doc,
        "| time across the corpus <= {GOAL_VS_PILLOW:.2}x Pillow's | {vs_pillow:.2}x (CPU time: {:.2}x) | {} |",
        ours_cpu / pillow_cpu,
        verdict_ratio(vs_pillow, GOAL_VS_PILLOW, "our time")
    )?;
    // Never slower than libvips: the worst image decides.
    let (worst, worst_ratio) = report
        .corpus
        .iter()
        .zip(&report.results)
        .map(|(image, r)| (image, r[0].median_ms() / r[2].median_ms()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .context("an empty corpus")?;
    let slower: Vec<&str> = report
        .corpus
        .iter()
        .zip(&report.results)
        .filter(|(_, r)| r[0].median_ms() > GOAL_VS_LIBVIPS_EACH * r[2].median_ms())
        .map(|(image, _)| image.label.as_str())
        .collect();
    let each_verdict = if slower.is_empty() {
        format!(
            "**met** ({:.0}% faster on the closest image)",
            (1.0 - worst_ratio) * 100.0
        )
    } else {
        format!("**not met**: slower on {}", slower.join("; "))
    };
    writeln!(
        doc,
        "| never slower than libvips on any image | worst: {} at {worst_ratio:.2}x | {each_verdict} |",
        worst.label
    )?;
    let floor_image = report
        .corpus
        .iter()
        .position(|image| image.file == GOAL_FLOOR_IMAGE)
        .and_then(|i| {
            report.floors[i]
                .as_ref()
                .map(|floor| (&report.corpus[i], floor))
        });
    if let Some((image, floor)) = floor_image {
        let ratio = floor.job_over_floor();
        let verdict = verdict_ratio(ratio, GOAL_VS_FLOOR, "the job");
        writeln!(
            doc,
            "| the whole job on the {} <= {GOAL_VS_FLOOR:.1}x libjpeg-turbo's 1/8 decode alone | \
             {ratio:.2}x ({:.1} ms against {:.1} ms, in the same processes) | {verdict} |",
            image.label,
            median(&floor.job_ms),
            median(&floor.floor_ms),
        )?;
    }
    floor_goal_rows(&mut doc, report)?;
    let memory_verdict = if big_peak_mib <= GOAL_PEAK_RSS_MIB {
        format!(
            "**met** ({:.1} MiB to spare)",
            GOAL_PEAK_RSS_MIB - big_peak_mib
        )
    } else {
        format!(
            "**not met**: {:.1} MiB over",
            big_peak_mib - GOAL_PEAK_RSS_MIB
        )
    };
    writeln!(
        doc,
        "| peak RSS <= {GOAL_PEAK_RSS_MIB:.0} MiB on the 6000x4000 JPEG | {big_peak_mib:.1} MiB (whole process) | {memory_verdict} |"
    )?;
    writeln!(doc)?;

    writeln!(doc, "## Results")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Median wall time of the job (ms) over {runs} runs per cell; ratios are ours over the \
         peer's (below 1 = we are faster). Peak RSS is the highest of any of the peer's \
         processes on that image, in MiB, with the part above the peer's idle process in \
         brackets (baselines: ours {:.1}, Pillow {:.1}, libvips {:.1} MiB — the Python \
         interpreter with its imports).",
        mib(report.baseline_kib[0]),
        mib(report.baseline_kib[1]),
        mib(report.baseline_kib[2]),
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| image | file | ours ms | Pillow ms | libvips ms | ours/Pillow | ours/libvips | peak RSS ours | peak RSS Pillow | peak RSS libvips |"
    )?;
    writeln!(
        doc,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for (image, measured) in report.corpus.iter().zip(&report.results) {
        let [o, p, v] = [&measured[0], &measured[1], &measured[2]];
        let rss = |peer: Peer| {
            let peak = measured[peer.index()].peak_rss_kib;
            let above = peak.saturating_sub(report.baseline_kib[peer.index()]);
            format!("{:.1} ({:.1})", mib(peak), mib(above))
        };
        writeln!(
            doc,
            "| {} | {:.2} MiB | {:.1} | {:.1} | {:.1} | {:.2}x | {:.2}x | {} | {} | {} |",
            image.label,
            image.bytes as f64 / 1024.0 / 1024.0,
            o.median_ms(),
            p.median_ms(),
            v.median_ms(),
            o.median_ms() / p.median_ms(),
            o.median_ms() / v.median_ms(),
            rss(Peer::Ours),
            rss(Peer::Pillow),
            rss(Peer::Libvips),
        )?;
    }
    writeln!(
        doc,
        "| **corpus** (sum of medians) | | **{ours:.1}** | **{pillow:.1}** | **{vips:.1}** | **{vs_pillow:.2}x** | **{vs_vips:.2}x** | | | |"
    )?;
    writeln!(doc)?;

    writeln!(doc, "### The JPEG floor")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "libjpeg-turbo's own 1/8 scaled decode of the file to RGB, alone, is the floor \
         libjpeg-turbo sets for a baseline JPEG: it Huffman-decodes every AC code only to \
         throw it away. `lambdas/pipeline/examples/jpeg_floor.rs` times it next to our \
         decode (at the scale the pipeline picks) and our whole job (process and four \
         rotations), interleaved in one process, once per round right after the peers; \
         figures are medians over the rounds of each process's median, and the ratios are \
         medians of the per-process ratios. At 1/8 every JPEG goes to our DC-only decoder, \
         which keeps one DC coefficient a block: it steps over a baseline file's AC codes \
         several at a time from skip tables without building a coefficient, and skips a \
         progressive file's AC scans without Huffman work. Smaller images are decoded by \
         libjpeg-turbo at the scale they need; after the decode come the resize, the encode \
         and four lossless rotations."
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| image | floor ms | our decode ms | our job ms | after the decode ms | job/floor | decode/floor |"
    )?;
    writeln!(doc, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")?;
    for (image, floor) in report.corpus.iter().zip(&report.floors) {
        let Some(floor) = floor else { continue };
        writeln!(
            doc,
            "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2}x | {:.2}x |",
            image.label,
            median(&floor.floor_ms),
            median(&floor.decode_ms),
            median(&floor.job_ms),
            floor.after_decode_ms(),
            floor.job_over_floor(),
            floor.decode_over_floor(),
        )?;
    }
    writeln!(doc)?;

    writeln!(doc, "### CPU time")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Mean CPU time per job (ms, user + system, all threads), with the cores kept busy \
         while timed (CPU time over wall time) in brackets. CPU time is less disturbed than \
         wall time by other work on the machine, so its ratios are a cross-check. libvips \
         runs with `VIPS_CONCURRENCY=1`, Pillow and ours on one thread. Below 1 core means \
         the process waited for the CPU (other work on the machine). Ours reads its CPU \
         time from `/proc` in 10 ms ticks, so its small-image figures are coarse."
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| image | ours | Pillow | libvips | ours/Pillow | ours/libvips |"
    )?;
    writeln!(doc, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    for (image, measured) in report.corpus.iter().zip(&report.results) {
        let [o, p, v] = [&measured[0], &measured[1], &measured[2]];
        writeln!(
            doc,
            "| {} | {:.1} ({:.2}) | {:.1} ({:.2}) | {:.1} ({:.2}) | {:.2}x | {:.2}x |",
            image.label,
            o.cpu_ms_per_job(),
            o.cores(),
            p.cpu_ms_per_job(),
            p.cores(),
            v.cpu_ms_per_job(),
            v.cores(),
            o.cpu_ms_per_job() / p.cpu_ms_per_job(),
            o.cpu_ms_per_job() / v.cpu_ms_per_job(),
        )?;
    }
    writeln!(
        doc,
        "| **corpus** (sum) | **{ours_cpu:.1}** | **{pillow_cpu:.1}** | **{vips_cpu:.1}** | **{:.2}x** | **{:.2}x** |",
        ours_cpu / pillow_cpu,
        ours_cpu / vips_cpu,
    )?;
    writeln!(doc)?;

    writeln!(doc, "### Same job?")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Every timed run of every peer returned five 256x256 JPEGs (checked after timing). \
         Below, the lowest PSNR of a peer's five outputs against ours (dB): about 30 and up \
         is the same picture up to resampling filter and encoder; a wrong orientation, \
         rotation direction or placement would be far below 20."
    )?;
    writeln!(doc)?;
    writeln!(doc, "| image | vs Pillow | vs libvips |")?;
    writeln!(doc, "| --- | ---: | ---: |")?;
    for (image, psnr) in report.corpus.iter().zip(&report.agreement) {
        let show = |db: Option<f64>| db.map_or_else(|| "n/a".to_owned(), |db| format!("{db:.1}"));
        writeln!(
            doc,
            "| {} | {} | {} |",
            image.label,
            show(psnr[1]),
            show(psnr[2])
        )?;
    }
    writeln!(doc)?;

    writeln!(doc, "## Machine")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "- {} cores, {}",
        report.machine.cores, report.machine.cpu_model
    )?;
    writeln!(doc, "- run on {} (UTC)", report.machine.date)?;
    writeln!(
        doc,
        "- load average (1/5/15 min) before: {}, after: {} — other work on the machine \
         shows here; the interleaving spreads it over all peers",
        report.machine.load_before, report.machine.load_after
    )?;
    writeln!(doc, "- {}", report.machine.versions)?;
    writeln!(doc)?;

    writeln!(doc, "## How to reproduce")?;
    writeln!(doc)?;
    writeln!(doc, "```sh")?;
    writeln!(
        doc,
        "cargo xtask bench              # {DEFAULT_ROUNDS} rounds, {DEFAULT_REPEAT} runs per process"
    )?;
    writeln!(doc, "cargo xtask bench --rounds 10  # more samples")?;
    writeln!(doc, "```")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "It needs `python3` with `venv` and the network to PyPI on first use: it makes \
         `target/bench/venv` ({}) and the corpus in `target/bench/corpus/`, and reuses both.",
        PYTHON_PINS.join(", ")
    )?;
    writeln!(doc)?;

    writeln!(doc, "## Method")?;
    writeln!(doc)?;
    for line in METHOD {
        writeln!(doc, "{line}")?;
    }
    writeln!(
        doc,
        "- This run: {} rounds x {} runs per process = {runs} runs per image and peer.",
        report.options.rounds, report.options.repeat
    )?;
    Ok(doc)
}

/// The method section of the report; what each peer does is in its source too
/// (`lambdas/pipeline/examples/bench_one.rs`, `xtask/bench/peer_*.py`).
const METHOD: &[&str] = &[
    "- **Corpus** (`xtask/bench/gen_corpus.py`, numpy + Pillow, fixed seeds): photo-like \
     content — smooth gradients, soft-edged shapes, multi-scale texture and sensor noise — \
     so compressed sizes are those of real photos. The sensor noise is the strongest that \
     keeps the 6000x4000 JPEG under 9 MiB (the upload limit is 10 MiB). The 4000x3000 JPEG \
     carries EXIF orientation 6, as a phone writes a portrait shot, so every peer must \
     rotate it upright. The 3000x2000 PNG has an alpha channel that fades from opaque to \
     clear, with holes and half-transparent patches.",
    "- **ours** (`lambdas/pipeline/examples/bench_one.rs`, release build): \
     `imaging::process_upload_bytes` on the file's bytes (validate, decode — JPEGs at the \
     DCT scale nearest the output, by libjpeg-turbo, but progressive ones at 1/8 by our \
     DC-only decoder; PNGs streamed with a box pre-shrink — orient, flatten, Lanczos3 fit, \
     encode), then `imaging::rotate_jpeg_bytes` for each of the four angles on its output \
     (a lossless DCT-domain transform of the processed JPEG, as each rotation task does \
     in production; 360 is a copy).",
    "- **Pillow**, the straightforward way with its defaults: `Image.open`, \
     `ImageOps.exif_transpose`, `convert` to RGB (alpha composited onto white), \
     `thumbnail((256, 256))` (bicubic after a box reduce), paste centred on a white \
     256x256 canvas, save JPEG quality 90; then open that once, `rotate(90/180/270)` and \
     save each, and save the unrotated one. Because `exif_transpose` loads the full image \
     first, Pillow's draft mode (DCT-scaled JPEG decoding) does not kick in.",
    "- **libvips** (pyvips, `VIPS_CONCURRENCY=1`, operation cache off): \
     `Image.thumbnail(path, 256, height=256, size=\"down\")` (shrink-on-load, autorotate, \
     Lanczos3), `flatten` onto white if it has alpha, `gravity(\"centre\", 256, 256)` on \
     white, `jpegsave_buffer(Q=90, subsample_mode=\"on\", keep=\"none\")`; then for each \
     rotation load the processed JPEG from the buffer, `rot` (libvips turns clockwise, so \
     90 counter-clockwise is its d270) and save. 4:2:0 chroma is forced as ours and \
     Pillow's use it: libvips's default at Q >= 90 keeps full chroma, a bigger and slower \
     file.",
    "- **Timing**: each timed run goes from reading the file to holding all five JPEG \
     buffers; interpreter start and imports are not timed. Every process does its runs \
     without a warm-up, then reports its times, its CPU time and its peak RSS (`VmHWM` \
     from `/proc/self/status` for ours, `getrusage` `ru_maxrss` for Python). The outputs \
     are decoded and checked only after that.",
    "- **Interleaving**: each round runs every image with every peer, one fresh process \
     each, and the order of peers rotates from round to round, so machine noise and cache \
     warmth fall on all peers alike. A cell's figure is the median of all its runs; its \
     peak RSS the highest of its processes. Corpus ratios are ratios of the sums of the \
     medians, so the large images weigh most, as they do in a Lambda bill.",
    "- **Baseline RSS**: each peer started with `--baseline`, doing nothing after its \
     imports (median of three).",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_date_matches_known_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_798_675_200), "2026-12-31");
    }

    #[test]
    fn sections_measured_apart_survive_a_new_run() {
        let old = format!("# Benchmarks\nold figures\n{KEPT_MARKER}\n## Dataset export\nrows\n");
        assert_eq!(
            kept_sections(&old),
            format!("\n{KEPT_MARKER}\n## Dataset export\nrows\n")
        );
        assert_eq!(kept_sections("# Benchmarks\nno marker\n"), "");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn floor_ratio_is_the_median_of_per_process_ratios() {
        let floor = Floor {
            floor_ms: vec![100.0, 50.0, 80.0],
            decode_ms: vec![60.0, 30.0, 50.0],
            job_ms: vec![110.0, 100.0, 80.0],
        };
        // Ratios 1.1, 2.0 and 1.0: the noisy middle process does not decide.
        assert!((floor.job_over_floor() - 1.1).abs() < 1e-9);
    }

    #[test]
    fn floor_line_is_for_jpegs_only() {
        assert!(is_jpeg("photo_6000x4000.jpg"));
        assert!(is_jpeg("SHOT.JPEG"));
        assert!(!is_jpeg("graphic_3000x2000_rgba.png"));
    }

    #[test]
    fn verdicts_say_met_or_by_how_much() {
        assert!(verdict_ratio(0.5, 0.6, "our time").starts_with("**met**"));
        let missed = verdict_ratio(1.2, 0.6, "our time");
        assert!(missed.contains("2.00x the goal"), "{missed}");
        assert!(missed.contains("drop by 50%"), "{missed}");
    }
}
