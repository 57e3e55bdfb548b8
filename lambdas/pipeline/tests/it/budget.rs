//! The whole-process budget, checked per input: each case runs in a fresh child
//! process (this test binary again, told by environment variables which case to
//! run), which processes the upload as the processor does and reports its peak
//! resident set (`VmHWM`) and CPU time. The parent asserts the expected outcome
//! and the peak RSS; the CPU time is printed (speed is reported, never asserted).
//!
//! A case is a name, a maker of its bytes (run in the parent, so making the input
//! costs the child nothing) and the outcome a user should see. Any module can
//! list its own cases and call [`check_cases`] from one test.

use std::path::PathBuf;
use std::process::Command;

use augment_pipeline::RejectCode;
use augment_pipeline::imaging::process_upload_bytes;

use crate::support::measured;

/// Peak RSS of the whole process every accepted or rejected upload must stay in.
pub const MAX_PEAK_RSS_KIB: u64 = 64 * 1024;

const CASE_VAR: &str = "AUGMENT_BUDGET_CASE";
const FILE_VAR: &str = "AUGMENT_BUDGET_FILE";
const REPORT_PREFIX: &str = "budget-report:";

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

/// What the child measured.
#[derive(Debug)]
pub struct Report {
    pub outcome: String,
    pub peak_rss_kib: u64,
    pub cpu_ms: u64,
    pub rust_peak_bytes: usize,
}

/// In a child (the environment names a case): processes the case's file and
/// prints the report, then returns `true`, so the calling test ends there.
pub fn run_child_if_asked() -> bool {
    let (Ok(name), Ok(file)) = (std::env::var(CASE_VAR), std::env::var(FILE_VAR)) else {
        return false;
    };
    let upload = std::fs::read(&file).unwrap();
    let cpu_before = cpu_ms();
    let (result, rust_peak_bytes, _) = measured(|| process_upload_bytes(&upload));
    let cpu_ms = cpu_ms() - cpu_before;
    let outcome = match result {
        Ok(_) => "processed".to_owned(),
        Err(rejection) => format!("rejected:{}", rejection.code),
    };
    // One line, after libtest's "test … " prefix: the name has no spaces there.
    println!(
        "{REPORT_PREFIX} {} {outcome} {} {cpu_ms} {rust_peak_bytes}",
        name.replace(' ', "_"),
        peak_rss_kib()
    );
    true
}

/// Runs every case in its own child of `test_name` (the full path of the calling
/// test, as `--exact` wants it) and checks its outcome and peak RSS.
pub fn check_cases(test_name: &str, cases: &[Case]) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let bytes = (case.make)();
        let path: PathBuf = dir.path().join(case.name);
        std::fs::write(&path, &bytes).unwrap();
        drop(bytes);
        let report = run_child(test_name, case.name, &path);
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
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn run_child(test_name: &str, case: &str, file: &std::path::Path) -> Report {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, case)
        .env(FILE_VAR, file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout
        .lines()
        .find_map(|line| line.split_once(REPORT_PREFIX).map(|(_, report)| report))
    else {
        panic!(
            "{case}: the child reported nothing ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_, outcome, rss, cpu, rust] = fields[..] else {
        panic!("{case}: a bad report: {line}");
    };
    Report {
        outcome: outcome.to_owned(),
        peak_rss_kib: rss.parse().unwrap(),
        cpu_ms: cpu.parse().unwrap(),
        rust_peak_bytes: rust.parse().unwrap(),
    }
}

/// This process's resident-set high-water mark.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// User + system CPU time of this process, from `/proc/self/stat` (fields 14 and
/// 15, in ticks of 10 ms: Linux fixes `USER_HZ` at 100 for user space).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let (_, fields) = stat.rsplit_once(") ").unwrap();
    let mut fields = fields.split_whitespace().skip(11);
    let utime: u64 = fields.next().unwrap().parse().unwrap();
    let stime: u64 = fields.next().unwrap().parse().unwrap();
    (utime + stime) * 10
}
