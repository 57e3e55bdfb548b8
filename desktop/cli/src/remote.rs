//! Which bucket or data folder a command works on: the desktop app's settings
//! with the same override flags as `augment upload`, and the runtime to run it.

use std::future::Future;
use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use augment_client::settings::DATA_DIR_ENV;
use augment_client::{ClientError, Mode, Remote, Setting, Settings, Surface};
use indicatif::{ProgressBar, ProgressStyle};

use crate::exit;

/// The flags that choose the backend for this run (as `augment upload`'s).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteArgs {
    /// Local mode: the data folder on this machine, whatever the settings say.
    #[arg(long, conflicts_with_all = ["bucket", "profile", "region", "endpoint_url"])]
    pub local: bool,
    /// The bucket (AWS mode, unless --endpoint-url is given).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// A profile from the AWS config files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The bucket's region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// An S3-compatible endpoint (MinIO, LocalStack, moto): custom mode.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Allow a custom endpoint over plain http:// to another machine: the
    /// signed requests and the images cross the network unencrypted. Not
    /// needed for https:// or this machine (localhost, 127.0.0.0/8, the IPv6 loopback).
    #[arg(long, conflicts_with = "local")]
    pub allow_http: bool,
}

impl RemoteArgs {
    /// Whether any flag names a backend.
    pub fn any(&self) -> bool {
        self.local
            || self.bucket.is_some()
            || self.profile.is_some()
            || self.region.is_some()
            || self.endpoint_url.is_some()
    }

    /// The saved settings with these flags on top, or the exit code after
    /// saying why not.
    pub fn settings(&self) -> Result<Settings, ExitCode> {
        Settings::load()
            .map(|settings| self.over(settings))
            .map_err(|err| {
                eprintln!("error: {}", words(&err));
                exit::usage()
            })
    }

    /// `settings` with these flags on top: `--local` is local mode,
    /// `--endpoint-url` custom mode, any other bucket flag AWS mode. A saved
    /// `allow_insecure_http` does not carry over: only `--allow-http` allows it.
    pub fn over(&self, mut settings: Settings) -> Settings {
        if self.local {
            settings.mode = Mode::Local;
            return settings;
        }
        let aws = &mut settings.aws;
        aws.allow_insecure_http = self.allow_http;
        if let Some(bucket) = &self.bucket {
            aws.bucket.clone_from(bucket);
        }
        if self.profile.is_some() {
            aws.profile.clone_from(&self.profile);
        }
        if self.region.is_some() {
            aws.region.clone_from(&self.region);
        }
        if self.endpoint_url.is_some() {
            aws.endpoint_url.clone_from(&self.endpoint_url);
            settings.mode = Mode::Custom;
        } else if self.any() && settings.mode == Mode::Local {
            settings.mode = Mode::Aws;
        }
        settings
    }
}

/// A multi-threaded runtime, or the exit code after saying why not.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("error: cannot start the async runtime: {err}");
            exit::some_failed()
        })
}

/// The start every bucket command shares: the settings with the flags on top,
/// a runtime, the backend checked; then `body` with it. Each step that cannot
/// work says why and gives its exit code.
pub fn run_connected<Fut>(args: &RemoteArgs, body: impl FnOnce(Remote) -> Fut) -> ExitCode
where
    Fut: Future<Output = ExitCode>,
{
    run_with(args, false, body)
}

/// [`run_connected`] with the check running beside `body` rather than before
/// it, a round trip sooner: a failed check stops `body` and says why, as it
/// would have before. For a body that leaves nothing half-done when stopped
/// (`augment download`: every file lands whole or not at all).
pub fn run_checked_alongside<Fut>(args: &RemoteArgs, body: impl FnOnce(Remote) -> Fut) -> ExitCode
where
    Fut: Future<Output = ExitCode>,
{
    run_with(args, true, body)
}

fn run_with<Fut>(args: &RemoteArgs, alongside: bool, body: impl FnOnce(Remote) -> Fut) -> ExitCode
where
    Fut: Future<Output = ExitCode>,
{
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        if !alongside {
            return match connect(&settings).await {
                Ok(remote) => body(remote).await,
                Err(code) => code,
            };
        }
        let remote = match Remote::connect(&settings).await {
            Ok(remote) => remote,
            Err(err) => return failed(&err),
        };
        let working = body(remote.clone());
        tokio::pin!(working);
        tokio::select! {
            checked = remote.check() => match checked {
                Ok(()) => working.await,
                Err(err) => failed(&err),
            },
            // Done before the check answered: the body's own requests worked.
            code = &mut working => code,
        }
    })
}

/// A progress bar on stderr drawn by `template` (a spinner when `length` is
/// `None`), ticking; hidden with `--quiet` or when stderr is not a terminal.
pub fn progress_bar(quiet: bool, template: &str, length: Option<u64>) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match length {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = bar.with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// The end of `download` or `export`: the bar cleared, then the error said, or
/// the totals ("{summary} in 1.2 s → DEST") unless quiet; exit status 1 when
/// `some_failed` says some items were not done.
pub fn finish<S: std::fmt::Display>(
    bar: &ProgressBar,
    result: Result<S, ClientError>,
    quiet: bool,
    started: std::time::Instant,
    dest: &std::path::Path,
    some_failed: impl FnOnce(&S) -> bool,
) -> ExitCode {
    bar.finish_and_clear();
    let summary = match ended(result) {
        Ok(summary) => summary,
        Err(code) => return code,
    };
    if !quiet {
        println!(
            "{summary} in {:.1} s → {}",
            started.elapsed().as_secs_f64(),
            dest.display()
        );
    }
    if some_failed(&summary) {
        exit::some_failed()
    } else {
        ExitCode::SUCCESS
    }
}

/// A command's result, or its error said on stderr and its exit code.
pub fn ended<T>(result: Result<T, ClientError>) -> Result<T, ExitCode> {
    result.map_err(|err| failed(&err))
}

/// An error that stops the command, said on stderr; its exit code.
pub fn failed(err: &ClientError) -> ExitCode {
    eprintln!("error: {}", words(err));
    exit_code_of(err)
}

/// The backend the settings name, checked (one clear error before any work).
pub async fn connect(settings: &Settings) -> Result<Remote, ExitCode> {
    let remote = Remote::connect(settings)
        .await
        .map_err(|err| failed(&err))?;
    remote.check().await.map_err(|err| failed(&err))?;
    Ok(remote)
}

/// The command line's words for where a setting is changed: its flag (the
/// data folder: its environment variable).
pub struct Flags;

impl Surface for Flags {
    fn place(&self, settings: &[Setting]) -> String {
        let names: Vec<String> = settings
            .iter()
            .map(|setting| match setting {
                Setting::Bucket => "--bucket".to_owned(),
                Setting::Region => "--region".to_owned(),
                Setting::Profile => "--profile".to_owned(),
                Setting::EndpointUrl => "--endpoint-url".to_owned(),
                Setting::AllowHttp => "--allow-http".to_owned(),
                Setting::DataFolder => format!("the {DATA_DIR_ENV} environment variable"),
            })
            .collect();
        format!(" with {}", names.join(" and "))
    }
}

/// An error's words for the terminal: with `--verbose`, the technical causes too.
pub fn words(err: &ClientError) -> String {
    if tracing::enabled!(tracing::Level::DEBUG) {
        err.detail_in(&Flags)
    } else {
        err.words(&Flags)
    }
}

/// The exit code of an error that stopped a command: 2 for settings that
/// cannot work (or a folder that cannot be used), else 1.
pub fn exit_code_of(err: &ClientError) -> ExitCode {
    if err.kind == augment_client::ErrorKind::InvalidSettings {
        exit::usage()
    } else {
        exit::some_failed()
    }
}
