//! One file's way through `augment upload`: checked, compared with what the
//! bucket holds, uploaded with its own bar, then (when waiting) the pipeline's
//! outputs watched and downloaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use augment_client::inputs::Input;
use augment_client::{
    ClientError, Concurrency, ErrorKind, Mode, Progress, Remote, UploadPlan, WatchEvent,
};
use augment_pipeline::UploadKey;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::remote::{self, Flags};

/// How `augment upload` was asked to run (its flags, read).
#[derive(Debug)]
pub struct Options {
    pub wait: bool,
    pub out: Option<PathBuf>,
    /// `--jobs`; `None`: adapt to the link (`Concurrency`).
    pub jobs: Option<usize>,
    pub on_duplicate: OnDuplicate,
    pub timeout: Duration,
    pub quiet: bool,
}

/// What `--on-duplicate` does with a file whose bytes are already uploaded
/// under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDuplicate {
    /// Leave it: the upload already there stands for it (as the app does).
    Skip,
    /// Upload it again under the next free name (`-2`, `-3`…).
    Rename,
    /// Upload it over the one there: the pipeline runs on it again.
    Replace,
}

/// How one file ended.
#[derive(Debug)]
pub enum Ended {
    /// Uploaded (and, when waiting, all four rotations exist).
    Done,
    /// The same bytes were uploaded already (`--on-duplicate skip`).
    Skipped,
    /// Refused by the checks or the pipeline: the code as written (a newer
    /// pipeline's code stays itself) and why.
    Rejected {
        code: String,
        message: String,
    },
    Failed(String),
}

pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// One file's whole way: its upload (within the concurrency limit), then, when
/// waiting, the pipeline's outputs. The limit bounds the uploads only: waiting
/// for the pipeline holds no slot, so later files upload while earlier ones are
/// processed.
pub async fn one_file(
    batch: Arc<Batch>,
    bars: MultiProgress,
    (index, input): (usize, Input),
    wait: bool,
) -> (usize, Ended) {
    let uploaded = match batch.jobs.acquire().await {
        Some(slot) => {
            let retried = batch.remote.retried();
            let uploaded = upload_one(&batch, &input, &bars).await;
            slot.finish(batch.remote.retried() > retried);
            uploaded
        }
        None => Err(Ended::Failed("stopped".into())),
    };
    let ended = match uploaded {
        Ok((key, ended)) if wait => match finish_one(&batch, &key).await {
            Ended::Done => ended,
            other => other,
        },
        Ok((_, ended)) | Err(ended) => ended,
    };
    (index, ended)
}

/// What every file of the run shares: the remote, what the batch learned of
/// the bucket, the concurrency limit and the options.
pub struct Batch {
    remote: Remote,
    plan: UploadPlan,
    jobs: Concurrency,
    out: Option<PathBuf>,
    on_duplicate: OnDuplicate,
    mode: Mode,
    /// How long to wait for each file's outputs (see [`waiting`]).
    timeout: Duration,
}

impl Batch {
    pub async fn start(
        remote: &Remote,
        inputs: &[Input],
        options: &Options,
        (mode, timeout): (Mode, Duration),
    ) -> Result<Self, ClientError> {
        let names: Vec<String> = inputs.iter().map(|i| upload_file_name(&i.upload)).collect();
        let plan = remote
            .plan_uploads(names.iter().map(String::as_str))
            .await?;
        Ok(Self {
            remote: remote.clone(),
            plan,
            jobs: Concurrency::new(options.jobs),
            out: options.out.clone(),
            on_duplicate: options.on_duplicate,
            mode,
            timeout,
        })
    }
}

/// Checks the file (size, then type by content), looks for the same bytes
/// under its name (unless `--on-duplicate rename`), picks a name that
/// overwrites nothing (saying so when it is not the file's own), and uploads it
/// with its own bar. A file refused here gets its `failed/` record in `out`, as
/// one the pipeline rejects does. Returns the key that stands for the file.
async fn upload_one(
    batch: &Batch,
    input: &Input,
    bars: &MultiProgress,
) -> Result<(UploadKey, Ended), Ended> {
    let out = batch.out.as_deref();
    let refused = |err: ClientError| async move {
        if let (ErrorKind::Rejected(rejection), Some(out)) = (&err.kind, out)
            && let Err(write) =
                augment_client::write_failed_record(out, &input.upload, rejection).await
        {
            return Ended::Failed(format!("{} (and its record: {write})", err.words(&Flags)));
        }
        ended_by(err)
    };
    let checked = match augment_client::check_file_async(&input.path).await {
        Ok(checked) => checked,
        Err(err) => return Err(refused(err).await),
    };
    let file_name = upload_file_name(&input.upload);
    let copy = match duplicate_of(batch, &file_name, &checked.bytes).await {
        Ok(copy) => copy,
        Err(err) => return Err(refused(err).await),
    };
    drop(checked);
    let (key, replace) = match copy {
        Some(existing) if batch.on_duplicate == OnDuplicate::Skip => {
            bars.suspend(|| eprintln!("skipped {file_name}: the same bytes are uploaded as {} (--on-duplicate rename uploads it again)", existing.as_str()));
            return Ok((existing, Ended::Skipped));
        }
        Some(existing) => (existing, true),
        None => match batch.plan.choose_upload_key(&file_name).await {
            Ok(key) => (key, false),
            Err(err) => return Err(refused(err).await),
        },
    };
    let key = send(batch, input, &key, replace, bars)
        .await
        .map_err(ended_by)?;
    if replace {
        bars.suspend(|| {
            eprintln!(
                "replaced {} with the same bytes (--on-duplicate replace)",
                key.as_str()
            );
        });
    } else if key != input.upload {
        let renamed = upload_file_name(&key);
        bars.suspend(|| eprintln!("renamed {file_name} → {renamed} (the name is taken)"));
    }
    Ok((key, Ended::Done))
}

/// The upload already in the bucket with these bytes under the file's name,
/// unless `--on-duplicate rename` makes that question moot.
async fn duplicate_of(
    batch: &Batch,
    file_name: &str,
    bytes: &[u8],
) -> Result<Option<UploadKey>, ClientError> {
    if batch.on_duplicate == OnDuplicate::Rename {
        return Ok(None);
    }
    let sha256 = augment_client::sha256_hex(bytes);
    let copy = batch
        .plan
        .uploaded_copy(file_name, &sha256, bytes.len() as u64)
        .await?;
    Ok(copy.and_then(|key| UploadKey::parse(&key).ok()))
}

/// Sends the file as `key` with its own progress bar; returns the key it is
/// stored under (another, if a writer took `key` meanwhile).
async fn send(
    batch: &Batch,
    input: &Input,
    key: &UploadKey,
    replace: bool,
    bars: &MultiProgress,
) -> Result<UploadKey, ClientError> {
    // The file's size until the first report says what is being sent.
    let size_bytes = std::fs::metadata(&input.path).map_or(0, |meta| meta.len());
    let bar = bars.add(ProgressBar::new(size_bytes).with_style(style(
        "  [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}  {wide_msg}",
    )));
    bar.set_message(key.name().to_owned());
    let reporter = bar.clone();
    let progress = move |progress: Progress| {
        reporter.set_length(progress.total_bytes);
        // Goes back to 0 when the SDK retries: the bar shows the restart.
        reporter.set_position(progress.sent_bytes);
    };
    let result = if replace {
        batch
            .remote
            .upload_over(&input.path, key, progress)
            .await
            .map(|()| key.clone())
    } else {
        batch.remote.upload(&input.path, key, progress).await
    };
    bar.finish_and_clear();
    bars.remove(&bar);
    result
}

/// `<name>.<ext>` of an upload key (a relative path with `/` for sub-folders).
fn upload_file_name(upload: &UploadKey) -> String {
    match upload.extension() {
        Some(ext) => format!("{}.{ext}", upload.name()),
        None => upload.name().to_owned(),
    }
}

/// A client error as this file's ending; with `--verbose` the message carries
/// the technical causes too.
fn ended_by(err: ClientError) -> Ended {
    let message = remote::words(&err);
    match err.kind {
        ErrorKind::Rejected(rejection) => Ended::Rejected {
            code: rejection.code.as_str().to_owned(),
            message: rejection.message,
        },
        _ => Ended::Failed(message),
    }
}

/// How long local mode waits for a file: the pipeline is in this process and
/// each step is bounded, so in effect until it is done.
const LOCAL_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether to wait for each file's outputs, and how long. Local mode: the
/// pipeline runs in this process, so it waits until each file is processed
/// (leaving early would leave them unprocessed) and no time limit applies.
/// Elsewhere `--timeout-secs 0` means do not wait.
pub fn waiting(mode: Mode, options: &Options) -> (bool, Duration) {
    match mode {
        Mode::Local => (true, LOCAL_WAIT),
        Mode::Aws | Mode::Custom => (options.wait && !options.timeout.is_zero(), options.timeout),
    }
}

/// What a file that got no rotations within the time means, in the words of the
/// mode and the flag.
fn timed_out(mode: Mode, timeout: Duration) -> String {
    let secs = timeout.as_secs();
    match mode {
        Mode::Custom => format!(
            "no rotations within {secs} s. The endpoint stored the file, but it makes rotations only if it runs the pipeline (storage alone does not): check that it does, or wait longer with --timeout-secs"
        ),
        Mode::Aws => format!(
            "no rotations within {secs} s. Is the stack deployed and its trigger on? Check the image processor's logs and the dead-letter queue, or wait longer with --timeout-secs"
        ),
        Mode::Local => format!("no rotations within {secs} s from the pipeline in this program"),
    }
}

/// Waits for the pipeline, then downloads the outputs into `out` when asked.
async fn finish_one(batch: &Batch, key: &UploadKey) -> Ended {
    let (remote, timeout, out) = (&batch.remote, batch.timeout, batch.out.as_deref());
    let mode = batch.mode;
    let mut ended = Ended::Done;
    let watched = remote
        .watch(
            key,
            |event| match event {
                WatchEvent::Rejected(record) => {
                    ended = Ended::Rejected {
                        code: record.code,
                        message: record.message,
                    };
                }
                WatchEvent::Failed(message) => ended = Ended::Failed(message),
                WatchEvent::TimedOut => ended = Ended::Failed(timed_out(mode, timeout)),
                WatchEvent::Landed { .. } => {}
            },
            timeout,
        )
        .await;
    if let Err(err) = watched {
        return Ended::Failed(remote::words(&err));
    }
    let Some(out) = out else {
        return ended;
    };
    let keys = match &ended {
        Ended::Done => key.output_keys().to_vec(),
        Ended::Rejected { .. } => vec![key.failed_key()],
        Ended::Failed(_) | Ended::Skipped => return ended,
    };
    match download(remote, &keys, out).await {
        Ok(()) => ended,
        Err(message) => Ended::Failed(message),
    }
}

/// Each key to `out/<key>`, written whole or not at all, by the client's one key
/// → path rule (no key can leave `out`).
async fn download(remote: &Remote, keys: &[String], out: &Path) -> Result<(), String> {
    let objects: Vec<(String, String)> =
        keys.iter().map(|key| (key.clone(), key.clone())).collect();
    remote
        .save_to_folder(&objects, out)
        .await
        .map_err(|err| format!("download failed: {}", remote::words(&err)))
}
