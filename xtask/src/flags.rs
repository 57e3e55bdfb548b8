//! Every `cargo xtask` command and flag, declared once (as rust-analyzer's
//! `xtask/src/flags.rs`): `main` parses them, each task module takes its own
//! typed struct. `cargo xtask --help` and `cargo xtask <task> --help` print them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `cargo xtask bench`: rounds over every image and peer when `--rounds` is not given.
pub const DEFAULT_ROUNDS: usize = 5;
/// `cargo xtask bench`: timed runs per peer process when `--repeat` is not given.
pub const DEFAULT_REPEAT: usize = 3;
/// `cargo xtask deploy`/`destroy`: the environment when `--environment` is not given.
pub const DEFAULT_ENVIRONMENT: &str = "dev";
/// The fuzz targets, as `lambdas/pipeline/fuzz/fuzz_targets/<name>.rs`. Here,
/// below `fuzz`, because `--target` accepts only these.
pub const FUZZ_TARGETS: [&str; 5] = [
    // The image core's two.
    "process_upload",
    "rotate",
    // The parsers of what arrives from outside: S3 events, rotation task bodies,
    // event keys.
    "s3_event",
    "rotation_task",
    "event_key",
];
/// How many of [`FUZZ_TARGETS`], from the first, decode images (the rest parse).
pub const FUZZ_IMAGE_TARGETS: usize = 2;

/// The project's tasks, in Rust so they run on every OS.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", disable_version_flag = true)]
pub struct Xtask {
    #[command(subcommand)]
    pub task: Task,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Everything CI checks: fmt, clippy -D warnings, the test suite, the GUI-free
    /// CLI tree, a short fuzz, Terraform, screenshot, installer, workflows, images.
    Ci,
    /// Time the pipeline against Pillow and libvips; writes docs/BENCHMARKS.md.
    Bench(Bench),
    /// The Lambda container images (Docker, else buildah); `--local`: offline,
    /// pushed to a local registry and run.
    BuildImages(BuildImages),
    /// The Terraform checks CI runs: fmt, validate, checkov.
    Terraform,
    /// Build and push the Lambda images, apply terraform/ to your AWS account.
    Deploy(Deploy),
    /// Remove everything `deploy` made (empties the bucket first, after asking).
    Destroy(Destroy),
    /// The desktop app under Xvfb in local mode, saved as a PNG.
    Screenshot(Screenshot),
    /// The release app and its installers (.deb/AppImage, NSIS, .app/.dmg) in target/dist.
    Dist(Dist),
    /// Every icon size and format the installers need, from assets/icon.png.
    Icons(Icons),
    /// Validate .github/workflows/ against GitHub's schema (as CI does).
    Workflows,
    /// The supply-chain check: cargo-deny's advisories (an offline `RustSec`
    /// snapshot when there is one), licences, bans and sources.
    Deny,
    /// Fuzz the image core (cargo-fuzz, nightly) with the corpus saved in
    /// lambdas/pipeline/fuzz/corpus/; prints the executions.
    Fuzz(Fuzz),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Makes target/bench/venv (Pillow, numpy, pyvips) and target/bench/corpus once, then writes docs/BENCHMARKS.md."
)]
pub struct Bench {
    /// Rounds over every image and peer.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROUNDS, value_parser = at_least_one)]
    pub rounds: usize,
    /// Timed runs per peer process.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPEAT, value_parser = at_least_one)]
    pub repeat: usize,
    /// Only the transfer section: uploads through a 0, 50 and 150 ms round trip,
    /// ours against rclone and the AWS CLI.
    #[arg(long)]
    pub transfer: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "With no option: both images from lambdas/Dockerfile, with docker when a Docker engine answers, else with buildah."
)]
#[group(multiple = false)]
pub struct BuildImages {
    /// Offline: build the static binaries here, assemble the images with buildah,
    /// push them to a local registry, pull them back and run them.
    #[arg(long)]
    pub local: bool,
    /// What CI checks: installs the tools (apt, pip), hadolint, then --local.
    #[arg(long)]
    pub ci: bool,
    /// Time process start -> first Runtime API request of these Lambda binaries.
    #[arg(long, value_name = "BINARY", num_args = 1..)]
    pub measure: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Needs: Terraform >= 1.5, the AWS CLI v2 with credentials (env, profile, SSO), and Docker (or buildah on Linux)."
)]
pub struct Deploy {
    #[command(flatten)]
    pub stack: Stack,
    /// Image tag (default: the git commit; a dirty tree adds -dirty-<time>).
    #[arg(long)]
    pub tag: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "Needs: Terraform >= 1.5 and the AWS CLI v2 with credentials.")]
pub struct Destroy {
    #[command(flatten)]
    pub stack: Stack,
}

/// Where the stack is: what `deploy` and `destroy` share.
#[derive(Debug, Args)]
pub struct Stack {
    /// The stack's environment name; one Terraform workspace each.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ENVIRONMENT)]
    pub environment: String,
    /// Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the AWS CLI's region, us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// No questions: apply without Terraform's prompt; destroy without typing the
    /// bucket name.
    #[arg(long)]
    pub yes: bool,
    /// An emulator (moto) instead of AWS: terraform/ plus terraform/emulator/ in
    /// target/terraform-emulator/<environment>; no images are built or pushed and no
    /// AWS CLI is needed (the Terraform part only).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct Screenshot {
    /// Where to save the PNG (default: docs/screenshot.png).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Also print time to first frame, peak RSS and the frame time with 1,000
    /// images in the gallery.
    #[arg(long)]
    pub measure: bool,
    /// Use the release build (default: the debug build the tests use).
    #[arg(long)]
    pub release: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The AppImage needs network access (cargo-packager downloads linuxdeploy); so do the Windows installer tools. cargo-packager itself is installed into target/tools on first use."
)]
pub struct Dist {
    /// Comma-separated cargo-packager formats (default: all the host can build:
    /// deb,appimage on Linux; nsis on Windows; app,dmg on macOS).
    #[arg(long, value_name = "LIST", value_delimiter = ',', num_args = 1)]
    pub formats: Option<Vec<String>>,
    /// CI's installer step alone (Linux; root or passwordless sudo): a .deb of the
    /// debug build, inspected, installed with apt, run under Xvfb, removed with dpkg -r.
    #[arg(long, conflicts_with = "formats")]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct Icons {
    /// Where to write them (default: target/dist/icons).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Each target runs from its saved corpus; new inputs go to target/fuzz-corpus/, crashes to lambdas/pipeline/fuzz/artifacts/. Needs the nightly toolchain (installed with rustup when missing); cargo-fuzz is installed into target/tools on first use."
)]
pub struct Fuzz {
    /// How long each target runs.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub seconds: usize,
    /// Only this target (default: every one).
    #[arg(long, value_name = "T", value_parser = clap::builder::PossibleValuesParser::new(FUZZ_TARGETS))]
    pub target: Option<String>,
}

/// A count of 1 or more.
fn at_least_one(arg: &str) -> Result<usize, String> {
    match arg.parse() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("`{arg}` is not a count")),
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    fn parse(args: &[&str]) -> Result<Task, clap::Error> {
        Xtask::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))
            .map(|xtask| xtask.task)
    }

    #[test]
    fn definition_is_consistent() {
        Xtask::command().debug_assert();
    }

    #[test]
    fn every_task_name_the_docs_use_parses() {
        for task in [
            "ci",
            "bench",
            "build-images",
            "terraform",
            "deploy",
            "destroy",
            "screenshot",
            "dist",
            "icons",
            "workflows",
            "deny",
        ] {
            assert!(parse(&[task]).is_ok(), "{task}");
        }
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["ci", "--fast"]).is_err());
    }

    #[test]
    fn bench_counts_default_and_must_be_positive() {
        let Ok(Task::Bench(bench)) = parse(&["bench", "--rounds", "7"]) else {
            panic!("bench --rounds 7 did not parse");
        };
        assert_eq!((bench.rounds, bench.repeat), (7, DEFAULT_REPEAT));
        assert!(parse(&["bench", "--rounds", "0"]).is_err());
        assert!(parse(&["bench", "--rounds"]).is_err());
        assert!(parse(&["bench", "--fast"]).is_err());
    }

    #[test]
    fn build_images_takes_one_mode() {
        let Ok(Task::BuildImages(images)) = parse(&["build-images", "--measure", "a", "b"]) else {
            panic!("--measure a b did not parse");
        };
        assert_eq!(images.measure, [PathBuf::from("a"), PathBuf::from("b")]);
        assert!(parse(&["build-images", "--local", "--ci"]).is_err());
        assert!(parse(&["build-images", "--measure"]).is_err());
    }

    #[test]
    fn deploy_and_destroy_share_the_stack_flags() {
        let Ok(Task::Deploy(deploy)) = parse(&[
            "deploy",
            "--environment",
            "prod",
            "--region",
            "eu-west-1",
            "--tag",
            "t",
            "--yes",
        ]) else {
            panic!("deploy did not parse");
        };
        assert_eq!(deploy.stack.environment, "prod");
        assert_eq!(deploy.stack.region.as_deref(), Some("eu-west-1"));
        assert_eq!(deploy.tag.as_deref(), Some("t"));
        assert!(deploy.stack.yes);
        let Ok(Task::Destroy(destroy)) = parse(&["destroy"]) else {
            panic!("destroy did not parse");
        };
        assert_eq!(destroy.stack.environment, DEFAULT_ENVIRONMENT);
        assert!(
            parse(&["destroy", "--tag", "t"]).is_err(),
            "destroy has no tag"
        );
    }

    #[test]
    fn dist_formats_are_a_comma_list() {
        let Ok(Task::Dist(dist)) = parse(&["dist", "--formats", "deb,appimage"]) else {
            panic!("dist --formats did not parse");
        };
        assert_eq!(
            dist.formats.as_deref(),
            Some(&["deb".to_owned(), "appimage".to_owned()][..])
        );
        assert!(parse(&["dist", "--check", "--formats", "deb"]).is_err());
    }

    #[test]
    fn fuzz_needs_seconds_and_a_known_target() {
        let Ok(Task::Fuzz(fuzz)) = parse(&["fuzz", "--seconds", "5", "--target", "rotate"]) else {
            panic!("fuzz did not parse");
        };
        assert_eq!((fuzz.seconds, fuzz.target.as_deref()), (5, Some("rotate")));
        assert!(parse(&["fuzz"]).is_err());
        assert!(parse(&["fuzz", "--seconds", "5", "--target", "nope"]).is_err());
    }
}
