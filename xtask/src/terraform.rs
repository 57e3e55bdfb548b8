//! `cargo xtask terraform`: the static checks of terraform/ that CI runs (fmt,
//! init from the provider mirror, validate, checkov), and the Terraform plumbing
//! `deploy` shares: a CLI configuration of our own, the plugin mirror, working folders.
//! (Apply, re-plan and destroy against moto run as a test:
//! `lambdas/e2e/tests/it/terraform_stack.rs`.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};
use xshell::{Shell, cmd};

use crate::paths::{project_root, target_dir};
use crate::venv;

/// The stack's folder in the repository.
pub const TERRAFORM_DIR: &str = "terraform";
/// The emulator-only files, copied beside the real ones for moto (never for AWS).
pub const EMULATOR_DIR: &str = "terraform/emulator";
/// Where CI mirrors hashicorp/aws (the registry is not reachable there).
const DEFAULT_PLUGIN_DIR: &str = "/opt/tf-plugins";
/// Overrides [`DEFAULT_PLUGIN_DIR`]; on a machine with the registry, unset and absent
/// means "download as usual".
const PLUGIN_DIR_ENV: &str = "TF_PLUGIN_DIR";
/// checkov from PyPI, pinned, in a venv of its own (its dependencies clash with moto's).
const CHECKOV_PIN: &str = "checkov==3.2.500";

/// `cargo xtask terraform`: fmt -check, init (from the provider mirror in
/// `TF_PLUGIN_DIR`, default /opt/tf-plugins, when present), validate (the real
/// configuration, and with the emulator override), checkov with zero failed checks
/// and a reason on every skip.
pub fn run() -> Result<()> {
    let sh = Shell::new()?;
    ci_check(&sh)
}

/// fmt, init + validate (alone and with the emulator override), checkov.
pub fn ci_check(sh: &Shell) -> Result<()> {
    let _root = sh.push_dir(project_root());
    let started = Instant::now();
    // No user configuration for fmt and version either (WorkDir::env has its own).
    let cli_config = target_dir().join("xtask.tfrc");
    std::fs::create_dir_all(target_dir())?;
    std::fs::write(&cli_config, "")?;
    let _cli_config = sh.push_env("TF_CLI_CONFIG_FILE", &cli_config);
    let version = require_terraform(sh)?;
    println!("terraform: {version}");

    cmd!(sh, "terraform fmt -check -recursive -diff {TERRAFORM_DIR}")
        .run()
        .context("terraform/ is not formatted: run `terraform fmt -recursive terraform`")?;

    let plugin_dir = plugin_dir(true)?;
    for (label, with_emulator) in [("real", false), ("emulator", true)] {
        let work = WorkDir::new(sh, with_emulator)?;
        let _env = work.env(sh);
        let _dir = sh.push_dir(work.path());
        init(sh, plugin_dir.as_deref(), &["-backend=false"])?;
        cmd!(sh, "terraform validate -no-color")
            .run()
            .with_context(|| format!("terraform validate failed ({label} configuration)"))?;
    }

    checkov(sh)?;
    println!(
        "terraform: checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `terraform version`'s first line, or an error that says how to install it.
pub fn require_terraform(sh: &Shell) -> Result<String> {
    let version = cmd!(sh, "terraform version")
        .quiet()
        .ignore_stderr()
        .read()
        .context(
            "`terraform` is not on PATH: install Terraform 1.5 or newer \
             (https://developer.hashicorp.com/terraform/install)",
        )?;
    Ok(version.lines().next().unwrap_or_default().to_owned())
}

/// The provider mirror: `TF_PLUGIN_DIR`, else /opt/tf-plugins when it exists. With
/// `required`, its absence is an error (CI has no registry); otherwise `None` means
/// "download from the registry".
pub fn plugin_dir(required: bool) -> Result<Option<PathBuf>> {
    let (dir, named) = match std::env::var_os(PLUGIN_DIR_ENV) {
        Some(dir) => (PathBuf::from(dir), true),
        None => (PathBuf::from(DEFAULT_PLUGIN_DIR), false),
    };
    let provider = dir.join("registry.terraform.io/hashicorp/aws");
    if provider.is_dir() {
        return Ok(Some(dir));
    }
    ensure!(
        !required && !named,
        "the hashicorp/aws provider is not mirrored in {}: make a mirror with \
         `terraform providers mirror DIR` in terraform/ where the registry is reachable, \
         then set {PLUGIN_DIR_ENV}=DIR",
        dir.display()
    );
    Ok(None)
}

/// `terraform init`, from the mirror when there is one.
pub fn init(sh: &Shell, plugin_dir: Option<&Path>, extra: &[&str]) -> Result<()> {
    let plugin_arg = plugin_dir.map(|dir| format!("-plugin-dir={}", dir.display()));
    cmd!(
        sh,
        "terraform init -input=false -no-color {plugin_arg...} {extra...}"
    )
    .quiet()
    .ignore_stdout()
    .run()
    .context("terraform init failed (see above)")?;
    Ok(())
}

/// A folder holding terraform/*.tf (and, for an emulator, terraform/emulator/*.tf),
/// so `init` writes its plugins and lock file there, not into the repository.
pub struct WorkDir {
    dir: PathBuf,
    _temp: Option<xshell::TempDir>,
}

impl WorkDir {
    /// A temporary folder, removed when dropped.
    pub fn new(sh: &Shell, with_emulator: bool) -> Result<Self> {
        let temp = sh.create_temp_dir()?;
        let dir = temp.path().to_path_buf();
        let work = Self {
            dir,
            _temp: Some(temp),
        };
        work.copy_config(with_emulator)?;
        Ok(work)
    }

    /// A folder that stays (it holds the state of an emulator deploy), with the
    /// configuration copied afresh.
    pub fn kept(dir: PathBuf, with_emulator: bool) -> Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let work = Self { dir, _temp: None };
        work.copy_config(with_emulator)?;
        Ok(work)
    }

    fn copy_config(&self, with_emulator: bool) -> Result<()> {
        let root = project_root();
        let mut folders = vec![root.join(TERRAFORM_DIR)];
        if with_emulator {
            folders.push(root.join(EMULATOR_DIR));
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                std::fs::remove_file(&path)?;
            }
        }
        for folder in folders {
            for entry in std::fs::read_dir(&folder)
                .with_context(|| format!("cannot read {}", folder.display()))?
            {
                let path = entry?.path();
                if let (Some(name), true) = (
                    path.file_name(),
                    path.extension().is_some_and(|ext| ext == "tf"),
                ) {
                    std::fs::copy(&path, self.dir.join(name))?;
                }
            }
        }
        // An empty CLI configuration: the user's (or a missing one that
        // TF_CLI_CONFIG_FILE names) changes nothing here.
        std::fs::write(self.cli_config(), "")?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn cli_config(&self) -> PathBuf {
        self.dir.join("xtask.tfrc")
    }

    /// The environment every terraform command here runs with; restored on drop.
    pub fn env<'a>(&self, sh: &'a Shell) -> Vec<xshell::PushEnv<'a>> {
        vec![
            sh.push_env("TF_CLI_CONFIG_FILE", self.cli_config()),
            sh.push_env("TF_IN_AUTOMATION", "1"),
            // No version check against checkpoint-api.hashicorp.com.
            sh.push_env("CHECKPOINT_DISABLE", "1"),
        ]
    }
}

/// checkov on terraform/ (not the emulator files): zero failed checks, and every
/// skip inline with its reason.
fn checkov(sh: &Shell) -> Result<()> {
    let bin = venv::ensure(sh, &target_dir().join("checkov-venv"), &[CHECKOV_PIN])?;
    let checkov = bin.join(if cfg!(windows) {
        "checkov.cmd"
    } else {
        "checkov"
    });
    let started = Instant::now();
    // --skip-download: no calls to Prisma Cloud for guidelines (offline, and the
    // results do not depend on them).
    let output = cmd!(
        sh,
        "{checkov} --directory {TERRAFORM_DIR} --skip-path emulator --framework terraform --skip-download --quiet --output json"
    )
    .ignore_status()
    .ignore_stderr()
    .read()?;
    let report: serde_json::Value = serde_json::from_str(&output)
        .with_context(|| format!("checkov printed something other than JSON:\n{output}"))?;
    let summary = &report["summary"];
    let count = |key: &str| summary[key].as_u64().unwrap_or_default();
    let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));
    judge_checkov(&report["results"], failed)?;
    ensure!(
        passed > 0,
        "checkov passed no checks: did it find terraform/?\n{output}"
    );
    println!(
        "terraform: {CHECKOV_PIN}: {passed} passed, 0 failed, {skipped} skipped with reasons, in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// checkov's results: no failed check, and no skip without a reason.
fn judge_checkov(results: &serde_json::Value, failed: u64) -> Result<()> {
    let checks = |key: &str| results[key].as_array().cloned().unwrap_or_default();
    let failures: Vec<String> = checks("failed_checks")
        .iter()
        .map(|check| {
            format!(
                "  {} {} ({}:{})",
                check["check_id"].as_str().unwrap_or("?"),
                check["resource"].as_str().unwrap_or("?"),
                check["file_path"].as_str().unwrap_or("?"),
                check["file_line_range"][0],
            )
        })
        .collect();
    ensure!(
        failed == 0 && failures.is_empty(),
        "checkov: {failed} failed checks; fix them, or skip one inline with \
         `#checkov:skip=<id>:<reason>` when it does not apply:\n{}",
        failures.join("\n")
    );
    let unexplained: Vec<String> = checks("skipped_checks")
        .iter()
        .filter(|check| {
            check["suppress_comment"]
                .as_str()
                .is_none_or(|reason| reason.trim().len() < 10)
        })
        .map(|check| {
            format!(
                "  {} {}",
                check["check_id"].as_str().unwrap_or("?"),
                check["resource"].as_str().unwrap_or("?")
            )
        })
        .collect();
    ensure!(
        unexplained.is_empty(),
        "checkov: skips without a reason (write `#checkov:skip=<id>:<why it does not apply>`):\n{}",
        unexplained.join("\n")
    );
    Ok(())
}
