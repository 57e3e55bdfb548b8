//! `cargo xtask bench`: times our pipeline's per-upload job against Pillow and
//! libvips doing the same job, and writes docs/BENCHMARKS.md from the run.
//!
//! Each peer is its own process (`<peer> <file> <repeat>`) that times `repeat`
//! runs of the job and reports one JSON line; rounds interleave peers and images
//! so that a noisy neighbour on the machine hits all peers alike.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use xshell::{Shell, cmd};

use crate::bench_report::{PYTHON_PINS, render};
use crate::bench_results::{CorpusImage, Floor, Machine, Measured, Options, Peer, PerPeer, Report};
use crate::flags;

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

pub fn run(options: &flags::Bench) -> Result<()> {
    if options.transfer {
        return crate::bench_transfer::run();
    }
    let options = Options {
        rounds: options.rounds,
        repeat: options.repeat,
    };
    let root = crate::paths::project_root();
    let sh = Shell::new()?;
    sh.change_dir(&root);
    let bench_dir = crate::paths::target_dir().join("bench");
    // Keep Python's bytecode caches out of the source tree.
    sh.set_var("PYTHONPYCACHEPREFIX", bench_dir.join("pycache"));
    let peers = build_peers(&sh, &root, &bench_dir)?;
    let report = measure_report(&sh, &peers, &bench_dir, options)?;
    write_report(&sh, &root, &report)?;
    crate::bench_transfer::run()
}

/// The peers' programs: the venv with Pillow and pyvips, and our release examples.
fn build_peers(sh: &Shell, root: &Path, bench_dir: &Path) -> Result<Peers> {
    let python = ensure_venv(sh, &bench_dir.join("venv"))?;
    let release = crate::paths::build_release(
        sh,
        &[
            "-p",
            "augment-pipeline",
            "--example",
            "bench_one",
            "--example",
            "jpeg_floor",
        ],
    )?;
    let examples = release.join("examples");
    let example = |name: &str| {
        let exe = if cfg!(windows) {
            format!("{name}.exe")
        } else {
            name.to_owned()
        };
        examples.join(exe)
    };
    Ok(Peers {
        bench_one: example("bench_one"),
        jpeg_floor: example("jpeg_floor"),
        python,
        scripts: root.join("xtask/bench"),
    })
}

/// Makes the corpus (`gen_corpus.py`, fixed seeds) and reads its manifest.
fn make_corpus(sh: &Shell, peers: &Peers, corpus_dir: &Path) -> Result<Vec<CorpusImage>> {
    let python = &peers.python;
    let gen_corpus = peers.scripts.join("gen_corpus.py");
    cmd!(sh, "{python} {gen_corpus} {corpus_dir}").run()?;
    read_corpus(corpus_dir)
}

/// The load average before the run and the cores, with a warning when the
/// machine is busy.
fn load_before_run() -> (String, usize) {
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
    (load_before, cores)
}

/// The whole measurement: baselines, the agreement check, the interleaved rounds.
fn measure_report(sh: &Shell, peers: &Peers, bench_dir: &Path, options: Options) -> Result<Report> {
    let corpus_dir = bench_dir.join("corpus");
    let corpus = make_corpus(sh, peers, &corpus_dir)?;
    let (load_before, cores) = load_before_run();
    let mut baseline_kib = [0; 3];
    for peer in Peer::ALL {
        baseline_kib[peer.index()] = baseline_rss_kib(sh, peers, peer)?;
    }
    let outputs_dir = bench_dir.join("outputs");
    let agreement = check_agreement(sh, peers, &corpus, &corpus_dir, &outputs_dir)?;
    let (results, floors) = measure(sh, peers, &corpus, &corpus_dir, &options)?;
    let machine = Machine {
        cores,
        cpu_model: cpu_model(),
        date: utc_date(),
        load_before,
        load_after: load_average(),
        versions: versions(sh, peers)?,
    };
    Ok(Report {
        machine,
        options,
        corpus,
        results,
        baseline_kib,
        agreement,
        floors,
    })
}

/// Writes docs/BENCHMARKS.md: this run's report, then the sections measured apart.
fn write_report(sh: &Shell, root: &Path, report: &Report) -> Result<()> {
    let doc = render(report)?;
    println!("\n{doc}");
    let doc_path = root.join("docs/BENCHMARKS.md");
    sh.create_dir(root.join("docs"))?;
    let kept = kept_sections(&std::fs::read_to_string(&doc_path).unwrap_or_default());
    sh.write_file(&doc_path, format!("{doc}{kept}"))?;
    println!("wrote {}", doc_path.display());
    Ok(())
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

/// Baseline RSS is read this many times per peer; the median is used.
const BASELINE_SAMPLES: usize = 3;

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

/// The side of the square outputs every peer must make.
const CANVAS_SIDE_PX: u64 = 256;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn civil_date_matches_known_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_798_675_200), "2026-12-31");
    }

    #[test]
    fn floor_line_is_for_jpegs_only() {
        assert!(is_jpeg("photo_6000x4000.jpg"));
        assert!(is_jpeg("SHOT.JPEG"));
        assert!(!is_jpeg("graphic_3000x2000_rgba.png"));
    }
}
