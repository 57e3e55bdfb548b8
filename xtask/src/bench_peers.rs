//! The command lines the transfer bench times ([`crate::bench_transfer`]): ours
//! (`augment upload` and `augment download` on their defaults, the desktop
//! app's way through the client library, and the build before this work) and
//! the peers, `rclone copy` and `aws s3 cp --recursive`, at their defaults and
//! at 16 at once. Uploads go into a fresh bucket each; downloads read the
//! originals `augment upload` put in its bucket into a fresh empty folder each.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

/// What the bench's store takes (moto accepts any).
pub const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];

/// The store the rows run against, behind the bench's delaying proxy.
pub trait Store {
    /// Where the tools connect (the proxy).
    fn endpoint(&self) -> &str;
    /// A fresh, empty bucket.
    fn new_bucket(&self) -> Result<String>;
    /// The round trip the proxy adds now.
    fn round_trip_ms(&self) -> u64;
}

/// Which way a row's files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Upload,
    Download,
}

impl Way {
    pub fn name(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Download => "download",
        }
    }
}

/// One timed command line.
pub struct Tool {
    pub label: String,
    pub way: Way,
    pub command: Command,
}

/// Our programs: the CLI, the app's batch (`augment-client`'s `app_batch`
/// example) and, when `AUGMENT_BENCH_BEFORE` names it, the CLI built before.
pub struct Ours {
    pub augment: PathBuf,
    pub app_batch: PathBuf,
    pub before: Option<PathBuf>,
}

/// Labels the verdicts look for.
pub const OURS_UPLOAD: &str = "augment upload (default)";
pub const BEFORE_UPLOAD: &str = "augment upload before (default)";
pub const APP_UPLOAD: &str = "app client (default)";
pub const OURS_DOWNLOAD: &str = "augment download (default)";
pub const OURS_DOWNLOAD_AGAIN: &str = "augment download, second run";
pub const RCLONE_16: &str = "rclone copy --transfers 16";

/// Where the peers look: the bench's link, its work folder, the AWS CLI.
pub struct Place<'a> {
    pub bench: &'a dyn Store,
    pub work: &'a Path,
    pub aws: &'a Path,
}

impl Place<'_> {
    /// The upload rows of `dir`, in the order they run, and the bucket ours
    /// (`augment upload` on its defaults) fills, which the downloads read.
    /// The build before runs at 0 ms only (at 4 at once it takes minutes at 150).
    pub fn uploads(&self, ours: &Ours, dir: &Path) -> Result<(Vec<Tool>, String)> {
        std::fs::create_dir_all(self.work.join("home"))?;
        let endpoint = self.bench.endpoint();
        let our_bucket = self.bench.new_bucket()?;
        let before = ours
            .before
            .as_ref()
            .filter(|_| self.bench.round_trip_ms() == 0);
        let mut tools =
            vec![self.augment(&ours.augment, OURS_UPLOAD, Way::Upload, &our_bucket, dir)];
        if let Some(before) = before {
            let bucket = self.bench.new_bucket()?;
            tools.push(self.augment(before, BEFORE_UPLOAD, Way::Upload, &bucket, dir));
        }
        let mut app = Command::new(&ours.app_batch);
        app.envs(CREDENTIALS)
            .args(["--endpoint-url", endpoint, "--bucket"])
            .arg(self.bench.new_bucket()?)
            .arg(dir);
        tools.push(Tool {
            label: APP_UPLOAD.to_owned(),
            way: Way::Upload,
            command: app,
        });
        for transfers in [None, Some(16)] {
            let bucket = format!("bench:{}/original-uploads", self.bench.new_bucket()?);
            tools.push(rclone(
                Way::Upload,
                transfers,
                endpoint,
                dir.as_os_str(),
                bucket.as_ref(),
            ));
        }
        for concurrency in [None, Some(16)] {
            let bucket = format!("s3://{}/original-uploads/", self.bench.new_bucket()?);
            tools.push(self.aws_cp(Way::Upload, concurrency, dir.as_os_str(), bucket.as_ref())?);
        }
        Ok((tools, our_bucket))
    }

    /// The download rows of the originals in `bucket`, each into a fresh
    /// empty folder under `into` (ours twice into the same: the second run
    /// finds nothing new, and so does rclone's).
    pub fn downloads(&self, ours: &Ours, bucket: &str, into: &Path) -> Result<Vec<Tool>> {
        let folder = |n: usize| into.join(n.to_string());
        let mut tools = Vec::new();
        for label in [OURS_DOWNLOAD, OURS_DOWNLOAD_AGAIN] {
            let mut tool = self.augment(&ours.augment, label, Way::Download, bucket, &folder(0));
            tool.command.args(["--only", "original-uploads"]);
            tools.push(tool);
        }
        let source = format!("bench:{bucket}/original-uploads");
        let endpoint = self.bench.endpoint();
        for (n, transfers) in [None, Some(16)].into_iter().enumerate() {
            let dest = folder(1 + n);
            tools.push(rclone(
                Way::Download,
                transfers,
                endpoint,
                source.as_ref(),
                dest.as_os_str(),
            ));
        }
        let mut again = rclone(
            Way::Download,
            Some(16),
            endpoint,
            source.as_ref(),
            folder(2).as_os_str(),
        );
        again.label = format!("{RCLONE_16}, second run");
        tools.push(again);
        let source = format!("s3://{bucket}/original-uploads/");
        for (n, concurrency) in [None, Some(16)].into_iter().enumerate() {
            let dest = folder(3 + n);
            tools.push(self.aws_cp(
                Way::Download,
                concurrency,
                source.as_ref(),
                dest.as_os_str(),
            )?);
        }
        Ok(tools)
    }

    /// `augment upload|download --quiet` against the bench's link and `bucket`, on `path`.
    fn augment(&self, program: &Path, label: &str, way: Way, bucket: &str, path: &Path) -> Tool {
        let mut command = Command::new(program);
        command
            .env("HOME", self.work.join("home"))
            .envs(CREDENTIALS)
            .args([
                way.name(),
                "--quiet",
                "--endpoint-url",
                self.bench.endpoint(),
                "--bucket",
                bucket,
            ])
            .arg(path);
        Tool {
            label: label.to_owned(),
            way,
            command,
        }
    }

    /// `aws s3 cp --recursive` from `from` to `to`, at its default 10 at once
    /// or at `concurrency`.
    fn aws_cp(
        &self,
        way: Way,
        concurrency: Option<usize>,
        from: &std::ffi::OsStr,
        to: &std::ffi::OsStr,
    ) -> Result<Tool> {
        let config = self
            .work
            .join(format!("aws-config-{}", concurrency.unwrap_or(10)));
        let setting = concurrency.map_or(String::new(), |n| {
            format!("s3 =\n  max_concurrent_requests = {n}\n")
        });
        std::fs::write(&config, format!("[default]\n{setting}"))?;
        let mut command = Command::new(self.aws);
        command
            .envs(CREDENTIALS)
            .env("AWS_CONFIG_FILE", &config)
            .args([
                "--endpoint-url",
                self.bench.endpoint(),
                "s3",
                "cp",
                "--recursive",
                "--quiet",
            ])
            .arg(from)
            .arg(to);
        let label = concurrency.map_or("aws s3 cp (default, 10)".to_owned(), |n| {
            format!("aws s3 cp, {n} at once")
        });
        Ok(Tool {
            label,
            way,
            command,
        })
    }
}

/// `rclone copy` from `from` to `to` through the bench's remote, at its
/// default 4 at once or at `transfers`.
fn rclone(
    way: Way,
    transfers: Option<usize>,
    endpoint: &str,
    from: &std::ffi::OsStr,
    to: &std::ffi::OsStr,
) -> Tool {
    let mut command = Command::new("rclone");
    command
        .env_remove("AWS_CA_BUNDLE")
        .envs(rclone_remote(endpoint))
        .args(["copy", "--s3-no-check-bucket"])
        .arg(from)
        .arg(to);
    if let Some(n) = transfers {
        command.args(["--transfers", &n.to_string()]);
    }
    let label = transfers.map_or("rclone copy (default, 4)".to_owned(), |n| {
        format!("rclone copy --transfers {n}")
    });
    Tool {
        label,
        way,
        command,
    }
}

/// The bench's S3 remote for rclone, from the environment (no config file).
fn rclone_remote(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("RCLONE_CONFIG_BENCH_TYPE", "s3".to_owned()),
        ("RCLONE_CONFIG_BENCH_PROVIDER", "Other".to_owned()),
        ("RCLONE_CONFIG_BENCH_ENDPOINT", endpoint.to_owned()),
        ("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", "bench".to_owned()),
        ("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("RCLONE_CONFIG_BENCH_REGION", "us-east-1".to_owned()),
        ("RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE", "true".to_owned()),
    ]
}
