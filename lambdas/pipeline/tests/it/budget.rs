//! The whole-process budget, checked per input: each case runs in a fresh child
//! process (this test binary again, told by environment variables which case to
//! run), which processes the upload as the processor does (or turns a planted
//! processed image four ways, as the worker does a batch). The parent reaps the
//! child with `wait4` and asserts, from the kernel's own accounting, its CPU time
//! (user + system, [`MAX_CPU_MS`]), and the child's peak resident set (`VmHWM`,
//! [`MAX_PEAK_RSS_KIB`]), beside the outcome a user should see.
//!
//! A case is a name, a maker of its bytes (run in the parent, so making the input
//! costs the child nothing) and the outcome a user should see. Any module can
//! list its own cases and call [`check_cases`] (or [`check_rotations`]) from one
//! test.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::limits::MAX_CPU_MS;
use augment_pipeline::{Angle, RejectCode, Rejection};

use crate::support::measured;

/// Peak RSS of the whole process every accepted or rejected upload must stay in.
pub const MAX_PEAK_RSS_KIB: u64 = 64 * 1024;

const CASE_VAR: &str = "AUGMENT_BUDGET_CASE";
const FILE_VAR: &str = "AUGMENT_BUDGET_FILE";
const WORK_VAR: &str = "AUGMENT_BUDGET_WORK";
const REPORT_PREFIX: &str = "budget-report:";

/// What the child does with a case's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// `process_upload_bytes`, as the image processor does an upload.
    Process,
    /// `rotate_jpeg_bytes` at every angle, as the worker does a batch of four.
    Rotate,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Rotate => "rotate",
        }
    }
}

/// What a user should see for an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Processed,
    Rejected(RejectCode),
}

pub struct Case {
    pub name: &'static str,
    pub make: fn() -> Vec<u8>,
    pub expect: Expect,
}

/// What the child reported and the kernel measured of it.
#[derive(Debug)]
pub struct Report {
    pub outcome: String,
    pub peak_rss_kib: u64,
    pub cpu_ms: u64,
    pub rust_peak_bytes: usize,
}

/// In a child (the environment names a case): does the case's work on its file
/// and prints the outcome, then returns `true`, so the calling test ends there.
pub fn run_child_if_asked() -> bool {
    let (Ok(name), Ok(file)) = (std::env::var(CASE_VAR), std::env::var(FILE_VAR)) else {
        return false;
    };
    let input = std::fs::read(&file).unwrap();
    let work = std::env::var(WORK_VAR).unwrap_or_default();
    let (result, rust_peak_bytes, _) = measured(|| -> Result<(), Rejection> {
        if work == Work::Rotate.name() {
            for angle in Angle::ALL {
                rotate_jpeg_bytes(&input, angle)?;
            }
        } else {
            process_upload_bytes(&input)?;
        }
        Ok(())
    });
    let outcome = match result {
        Ok(()) => "processed".to_owned(),
        Err(rejection) => format!("rejected:{}", rejection.code),
    };
    // One line, after libtest's "test … " prefix: the name has no spaces there.
    println!(
        "{REPORT_PREFIX} {} {outcome} {} {rust_peak_bytes}",
        name.replace(' ', "_"),
        peak_rss_kib()
    );
    true
}

/// Runs every case in its own child of `test_name` (the full path of the calling
/// test, as `--exact` wants it), processing it as an upload, and checks its
/// outcome, CPU time and peak RSS.
pub fn check_cases(test_name: &str, cases: &[Case]) {
    check(test_name, cases, Work::Process);
}

/// As [`check_cases`], but each case is a planted processed image turned four
/// ways in the child (the outcome "processed" means all four turned).
pub fn check_rotations(test_name: &str, cases: &[Case]) {
    check(test_name, cases, Work::Rotate);
}

fn check(test_name: &str, cases: &[Case], work: Work) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let bytes = (case.make)();
        let path: PathBuf = dir.path().join(case.name);
        std::fs::write(&path, &bytes).unwrap();
        drop(bytes);
        let report = run_child(test_name, case.name, &path, work);
        let expected = match case.expect {
            Expect::Processed => "processed".to_owned(),
            Expect::Rejected(code) => format!("rejected:{code}"),
        };
        println!(
            "{:<44} {:>9} bytes  {:<28} peak RSS {:>6} KiB  CPU {:>5} ms  Rust peak {:>6} KiB",
            case.name,
            std::fs::metadata(&path).unwrap().len(),
            report.outcome,
            report.peak_rss_kib,
            report.cpu_ms,
            report.rust_peak_bytes / 1024
        );
        if report.outcome != expected {
            failures.push(format!(
                "{}: {} (expected {expected})",
                case.name, report.outcome
            ));
        }
        if report.peak_rss_kib > MAX_PEAK_RSS_KIB {
            failures.push(format!(
                "{}: peak RSS {} KiB, over {MAX_PEAK_RSS_KIB} KiB",
                case.name, report.peak_rss_kib
            ));
        }
        if report.cpu_ms > MAX_CPU_MS {
            failures.push(format!(
                "{}: {} ms of CPU, over {MAX_CPU_MS} ms",
                case.name, report.cpu_ms
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4 in `reap`, which std cannot see"
)]
fn run_child(test_name: &str, case: &str, file: &std::path::Path, work: Work) -> Report {
    let stderr = tempfile::tempfile().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, case)
        .env(FILE_VAR, file)
        .env(WORK_VAR, work.name())
        .stdout(Stdio::piped())
        .stderr(stderr.try_clone().unwrap())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let (status, cpu_ms) = reap(child.id());
    let Some(line) = stdout
        .lines()
        .find_map(|line| line.split_once(REPORT_PREFIX).map(|(_, report)| report))
    else {
        let mut stderr = stderr;
        let mut text = String::new();
        std::io::Seek::rewind(&mut stderr).unwrap();
        stderr.read_to_string(&mut text).unwrap();
        panic!("{case}: the child reported nothing (wait status {status}):\n{stdout}\n{text}");
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_, outcome, rss, rust] = fields[..] else {
        panic!("{case}: a bad report: {line}");
    };
    Report {
        outcome: outcome.to_owned(),
        peak_rss_kib: rss.parse().unwrap(),
        cpu_ms,
        rust_peak_bytes: rust.parse().unwrap(),
    }
}

/// Waits for the child `pid` with `wait4`, which returns its own CPU time, user
/// and system (not that of every child this process has had, as `RUSAGE_CHILDREN`
/// would, with other tests' children running on other threads). `std`'s `Child`
/// is not waited on after this: the child is reaped here. (Its `ru_maxrss` is no
/// use: a child spawned with `CLONE_VM` inherits this process's high-water mark
/// at `exec`, so the child reads its own `VmHWM` instead.)
#[expect(
    unsafe_code,
    reason = "wait4 is the one call that gives a single child's CPU time and peak RSS"
)]
fn reap(pid: u32) -> (i32, u64) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain data, zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped; both pointers are to live
    // locals of the right types.
    let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(
        reaped,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    let ms = |time: libc::timeval| {
        u64::try_from(time.tv_sec).unwrap() * 1000 + u64::try_from(time.tv_usec).unwrap() / 1000
    };
    (status, ms(usage.ru_utime) + ms(usage.ru_stime))
}

/// This process's resident-set high-water mark (of its own image, since `exec`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
