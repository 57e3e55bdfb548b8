//! The CI check of `.github/workflows/` (GitHub Actions can't run here): each
//! workflow validates against GitHub's workflow schema (action-validator, from
//! npm), and the two run the commands the README documents.

use anyhow::{Context as _, Result, ensure};
use xshell::{Shell, cmd};

use crate::apt;
use crate::paths::{project_root, target_dir};

/// action-validator and its WebAssembly core, pinned.
const VALIDATOR: &[&str] = &[
    "@action-validator/cli@0.6.0",
    "@action-validator/core@0.6.0",
];
/// Node.js and npm run it.
const APT_PACKAGES: &[(&str, &str)] = &[("nodejs", "/usr/bin/node"), ("npm", "/usr/bin/npm")];
/// Each workflow and the command it must run.
const WORKFLOWS: &[(&str, &str)] = &[
    (".github/workflows/ci.yml", "run: cargo xtask ci"),
    (".github/workflows/release.yml", "run: cargo xtask dist"),
];

pub fn ci_check(sh: &Shell) -> Result<()> {
    apt::ensure_installed(sh, "the workflow check", APT_PACKAGES)?;
    let prefix = target_dir().join("action-validator");
    let validator = prefix.join("node_modules/.bin/action-validator");
    if !validator.exists() {
        cmd!(
            sh,
            "npm install --silent --no-save --no-audit --no-fund --prefix {prefix} {VALIDATOR...}"
        )
        .run()?;
    }
    for (workflow, command) in WORKFLOWS {
        let path = project_root().join(workflow);
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {workflow}"))?;
        ensure!(
            text.contains(command),
            "{workflow} must `{command}` (the README's command)"
        );
        cmd!(sh, "{validator} {path}")
            .quiet()
            .run()
            .with_context(|| format!("{workflow} does not match GitHub's workflow schema"))?;
    }
    println!("workflows: {} valid", WORKFLOWS.len());
    Ok(())
}
