//! `cargo xtask deny`: the supply-chain check (cargo-deny with `deny.toml`):
//! advisories, licences, bans (OpenSSL, a second TLS stack) and sources
//! (crates.io only).
//!
//! Advisories come from an offline `RustSec` snapshot when one is there
//! (`$AUGMENT_ADVISORY_DB`, else `../shared/rustsec-advisory-db` beside the
//! checkout): a folder, which cargo-deny wants as a git checkout, so the task
//! commits a copy once under the target dir, dated as the snapshot, and runs
//! cargo-deny without network. Without a snapshot cargo-deny fetches the live
//! database. The result line names the database and its date.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use xshell::{Shell, cmd};

use crate::{project_root, target_dir, tools};

/// cargo-deny, pinned (installed into the tools folder under the target dir).
const CARGO_DENY_VERSION: &str = "0.20.2";
/// Where cargo-deny looks for the default `RustSec` database under its `db-path`:
/// `<last url segment>-<xxhash64 of the url>` of `https://github.com/rustsec/advisory-db`.
/// If cargo-deny ever changes the scheme, the check fails naming the path it wanted.
const DEFAULT_DB_DIR: &str = "advisory-db-3157b0e258782691";
/// The environment variable `deny.toml`'s `db-path` reads.
const DB_ROOT_VAR: &str = "AUGMENT_ADVISORY_DB_ROOT";

pub fn run(sh: &Shell) -> Result<()> {
    let deny = tools::ensure(sh, "cargo-deny", CARGO_DENY_VERSION)?;
    let root = project_root();
    // Where cargo-deny keeps (or fetches) its databases: `deny.toml`'s `db-path`.
    let db_root = target_dir().join("advisory-dbs");
    let _db_root = sh.push_env(DB_ROOT_VAR, &db_root);
    match find_snapshot(&root) {
        Some(snapshot) => {
            let about = Snapshot::read(&snapshot)?;
            about.install(sh, &snapshot, &db_root.join(DEFAULT_DB_DIR))?;
            // cargo-deny reads `cargo metadata` for every platform, which needs
            // the crates only others build (web-sys, accesskit_ios) on disk: on a
            // fresh machine `--offline` failed for want of them. Fetched from
            // crates.io first, so only the advisories are offline.
            cmd!(sh, "cargo fetch --locked").quiet().run()?;
            cmd!(sh, "{deny} --offline --locked check").run()?;
            println!(
                "deny: advisories checked against the offline RustSec snapshot of {} \
                 (commit {}, {}): advisories published later are not in it",
                about.date,
                &about.commit[..about.commit.len().min(12)],
                snapshot.display()
            );
        }
        None => {
            println!(
                "deny: no offline snapshot (set {SNAPSHOT_VAR} or put one at \
                 ../shared/rustsec-advisory-db): fetching the live RustSec database"
            );
            cmd!(sh, "{deny} --locked check").run()?;
            println!("deny: advisories checked against the live RustSec database");
        }
    }
    Ok(())
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
