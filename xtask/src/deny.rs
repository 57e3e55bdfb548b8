//! `cargo xtask deny`: the supply-chain check (cargo-deny with `deny.toml`):
//! advisories, licences, bans (OpenSSL, a second TLS stack) and sources
//! (crates.io only).
//!
//! Advisories: with the network, the live `RustSec` database, fetched now. Offline
//! (its git host unreachable, or the fetch fails), the snapshot at
//! `$AUGMENT_ADVISORY_DB`, else `../shared/rustsec-advisory-db` beside the
//! checkout (where CI has it): a folder, which cargo-deny wants as a git
//! checkout, so the task commits a copy once under the target dir, dated as the
//! snapshot, and runs cargo-deny without network. The result line names the
//! database, its date and its age; `deny.toml`'s `maximum-db-staleness` says how
//! old a snapshot may be, and why.

use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

use crate::paths::{project_root, target_dir};
use crate::tools;

/// cargo-deny, pinned (installed into the tools folder under the target dir).
const CARGO_DENY_VERSION: &str = "0.20.2";
/// Where cargo-deny looks for the default `RustSec` database under its `db-path`:
/// `<last url segment>-<xxhash64 of the url>` of `https://github.com/rustsec/advisory-db`.
/// If cargo-deny ever changes the scheme, the check fails naming the path it wanted.
const DEFAULT_DB_DIR: &str = "advisory-db-3157b0e258782691";
/// The environment variable `deny.toml`'s `db-path` reads.
const DB_ROOT_VAR: &str = "AUGMENT_ADVISORY_DB_ROOT";
/// The live database's git host: reachable means "with the network".
const DB_HOST: (&str, u16) = ("github.com", 443);
/// How long the reachability probe waits for a connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// cargo-deny's own default staleness: an older snapshot gets a warning (the
/// check itself fails past `deny.toml`'s `maximum-db-staleness`).
const WARN_AGE_DAYS: i64 = 90;

pub fn run(sh: &Shell) -> Result<()> {
    let deny = tools::ensure(sh, "cargo-deny", CARGO_DENY_VERSION)?;
    // cargo-deny reads `cargo metadata` for every platform, which needs the
    // crates only others build (web-sys, accesskit_ios) on disk: on a fresh
    // machine `--offline` failed for want of them. Fetched from crates.io first,
    // so only the advisories can be offline.
    cmd!(sh, "cargo fetch --locked").quiet().run()?;
    // Where cargo-deny keeps (or fetches) its databases: `deny.toml`'s `db-path`.
    let db_roots = target_dir().join("advisory-dbs");
    if reachable(DB_HOST) {
        let _db_root = sh.push_env(DB_ROOT_VAR, db_roots.join("live"));
        match cmd!(sh, "{deny} --locked fetch db").run() {
            Ok(()) => {
                cmd!(sh, "{deny} --locked check --disable-fetch").run()?;
                println!(
                    "deny: advisories checked against the live RustSec database (fetched now)"
                );
                return Ok(());
            }
            Err(err) => println!(
                "deny: the live RustSec database could not be fetched ({err}): using the offline snapshot"
            ),
        }
    } else {
        println!(
            "deny: {} is not reachable: using the offline RustSec snapshot",
            DB_HOST.0
        );
    }
    let Some(snapshot) = find_snapshot(&project_root()) else {
        bail!(
            "no network for the live RustSec database and no offline snapshot: set \
             {SNAPSHOT_VAR} or put one at ../shared/rustsec-advisory-db"
        );
    };
    let about = Snapshot::read(&snapshot)?;
    let age_days = about.age_days(SystemTime::now())?;
    println!(
        "deny: RustSec snapshot of {} (commit {}): {age_days} days old",
        about.date,
        &about.commit[..about.commit.len().min(12)],
    );
    if age_days > WARN_AGE_DAYS {
        println!(
            "deny: warning: the snapshot is older than {WARN_AGE_DAYS} days (cargo-deny's \
             default); refresh it from the RustSec advisory-db (see deny.toml): {}",
            snapshot.display()
        );
    }
    let db_root = db_roots.join("snapshot");
    about.install(sh, &snapshot, &db_root.join(DEFAULT_DB_DIR))?;
    let _db_root = sh.push_env(DB_ROOT_VAR, &db_root);
    cmd!(sh, "{deny} --offline --locked check").run()?;
    println!(
        "deny: advisories checked against the offline RustSec snapshot of {} ({age_days} days \
         old): advisories published later are not in it",
        about.date
    );
    Ok(())
}

/// Whether a TCP connection to `host` opens within [`PROBE_TIMEOUT`] (a name
/// that does not resolve fails at once).
fn reachable((host, port): (&str, u16)) -> bool {
    let Ok(addresses) = (host, port).to_socket_addrs() else {
        return false;
    };
    addresses
        .into_iter()
        .any(|address| TcpStream::connect_timeout(&address, PROBE_TIMEOUT).is_ok())
}

/// The environment variable naming the snapshot folder.
const SNAPSHOT_VAR: &str = "AUGMENT_ADVISORY_DB";

fn find_snapshot(root: &Path) -> Option<PathBuf> {
    let candidates = std::env::var_os(SNAPSHOT_VAR)
        .map(PathBuf::from)
        .into_iter()
        .chain(
            root.parent()
                .map(|up| up.join("shared/rustsec-advisory-db")),
        );
    candidates
        .into_iter()
        .find(|dir| dir.join("crates").is_dir())
}

/// What SNAPSHOT.md says of the snapshot: upstream commit and date.
struct Snapshot {
    commit: String,
    date: String,
}

impl Snapshot {
    /// Reads "…commit <40 hex> (<YYYY-MM-DD>)…" from the snapshot's SNAPSHOT.md.
    fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("SNAPSHOT.md");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        // The line may wrap between the hash and the date.
        let parsed = text.split("commit ").skip(1).find_map(|rest| {
            let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
            let (commit, rest) = rest.split_at(hex);
            let date = rest.trim_start().strip_prefix('(')?.get(..10)?;
            let is_date = date.bytes().enumerate().all(|(at, byte)| match at {
                4 | 7 => byte == b'-',
                _ => byte.is_ascii_digit(),
            });
            (hex == 40 && is_date).then(|| Self {
                commit: commit.to_owned(),
                date: date.to_owned(),
            })
        });
        parsed.with_context(|| {
            format!(
                "{}: no \"commit <hash> (<date>)\" line naming the snapshot",
                path.display()
            )
        })
    }

    /// Whole days from the snapshot's date to `now` (UTC).
    fn age_days(&self, now: SystemTime) -> Result<i64> {
        let field = |range: std::ops::Range<usize>| -> Result<i64> {
            self.date
                .get(range)
                .and_then(|digits| digits.parse().ok())
                .with_context(|| format!("snapshot date {:?}", self.date))
        };
        let then = days_from_civil(field(0..4)?, field(5..7)?, field(8..10)?);
        let since_epoch = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .context("the clock is before 1970")?;
        let today = i64::try_from(since_epoch.as_secs() / 86_400)?;
        Ok(today - then)
    }

    /// A git copy of the snapshot at `checkout`, committed and dated as the
    /// snapshot (cargo-deny judges staleness by the commit and HEAD times), made
    /// once per snapshot commit.
    fn install(&self, sh: &Shell, snapshot: &Path, checkout: &Path) -> Result<()> {
        let stamp = checkout.join(".git/augment-snapshot");
        if std::fs::read_to_string(&stamp).is_ok_and(|made| made == self.commit) {
            return Ok(());
        }
        if checkout.exists() {
            std::fs::remove_dir_all(checkout)
                .with_context(|| format!("removing {}", checkout.display()))?;
        }
        std::fs::create_dir_all(checkout)?;
        copy_tree(snapshot, checkout)?;
        let when = format!("{}T00:00:00Z", self.date);
        let message = format!("RustSec advisory-db snapshot {}", self.commit);
        let _dir = sh.push_dir(checkout);
        let _env = [
            sh.push_env("GIT_AUTHOR_DATE", &when),
            sh.push_env("GIT_COMMITTER_DATE", &when),
            sh.push_env("GIT_AUTHOR_NAME", "snapshot"),
            sh.push_env("GIT_AUTHOR_EMAIL", "snapshot@localhost"),
            sh.push_env("GIT_COMMITTER_NAME", "snapshot"),
            sh.push_env("GIT_COMMITTER_EMAIL", "snapshot@localhost"),
        ];
        cmd!(sh, "git init --quiet --initial-branch=main").run()?;
        cmd!(sh, "git add --all").run()?;
        cmd!(sh, "git commit --quiet --no-gpg-sign --message {message}").run()?;
        // `git init` wrote HEAD now; date it as the snapshot, or a months-old
        // snapshot would pass for a fresh fetch.
        cmd!(sh, "touch -d {when} .git/HEAD").run()?;
        std::fs::write(&stamp, &self.commit)?;
        Ok(())
    }
}

/// Days from 1970-01-01 to the date `year-month-day` (proleptic Gregorian; Howard
/// Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_line_is_read_and_a_bad_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("SNAPSHOT.md"), text).unwrap();
        // As the real file has it: wrapped between the hash and the date.
        write(
            "- Source: the rustsec/advisory-db repository, commit \
             bf5c0d245a92671908518d7e765914d437954ed6\n  (2026-08-21). Only crates/",
        );
        let about = Snapshot::read(dir.path()).unwrap();
        assert_eq!(about.date, "2026-08-21");
        assert_eq!(about.commit, "bf5c0d245a92671908518d7e765914d437954ed6");
        let day = |days: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400 + 3_600);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let snapshot_day = u64::try_from(days_from_civil(2026, 8, 21)).unwrap();
        assert_eq!(about.age_days(day(snapshot_day)).unwrap(), 0);
        // The day this was written: 107 days.
        let written = u64::try_from(days_from_civil(2026, 12, 6)).unwrap();
        assert_eq!(about.age_days(day(written)).unwrap(), 107);
        for bad in [
            "commit bf5c0d24 (2026-08-21)",
            "commit bf5c0d245a92671908518d7e765914d437954ed6 (21.08.2026)",
            "commit bf5c0d245a92671908518d7e765914d437954ed6",
        ] {
            write(bad);
            assert!(Snapshot::read(dir.path()).is_err(), "{bad}");
        }
    }
}
